"""Probe an uploaded video and decide, by content alone, whether it is acceptable."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import subprocess
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import ffmpeg

from courseware.binaries import ffmpeg_binary, ffprobe_binary
from courseware.errors import InvalidMedia

#: Demuxers ffmpeg may use on uploads. Anything else (hls, concat, tty, …) is refused before it
#: can open URLs or other local files named inside a crafted "video".
FORMAT_WHITELIST = ",".join(
    (
        # video containers
        "mov", "matroska", "avi", "flv", "mpegts", "mpeg", "asf", "ogg", "mxf",
        # audio-only formats, recognised so the author hears "no video" rather than "not media"
        "mp3", "aac", "wav", "flac", "amr",
        # still images, recognised so they can be refused as images
        "image2", "png_pipe", "jpeg_pipe", "webp_pipe", "gif", "gif_pipe", "bmp_pipe",
        "tiff_pipe",
    )
)  # fmt: skip

_IMAGE_FORMATS = frozenset({"image2", "image2pipe", "webp"})
#: Leading bytes of containers whose failed probe means "cut short", not "not a video at all".
_ISO_BOX_TYPES = (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip", b"pnot")
_EBML_MAGIC = b"\x1a\x45\xdf\xa3"
_TAIL_CHECK_TIMEOUT = 120


@dataclass(frozen=True)
class VideoLimits:
    """Bounds a lesson video must respect; the app may pass tighter ones from its config."""

    min_duration: float = 1.0
    max_duration: float = 4 * 3600
    min_width: int = 16
    min_height: int = 16
    max_width: int = 7680
    max_height: int = 4320
    min_fps: float = 1.0
    max_fps: float = 120.0
    #: Optional cap on the file size in bytes ("too_large"); None leaves it to the upload layer.
    max_size_bytes: int | None = None


@dataclass(frozen=True)
class VideoProbe:
    """What the pipeline needs to know about a source video.

    ``width``/``height`` are the *display* size: rotation metadata and non-square pixels are
    already applied, so they are what a viewer sees and what the ladder is computed from.
    """

    duration: float
    width: int
    height: int
    fps: float
    video_codec: str
    audio_codec: str | None
    pix_fmt: str | None
    format_name: str
    bit_rate: int | None
    size_bytes: int
    #: Degrees of display rotation stored in the container (0, 90, 180 or 270).
    rotation: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable dict, e.g. for a MediaAsset.probe column."""
        return dataclasses.asdict(self)


#: The limits used when the caller passes none (a frozen instance, so sharing it is safe).
DEFAULT_LIMITS = VideoLimits()


def probe_video(path: str | os.PathLike[str], limits: VideoLimits = DEFAULT_LIMITS) -> VideoProbe:
    """Probe ``path`` and validate it against ``limits``.

    Raises :class:`InvalidMedia` with a reason code when the file is not an acceptable video,
    and ``CoursewareError(code="no_ffmpeg")`` when ffprobe is missing.
    """
    path = Path(path).resolve()
    size = path.stat().st_size
    if size == 0:
        raise InvalidMedia("empty", "file is empty")
    if limits.max_size_bytes is not None and size > limits.max_size_bytes:
        raise InvalidMedia("too_large", f"{size} bytes > {limits.max_size_bytes} bytes")

    try:
        info = ffmpeg.probe(
            str(path), cmd=ffprobe_binary(), v="error", format_whitelist=FORMAT_WHITELIST
        )
    except ffmpeg.Error as e:
        message = _last_line(e.stderr)
        if _looks_like_video_container(path):
            raise InvalidMedia("truncated", f"container unreadable: {message}") from None
        raise InvalidMedia("not_media", message or "ffprobe could not read the file") from None
    except json.JSONDecodeError:
        raise InvalidMedia("not_media", "ffprobe returned no usable description") from None

    fmt = info.get("format") or {}
    streams = info.get("streams") or []
    format_name = str(fmt.get("format_name") or "")
    if not format_name or not streams:
        raise InvalidMedia("not_media", f"no streams found (format {format_name or '?'})")

    videos = [s for s in streams if s.get("codec_type") == "video"]
    audios = [s for s in streams if s.get("codec_type") == "audio"]
    moving = [s for s in videos if not _is_attached_picture(s)]
    if _is_still_image(format_name, videos):
        raise InvalidMedia("image_not_video", f"still image ({format_name})")
    if not moving:
        if videos and not audios:
            raise InvalidMedia("image_not_video", "only an attached picture, no video")
        # Audio with cover art is an audio file to the author, so say "no video" for it.
        raise InvalidMedia("no_video_stream", f"no video stream ({format_name})")
    video = moving[0]
    audio = audios[0] if audios else None

    duration = _float(fmt.get("duration")) or _float(video.get("duration"))
    if not duration or duration <= 0:
        raise InvalidMedia("truncated", "duration cannot be established")
    if _iso_boxes_overrun(path, size):
        raise InvalidMedia("truncated", "a top-level MP4 box extends past the end of the file")

    rotation = _rotation(video)
    width, height = _display_size(video, rotation)
    if not (
        limits.min_width <= width <= limits.max_width
        and limits.min_height <= height <= limits.max_height
    ):
        raise InvalidMedia(
            "bad_dimensions",
            f"{width}x{height} outside {limits.min_width}x{limits.min_height}"
            f"..{limits.max_width}x{limits.max_height}",
        )

    fps = _frame_rate(video)
    if not limits.min_fps <= fps <= limits.max_fps:
        raise InvalidMedia(
            "bad_frame_rate", f"{fps:g} fps outside {limits.min_fps:g}..{limits.max_fps:g}"
        )

    if duration < limits.min_duration:
        raise InvalidMedia("too_short", f"duration {duration:.1f} s < {limits.min_duration:g} s")
    if duration > limits.max_duration:
        raise InvalidMedia("too_long", f"duration {duration:.0f} s > {limits.max_duration:g} s")

    # Headers can promise a full duration while the data is gone (a faststart MP4 cut short):
    # decoding the last second is the cheap check that catches it.
    video_end = _float(video.get("duration")) or duration
    _check_tail_decodes(path, max(0.0, min(video_end, duration) - 1.0))

    return VideoProbe(
        duration=duration,
        width=width,
        height=height,
        fps=round(fps, 3),
        video_codec=str(video.get("codec_name") or "unknown"),
        audio_codec=str(audio.get("codec_name") or "unknown") if audio else None,
        pix_fmt=video.get("pix_fmt") or None,
        format_name=format_name,
        bit_rate=_int(fmt.get("bit_rate")),
        size_bytes=size,
        rotation=rotation,
    )


def _last_line(stderr: bytes | None) -> str:
    lines = (stderr or b"").decode("utf-8", "replace").splitlines()
    meaningful = [line.strip() for line in lines if line.strip()]
    meaningful = [line for line in meaningful if not line.startswith("Last message repeated")]
    return meaningful[-1] if meaningful else ""


def _float(value: object) -> float | None:
    try:
        result = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return result if math.isfinite(result) else None


def _int(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None


def _ratio(value: object) -> Fraction | None:
    text = str(value or "")
    num, _, den = text.partition("/") if "/" in text else text.partition(":")
    try:
        n, d = int(num), int(den or 1)
    except ValueError:
        return None
    return Fraction(n, d) if n > 0 and d > 0 else None


def _is_attached_picture(stream: dict[str, Any]) -> bool:
    return bool((stream.get("disposition") or {}).get("attached_pic"))


def _is_still_image(format_name: str, videos: list[dict[str, Any]]) -> bool:
    names = set(format_name.split(","))
    if names & _IMAGE_FORMATS or any(name.endswith("_pipe") for name in names):
        return True
    # An animated GIF is a (silent) video; a single-frame GIF, or any one-frame file, a picture.
    return bool(videos) and all(_int(s.get("nb_frames")) == 1 for s in videos)


def _rotation(stream: dict[str, Any]) -> int:
    degrees: float | None = None
    for side_data in stream.get("side_data_list") or []:
        if "rotation" in side_data:
            degrees = _float(side_data["rotation"])
    if degrees is None:
        degrees = _float((stream.get("tags") or {}).get("rotate"))
    return round(degrees or 0) % 360


def _display_size(stream: dict[str, Any], rotation: int) -> tuple[int, int]:
    width, height = _int(stream.get("width")) or 0, _int(stream.get("height")) or 0
    sar = _ratio(stream.get("sample_aspect_ratio"))
    if sar and sar != 1:
        width = round(width * sar)
    if rotation in (90, 270):
        width, height = height, width
    return width, height


def _frame_rate(stream: dict[str, Any]) -> float:
    for key in ("avg_frame_rate", "r_frame_rate"):
        rate = _ratio(stream.get(key))
        if rate:
            return float(rate)
    return 0.0


def _looks_like_video_container(path: Path) -> bool:
    with path.open("rb") as f:
        head = f.read(12)
    return head[4:8] in _ISO_BOX_TYPES or head.startswith(_EBML_MAGIC)


def _iso_boxes_overrun(path: Path, size: int) -> bool:
    """Walk the top-level ISO-BMFF boxes; one claiming more bytes than remain means truncation."""
    with path.open("rb") as f:
        head = f.read(8)
        if len(head) < 8 or head[4:8] not in _ISO_BOX_TYPES:
            return False
        offset = 0
        while offset + 8 <= size:
            f.seek(offset)
            header = f.read(16)
            box_size = int.from_bytes(header[:4], "big")
            if box_size == 1 and len(header) >= 16:
                box_size = int.from_bytes(header[8:16], "big")
            elif box_size == 0:  # "extends to end of file"
                return False
            if box_size < 8:
                return True
            offset += box_size
        return offset > size


def _check_tail_decodes(path: Path, start: float) -> None:
    args = [
        ffmpeg_binary(), "-hide_banner", "-nostdin", "-v", "error", "-nostats",
        "-progress", "pipe:1", "-ss", f"{start:.3f}", "-format_whitelist", FORMAT_WHITELIST,
        "-i", str(path), "-map", "0:v:0", "-f", "null", "-",
    ]  # fmt: skip
    try:
        result = subprocess.run(  # noqa: S603 - fixed argv, no shell
            args, capture_output=True, timeout=_TAIL_CHECK_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        raise InvalidMedia("truncated", "decoding the last second timed out") from None
    frames = 0
    for line in result.stdout.decode("ascii", "replace").splitlines():
        if line.startswith("frame="):
            frames = _int(line[6:]) or 0
    errors = result.stderr.decode("utf-8", "replace")
    if "Decoder" in errors and "not found" in errors:
        raise InvalidMedia("not_media", f"no decoder for this video: {_last_line(result.stderr)}")
    if result.returncode != 0 or frames == 0 or "partial file" in errors:
        detail = _last_line(result.stderr) or f"{frames} frames decoded in the last second"
        raise InvalidMedia("truncated", f"end of video does not decode: {detail}")
