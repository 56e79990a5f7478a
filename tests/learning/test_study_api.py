"""The study API: only real, server-timed study earns credit; completion credits exactly once."""

from __future__ import annotations

import math
import threading
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import delete, func, select

from app.credits.models import CreditRecord
from app.extensions import db
from app.learning.progress_models import (
    DailyStudy,
    Heartbeat,
    LessonProgress,
    PlaybackSession,
)
from tests.concurrency import run_concurrently

INTERVAL = 15


def start(client, lesson_id: int) -> dict:
    response = client.post("/api/v1/playback/sessions", json={"lesson_id": lesson_id})
    assert response.status_code == 201, response.json
    return response.json


def beat(client, session_id: str, seq: int, position, **fields):
    body = {"seq": seq, "position": position, "playing": True, "rate": 1.0, "visible": True}
    body.update(fields)
    return client.post(f"/api/v1/playback/sessions/{session_id}/heartbeats", json=body)


def watch(client, clock, session_id: str, seconds: int, *, first_seq: int = 1, start_at=0.0):
    """Watch honestly for ``seconds``: a heartbeat every interval, position in step."""
    replies, seq, position = [], first_seq, start_at
    for _ in range(seconds // INTERVAL):
        clock.advance(INTERVAL)
        position += INTERVAL
        replies.append(beat(client, session_id, seq, position).json)
        seq += 1
    return replies


def credit_records(app, user_id: int) -> list[CreditRecord]:
    with app.app_context():
        return list(db.session.scalars(select(CreditRecord).filter_by(user_id=user_id)))


def total_credited(app, session_id: str) -> float:
    with app.app_context():
        return db.session.get(PlaybackSession, session_id).credited_seconds


class TestHonestStudy:
    def test_a_learner_earns_the_declared_hours_once_by_watching(
        self, app, client, studying, clock
    ):
        session = start(client, studying["lesson"])
        assert session["heartbeat_interval"] == 15
        assert (session["resume_position"], session["furthest_position"]) == (0, 0)
        replies = watch(client, clock, session["session_id"], 60)
        assert [r["credited_seconds"] for r in replies] == [15, 15, 15, 15]
        assert replies[-1]["lesson_complete"] is True
        assert replies[-1]["course_complete"] is True
        (record,) = credit_records(app, studying["learner"]["id"])
        assert (record.hours, record.year, record.study_seconds) == (Decimal("6.00"), 2026, 60)
        assert record.evidence["heartbeats"]["ok"]["count"] == 4

    def test_progress_is_kept_and_resumed_in_the_next_session(self, app, client, studying, clock):
        first = start(client, studying["lesson"])
        watch(client, clock, first["session_id"], 30)
        second = start(client, studying["lesson"])
        assert (second["resume_position"], second["furthest_position"]) == (30, 30)
        assert second["lesson_covered_ratio"] == 0.5
        watch(client, clock, second["session_id"], 30, start_at=30)
        assert len(credit_records(app, studying["learner"]["id"])) == 1
        with app.app_context():
            daily = db.session.scalar(select(DailyStudy.seconds))
        assert daily == 30  # the first session, folded when the second started

    def test_end_folds_the_session_and_is_idempotent(self, app, client, studying, clock):
        session = start(client, studying["lesson"])
        watch(client, clock, session["session_id"], 30)
        url = f"/api/v1/playback/sessions/{session['session_id']}/end"
        assert client.post(url).status_code == 204
        assert client.post(url).status_code == 204
        with app.app_context():
            progress = db.session.scalar(select(LessonProgress))
            assert (progress.credited_seconds, progress.covered_seconds) == (30, 30)
        assert beat(client, session["session_id"], 9, 45).status_code == 409


class TestMustResist:
    def test_heartbeats_every_100_ms_earn_no_extra_second(self, app, client, studying, clock):
        session = start(client, studying["lesson"])
        for seq in range(1, 151):
            clock.advance(0.1)
            beat(client, session["session_id"], seq, seq / 10)
        assert total_credited(app, session["session_id"]) <= 15.0

    @pytest.mark.parametrize(
        ("position", "rate"), [(240, 1.0), (240, 16.0), (60, 1.0)], ids=["16x", "rate", "to-end"]
    )
    def test_running_ahead_of_wall_time(self, app, client, studying, clock, position, rate):
        session = start(client, studying["lesson"])
        clock.advance(INTERVAL)
        reply = beat(client, session["session_id"], 1, position, rate=rate).json
        assert reply["credited_seconds"] == 0
        for seq in range(2, 6):  # playing on from there
            clock.advance(INTERVAL)
            reply = beat(client, session["session_id"], seq, min(60, position + 15 * seq)).json
        assert total_credited(app, session["session_id"]) == 0
        assert reply["lesson_complete"] is False
        assert credit_records(app, studying["learner"]["id"]) == []

    def test_two_tabs_or_devices_at_once(self, app, client, studying, clock):
        first = start(client, studying["lesson"])
        second = start(client, studying["lesson"])
        clock.advance(INTERVAL)
        refused = beat(client, first["session_id"], 1, 15)
        assert (refused.status_code, refused.json["reason"]) == (409, "superseded")
        assert beat(client, second["session_id"], 1, 15).json["credited_seconds"] == 15

    def test_replayed_and_out_of_order_seq(self, app, client, studying, clock):
        session = start(client, studying["lesson"])
        clock.advance(INTERVAL)
        assert beat(client, session["session_id"], 2, 15).json["credited_seconds"] == 15
        clock.advance(INTERVAL)
        for seq in (2, 1):
            reply = beat(client, session["session_id"], seq, 30).json
            assert (reply["credited_seconds"], reply["reason"]) == (0, "replay")
        assert total_credited(app, session["session_id"]) == 15

    @pytest.mark.parametrize(("field", "reason"), [("playing", "paused"), ("visible", "hidden")])
    def test_not_playing_or_not_visible(self, app, client, studying, clock, field, reason):
        session = start(client, studying["lesson"])
        clock.advance(INTERVAL)
        reply = beat(client, session["session_id"], 1, 15, **{field: False}).json
        assert (reply["credited_seconds"], reply["reason"]) == (0, reason)

    def test_a_one_hour_gap(self, app, client, studying, clock):
        session = start(client, studying["lesson"])
        watch(client, clock, session["session_id"], 15)
        clock.advance(3600)  # laptop asleep
        reply = beat(client, session["session_id"], 2, 15).json
        assert reply["credited_seconds"] == 0
        assert total_credited(app, session["session_id"]) == 15

    def test_heartbeats_after_completion(self, app, client, studying, clock):
        session = start(client, studying["lesson"])
        watch(client, clock, session["session_id"], 60)
        replies = watch(client, clock, session["session_id"], 60, first_seq=5)
        assert {r["reason"] for r in replies} == {"complete"}
        assert len(credit_records(app, studying["learner"]["id"])) == 1

    @pytest.mark.parametrize(
        "position",
        [-1, math.nan, math.inf, 1e12, 10**400, "12", None, True],
        ids=["negative", "nan", "inf", "huge", "huge-int", "string", "null", "bool"],
    )
    def test_malformed_positions_are_422_and_earn_nothing(
        self, app, client, studying, clock, position
    ):
        session = start(client, studying["lesson"])
        clock.advance(INTERVAL)
        body = {"seq": 1, "position": position, "playing": True, "rate": 1.0, "visible": True}
        raw = client.post(
            f"/api/v1/playback/sessions/{session['session_id']}/heartbeats",
            data=str(body).replace("nan", "NaN").replace("inf", "Infinity"),
            content_type="application/json",
        ) if isinstance(position, float) and not math.isfinite(position) else client.post(
            f"/api/v1/playback/sessions/{session['session_id']}/heartbeats", json=body
        )  # fmt: skip
        assert raw.status_code == 422
        assert raw.json["error"]
        assert total_credited(app, session["session_id"]) == 0

    @pytest.mark.parametrize(
        ("body", "content_type"),
        [
            (b'{"seq": 1, "position": 15', "application/json"),
            (b"\xff\xfe{}", "application/json"),
            (b"[1, 2]", "application/json"),
            (
                b'{"seq": 1, "position": 15, "playing": true, "rate": 1, "visible": true}',
                "text/plain",
            ),
        ],
        ids=["truncated", "not-utf8", "not-an-object", "not-json-type"],
    )
    def test_bodies_that_are_not_a_json_object_are_422(
        self, app, client, studying, clock, body, content_type
    ):
        session = start(client, studying["lesson"])
        clock.advance(INTERVAL)
        url = f"/api/v1/playback/sessions/{session['session_id']}/heartbeats"
        raw = client.post(url, data=body, content_type=content_type)
        assert (raw.status_code, raw.json["error"]) == (422, "请发送 JSON 对象。")
        assert total_credited(app, session["session_id"]) == 0

    def test_a_body_too_large_to_be_a_heartbeat_is_413_unread(self, app, client, studying, clock):
        session = start(client, studying["lesson"])
        clock.advance(INTERVAL)
        raw = beat(client, session["session_id"], 1, 15, padding="x" * 2000)
        assert raw.status_code == 413
        assert "1024" in raw.json["error"]
        assert beat(client, session["session_id"], 1, 15).json["credited_seconds"] == 15

    def test_another_learners_session(self, app, client, studying, clock, make_user, login):
        session = start(client, studying["lesson"])
        login(make_user())
        clock.advance(INTERVAL)
        assert beat(client, session["session_id"], 1, 15).status_code == 403
        assert (
            client.post(f"/api/v1/playback/sessions/{session['session_id']}/end").status_code == 403
        )
        assert total_credited(app, session["session_id"]) == 0

    def test_signed_out_and_unknown_sessions(self, app, client, studying, clock):
        session = start(client, studying["lesson"])
        assert beat(client, "0" * 32, 1, 15).status_code == 403
        client.post("/logout")
        assert beat(client, session["session_id"], 1, 15).status_code == 401

    def test_not_enrolled_learners_cannot_start(self, app, client, studying, make_user, login):
        login(make_user())
        response = client.post("/api/v1/playback/sessions", json={"lesson_id": studying["lesson"]})
        assert response.status_code == 404

    def test_every_heartbeat_is_evidence(self, app, client, studying, clock):
        session = start(client, studying["lesson"])
        clock.advance(INTERVAL)
        beat(client, session["session_id"], 1, 15)
        beat(client, session["session_id"], 1, 15)
        clock.advance(INTERVAL)
        beat(client, session["session_id"], 2, 30, visible=False)
        with app.app_context():
            reasons = db.session.scalars(select(Heartbeat.reason).order_by(Heartbeat.id)).all()
        assert reasons == ["ok", "replay", "hidden"]


class TestDailyCap:
    def test_credit_stops_at_the_daily_cap(self, app, client, studying, clock):
        with app.app_context():
            cap = 8 * 45 * 60
            db.session.add(
                DailyStudy(
                    user_id=studying["learner"]["id"], day=clock.now.date(), seconds=cap - 20
                )
            )
            db.session.commit()
        session = start(client, studying["lesson"])
        assert session["daily_remaining_seconds"] == 20
        replies = watch(client, clock, session["session_id"], 45)
        assert [r["credited_seconds"] for r in replies] == [15, 5, 0]
        assert replies[-1]["reason"] == "daily_cap"

    def test_days_are_counted_in_shanghai_time(self, app, client, studying, clock):
        clock.now = datetime(2026, 11, 29, 15, 59, 30, tzinfo=UTC)  # 23:59:30 in Shanghai
        session = start(client, studying["lesson"])
        watch(client, clock, session["session_id"], 60)
        client.post(f"/api/v1/playback/sessions/{session['session_id']}/end")
        with app.app_context():
            days = dict(db.session.execute(select(DailyStudy.day, DailyStudy.seconds)).all())
        assert sum(days.values()) == 60
        assert len(days) == 2

    def test_a_too_soon_beat_after_midnight_books_the_old_day_once(
        self, app, client, studying, clock
    ):
        clock.now = datetime(2026, 11, 29, 15, 59, 44, 500000, tzinfo=UTC)  # 23:59:44.5
        session_id = start(client, studying["lesson"])["session_id"]
        clock.advance(INTERVAL)  # 23:59:59.5
        assert beat(client, session_id, 1, 15).json["credited_seconds"] == 15
        clock.advance(1)  # 00:00:00.5 the next day, and too soon
        assert beat(client, session_id, 2, 16).json["reason"] == "too_frequent"
        clock.advance(INTERVAL)
        assert beat(client, session_id, 3, 31).json["credited_seconds"] == 16
        client.post(f"/api/v1/playback/sessions/{session_id}/end")
        with app.app_context():
            days = db.session.execute(select(DailyStudy.day, DailyStudy.seconds)).all()
        assert sorted((day.day, seconds) for day, seconds in days) == [(29, 15), (30, 16)]


class TestConcurrentBeats:
    def test_a_beat_that_loses_the_race_for_its_session_earns_nothing(
        self, app, client, studying, clock, monkeypatch
    ):
        """Between reading its session and writing it, another beat of the session landed."""
        import app.learning.study_services as services
        from app.extensions import session_bind
        from app.learning.study import Beat

        session_id = start(client, studying["lesson"])["session_id"]
        user_id = studying["learner"]["id"]
        honest_judge, raced = services.judge, []

        def judge_while_another_beat_lands(state, beat_, *args):
            outcome = honest_judge(state, beat_, *args)
            if not raced:
                raced.append(True)
                other = Beat(seq=beat_.seq + 1, position=15, playing=True, rate=1, visible=True)
                services.record_heartbeat(session_bind(), user_id, session_id, other)
            return outcome

        monkeypatch.setattr(services, "judge", judge_while_another_beat_lands)
        clock.advance(INTERVAL)
        with app.test_request_context():
            lost = services.record_heartbeat(
                session_bind(), user_id, session_id, Beat(1, 15.0, True, 1.0, True)
            )
        assert (lost.reason, lost.credited_seconds) == ("replay", 0)
        with app.app_context():
            evidence = db.session.execute(
                select(Heartbeat.seq, Heartbeat.reason, Heartbeat.credited_seconds).order_by(
                    Heartbeat.id
                )
            ).all()
        assert [tuple(row) for row in evidence] == [(2, "ok", 15), (1, "replay", 0)]
        assert total_credited(app, session_id) == 15


@pytest.fixture
def committed(app):
    """For tests that commit for real (threads, the engine's own transactions): clean up."""
    yield
    from app.models import Course, Enrolment, Lesson, MediaAsset, Organisation, Provider, User

    with app.app_context():
        for model in (Heartbeat, PlaybackSession, DailyStudy, CreditRecord, LessonProgress,
                      Enrolment, Lesson, MediaAsset, Course, Provider):  # fmt: skip
            db.session.execute(delete(model))
        db.session.execute(delete(User))
        db.session.execute(delete(Organisation))
        db.session.commit()


def learner_and_course(code: str, mobile: str):
    """A learner and a published one-lesson course, in the current session (for committed tests)."""
    from app.auth.services import create_user
    from app.catalog.services import CourseSpec, LessonSpec, create_course, get_or_create_provider
    from app.catalog.taxonomy import Category, Department, Field

    user = create_user(db.session, name="并发", mobile=mobile, password="Abc12345x")
    provider = get_or_create_provider(db.session, code, "并发机构")
    course = create_course(
        db.session,
        provider,
        CourseSpec(f"{code}-1", "并发课程", Category.PUBLIC, Field.OTHER, Department.OTHER,
                   "3", (2026,), lessons=(LessonSpec("一"),)),
    )  # fmt: skip
    return user, course


class TestExactlyOnce:
    """50 concurrent completions of one course create one credit record (real commits)."""

    def test_fifty_concurrent_completions(self, app, committed):
        from app.catalog.models import Course
        from app.learning.study_services import complete_course_if_done

        with app.test_request_context():
            user, course = learner_and_course("RACE", "13811112222")
            db.session.add(
                LessonProgress(user_id=user.id, lesson_id=course.lessons[0].id, course_id=course.id,
                               completed_at=datetime(2026, 11, 29, tzinfo=UTC))
            )  # fmt: skip
            db.session.commit()
            ids = (user.id, course.id)
        barrier = threading.Barrier(50)

        def complete() -> None:
            with app.test_request_context():
                barrier.wait()
                complete_course_if_done(db.session, *ids, datetime(2026, 11, 29, 3, tzinfo=UTC))
                db.session.commit()

        assert run_concurrently(complete, [()] * 50) == []
        with app.app_context():
            assert db.session.scalar(select(func.count(CreditRecord.id))) == 1
            assert db.session.get(Course, ids[1]) is not None


class TestConcurrentBeatsCommitted:
    """The fast path outside any test transaction: the engine's own commits, real threads."""

    def test_racing_beats_of_one_session_credit_one_interval(self, app, committed, monkeypatch):
        """Every beat reads the session before any writes it: exactly one may earn."""
        import app.learning.study_services as services
        from app.auth.models import User
        from app.catalog.models import Lesson
        from app.learning.services import enrol
        from app.learning.study import Beat
        from app.learning.study_services import start_session
        from tests.learning.conftest import add_ready_media

        started_at = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)
        with app.test_request_context():
            user, course = learner_and_course("BEAT", "13811113333")
            course.submit_for_review()
            course.publish()
            enrol(db.session, user, course)
            db.session.commit()
            (lesson_id,) = add_ready_media(course.id, duration=600)
            started = start_session(
                db.session, db.session.get(User, user.id), db.session.get(Lesson, lesson_id),
                now=started_at,
            )  # fmt: skip
            db.session.commit()
            user_id, session_id = user.id, started.session.id
        beats = 12
        barrier, all_read = threading.Barrier(beats), threading.Barrier(beats, timeout=10)
        honest_judge = services.judge

        def judge_once_all_have_read(*args):
            all_read.wait()
            return honest_judge(*args)

        monkeypatch.setattr(services, "judge", judge_once_all_have_read)

        def send(seq: int) -> None:
            with app.app_context():
                barrier.wait()
                services.record_heartbeat(
                    db.engine,
                    user_id,
                    session_id,
                    Beat(seq=seq, position=15.0, playing=True, rate=1.0, visible=True),
                    now=started_at.replace(second=15),
                )

        assert run_concurrently(send, [(seq,) for seq in range(1, beats + 1)]) == []
        with app.app_context():
            evidence = db.session.execute(
                select(Heartbeat.reason, Heartbeat.credited_seconds).filter_by(
                    session_id=session_id
                )
            ).all()
            playback = db.session.get(PlaybackSession, session_id)
            assert len(evidence) == beats  # every beat is evidence, won or lost
            assert sorted(credit for _, credit in evidence if credit) == [15.0]
            assert sorted(reason for reason, _ in evidence) == ["ok"] + ["replay"] * (beats - 1)
            assert playback.credited_seconds == 15.0
            assert (
                playback.last_seq == max(seq for seq in range(1, beats + 1))
                or playback.last_seq >= 1
            )


def test_a_password_change_stops_credit_on_other_devices(app, studying, clock):
    """The laptop's session keeps its cookie, but its heartbeats no longer earn anything."""
    laptop, phone = app.test_client(), app.test_client()
    for device in (laptop, phone):
        device.post(
            "/login",
            data={"identifier": studying["learner"]["mobile"], "password": "Secret123"},
        )
    session = start(laptop, studying["lesson"])
    phone.post(
        "/account/password",
        data={
            "current_password": "Secret123",
            "password": "Changed123",
            "password_again": "Changed123",
        },
    )
    clock.advance(INTERVAL)
    refused = beat(laptop, session["session_id"], 1, 15)
    assert refused.status_code == 409
    assert total_credited(app, session["session_id"]) == 0


def test_only_the_heartbeat_statement_commits_asynchronously(app):
    """PostgreSQL: the beat's own transaction skips the WAL flush; the connection does not."""
    from sqlalchemy import text

    from app.learning.study_services import _advance_and_record

    with app.app_context():
        engine = db.engine
        if engine.dialect.name != "postgresql":
            pytest.skip("asynchronous commit is a PostgreSQL setting")
        with engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT")
            values = {
                "session_id": "no-such-session",
                "seen_seq": 0,
                "session_last_seq": 1,
                "seq": 1,
                "received_at": datetime(2026, 11, 29, tzinfo=UTC),
                "position": 0.0,
                "playing": True,
                "visible": True,
                "rate": 1.0,
                "credited_seconds": 15.0,
                "reason": "ok",
            }
            stored = _advance_and_record(("last_seq",)).first(connection, values)
            assert stored.reason == "replay"  # no such session: nothing credited
            assert connection.scalar(text("SHOW synchronous_commit")) == "on"
            connection.execute(delete(Heartbeat).filter_by(session_id="no-such-session"))
