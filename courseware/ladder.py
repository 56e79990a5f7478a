"""The bitrate ladder: which renditions a source gets, and their sizes."""

from __future__ import annotations

from dataclasses import dataclass

from courseware.probe import VideoProbe


@dataclass(frozen=True)
class Rung:
    """One rendition target; rates in kbit/s, ``maxrate``/``bufsize`` cap x264's peaks."""

    height: int
    video_kbps: int
    audio_kbps: int
    maxrate_kbps: int
    bufsize_kbps: int

    @property
    def name(self) -> str:
        """Directory name of the rendition, e.g. ``"720p"``."""
        return f"{self.height}p"


#: The usual HLS ladder: maxrate 107 % of the target, a 1.5x target VBV buffer.
RUNGS = (
    Rung(360, 800, 96, 856, 1200),
    Rung(540, 1400, 128, 1498, 2100),
    Rung(720, 2800, 128, 2996, 4200),
    Rung(1080, 5000, 160, 5350, 7500),
)

_MIN_SMALL_KBPS = 200


def ladder_for(probe: VideoProbe) -> list[Rung]:
    """Rungs no taller than the source (never upscale), lowest first.

    A source shorter than the lowest rung gets one rung at its own (even) height, with the
    lowest rung's rates scaled down by height so tiny videos do not get bloated bitrates.
    """
    rungs = [rung for rung in RUNGS if rung.height <= probe.height]
    if rungs:
        return rungs
    base = RUNGS[0]
    height = max(2, probe.height - probe.height % 2)
    scale = height / base.height
    video = max(_MIN_SMALL_KBPS, round(base.video_kbps * scale))
    maxrate = max(video, round(base.maxrate_kbps * scale))
    return [
        Rung(
            height=height,
            video_kbps=video,
            audio_kbps=base.audio_kbps,
            maxrate_kbps=maxrate,
            bufsize_kbps=max(maxrate, round(base.bufsize_kbps * scale)),
        )
    ]


def output_width(probe: VideoProbe, height: int) -> int:
    """Width that keeps the source's display aspect ratio at ``height``, rounded to even."""
    width = probe.width * height / probe.height
    return max(2, 2 * round(width / 2))
