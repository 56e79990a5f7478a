"""probe_video: what is accepted as a lesson video, judged by content and never by file name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from courseware.errors import InvalidMedia
from courseware.probe import VideoLimits, VideoProbe, probe_video


class TestAGoodClip:
    def test_is_described_by_its_streams(self, good_clip: Path) -> None:
        probe = probe_video(good_clip)

        assert probe.duration == pytest.approx(3.0, abs=0.1)
        assert (probe.width, probe.height) == (640, 360)
        assert probe.fps == pytest.approx(15.0)
        assert probe.video_codec == "h264"
        assert probe.audio_codec == "aac"
        assert probe.pix_fmt == "yuv420p"
        assert "mp4" in probe.format_name
        assert probe.size_bytes == good_clip.stat().st_size
        assert probe.bit_rate is not None
        assert probe.bit_rate > 0
        assert probe.rotation == 0

    def test_serialises_to_plain_json(self, good_clip: Path) -> None:
        probe = probe_video(good_clip)

        assert VideoProbe(**json.loads(json.dumps(probe.to_dict()))) == probe

    def test_with_its_index_at_the_front_is_accepted_too(self, faststart_clip: Path) -> None:
        assert probe_video(faststart_clip).duration == pytest.approx(3.0, abs=0.1)

    def test_without_audio_reports_no_audio_codec(self, silent_clip: Path) -> None:
        probe = probe_video(silent_clip)

        assert probe.audio_codec is None
        assert (probe.width, probe.height) == (320, 240)


@pytest.mark.parametrize(
    ("fixture", "reason"),
    [
        ("empty_file", "empty"),
        ("text_renamed", "not_media"),
        ("png_renamed", "image_not_video"),
        ("audio_only_renamed", "no_video_stream"),
        ("truncated_clip", "truncated"),
        ("truncated_faststart_clip", "truncated"),
        ("truncated_mkv", "truncated"),
        ("short_clip", "too_short"),
        ("wide_clip", "bad_dimensions"),
    ],
)
def test_an_unacceptable_file_is_refused_with_its_reason(
    fixture: str, reason: str, request: pytest.FixtureRequest
) -> None:
    path: Path = request.getfixturevalue(fixture)

    with pytest.raises(InvalidMedia) as excinfo:
        probe_video(path)

    assert excinfo.value.code == reason
    assert excinfo.value.detail  # something an admin can read in the logs
    assert str(excinfo.value) == excinfo.value.detail


class TestTheLimitsAreTheCallers:
    def test_a_frame_rate_outside_the_limits_is_refused(self, good_clip: Path) -> None:
        with pytest.raises(InvalidMedia, match="15 fps") as excinfo:
            probe_video(good_clip, VideoLimits(max_fps=10))
        assert excinfo.value.code == "bad_frame_rate"

    def test_a_duration_above_the_limit_is_refused(self, good_clip: Path) -> None:
        with pytest.raises(InvalidMedia) as excinfo:
            probe_video(good_clip, VideoLimits(max_duration=2))
        assert excinfo.value.code == "too_long"

    def test_a_file_above_the_size_cap_is_refused_before_probing(self, good_clip: Path) -> None:
        with pytest.raises(InvalidMedia) as excinfo:
            probe_video(good_clip, VideoLimits(max_size_bytes=1000))
        assert excinfo.value.code == "too_large"

    def test_a_smaller_minimum_accepts_a_short_clip(self, short_clip: Path) -> None:
        assert probe_video(short_clip, VideoLimits(min_duration=0.1)).duration < 1


def test_the_file_name_does_not_matter(good_clip: Path, tmp_path: Path) -> None:
    disguised = tmp_path / "lecture.pdf"
    disguised.write_bytes(good_clip.read_bytes())

    assert probe_video(disguised).video_codec == "h264"


def test_a_playlist_disguised_as_a_video_is_not_followed(tmp_path: Path) -> None:
    """An HLS playlist can point ffmpeg at local files or URLs; only real containers are read."""
    evil = tmp_path / "evil.m3u8"
    evil.write_text("#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nfile:///etc/passwd\n")

    with pytest.raises(InvalidMedia) as excinfo:
        probe_video(evil)
    assert excinfo.value.code == "not_media"


def test_a_rotated_phone_video_reports_its_display_size(rotated_clip: Path) -> None:
    probe = probe_video(rotated_clip)

    assert (probe.width, probe.height) == (360, 640)
    assert probe.rotation in (90, 270)
