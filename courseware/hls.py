"""Package a validated source video as HLS: an H.264/AAC ladder and a poster from one decode."""

from __future__ import annotations

import dataclasses
import errno
import os
import re
import secrets
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from courseware._ffmpeg import run_ffmpeg
from courseware.binaries import ffprobe_binary
from courseware.errors import ProcessingFailed
from courseware.ladder import RUNGS, Rung, ladder_for, output_width
from courseware.probe import FORMAT_WHITELIST, VideoProbe

MASTER = "master.m3u8"
POSTER = "poster.jpg"
#: Poster frame position as a share of the duration, and its maximum height.
POSTER_AT = 0.10
POSTER_MAX_HEIGHT = 720
#: Renditions above this frame rate are encoded at half rate (120 → 60, 100 → 50).
MAX_OUTPUT_FPS = 60.0
#: How much of the source is scanned for keyframes before choosing the remux path.
_KEYFRAME_SCAN_SECONDS = 30
_TMP_MARKER = ".tmp-"


@dataclass(frozen=True)
class Rendition:
    """One variant stream; ``playlist`` is relative to the output directory."""

    height: int
    width: int
    bandwidth: int
    playlist: str


@dataclass(frozen=True)
class HlsOutput:
    """A finished HLS package; paths are relative to its directory."""

    master: str
    renditions: tuple[Rendition, ...]
    poster: str
    duration: float
    remuxed: bool

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable dict, e.g. for a MediaAsset.renditions column."""
        return dataclasses.asdict(self)


def can_remux(probe: VideoProbe) -> bool:
    """True when the source can be segmented as-is, which is seconds instead of minutes.

    Requires what every HLS player decodes (8-bit 4:2:0 H.264, AAC or no audio), no rotation
    flag (MPEG-TS cannot carry it), a height within the ladder and a sane frame rate, and a
    bitrate a learner's connection can take (at most twice the matching rung's peak).
    """
    if probe.video_codec != "h264" or probe.audio_codec not in (None, "aac"):
        return False
    if probe.pix_fmt != "yuv420p" or probe.rotation != 0:
        return False
    if probe.height > RUNGS[-1].height or not 1.0 <= probe.fps <= MAX_OUTPUT_FPS:
        return False
    rung = next((r for r in RUNGS if r.height >= probe.height), RUNGS[-1])
    limit = 2 * (rung.maxrate_kbps + rung.audio_kbps) * 1000
    return probe.bit_rate is None or probe.bit_rate <= limit


def package_hls(
    src: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    probe: VideoProbe,
    *,
    on_progress: Callable[[float], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
    segment_seconds: int = 6,
    preset: str = "veryfast",
    allow_remux: bool = True,
) -> HlsOutput:
    """Write an HLS package for ``src`` into ``out_dir``, which must not exist yet.

    Everything is written to a hidden sibling directory that is renamed to ``out_dir`` only
    when complete, so readers never see a half-written package; on any failure (including
    :class:`Cancelled` and KeyboardInterrupt) it is removed. ``on_progress`` receives
    increasing percentages and finally 100.0, on the calling thread.

    Raises FileExistsError, :class:`ProcessingFailed` or :class:`Cancelled`.
    """
    if segment_seconds < 1:
        raise ValueError("segment_seconds must be at least 1")
    src = Path(src).resolve()
    out_dir = Path(out_dir).absolute()
    if out_dir.exists() or out_dir.is_symlink():
        raise FileExistsError(errno.EEXIST, "HLS output directory already exists", str(out_dir))
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_dir.parent / f".{out_dir.name}{_TMP_MARKER}{secrets.token_hex(6)}"
    tmp.mkdir()
    try:
        remux = allow_remux and can_remux(probe) and _keyframes_fit(src, segment_seconds)
        run = _remux if remux else _transcode
        expected = run(src, tmp, probe, on_progress, should_cancel, segment_seconds, preset)
        if not (tmp / POSTER).is_file():
            _write_poster(src, tmp, probe)
        output = _read_output(tmp, expected, remuxed=remux)
        os.rename(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if on_progress is not None:
        on_progress(100.0)
    return output


def sweep_temp_dirs(parent: str | os.PathLike[str], older_than_seconds: float = 6 * 3600) -> int:
    """Remove temporary directories a killed worker left in ``parent``; return how many.

    package_hls cleans up after itself, but not after SIGKILL or a power cut. Call this from
    a periodic job; the age threshold keeps it away from packages still being written.
    """
    removed = 0
    cutoff = time.time() - older_than_seconds
    for entry in Path(parent).iterdir():
        if not (entry.name.startswith(".") and _TMP_MARKER in entry.name and entry.is_dir()):
            continue
        if entry.is_symlink() or entry.stat().st_mtime > cutoff:
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed += 1
    return removed


def _input(src: Path, seek: float | None = None) -> list[str]:
    seek_args = ["-ss", f"{seek:.3f}"] if seek is not None else []
    return [*seek_args, "-format_whitelist", FORMAT_WHITELIST, "-i", str(src)]


def _hls_args(segment_seconds: int, stream_map: str) -> list[str]:
    return [
        "-map_metadata", "-1", "-map_chapters", "-1",  # drop camera/GPS tags from the source
        "-f", "hls",
        "-hls_time", str(segment_seconds),
        "-hls_playlist_type", "vod",
        "-hls_flags", "independent_segments",
        "-hls_segment_type", "mpegts",
        "-hls_segment_filename", "%v/seg_%05d.ts",
        "-master_pl_name", MASTER,
        "-var_stream_map", stream_map,
        "%v/index.m3u8",
    ]  # fmt: skip


def _poster_size(probe: VideoProbe) -> tuple[int, int]:
    height = min(POSTER_MAX_HEIGHT, probe.height)
    height -= height % 2
    return output_width(probe, height), height


def _poster_time(probe: VideoProbe) -> float:
    return max(0.0, min(probe.duration * POSTER_AT, probe.duration - 0.5))


def _transcode(
    src: Path,
    tmp: Path,
    probe: VideoProbe,
    on_progress: Callable[[float], None] | None,
    should_cancel: Callable[[], bool] | None,
    segment_seconds: int,
    preset: str,
) -> dict[str, tuple[int, int]]:
    """Decode once: split into one scaled branch per rung plus one poster branch."""
    rungs = ladder_for(probe)
    has_audio = probe.audio_codec is not None
    fps = probe.fps / 2 if probe.fps > MAX_OUTPUT_FPS else probe.fps
    head = f"fps={fps:.6g}," if fps != probe.fps else ""
    poster_w, poster_h = _poster_size(probe)
    graph = [
        f"[0:v:0]{head}split={len(rungs) + 1}" + "".join(f"[s{i}]" for i in range(len(rungs) + 1))
    ]
    for i, rung in enumerate(rungs):
        width = output_width(probe, rung.height)
        graph.append(f"[s{i}]scale={width}:{rung.height},setsar=1,format=yuv420p[v{i}]")
    # The poster branch keeps the first frame, then replaces it with the first one at 10 %;
    # were the duration overstated, the poster is the first frame rather than a failed run.
    at = f"{_poster_time(probe):.3f}"
    graph.append(
        f"[s{len(rungs)}]select=eq(selected_n\\,0)+gte(t\\,{at})*eq(selected_n\\,1),"
        f"scale={poster_w}:{poster_h},setsar=1[poster]"
    )
    gop = max(1, round(fps * segment_seconds))
    args = [*_input(src), "-filter_complex", ";".join(graph)]
    for i in range(len(rungs)):
        args += ["-map", f"[v{i}]"] + (["-map", "0:a:0"] if has_audio else [])
    args += [
        "-c:v", "libx264", "-preset", preset, "-profile:v", "high",
        "-g", str(gop), "-sc_threshold", "0",
        "-force_key_frames", f"expr:gte(t,n_forced*{segment_seconds})",
    ]  # fmt: skip
    for i, rung in enumerate(rungs):
        args += [
            f"-b:v:{i}", f"{rung.video_kbps}k",
            f"-maxrate:v:{i}", f"{rung.maxrate_kbps}k",
            f"-bufsize:v:{i}", f"{rung.bufsize_kbps}k",
        ]  # fmt: skip
        if has_audio:
            args += [f"-b:a:{i}", f"{rung.audio_kbps}k"]
    if has_audio:
        args += ["-c:a", "aac", "-ac", "2"]
    args += _hls_args(segment_seconds, _stream_map(rungs, has_audio))
    args += ["-map", "[poster]", "-c:v", "mjpeg", "-q:v", "3", "-update", "1", "-f", "image2"]
    args += [POSTER]
    run_ffmpeg(
        args,
        duration=probe.duration,
        cwd=tmp,
        on_progress=on_progress,
        should_cancel=should_cancel,
    )
    return {rung.name: (output_width(probe, rung.height), rung.height) for rung in rungs}


def _remux(
    src: Path,
    tmp: Path,
    probe: VideoProbe,
    on_progress: Callable[[float], None] | None,
    should_cancel: Callable[[], bool] | None,
    segment_seconds: int,
    preset: str,
) -> dict[str, tuple[int, int]]:
    """Copy the streams into segments; package_hls then takes the poster with a seek."""
    del preset  # nothing is encoded
    name = f"{probe.height}p"
    has_audio = probe.audio_codec is not None
    args = [*_input(src), "-map", "0:v:0"] + (["-map", "0:a:0"] if has_audio else [])
    stream_map = f"v:0,a:0,name:{name}" if has_audio else f"v:0,name:{name}"
    args += ["-c", "copy", *_hls_args(segment_seconds, stream_map)]
    run_ffmpeg(
        args,
        duration=probe.duration,
        cwd=tmp,
        on_progress=on_progress,
        should_cancel=should_cancel,
    )
    return {name: (probe.width, probe.height)}


def _stream_map(rungs: list[Rung], has_audio: bool) -> str:
    if has_audio:
        return " ".join(f"v:{i},a:{i},name:{rung.name}" for i, rung in enumerate(rungs))
    return " ".join(f"v:{i},name:{rung.name}" for i, rung in enumerate(rungs))


def _write_poster(src: Path, tmp: Path, probe: VideoProbe) -> None:
    """Grab one frame with input seeking, which decodes a GOP at most, not the video up to it.

    Falls back to the first frame when the seek finds nothing (a duration overstated by the
    container), because a missing poster must not fail an otherwise good package.
    """
    width, height = _poster_size(probe)
    for seek in (_poster_time(probe), None):
        args = [*_input(src, seek=seek), "-map", "0:v:0", "-vf", f"scale={width}:{height},setsar=1"]
        args += ["-frames:v", "1", "-c:v", "mjpeg", "-q:v", "3", "-update", "1", "-f", "image2"]
        try:
            run_ffmpeg([*args, POSTER], duration=probe.duration, cwd=tmp)
        except ProcessingFailed:
            if seek is None:
                raise
            continue
        if (tmp / POSTER).is_file():
            return


def _keyframes_fit(src: Path, segment_seconds: int) -> bool:
    """True if keyframes come often enough for copied segments to stay near segment_seconds.

    Screen recorders often emit a keyframe every 10 s or more; remuxing those would give
    long segments and coarse seeking, so such sources are transcoded instead.
    """
    args = [
        ffprobe_binary(), "-v", "error", "-select_streams", "v:0",
        "-read_intervals", f"%+{_KEYFRAME_SCAN_SECONDS}",
        "-show_entries", "packet=pts_time,flags", "-of", "csv=p=0",
        "-format_whitelist", FORMAT_WHITELIST, str(src),
    ]  # fmt: skip
    try:
        result = subprocess.run(  # noqa: S603 - fixed argv, no shell
            args, capture_output=True, timeout=60, check=True
        )
    except (subprocess.SubprocessError, OSError):
        return False
    keyframes: list[float] = []
    last = 0.0
    for line in result.stdout.decode("ascii", "replace").splitlines():
        pts, _, flags = line.partition(",")
        try:
            t = float(pts)
        except ValueError:
            continue
        last = max(last, t)
        if "K" in flags:
            keyframes.append(t)
    if not keyframes:
        return False
    keyframes.sort()
    gaps = [b - a for a, b in zip(keyframes, [*keyframes[1:], last], strict=True)]
    return max(gaps) <= 2 * segment_seconds


_STREAM_INF = re.compile(r"#EXT-X-STREAM-INF:(.*)")
_ATTRIBUTE = re.compile(r'([A-Z0-9-]+)=("[^"]*"|[^,]*)')
_EXTINF = re.compile(r"#EXTINF:([0-9.]+)")


def _read_output(tmp: Path, expected: dict[str, tuple[int, int]], *, remuxed: bool) -> HlsOutput:
    """Check the package is complete and describe it from the playlists ffmpeg wrote."""
    master = tmp / MASTER
    if not master.is_file():
        raise ProcessingFailed("incomplete_output", "ffmpeg wrote no master playlist")
    lines = master.read_text("utf-8").splitlines()
    variants: dict[str, dict[str, str]] = {}
    for i, line in enumerate(lines):
        match = _STREAM_INF.match(line)
        if match and i + 1 < len(lines):
            attributes = {k: v.strip('"') for k, v in _ATTRIBUTE.findall(match.group(1))}
            variants[lines[i + 1].strip()] = attributes
    renditions: list[Rendition] = []
    durations: list[list[float]] = []
    for name, (width, height) in expected.items():
        playlist = f"{name}/index.m3u8"
        attributes = variants.get(playlist)
        if attributes is None or "BANDWIDTH" not in attributes:
            raise ProcessingFailed("incomplete_output", f"{playlist} missing from {MASTER}")
        text = (tmp / playlist).read_text("utf-8") if (tmp / playlist).is_file() else ""
        extinf = [float(value) for value in _EXTINF.findall(text)]
        if not extinf or "#EXT-X-ENDLIST" not in text:
            raise ProcessingFailed("incomplete_output", f"{playlist} is missing or unfinished")
        resolution = attributes.get("RESOLUTION", "")
        if re.fullmatch(r"\d+x\d+", resolution):
            width, height = (int(part) for part in resolution.split("x"))
        bandwidth = int(attributes["BANDWIDTH"])
        renditions.append(Rendition(height, width, bandwidth, playlist))
        durations.append(extinf)
    if not (tmp / POSTER).is_file():
        raise ProcessingFailed("incomplete_output", "no poster was written")
    return HlsOutput(
        master=MASTER,
        renditions=tuple(renditions),
        poster=POSTER,
        duration=round(sum(durations[0]), 6),
        remuxed=remuxed,
    )
