"""Exceptions raised by courseware; each carries a stable ``code`` the app can translate."""

from __future__ import annotations

#: Reason codes of :class:`InvalidMedia`; stable, because the app maps them to messages.
REASONS = (
    "empty",
    "not_media",
    "image_not_video",
    "no_video_stream",
    "truncated",
    "too_short",
    "too_long",
    "bad_dimensions",
    "bad_frame_rate",
    "pdf_encrypted",
    "pdf_corrupt",
    "pdf_empty",
    "too_large",
)


class CoursewareError(Exception):
    """Base class: ``code`` is machine-readable, ``detail`` is English for logs and admins."""

    default_code = "courseware_error"

    def __init__(self, code: str | None = None, detail: str = "") -> None:
        code = code or self.default_code
        detail = detail or code
        # Passing both to Exception keeps the instance picklable (job queues pickle errors).
        super().__init__(code, detail)
        self.code = code
        self.detail = detail

    def __str__(self) -> str:
        return self.detail


class InvalidMedia(CoursewareError):
    """The uploaded file is unacceptable; ``code`` is one of :data:`REASONS`."""

    default_code = "not_media"

    def __init__(self, code: str | None = None, detail: str = "") -> None:
        if code is not None and code not in REASONS:
            raise ValueError(f"unknown InvalidMedia reason {code!r}")
        super().__init__(code, detail)


class ProcessingFailed(CoursewareError):
    """ffmpeg failed on input that had passed validation; ``detail`` holds its last stderr lines."""

    default_code = "processing_failed"


class Cancelled(CoursewareError):
    """The caller's ``should_cancel()`` returned True and the work was abandoned."""

    default_code = "cancelled"
