"""Every credited and refused second is evidence an auditor can read per credit record:
the sessions, and their heartbeats accepted or refused with the reasons."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.auth.models import User
from app.credits.models import CreditRecord
from app.credits.services import REASON_LABELS, evidence_for, reason_label
from app.permissions import Role, can_view_record


@pytest.fixture
def record(session, make_user, make_record):
    """A learner's completed course; returns the record."""
    learner = make_user()["id"]
    return session.get(CreditRecord, make_record(learner, "6", study_seconds=75))


class TestEvidenceFor:
    def test_sessions_with_their_heartbeats_by_outcome(self, session, record, make_playback):
        first = make_playback(
            record.id,
            [("ok", 15.0), ("ok", 15.0), ("paused", 0.0), ("hidden", 0.0), ("ok", 15.0)],
            started_at=record.completed_at - timedelta(hours=2),
        )
        second = make_playback(
            record.id,
            [("jump", 0.0), ("stalled", 7.5), ("ok", 15.0), ("daily_cap", 7.5), ("paused", 0.0)],
            started_at=record.completed_at - timedelta(hours=1),
        )
        report = evidence_for(session, record)

        assert [s.id for s in report.sessions] == [first, second]
        one, two = report.sessions
        assert one.lesson_title == "第一讲"
        assert (one.heartbeats, one.accepted, one.refused) == (5, 3, 2)
        assert [(t.reason, t.count, t.seconds) for t in one.tallies] == [
            ("ok", 3, 45.0),
            ("paused", 1, 0.0),
            ("hidden", 1, 0.0),
        ]
        assert one.credited_seconds == 45.0
        assert one.ended_at is not None
        assert (two.accepted, two.refused) == (1, 4)

        assert (report.heartbeats, report.accepted, report.refused) == (10, 4, 6)
        assert report.refused_by_reason == {
            "stalled": 1,
            "daily_cap": 1,
            "paused": 2,
            "hidden": 1,
            "jump": 1,
        }
        assert report.tallies[0].reason == "ok"  # accepted first
        assert report.credited_seconds == 75.0 == record.study_seconds
        assert report.session_seconds == 75.0

    def test_only_this_learners_sessions_of_this_course_before_completion(
        self, session, record, make_user, make_record, make_playback
    ):
        mine = make_playback(record.id, [("ok", 15.0)])
        make_playback(  # re-watched after completion: it cannot have contributed
            record.id, [("complete", 0.0)], started_at=record.completed_at + timedelta(days=1)
        )
        other_learner = make_record(make_user()["id"])
        make_playback(other_learner, [("ok", 15.0)])
        other_course = make_record(record.user_id)
        make_playback(other_course, [("ok", 15.0)])

        report = evidence_for(session, record)
        assert [s.id for s in report.sessions] == [mine]
        assert report.heartbeats == 1

    def test_a_record_without_sessions_has_an_empty_report(self, session, record):
        report = evidence_for(session, record)
        assert report.sessions == ()
        assert (report.heartbeats, report.accepted, report.credited_seconds) == (0, 0, 0)

    def test_the_summary_kept_with_the_record_is_read_defensively(self, session, record):
        record.evidence = {
            "sessions": 2,
            "heartbeats": {
                "paused": {"count": 3, "seconds": 0.0},
                "ok": {"count": 5, "seconds": 75.0},
                "odd": "not a dict",
                "bad": {"count": "x"},
            },
        }
        report = evidence_for(session, record)
        assert report.snapshot_sessions == 2
        assert [(t.reason, t.count, t.seconds) for t in report.snapshot] == [
            ("ok", 5, 75.0),
            ("paused", 3, 0.0),
        ]
        record.evidence = ["unexpected"]
        assert evidence_for(session, record).snapshot == ()


class TestReasons:
    @pytest.mark.parametrize(
        "reason",
        [
            "ok",
            "paused",
            "hidden",
            "rate",
            "jump",
            "seek",
            "stalled",
            "too_frequent",
            "replay",
            "daily_cap",
            "complete",
        ],
    )
    def test_every_outcome_of_the_engine_has_a_readable_label(self, app, reason):
        assert reason in REASON_LABELS
        with app.test_request_context():
            assert reason_label(reason) != reason

    def test_an_unknown_outcome_shows_as_its_code(self):
        assert reason_label("new_rule") == "new_rule"


class TestCanViewRecord:
    @pytest.mark.parametrize(
        ("roles", "allowed"),
        [
            ((Role.LEARNER,), False),
            ((Role.HR,), False),
            ((Role.AUTHOR,), False),
            ((Role.REVIEWER,), False),
            ((Role.ADMIN,), True),
        ],
    )
    def test_owner_and_admins_only(self, session, record, make_user, roles, allowed):
        assert can_view_record(session.get(User, record.user_id), record)
        assert can_view_record(session.get(User, make_user(*roles)["id"]), record) is allowed

    def test_anonymous_visitors_never(self, record):
        from flask_login import AnonymousUserMixin

        assert not can_view_record(AnonymousUserMixin(), record)
