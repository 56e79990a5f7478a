"""Small ffmpeg/ffprobe wrappers the courseware tests use to make and inspect media."""

from __future__ import annotations

import subprocess
from pathlib import Path

from courseware.binaries import ffmpeg_binary, ffprobe_binary


def ffmpeg(*args: str) -> None:
    """Run ffmpeg quietly, failing the test session loudly if it cannot make a fixture."""
    cmd = [ffmpeg_binary(), "-hide_banner", "-nostdin", "-v", "error", "-y", *args]
    subprocess.run(cmd, check=True, capture_output=True, timeout=60)  # noqa: S603


def ffprobe_json(path: Path, *args: str) -> str:
    """Raw ffprobe output for assertions about what was written."""
    cmd = [ffprobe_binary(), "-v", "error", *args, "-of", "json", str(path)]
    result = subprocess.run(cmd, check=True, capture_output=True, timeout=60)  # noqa: S603
    return result.stdout.decode()
