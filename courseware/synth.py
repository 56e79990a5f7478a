"""Synthesized sample media (ffmpeg test sources, a text PDF), for demos and benchmarks."""

from __future__ import annotations

import os
import subprocess

from courseware.binaries import ffmpeg_binary


def make_test_clip(
    path: str | os.PathLike[str],
    *,
    seconds: float = 20,
    width: int = 640,
    height: int = 360,
    rate: int = 25,
    tone_hz: int = 440,
    pix_fmt: str = "yuv420p",
) -> None:
    """An H.264/AAC MP4 of ffmpeg's moving test pattern with a tone.

    ``pix_fmt="yuv444p"`` makes a clip that cannot take the remux fast path.
    """
    subprocess.run(  # noqa: S603 (fixed arguments, our own binary)
        [
            ffmpeg_binary(),
            "-nostdin",
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"testsrc2=size={width}x{height}:rate={rate}:duration={seconds}",
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency={tone_hz}:sample_rate=44100:duration={seconds}",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-pix_fmt",
            pix_fmt,
            "-g",
            str(rate * 2),
            "-c:a",
            "aac",
            "-b:a",
            "96k",
            "-shortest",
            "-movflags",
            "+faststart",
            str(path),
        ],
        check=True,
        timeout=300,
    )


def make_text_pdf(path: str | os.PathLike[str], pages: list[list[str]]) -> None:
    """A small valid PDF whose pages show the given ASCII lines (Helvetica)."""
    objects: list[bytes] = []
    page_ids = [4 + 2 * i for i in range(len(pages))]
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    kids = " ".join(f"{pid} 0 R" for pid in page_ids)
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    for index, lines in enumerate(pages):
        text = ["BT", "/F1 18 Tf", "72 760 Td", "26 TL"]
        for line in lines:
            safe = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            text.append(f"({safe}) Tj T*")
        text.append("ET")
        stream = "\n".join(text).encode("latin-1")
        content_id = page_ids[index] + 1
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {content_id} 0 R >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    with open(path, "wb") as handle:
        handle.write(out)
