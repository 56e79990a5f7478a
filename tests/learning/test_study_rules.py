"""The study-time rules as pure functions: no input earns more than the clock allows."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from app.learning.study import (
    Beat,
    SessionState,
    StudyRules,
    covered,
    judge,
    merge,
    union,
)

RULES = StudyRules()
DAY = date(2026, 11, 29)
CAP = 8 * 45 * 60.0


def fresh(target: float = 600.0, **changes) -> SessionState:
    state = SessionState(
        anchor=0.0, last_seq=0, last_position=0.0, furthest=0.0, coverage=(), credited=0.0,
        allowance=CAP, day=DAY, day_credited=0.0, target=target, complete=False,
    )  # fmt: skip
    return replace(state, **changes)


def play(state: SessionState, beats: list[tuple[float, float]], **beat_fields):
    """Feed (time, position) heartbeats; returns the final state and what each earned."""
    earned = []
    seq = state.last_seq
    for now, position in beats:
        seq += 1
        fields = {"playing": True, "rate": 1.0, "visible": True, **beat_fields}
        outcome = judge(state, Beat(seq=seq, position=position, **fields), now, DAY, RULES, CAP)
        state = outcome.state
        earned.append((outcome.credited, outcome.reason))
    return state, earned


class TestIntervals:
    def test_merge_keeps_a_sorted_disjoint_union(self):
        spans = merge(merge(merge((), (10, 20)), (30, 40)), (15, 35))
        assert spans == ((10, 40),)
        assert union(((0, 5),), ((5, 8), (20, 21))) == ((0, 8), (20, 21))
        assert covered(((0, 5), (10, 12))) == 7


class TestHonestStudy:
    def test_each_heartbeat_earns_the_time_that_passed(self):
        state, earned = play(fresh(), [(15, 15), (30, 30), (45, 45)])
        assert earned == [(15, "ok"), (15, "ok"), (15, "ok")]
        assert state.coverage == ((0, 45),)
        assert state.credited == 45

    def test_a_small_drift_is_tolerated(self):
        _, earned = play(fresh(), [(15, 14.2), (30, 30.5)])
        assert [reason for _, reason in earned] == ["ok", "ok"]

    def test_a_lesson_completes_at_95_percent_coverage(self):
        state, _ = play(fresh(target=60), [(15, 15), (30, 30), (45, 45), (57, 57)])
        assert state.complete
        assert not play(fresh(target=60), [(15, 15), (30, 30), (45, 45), (56, 56)])[0].complete

    def test_rewatching_credits_time_but_never_coverage_twice(self):
        state, _ = play(fresh(), [(15, 15), (30, 30)])
        state, earned = play(replace(state, last_position=0.0), [(45, 15), (60, 30)])
        assert state.coverage == ((0, 30),)
        assert [reason for _, reason in earned] == ["ok", "ok"]


class TestForgeries:
    def test_heartbeats_every_100_ms_earn_only_wall_clock_time(self):
        beats = [(t / 10, t / 10) for t in range(1, 301)]  # 30 s of beats, 10 a second
        state, earned = play(fresh(), beats)
        assert state.credited <= 30
        assert sum(credit for credit, _ in earned) == state.credited
        assert {reason for _, reason in earned} == {"too_frequent", "ok"}

    @pytest.mark.parametrize(
        ("position", "rate", "reason"),
        [(240, 1.0, "jump"), (240, 16.0, "rate"), (600, 1.0, "jump"), (30, 2.0, "rate")],
        ids=["16x-position", "16x-rate", "seek-to-end", "double-speed"],
    )
    def test_running_ahead_of_the_clock_earns_nothing(self, position, rate, reason):
        state, earned = play(fresh(), [(15, position)], rate=rate)
        assert earned == [(0.0, reason)]
        assert state.coverage == ()

    def test_after_a_seek_ahead_playing_on_there_earns_nothing(self):
        state, _ = play(fresh(), [(15, 15), (30, 500)])
        state, earned = play(state, [(45, 515), (60, 530), (75, 545)])
        assert {reason for _, reason in earned} == {"jump"}
        assert state.coverage == ((0, 15),)
        assert state.furthest == 15

    @pytest.mark.parametrize(
        ("fields", "reason"),
        [({"playing": False}, "paused"), ({"visible": False}, "hidden")],
    )
    def test_paused_or_hidden_earns_nothing(self, fields, reason):
        _, earned = play(fresh(), [(15, 15)], **fields)
        assert earned == [(0.0, reason)]

    def test_replayed_and_out_of_order_seqs_earn_nothing(self):
        state, _ = play(fresh(), [(15, 15)])
        again = judge(state, Beat(1, 30, True, 1.0, True), 30, DAY, RULES, CAP)
        assert (again.credited, again.reason) == (0.0, "replay")
        assert again.state == state

    def test_a_one_hour_gap_earns_at_most_the_max_gap(self):
        _, earned = play(fresh(), [(15, 15), (3615, 15)])  # laptop asleep, paused
        assert earned[1] == (0.0, "stalled")
        forged, earned = play(fresh(target=9000), [(15, 15), (3615, 3615)])
        assert earned[1] == (RULES.max_gap, "ok")
        assert forged.coverage == ((0, 15 + RULES.max_gap),)

    def test_heartbeats_after_completion_earn_nothing(self):
        state, _ = play(fresh(target=30), [(15, 15), (30, 30)])
        state, earned = play(state, [(45, 30), (60, 30)])
        assert {reason for _, reason in earned} == {"complete"}

    def test_the_daily_cap_stops_credit(self):
        state, earned = play(fresh(allowance=20), [(15, 15), (30, 30), (45, 45)])
        assert earned == [(15, "ok"), (5, "daily_cap"), (0, "daily_cap")]
        assert state.credited == 20

    def test_a_new_day_brings_a_new_allowance(self):
        state = fresh(allowance=0, day=date(2026, 11, 28))
        outcome = judge(state, Beat(1, 15, True, 1.0, True), 15, DAY, RULES, CAP)
        assert (outcome.credited, outcome.state.day) == (15, DAY)
        assert outcome.state.day_credited == 15


class TestRulesFromSettings:
    def test_the_rules_are_the_settings_with_max_gap_twice_the_interval(self, app):
        from app.learning.study_services import rules_from_config

        with app.app_context():
            rules = rules_from_config()
            assert rules.interval == float(app.config["HEARTBEAT_INTERVAL_SECONDS"])
            assert rules.max_gap == 2 * rules.interval
            assert rules.allowed_rates == tuple(app.config["PLAYBACK_ALLOWED_RATES"])

    def test_a_changed_setting_applies_to_the_next_heartbeat(self, app):
        from app.learning.study_services import rules_from_config

        saved = dict(app.config)
        try:
            with app.app_context():
                before = rules_from_config()
                app.config.update(HEARTBEAT_INTERVAL_SECONDS=5, PLAYBACK_ALLOWED_RATES=[1.0, 1.25])
                after = rules_from_config()
                assert (after.interval, after.max_gap) == (5.0, 10.0)
                assert after.allowed_rates == (1.0, 1.25)
                app.config.update(HEARTBEAT_MAX_GAP_SECONDS=12)
                assert rules_from_config().max_gap == 12.0
                app.config.update(saved)
                assert rules_from_config() == before
        finally:
            app.config.update(saved)
