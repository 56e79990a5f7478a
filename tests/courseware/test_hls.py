"""package_hls: an HLS ladder and poster from one decode, written atomically, cancellable."""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
import re
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from courseware import _ffmpeg
from courseware.errors import Cancelled, ProcessingFailed
from courseware.hls import HlsOutput, can_remux, package_hls, sweep_temp_dirs
from courseware.probe import VideoProbe, probe_video
from tests.courseware.helpers import ffmpeg, ffprobe_json

SEGMENT = 1  # the clips are 2-3 s long, so 1 s segments give several per rendition


def extinf(playlist: Path) -> list[float]:
    return [float(v) for v in re.findall(r"#EXTINF:([0-9.]+)", playlist.read_text())]


def segments(playlist: Path) -> list[Path]:
    lines = playlist.read_text().splitlines()
    return [playlist.parent / line for line in lines if line.endswith(".ts")]


def streams(path: Path) -> list[dict[str, str]]:
    entries = "stream=codec_type,codec_name,profile,width,height"
    return json.loads(ffprobe_json(path, "-show_entries", entries))["streams"]


def first_frame_is_key(segment: Path) -> bool:
    args = ["-select_streams", "v:0", "-read_intervals", "%+#1", "-show_entries", "frame=key_frame"]
    frames = json.loads(ffprobe_json(segment, *args))["frames"]
    return frames[0]["key_frame"] == 1


def master_entries(master: Path) -> dict[str, str]:
    """URI → EXT-X-STREAM-INF attribute text."""
    lines = master.read_text().splitlines()
    return {
        lines[i + 1]: line.split(":", 1)[1]
        for i, line in enumerate(lines)
        if line.startswith("#EXT-X-STREAM-INF:")
    }


class Packaged:
    def __init__(self, out_dir: Path, output: HlsOutput, progress: list[float], seconds: float):
        self.out_dir, self.output, self.progress, self.seconds = out_dir, output, progress, seconds


def package(src: Path, out_dir: Path, **kwargs: object) -> Packaged:
    progress: list[float] = []
    started = time.perf_counter()
    output = package_hls(
        src, out_dir, probe_video(src), on_progress=progress.append, segment_seconds=SEGMENT,
        **kwargs,  # type: ignore[arg-type]
    )  # fmt: skip
    return Packaged(out_dir, output, progress, time.perf_counter() - started)


@pytest.fixture(scope="module")
def ladder(tmp_path_factory: pytest.TempPathFactory, clip_720p: Path) -> Packaged:
    return package(clip_720p, tmp_path_factory.mktemp("hls") / "lesson-720p")


class TestTranscodingA720pSource:
    def test_produces_360p_540p_and_720p_but_never_1080p(self, ladder: Packaged) -> None:
        renditions = ladder.output.renditions

        assert [(r.width, r.height) for r in renditions] == [(640, 360), (960, 540), (1280, 720)]
        assert [r.playlist for r in renditions] == [
            "360p/index.m3u8",
            "540p/index.m3u8",
            "720p/index.m3u8",
        ]
        assert not (ladder.out_dir / "1080p").exists()
        assert ladder.output.remuxed is False

    def test_the_master_lists_every_rung_with_bandwidth_resolution_and_codecs(
        self, ladder: Packaged
    ) -> None:
        assert ladder.output.master == "master.m3u8"
        entries = master_entries(ladder.out_dir / "master.m3u8")

        assert list(entries) == [r.playlist for r in ladder.output.renditions]
        for rendition in ladder.output.renditions:
            attributes = entries[rendition.playlist]
            assert f"BANDWIDTH={rendition.bandwidth}," in attributes
            assert f"RESOLUTION={rendition.width}x{rendition.height}" in attributes
            assert re.search(r'CODECS="avc1\.[0-9a-f]{6},mp4a\.40\.2"', attributes)

    def test_segments_last_segment_seconds(self, ladder: Packaged) -> None:
        for rendition in ladder.output.renditions:
            *full, last = extinf(ladder.out_dir / rendition.playlist)
            assert full, "expected several segments"
            assert all(d == pytest.approx(SEGMENT, abs=0.11) for d in full)
            assert 0 < last <= SEGMENT + 0.11

    def test_segments_are_aligned_across_renditions(self, ladder: Packaged) -> None:
        durations = [extinf(ladder.out_dir / r.playlist) for r in ladder.output.renditions]

        assert all(d == durations[0] for d in durations)

    def test_every_segment_starts_with_a_keyframe(self, ladder: Packaged) -> None:
        for rendition in ladder.output.renditions:
            for segment in segments(ladder.out_dir / rendition.playlist):
                assert first_frame_is_key(segment), segment

    def test_renditions_are_h264_with_aac(self, ladder: Packaged) -> None:
        for rendition in ladder.output.renditions:
            first = segments(ladder.out_dir / rendition.playlist)[0]
            codecs = {s["codec_type"]: s["codec_name"] for s in streams(first)}
            assert codecs == {"video": "h264", "audio": "aac"}

    def test_a_poster_jpeg_comes_from_the_same_run(self, ladder: Packaged) -> None:
        poster = ladder.out_dir / ladder.output.poster

        assert poster.read_bytes()[:2] == b"\xff\xd8"
        (video,) = streams(poster)
        assert (video["width"], video["height"]) == (1280, 720)

    def test_duration_is_that_of_the_output(self, ladder: Packaged) -> None:
        assert ladder.output.duration == pytest.approx(2.0, abs=0.05)

    def test_progress_increases_and_ends_at_100(self, ladder: Packaged) -> None:
        assert ladder.progress[-1] == 100.0
        assert ladder.progress == sorted(set(ladder.progress))
        assert all(0 <= p <= 100 for p in ladder.progress)

    def test_no_temporary_directory_is_left_beside_it(self, ladder: Packaged) -> None:
        assert [p.name for p in ladder.out_dir.parent.iterdir()] == [ladder.out_dir.name]

    def test_the_result_serialises_to_json(self, ladder: Packaged) -> None:
        data = json.loads(json.dumps(ladder.output.to_dict()))

        assert data["renditions"][0]["playlist"] == "360p/index.m3u8"
        assert data["poster"] == "poster.jpg"


@pytest.fixture(scope="module")
def silent_package(tmp_path_factory: pytest.TempPathFactory, silent_clip: Path) -> Packaged:
    return package(silent_clip, tmp_path_factory.mktemp("hls") / "silent", allow_remux=False)


class TestAVideoWithoutAudio:
    def test_gets_video_only_renditions_rather_than_invented_audio(
        self, silent_package: Packaged
    ) -> None:
        (rendition,) = silent_package.output.renditions
        first = segments(silent_package.out_dir / rendition.playlist)[0]

        assert [s["codec_type"] for s in streams(first)] == ["video"]
        assert "mp4a" not in (silent_package.out_dir / "master.m3u8").read_text()

    def test_below_360p_gets_a_single_rendition_at_its_own_height(
        self, silent_package: Packaged
    ) -> None:
        assert [(r.width, r.height) for r in silent_package.output.renditions] == [(320, 240)]
        assert silent_package.output.renditions[0].playlist == "240p/index.m3u8"


class TestTheRemuxFastPath:
    def test_copies_h264_and_aac_without_re_encoding(self, tmp_path: Path, good_clip: Path) -> None:
        packaged = package(good_clip, tmp_path / "lesson")

        assert packaged.output.remuxed is True
        (rendition,) = packaged.output.renditions
        assert (rendition.width, rendition.height, rendition.playlist) == (
            640,
            360,
            "360p/index.m3u8",
        )
        first = segments(tmp_path / "lesson" / rendition.playlist)[0]
        # The source was encoded with x264's ultrafast preset (Constrained Baseline);
        # package_hls would encode High profile, so the profile proves the stream was copied.
        profiles = {s["codec_type"]: s.get("profile") for s in streams(first)}
        assert profiles["video"] == "Constrained Baseline"
        assert (tmp_path / "lesson" / "poster.jpg").is_file()
        assert packaged.output.duration == pytest.approx(3.0, abs=0.1)
        assert packaged.progress[-1] == 100.0

    def test_takes_well_under_a_second(self, tmp_path: Path, good_clip: Path) -> None:
        assert package(good_clip, tmp_path / "lesson").seconds < 1.0

    def test_can_be_refused_by_the_caller(self, tmp_path: Path, good_clip: Path) -> None:
        packaged = package(good_clip, tmp_path / "lesson", allow_remux=False)

        assert packaged.output.remuxed is False
        first = segments(tmp_path / "lesson" / "360p/index.m3u8")[0]
        assert {s["codec_type"]: s.get("profile") for s in streams(first)}["video"] == "High"

    def test_is_not_taken_when_keyframes_are_too_far_apart(
        self, tmp_path: Path, media: Path
    ) -> None:
        sparse = media / "sparse-keyframes.mp4"
        if not sparse.exists():
            ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=10:duration=3",
                   "-c:v", "libx264", "-preset", "ultrafast", "-g", "300", str(sparse))  # fmt: skip

        packaged = package(sparse, tmp_path / "lesson")

        assert packaged.output.remuxed is False
        assert max(extinf(tmp_path / "lesson" / "240p/index.m3u8")) <= SEGMENT + 0.11


def a_probe(**changes: object) -> VideoProbe:
    base = {
        "duration": 60.0,
        "width": 1280,
        "height": 720,
        "fps": 30.0,
        "video_codec": "h264",
        "audio_codec": "aac",
        "pix_fmt": "yuv420p",
        "format_name": "mov,mp4,m4a,3gp,3g2,mj2",
        "bit_rate": 3_000_000,
        "size_bytes": 22_500_000,
    }
    return VideoProbe(**{**base, **changes})  # type: ignore[arg-type]


class TestCanRemux:
    def test_accepts_web_ready_h264_with_aac(self) -> None:
        assert can_remux(a_probe())

    def test_accepts_h264_without_audio(self) -> None:
        assert can_remux(a_probe(audio_codec=None))

    @pytest.mark.parametrize(
        "change",
        [
            {"video_codec": "hevc"},
            {"video_codec": "mpeg4"},
            {"audio_codec": "opus"},
            {"pix_fmt": "yuv420p10le"},
            {"pix_fmt": "yuv444p"},
            {"width": 3840, "height": 2160},
            {"rotation": 90},
            {"fps": 120.0},
            {"bit_rate": 20_000_000},
        ],
        ids=str,
    )
    def test_refuses_anything_a_player_or_a_learners_line_may_choke_on(
        self, change: dict[str, object]
    ) -> None:
        assert not can_remux(a_probe(**change))


def test_a_rotated_video_is_transcoded_upright(tmp_path: Path, rotated_clip: Path) -> None:
    packaged = package(rotated_clip, tmp_path / "lesson")

    # Displayed 360x640, so the ladder counts 640 px of height: rungs 360 and 540, portrait.
    assert packaged.output.remuxed is False
    assert [(r.width, r.height) for r in packaged.output.renditions] == [(202, 360), (304, 540)]


@pytest.mark.parametrize("allow_remux", [True, False], ids=["remux", "transcode"])
def test_a_poster_is_made_even_when_the_container_overstates_the_duration(
    tmp_path: Path, good_clip: Path, allow_remux: bool
) -> None:
    """The 10 % mark is then past the last frame; the first frame must do instead."""
    probe = dataclasses.replace(probe_video(good_clip), duration=100.0)

    output = package_hls(
        good_clip, tmp_path / "lesson", probe, segment_seconds=SEGMENT, allow_remux=allow_remux
    )

    assert output.remuxed is allow_remux
    assert (tmp_path / "lesson" / output.poster).read_bytes()[:2] == b"\xff\xd8"


class TestAtomicity:
    def test_an_existing_output_directory_is_refused_and_left_alone(
        self, tmp_path: Path, good_clip: Path
    ) -> None:
        out_dir = tmp_path / "lesson"
        out_dir.mkdir()
        (out_dir / "keep.txt").write_text("previous package")

        with pytest.raises(FileExistsError):
            package_hls(good_clip, out_dir, probe_video(good_clip))

        assert [p.name for p in tmp_path.iterdir()] == ["lesson"]
        assert (out_dir / "keep.txt").read_text() == "previous package"

    def test_cancelling_stops_ffmpeg_and_leaves_nothing(
        self, tmp_path: Path, clip_720p: Path
    ) -> None:
        with pytest.raises(Cancelled) as excinfo:
            package_hls(
                clip_720p, tmp_path / "lesson", probe_video(clip_720p), should_cancel=lambda: True
            )

        assert excinfo.value.code == "cancelled"
        assert list(tmp_path.iterdir()) == []

    def test_a_failing_ffmpeg_leaves_nothing(
        self, tmp_path: Path, good_clip: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(_ffmpeg, "ffmpeg_binary", lambda: shutil.which("false"))

        with pytest.raises(ProcessingFailed) as excinfo:
            package_hls(good_clip, tmp_path / "lesson", probe_video(good_clip), allow_remux=False)

        assert "exited with 1" in excinfo.value.detail
        assert list(tmp_path.iterdir()) == []

    def test_an_ffmpeg_that_cannot_start_is_a_processing_failure(
        self, tmp_path: Path, good_clip: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(_ffmpeg, "ffmpeg_binary", lambda: str(tmp_path / "missing-ffmpeg"))
        out_dir = tmp_path / "out" / "lesson"

        with pytest.raises(ProcessingFailed, match="cannot start"):
            package_hls(good_clip, out_dir, probe_video(good_clip), allow_remux=False)

        assert list(out_dir.parent.iterdir()) == []


FAKE_FFMPEG = """#!{python}
import os, signal, sys, time
mode = os.environ["FAKE_FFMPEG_MODE"]
with open(os.environ["FAKE_FFMPEG_PIDFILE"], "w") as f:
    f.write(str(os.getpid()))
os.makedirs("360p", exist_ok=True)
with open("360p/seg_00000.ts", "wb") as f:  # a half-written package in the working directory
    f.write(b"partial")
if mode == "fail":
    sys.stderr.write("Input #0, mov,mp4\\n" * 100 + "boom: Invalid data found\\n")
    sys.exit(1)
if mode == "stubborn":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
microseconds = 0
while mode != "progress" or microseconds < 2_000_000:
    microseconds += 40_000
    print("out_time_us=N/A" if microseconds < 100_000 else f"out_time_us={{microseconds}}")
    print("progress=continue", flush=True)
    time.sleep(0.02)
print("progress=end", flush=True)
"""


@pytest.fixture
def fake_ffmpeg(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Callable[[str], Path]:
    """Swap ffmpeg for a script; returns a setter of its mode and the path of its pid file."""
    folder = tmp_path_factory.mktemp("fake-ffmpeg")
    script = folder / "ffmpeg"
    script.write_text(FAKE_FFMPEG.format(python=sys.executable))
    script.chmod(0o755)
    pidfile = folder / "pid"
    monkeypatch.setattr(_ffmpeg, "ffmpeg_binary", lambda: str(script))
    monkeypatch.setenv("FAKE_FFMPEG_PIDFILE", str(pidfile))

    def use(mode: str) -> Path:
        monkeypatch.setenv("FAKE_FFMPEG_MODE", mode)
        return pidfile

    return use


def is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


class TestFailuresMidway:
    def test_a_crash_reports_the_end_of_ffmpegs_stderr_and_leaves_nothing(
        self, tmp_path: Path, good_clip: Path, fake_ffmpeg: Callable[[str], Path]
    ) -> None:
        fake_ffmpeg("fail")

        with pytest.raises(ProcessingFailed) as excinfo:
            package_hls(good_clip, tmp_path / "lesson", probe_video(good_clip), allow_remux=False)

        assert excinfo.value.code == "ffmpeg_failed"
        assert excinfo.value.detail.endswith("boom: Invalid data found")
        assert len(excinfo.value.detail) < 2100  # bounded, however much ffmpeg wrote
        assert list(tmp_path.iterdir()) == []

    def test_cancelling_a_running_job_kills_ffmpeg_and_leaves_nothing(
        self, tmp_path: Path, good_clip: Path, fake_ffmpeg: Callable[[str], Path]
    ) -> None:
        pidfile = fake_ffmpeg("forever")
        deadline = time.monotonic() + 0.5

        with pytest.raises(Cancelled):
            package_hls(
                good_clip,
                tmp_path / "lesson",
                probe_video(good_clip),
                allow_remux=False,
                should_cancel=lambda: time.monotonic() > deadline,
            )

        assert not is_running(int(pidfile.read_text()))
        assert list(tmp_path.iterdir()) == []

    def test_an_ffmpeg_ignoring_sigterm_is_killed_after_the_grace_period(
        self,
        tmp_path: Path,
        good_clip: Path,
        fake_ffmpeg: Callable[[str], Path],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        pidfile = fake_ffmpeg("stubborn")
        monkeypatch.setattr(_ffmpeg, "TERMINATE_GRACE_SECONDS", 0.2)
        started = time.monotonic()

        with pytest.raises(Cancelled):
            package_hls(
                good_clip,
                tmp_path / "lesson",
                probe_video(good_clip),
                allow_remux=False,
                should_cancel=lambda: time.monotonic() > started + 0.3,
            )

        assert not is_running(int(pidfile.read_text()))
        assert list(tmp_path.iterdir()) == []

    def test_an_interrupt_kills_ffmpeg_and_leaves_nothing(
        self, tmp_path: Path, good_clip: Path, fake_ffmpeg: Callable[[str], Path]
    ) -> None:
        pidfile = fake_ffmpeg("forever")

        def interrupt(percent: float) -> None:
            raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            package_hls(
                good_clip,
                tmp_path / "lesson",
                probe_video(good_clip),
                allow_remux=False,
                on_progress=interrupt,
            )

        assert not is_running(int(pidfile.read_text()))
        assert list(tmp_path.iterdir()) == []


def test_progress_is_reported_a_few_times_a_second_and_never_goes_back(
    tmp_path: Path, fake_ffmpeg: Callable[[str], Path]
) -> None:
    fake_ffmpeg("progress")  # ~1 s of progress lines every 20 ms, up to 2 s of media time
    calls: list[tuple[float, float]] = []

    _ffmpeg.run_ffmpeg(
        [],
        duration=2.0,
        cwd=tmp_path,
        on_progress=lambda percent: calls.append((time.monotonic(), percent)),
    )

    percents = [percent for _, percent in calls]
    assert len(percents) >= 2
    assert percents == sorted(set(percents))
    assert all(0 < p < 100 for p in percents)  # 100 is for package_hls to say, once done
    gaps = [b - a for (a, _), (b, _) in itertools.pairwise(calls)]
    assert min(gaps) >= _ffmpeg.PROGRESS_INTERVAL_SECONDS * 0.9


class TestSweepingLeftovers:
    def test_removes_old_temporary_directories_only(self, tmp_path: Path) -> None:
        old = tmp_path / ".lesson-1.tmp-0123456789ab"
        fresh = tmp_path / ".lesson-2.tmp-ba9876543210"
        finished = tmp_path / "lesson-3"
        for folder in (old, fresh, finished):
            (folder / "360p").mkdir(parents=True)
        an_hour_ago = time.time() - 3600
        os.utime(old, (an_hour_ago, an_hour_ago))

        assert sweep_temp_dirs(tmp_path, older_than_seconds=600) == 1

        assert sorted(p.name for p in tmp_path.iterdir()) == sorted([fresh.name, finished.name])
