"""The study-time rules, as pure functions: what a heartbeat earns, and why.

The server's clock decides. A heartbeat earns ``min(now − anchor, max_gap)`` seconds only when
the session is active, the video is playing in a visible page at an allowed rate, and the
position moved consistently with the time that passed; coverage of the timeline grows only
from the furthest point legitimately reached. No input can earn more than wall-clock time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import date

Intervals = tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class StudyRules:
    """Thresholds (all settings; defaults from the product rules)."""

    interval: float = 15.0
    max_gap: float = 30.0
    tolerance_seconds: float = 2.0
    tolerance_ratio: float = 0.10
    allowed_rates: tuple[float, ...] = (1.0,)
    complete_ratio: float = 0.95
    #: Heartbeats closer together than this share of the interval earn nothing (yet lose nothing).
    min_interval_ratio: float = 0.5


@dataclass(frozen=True)
class SessionState:
    """What a playback session row holds for the rules."""

    anchor: float  # epoch seconds of the last anchored heartbeat
    last_seq: int
    last_position: float
    furthest: float
    coverage: Intervals
    credited: float
    allowance: float
    day: date
    day_credited: float
    target: float
    complete: bool
    #: Documents complete at 100 % of their reading time; videos at complete_ratio.
    document: bool = False


@dataclass(frozen=True)
class Beat:
    seq: int
    position: float
    playing: bool
    rate: float
    visible: bool


@dataclass(frozen=True)
class Outcome:
    state: SessionState
    credited: float
    reason: str
    #: The lesson became complete with this heartbeat.
    completed_now: bool = False


def merge(intervals: Intervals, new: tuple[float, float]) -> Intervals:
    """The union of sorted, disjoint intervals and one more, still sorted and disjoint."""
    start, end = new
    if end <= start:
        return intervals
    result: list[tuple[float, float]] = []
    placed = False
    for a, b in intervals:
        if b < start:
            result.append((a, b))
        elif a > end:
            if not placed:
                result.append((start, end))
                placed = True
            result.append((a, b))
        else:
            start, end = min(a, start), max(b, end)
    if not placed:
        result.append((start, end))
    return tuple(sorted(result))


def union(first: Intervals, second: Intervals) -> Intervals:
    result = first
    for interval in second:
        result = merge(result, interval)
    return result


def covered(intervals: Intervals) -> float:
    return sum(b - a for a, b in intervals)


def is_complete(coverage: Intervals, target: float, ratio: float) -> bool:
    return target > 0 and covered(coverage) >= ratio * target - 1e-6


def completion_ratio(state: SessionState, rules: StudyRules) -> float:
    return 1.0 if state.document else rules.complete_ratio


def judge(
    state: SessionState, beat: Beat, now: float, today: date, rules: StudyRules, daily_cap: float
) -> Outcome:
    """Decide what one heartbeat earns and how the session moves on.

    ``today`` is the Asia/Shanghai date of ``now``; when it differs from the session's day the
    daily allowance starts afresh (the caller books the old day's credit first).
    """
    if beat.seq <= state.last_seq:
        return Outcome(state, 0.0, "replay")
    elapsed = now - state.anchor
    if elapsed < rules.interval * rules.min_interval_ratio:
        # Too soon: remember the seq (so it cannot be replayed) but keep the anchor, so the
        # next proper heartbeat still earns the whole real interval and nothing more.
        return Outcome(replace(state, last_seq=beat.seq), 0.0, "too_frequent")
    if today != state.day:
        state = replace(state, day=today, day_credited=0.0, allowance=daily_cap)
    moved = replace(state, last_seq=beat.seq, anchor=now, last_position=beat.position)
    if state.complete:
        return Outcome(moved, 0.0, "complete")
    if not beat.playing:
        return Outcome(moved, 0.0, "paused")
    if not beat.visible:
        return Outcome(moved, 0.0, "hidden")
    if not any(math.isclose(beat.rate, rate, abs_tol=1e-6) for rate in rules.allowed_rates):
        return Outcome(moved, 0.0, "rate")
    if state.allowance <= 0:
        return Outcome(moved, 0.0, "daily_cap")
    advance = beat.position - state.last_position
    tolerance = rules.tolerance_seconds + rules.tolerance_ratio * elapsed
    if advance > elapsed * max(rules.allowed_rates) + tolerance:
        return Outcome(moved, 0.0, "jump")  # ran ahead of the clock: a seek or a forgery
    if advance < -tolerance:
        return Outcome(moved, 0.0, "seek")  # went back to re-watch: timing restarts from here
    if state.last_position > state.furthest + tolerance:
        return Outcome(moved, 0.0, "jump")  # playing somewhere never legitimately reached
    credit = max(0.0, min(elapsed, rules.max_gap, advance))
    reason = "ok" if advance >= elapsed - tolerance else "stalled"
    if credit > state.allowance:
        credit, reason = max(0.0, state.allowance), "daily_cap"
    start = state.last_position
    coverage = merge(state.coverage, (start, min(start + credit, state.target)))
    complete = is_complete(coverage, state.target, completion_ratio(state, rules))
    new = replace(
        moved,
        coverage=coverage,
        furthest=max(state.furthest, min(start + credit, state.target)),
        credited=state.credited + credit,
        allowance=state.allowance - credit,
        day_credited=state.day_credited + credit,
        complete=complete,
    )
    return Outcome(new, credit, reason, completed_now=complete)


def coverage_from_json(raw: object) -> Intervals:
    """Intervals from the JSON column, ignoring anything malformed."""
    result: Intervals = ()
    if isinstance(raw, list):
        for item in raw:
            if isinstance(item, list | tuple) and len(item) == 2:
                a, b = float(item[0]), float(item[1])
                if math.isfinite(a) and math.isfinite(b):
                    result = merge(result, (a, b))
    return result


def coverage_to_json(intervals: Intervals) -> list[list[float]]:
    return [[round(a, 3), round(b, 3)] for a, b in intervals]
