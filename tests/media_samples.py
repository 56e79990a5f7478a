"""Synthesized media samples (made once per session with ffmpeg lavfi), shared by all tests."""

from __future__ import annotations

import struct
import subprocess
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, NameObject

from tests.courseware.helpers import ffmpeg

H264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
AAC = ["-c:a", "aac", "-b:a", "64k"]


def lavfi_video(size: str, rate: int, seconds: float) -> list[str]:
    return ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}:duration={seconds}"]


def lavfi_audio(seconds: float) -> list[str]:
    return ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}"]


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def good_clip(media: Path) -> Path:
    """3 s 640x360 15 fps H.264/AAC MP4, keyframe every second, moov at the end (no faststart)."""
    path = media / "good.mp4"
    ffmpeg(*lavfi_video("640x360", 15, 3), *lavfi_audio(3), *H264, "-g", "15", *AAC, str(path))
    return path


@pytest.fixture(scope="session")
def faststart_clip(media: Path, good_clip: Path) -> Path:
    """The good clip with its index (moov) moved to the front, as web uploads usually are."""
    path = media / "faststart.mp4"
    ffmpeg("-i", str(good_clip), "-c", "copy", "-movflags", "+faststart", str(path))
    return path


@pytest.fixture(scope="session")
def clip_720p(media: Path) -> Path:
    """2 s 1280x720 10 fps MPEG-4 part 2 + AAC: needs the full ladder, cannot be remuxed."""
    path = media / "720p.mp4"
    mpeg4 = ["-c:v", "mpeg4", "-q:v", "8"]
    ffmpeg(*lavfi_video("1280x720", 10, 2), *lavfi_audio(2), *mpeg4, *AAC, str(path))
    return path


@pytest.fixture(scope="session")
def silent_clip(media: Path) -> Path:
    """2 s 320x240 H.264 without any audio stream, in Matroska."""
    path = media / "silent.mkv"
    ffmpeg(*lavfi_video("320x240", 10, 2), *H264, "-g", "10", str(path))
    return path


@pytest.fixture(scope="session")
def short_clip(media: Path) -> Path:
    path = media / "short.mp4"
    ffmpeg(*lavfi_video("320x240", 10, 0.3), *H264, str(path))
    return path


@pytest.fixture(scope="session")
def wide_clip(media: Path) -> Path:
    """A real video whose width (8192 px) is beyond any screen; tiny in area, so cheap."""
    path = media / "wide.mp4"
    ffmpeg("-f", "lavfi", "-i", "color=c=red:size=8192x16:rate=10:duration=2", *H264, str(path))
    return path


@pytest.fixture(scope="session")
def audio_only_renamed(media: Path) -> Path:
    path = media / "voice.mp4"  # an .m4a under a video name
    ffmpeg(*lavfi_audio(2), *AAC, "-f", "mp4", str(path))
    return path


@pytest.fixture(scope="session")
def png_renamed(media: Path) -> Path:
    """A PNG built by hand (this ffmpeg build has no PNG encoder) saved as .mp4."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    width = height = 32
    rows = b"".join(b"\x00" + b"\x20\x80\xe0" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
    path = media / "slide.mp4"
    path.write_bytes(png + chunk(b"IEND", b""))
    return path


@pytest.fixture(scope="session")
def text_renamed(media: Path) -> Path:
    path = media / "notes.mp4"
    path.write_text("第一章 安全生产\nThis is lecture notes, not a video.\n" * 20, "utf-8")
    return path


@pytest.fixture(scope="session")
def empty_file(media: Path) -> Path:
    path = media / "empty.mp4"
    path.touch()
    return path


def _first_half(src: Path, dest: Path) -> Path:
    data = src.read_bytes()
    dest.write_bytes(data[: len(data) // 2])
    return dest


@pytest.fixture(scope="session")
def truncated_clip(media: Path, good_clip: Path) -> Path:
    """The good clip cut in half: its index (at the end) is gone."""
    return _first_half(good_clip, media / "cut.mp4")


@pytest.fixture(scope="session")
def truncated_faststart_clip(media: Path, faststart_clip: Path) -> Path:
    """The faststart clip cut in half: the index promises 3 s, the data stops at 1.5 s."""
    return _first_half(faststart_clip, media / "cut_faststart.mp4")


@pytest.fixture(scope="session")
def truncated_mkv(media: Path, silent_clip: Path) -> Path:
    """A Matroska file cut in half: only a decode of its last second can tell."""
    return _first_half(silent_clip, media / "cut.mkv")


def _write_pdf(path: Path, pages: int, *, title: str | None = None) -> Path:
    writer = PdfWriter()
    for number in range(pages):
        page = writer.add_blank_page(width=595, height=842)
        stream = DecodedStreamObject()
        stream.set_data(b"0 0 1 rg 72 72 %d 144 re f\n" % (200 + number) * 50)
        page[NameObject("/Contents")] = writer._add_object(stream)
        page.compress_content_streams()
    if title is not None:
        writer.add_metadata({"/Title": title})
    with path.open("wb") as f:
        writer.write(f)
    return path


@pytest.fixture(scope="session")
def make_pdf(media: Path) -> Callable[..., Path]:
    """Factory: ``make_pdf("name.pdf", pages=2, title=None)``."""

    def make(name: str, pages: int = 2, *, title: str | None = None) -> Path:
        return _write_pdf(media / name, pages, title=title)

    return make


@pytest.fixture(scope="session")
def rotated_clip(media: Path, good_clip: Path) -> Path:
    """The good clip flagged, as phones do, to be displayed rotated by 90 degrees."""
    path = media / "portrait.mp4"
    try:
        ffmpeg("-display_rotation", "90", "-i", str(good_clip), "-c", "copy", str(path))
    except subprocess.CalledProcessError:  # ffmpeg before 6 (Debian 12's 5.1) lacks the option
        ffmpeg("-i", str(good_clip), "-c", "copy", "-metadata:s:v:0", "rotate=90", str(path))
    return path


@pytest.fixture(scope="session")
def encrypted_pdf(media: Path) -> Path:
    """A PDF that opens only with a password (even an empty user password counts)."""
    from pypdf import PdfReader

    plain = _write_pdf(media / "to-encrypt.pdf", 1)
    writer = PdfWriter(clone_from=PdfReader(plain))
    writer.encrypt(user_password="", owner_password="owner", algorithm="RC4-128")
    path = media / "encrypted.pdf"
    with path.open("wb") as handle:
        writer.write(handle)
    return path


@pytest.fixture(scope="session")
def corrupt_pdf(media: Path) -> Path:
    """A real PDF cut off half-way, as an interrupted copy would leave it."""
    whole = _write_pdf(media / "to-cut.pdf", 2).read_bytes()
    path = media / "cut.pdf"
    path.write_bytes(whole[: len(whole) // 2])
    return path
