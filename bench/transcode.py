"""Benchmark the courseware HLS pipeline against the bare ffmpeg command it wraps.

Run from the repository root: ``.venv/bin/python bench/transcode.py``. Takes a few minutes on
two cores. Goals: the pipeline (probe + package) costs at most 5 % more than plain ffmpeg
doing the same work, and the remux fast path packages a 60 s 720p clip well under a second.
Wall-clock time is noisy on a shared machine, so CPU time (this process, its threads and its
ffmpeg/ffprobe children) is shown too; it is the steadier measure of the overhead.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from courseware.binaries import ffmpeg_binary  # noqa: E402
from courseware.hls import package_hls  # noqa: E402
from courseware.probe import probe_video  # noqa: E402

SECONDS = 60
ROUNDS = 2


def ffmpeg(*args: str, cwd: Path | None = None) -> None:
    cmd = [ffmpeg_binary(), "-hide_banner", "-nostdin", "-v", "error", "-y", *args]
    subprocess.run(cmd, check=True, cwd=cwd)


def synthesize(path: Path, video_codec: list[str]) -> None:
    ffmpeg(
        "-f", "lavfi", "-i", f"testsrc2=size=1280x720:rate=30:duration={SECONDS}",
        "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={SECONDS}",
        *video_codec, "-c:a", "aac", "-b:a", "128k", "-shortest", str(path),
    )  # fmt: skip


def plain_ffmpeg(src: Path, out_dir: Path) -> None:
    """What package_hls does for a 1280x720 30 fps source with audio, written out by hand."""
    out_dir.mkdir()
    graph = (
        "[0:v:0]split=4[s0][s1][s2][s3];"
        "[s0]scale=640:360,setsar=1,format=yuv420p[v0];"
        "[s1]scale=960:540,setsar=1,format=yuv420p[v1];"
        "[s2]scale=1280:720,setsar=1,format=yuv420p[v2];"
        f"[s3]select=eq(selected_n\\,0)+gte(t\\,{SECONDS * 0.1:.3f})*eq(selected_n\\,1),"
        "scale=1280:720,setsar=1[poster]"
    )
    ffmpeg(
        "-i", str(src), "-filter_complex", graph,
        "-map", "[v0]", "-map", "0:a:0", "-map", "[v1]", "-map", "0:a:0",
        "-map", "[v2]", "-map", "0:a:0",
        "-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high",
        "-g", "180", "-sc_threshold", "0", "-force_key_frames", "expr:gte(t,n_forced*6)",
        "-b:v:0", "800k", "-maxrate:v:0", "856k", "-bufsize:v:0", "1200k", "-b:a:0", "96k",
        "-b:v:1", "1400k", "-maxrate:v:1", "1498k", "-bufsize:v:1", "2100k", "-b:a:1", "128k",
        "-b:v:2", "2800k", "-maxrate:v:2", "2996k", "-bufsize:v:2", "4200k", "-b:a:2", "128k",
        "-c:a", "aac", "-ac", "2",
        "-map_metadata", "-1", "-map_chapters", "-1",
        "-f", "hls", "-hls_time", "6", "-hls_playlist_type", "vod",
        "-hls_flags", "independent_segments", "-hls_segment_type", "mpegts",
        "-hls_segment_filename", "%v/seg_%05d.ts", "-master_pl_name", "master.m3u8",
        "-var_stream_map", "v:0,a:0,name:360p v:1,a:1,name:540p v:2,a:2,name:720p",
        "%v/index.m3u8",
        "-map", "[poster]", "-c:v", "mjpeg", "-q:v", "3",
        "-update", "1", "-f", "image2", "poster.jpg",
        cwd=out_dir,
    )  # fmt: skip


def pipeline(src: Path, out_dir: Path, *, allow_remux: bool = True) -> bool:
    output = package_hls(src, out_dir, probe_video(src), allow_remux=allow_remux)
    return output.remuxed


def cpu_seconds() -> float:
    """CPU used so far by this process (its threads) and its waited-for children (ffmpeg)."""
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(work: Callable[[Path], object], scratch: Path) -> tuple[float, float]:
    """Wall-clock and CPU seconds of one run; CPU time is steadier on a busy machine."""
    out_dir = scratch / "out"
    started, cpu_before = time.perf_counter(), cpu_seconds()
    work(out_dir)
    elapsed, cpu = time.perf_counter() - started, cpu_seconds() - cpu_before
    shutil.rmtree(out_dir)
    return elapsed, cpu


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="zhixin-bench-") as folder:
        scratch = Path(folder)
        ladder_src = scratch / "source-mpeg4.mp4"
        remux_src = scratch / "source-h264.mp4"
        print(f"synthesizing {SECONDS} s 1280x720 30 fps sources …", flush=True)
        synthesize(ladder_src, ["-c:v", "mpeg4", "-q:v", "4"])
        synthesize(
            remux_src,
            ["-c:v", "libx264", "-preset", "veryfast", "-b:v", "2500k", "-g", "60",
             "-pix_fmt", "yuv420p"],
        )  # fmt: skip

        runs: dict[str, list[tuple[float, float]]] = {"pipeline": [], "plain": []}
        for round_ in range(ROUNDS):
            order = ["pipeline", "plain"] if round_ % 2 == 0 else ["plain", "pipeline"]
            for name in order:
                work = (
                    (lambda out: pipeline(ladder_src, out))
                    if name == "pipeline"
                    else (lambda out: plain_ffmpeg(ladder_src, out))
                )
                wall, cpu = timed(work, scratch)
                runs[name].append((wall, cpu))
                print(f"  round {round_ + 1}: {name:<8} {wall:7.2f} s wall {cpu:7.2f} s CPU")

        remux_runs = [timed(lambda out: pipeline(remux_src, out), scratch) for _ in range(ROUNDS)]
        if not pipeline(remux_src, scratch / "check"):
            raise SystemExit("the H.264/AAC source was not remuxed")

    wall = {name: min(w for w, _ in results) for name, results in runs.items()}
    cpu = {name: min(c for _, c in results) for name, results in runs.items()}
    remux_wall, remux_cpu = min(w for w, _ in remux_runs), min(c for _, c in remux_runs)
    print()
    print(f"{'60 s, 1280x720, 30 fps; best of ' + str(ROUNDS):<44} {'wall':>9} {'CPU':>9}")
    print("-" * 64)
    print(
        f"{'plain ffmpeg: 3-rung ladder + poster':<44} {wall['plain']:7.2f} s {cpu['plain']:7.2f} s"
    )
    print(
        f"{'pipeline: probe_video + package_hls':<44} "
        f"{wall['pipeline']:7.2f} s {cpu['pipeline']:7.2f} s"
    )
    print(
        f"{'overhead (goal <= 5 %)':<44} {wall['pipeline'] / wall['plain'] - 1:8.1%} "
        f"{cpu['pipeline'] / cpu['plain'] - 1:8.1%}"
    )
    print(
        f"{'remux fast path: probe_video + package_hls':<44} {remux_wall:7.3f} s {remux_cpu:7.3f} s"
    )
    print(f"{'load average (1 min) at the end':<44} {os.getloadavg()[0]:9.1f}")


if __name__ == "__main__":
    main()
