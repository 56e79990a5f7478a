"""Run one ffmpeg command with progress reporting, cancellation and a bounded stderr tail."""

from __future__ import annotations

import collections
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO

from courseware.binaries import ffmpeg_binary
from courseware.errors import Cancelled, ProcessingFailed

#: How often the caller's should_cancel() is polled, in seconds.
POLL_SECONDS = 0.1
#: Minimum time between two on_progress() calls, so a job row is not rewritten constantly.
PROGRESS_INTERVAL_SECONDS = 0.25
#: How long ffmpeg gets to exit after SIGTERM before it is killed.
TERMINATE_GRACE_SECONDS = 3.0
_STDERR_LINES = 40
_DETAIL_CHARS = 2000


def run_ffmpeg(
    args: Sequence[str],
    *,
    duration: float,
    cwd: Path,
    on_progress: Callable[[float], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> None:
    """Run ``ffmpeg args`` in ``cwd``; report 0..<100 % progress; raise on failure or cancel.

    Callbacks run on the calling thread (ffmpeg's pipes are drained by helper threads), so a
    caller may touch its database session from them. The final 100 % is left to the caller,
    which knows when the whole job, not only this command, is done.
    """
    cmd = [ffmpeg_binary(), "-hide_banner", "-nostdin", "-loglevel", "warning", "-nostats"]
    cmd += ["-progress", "pipe:1", *args]
    try:
        proc = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            cmd,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
    except OSError as e:  # so callers only ever need to catch CoursewareError
        raise ProcessingFailed("ffmpeg_failed", f"cannot start {cmd[0]}: {e}") from e
    tail: collections.deque[str] = collections.deque(maxlen=_STDERR_LINES)
    position = _Position()
    readers = [
        threading.Thread(target=_read_progress, args=(proc.stdout, position), daemon=True),
        threading.Thread(target=_read_stderr, args=(proc.stderr, tail), daemon=True),
    ]
    for reader in readers:
        reader.start()
    reported, reported_at = 0.0, 0.0
    try:
        while True:
            if should_cancel is not None and should_cancel():
                _stop(proc)
                raise Cancelled("cancelled", "cancelled while ffmpeg was running")
            try:
                returncode = proc.wait(timeout=POLL_SECONDS)
                break
            except subprocess.TimeoutExpired:
                pass
            now = time.monotonic()
            if on_progress is not None and now - reported_at >= PROGRESS_INTERVAL_SECONDS:
                percent = position.percent(duration)
                if percent > reported:
                    on_progress(percent)
                    reported, reported_at = percent, now
    finally:
        # Also reached on KeyboardInterrupt or a raising callback: never leave ffmpeg running.
        if proc.poll() is None:
            _stop(proc)
        for reader in readers:
            reader.join(timeout=5)
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
    if returncode != 0:
        detail = "\n".join(tail)[-_DETAIL_CHARS:]
        raise ProcessingFailed("ffmpeg_failed", f"ffmpeg exited with {returncode}:\n{detail}")


class _Position:
    """Furthest output time ffmpeg has reported, in microseconds (written by a reader thread)."""

    def __init__(self) -> None:
        self.microseconds = 0

    def update(self, line: str) -> None:
        key, _, value = line.partition("=")
        # out_time_ms is, despite its name, also in microseconds; out_time is the fallback.
        if key in ("out_time_us", "out_time_ms"):
            microseconds = _int_or_none(value)
        elif key == "out_time":
            microseconds = _parse_clock(value)
        else:
            return
        # With several outputs ffmpeg reports the slowest one, which can step back when an
        # output (the poster) finishes early; progress must never go backwards.
        if microseconds is not None and microseconds > self.microseconds:
            self.microseconds = microseconds

    def percent(self, duration: float) -> float:
        if duration <= 0:
            return 0.0
        return round(min(99.9, max(0.0, self.microseconds / 1e4 / duration)), 1)


def _int_or_none(text: str) -> int | None:
    try:
        return int(text.strip())
    except ValueError:  # "N/A" before the first frame
        return None


def _parse_clock(text: str) -> int | None:
    try:
        hours, minutes, seconds = text.strip().split(":")
        return round((int(hours) * 3600 + int(minutes) * 60 + float(seconds)) * 1e6)
    except ValueError:
        return None


def _read_progress(stream: IO[bytes], position: _Position) -> None:
    for raw in stream:
        position.update(raw.decode("ascii", "replace").strip())


def _read_stderr(stream: IO[bytes], tail: collections.deque[str]) -> None:
    for raw in stream:
        line = raw.decode("utf-8", "replace").rstrip()
        if line:
            tail.append(line)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=TERMINATE_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
