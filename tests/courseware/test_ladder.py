"""The bitrate ladder: every rung up to the source height, never an upscale."""

from __future__ import annotations

import pytest

from courseware.ladder import RUNGS, Rung, ladder_for, output_width
from courseware.probe import VideoProbe


def probe_of(width: int, height: int) -> VideoProbe:
    return VideoProbe(
        duration=60.0,
        width=width,
        height=height,
        fps=30.0,
        video_codec="h264",
        audio_codec="aac",
        pix_fmt="yuv420p",
        format_name="mov,mp4,m4a,3gp,3g2,mj2",
        bit_rate=2_000_000,
        size_bytes=15_000_000,
    )


@pytest.mark.parametrize(
    ("width", "height", "heights"),
    [
        (640, 360, [360]),
        (1280, 720, [360, 540, 720]),
        (1920, 1080, [360, 540, 720, 1080]),
        (3840, 2160, [360, 540, 720, 1080]),
        (1280, 1000, [360, 540, 720]),
    ],
)
def test_the_ladder_holds_every_rung_up_to_the_source_height(
    width: int, height: int, heights: list[int]
) -> None:
    assert [rung.height for rung in ladder_for(probe_of(width, height))] == heights


class TestASourceBelowTheLowestRung:
    def test_gets_one_rung_at_its_own_height(self) -> None:
        (rung,) = ladder_for(probe_of(426, 240))

        assert rung.height == 240

    def test_rounds_an_odd_height_down_to_even(self) -> None:
        (rung,) = ladder_for(probe_of(320, 241))

        assert rung.height == 240

    def test_gets_a_smaller_bitrate_than_the_lowest_rung(self) -> None:
        (rung,) = ladder_for(probe_of(426, 240))

        assert rung.video_kbps < RUNGS[0].video_kbps
        assert rung.maxrate_kbps >= rung.video_kbps
        assert rung.bufsize_kbps >= rung.maxrate_kbps


def test_rungs_are_named_after_their_height() -> None:
    assert [rung.name for rung in RUNGS] == ["360p", "540p", "720p", "1080p"]


def test_every_rung_caps_its_peaks_above_its_target() -> None:
    for rung in RUNGS:
        assert rung.video_kbps < rung.maxrate_kbps < rung.bufsize_kbps


@pytest.mark.parametrize(
    ("width", "height", "target", "expected"),
    [
        (1920, 1080, 360, 640),
        (1280, 720, 540, 960),
        (1080, 1920, 360, 202),  # portrait: 202.5 rounds to an even width
        (854, 480, 360, 640),
        (4096, 2160, 720, 1366),
    ],
)
def test_output_width_keeps_the_aspect_ratio_and_is_even(
    width: int, height: int, target: int, expected: int
) -> None:
    result = output_width(probe_of(width, height), target)

    assert result == expected
    assert result % 2 == 0


def test_rung_is_immutable() -> None:
    with pytest.raises(AttributeError):
        RUNGS[0].height = 1  # type: ignore[misc]
    assert isinstance(RUNGS[0], Rung)
