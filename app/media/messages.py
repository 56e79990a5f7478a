"""What authors are told when their file is refused or processing fails.

Courseware reports stable reason codes (framework-free, English details for logs); this maps
them to translated sentences that say what to do.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

REASON_MESSAGES = {
    "empty": _l("The file is empty. Choose the file again and re-upload it."),
    "not_media": _l(
        "This file is not a video we can read. Upload a video file such as MP4, MOV or MKV."
    ),
    "image_not_video": _l("This is a still image, not a video."),
    "no_video_stream": _l("The file has no picture: it seems to be audio only."),
    "truncated": _l(
        "The file is incomplete or damaged (was the copy interrupted?). Upload the full file."
    ),
    "too_short": _l("The video is too short."),
    "too_long": _l("The video is too long."),
    "bad_dimensions": _l("The picture size of this video is not supported."),
    "bad_frame_rate": _l("The frame rate of this video is not supported."),
    "pdf_encrypted": _l("The PDF is password-protected. Upload a copy without a password."),
    "pdf_corrupt": _l("The PDF is damaged and cannot be opened."),
    "pdf_empty": _l("The PDF has no pages."),
    "too_large": _l("The file is larger than the upload limit."),
    "cancelled": _l("Processing was cancelled. Retry it or upload another file."),
    "processing_failed": _l(
        "The file passed the checks but could not be converted. Retry, or upload it in "
        "another format."
    ),
    "no_ffmpeg": _l("Video processing is not available on this server. Tell the administrator."),
}


def reason_message(code: str | None) -> str | None:
    """The translated explanation of a failure code, or a generic one for unknown codes."""
    if code is None:
        return None
    return str(REASON_MESSAGES.get(code, REASON_MESSAGES["processing_failed"]))
