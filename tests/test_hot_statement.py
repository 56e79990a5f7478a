"""HotStatement: SQLAlchemy's SQL and conversions, run straight on the driver's cursor."""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import bindparam, delete, exc, func, insert, select

from app.db import HotStatement, autocommit_connection, write_transaction
from app.extensions import db, session_bind
from app.learning.progress_models import DailyStudy, Heartbeat, PlaybackSession, SessionStatus

_ADD_DAY = HotStatement(insert(DailyStudy.__table__), keys=("user_id", "day", "seconds"))
_READ_DAY = HotStatement(
    select(DailyStudy.__table__.c.day, DailyStudy.__table__.c.seconds).where(
        DailyStudy.__table__.c.user_id == bindparam("user_id")
    )
)
_READ_SESSION = HotStatement(
    select(PlaybackSession.__table__.c.status, PlaybackSession.__table__.c.started_at).where(
        PlaybackSession.__table__.c.id == bindparam("id")
    )
)


@pytest.fixture
def connection(app, transaction):
    with app.app_context():
        yield session_bind()


def test_values_are_converted_both_ways(app, connection, make_user):
    user_id = make_user()["id"]
    assert (
        _ADD_DAY.execute(
            connection, {"user_id": user_id, "day": date(2026, 11, 29), "seconds": 90.0}
        )
        == 1
    )
    row = _READ_DAY.first(connection, {"user_id": user_id})
    assert (row.day, row.seconds) == (date(2026, 11, 29), 90.0)
    assert _READ_DAY.first(connection, {"user_id": user_id + 1000}) is None


def test_enums_and_aware_datetimes_come_back_as_such(app, connection, studying_session):
    row = _READ_SESSION.first(connection, {"id": studying_session})
    assert row.status is SessionStatus.ACTIVE
    assert row.started_at.tzinfo is not None


def test_a_missing_value_is_refused_before_the_database(connection):
    with pytest.raises(exc.ArgumentError, match="seconds"):
        _ADD_DAY.execute(connection, {"user_id": 1, "day": date(2026, 11, 29)})


_ADD_BEAT = HotStatement(
    insert(Heartbeat.__table__).inline(),
    keys=("session_id", "seq", "received_at", "position", "playing", "visible", "rate",
          "credited_seconds", "reason"),
)  # fmt: skip
_COUNT_BEATS = HotStatement(
    select(func.count())
    .select_from(Heartbeat.__table__)
    .where(Heartbeat.__table__.c.session_id == bindparam("session_id"))
)


@pytest.mark.parametrize("in_transaction", [False, True], ids=["own", "savepoint"])
def test_a_failed_write_is_sqlalchemys_error_and_undone_whole(app, in_transaction):
    """Outside a transaction SQLite's write is begun and ended on the driver: same outcome."""
    beat = {"session_id": "hot-statement-test", "seq": 1, "position": 0.0, "playing": True,
            "visible": True, "rate": 1.0, "credited_seconds": 0.0, "reason": "ok",
            "received_at": datetime(2026, 11, 29, tzinfo=UTC)}  # fmt: skip

    def write_two_beats_the_second_broken(connection) -> None:
        with write_transaction(connection):
            _ADD_BEAT.execute(connection, beat)
            _ADD_BEAT.execute(connection, {**beat, "reason": None})  # NOT NULL

    with app.app_context(), db.engine.connect() as connection:
        outer = connection.begin() if in_transaction else None
        with pytest.raises(exc.IntegrityError):
            write_two_beats_the_second_broken(connection)
        assert _COUNT_BEATS.first(connection, {"session_id": beat["session_id"]})[0] == 0
        with write_transaction(connection):  # the connection is still good
            _ADD_BEAT.execute(connection, beat)
        assert _COUNT_BEATS.first(connection, {"session_id": beat["session_id"]})[0] == 1
        if outer is not None:
            outer.rollback()
        else:
            connection.execute(delete(Heartbeat).filter_by(session_id=beat["session_id"]))
            connection.commit()


def test_the_cursor_is_kept_with_its_connection_until_invalidated(app):
    with app.app_context(), db.engine.connect() as connection:
        _READ_DAY.first(connection, {"user_id": 1})
        cursor = connection.connection.info["hot_cursor"]
        _READ_DAY.first(connection, {"user_id": 1})
        assert connection.connection.info["hot_cursor"] is cursor
        connection.invalidate()  # a lost connection: a new one, with a cursor of its own
        assert _READ_DAY.first(connection, {"user_id": 1}) is None
        assert connection.connection.info["hot_cursor"] is not cursor


@pytest.fixture
def studying_session(app, transaction, make_user, make_course):
    learner, course_id = make_user(), make_course()
    with app.app_context():
        from app.catalog.models import Course

        lesson_id = db.session.get(Course, course_id).lessons[0].id
        playback = PlaybackSession(
            id="0" * 32,
            user_id=learner["id"],
            lesson_id=lesson_id,
            course_id=course_id,
            status=SessionStatus.ACTIVE,
            started_at=datetime(2026, 11, 29, 2, tzinfo=UTC),
            anchor_at=datetime(2026, 11, 29, 2, tzinfo=UTC),
            last_seq=0,
            last_position=0.0,
            furthest=0.0,
            coverage=[],
            credited_seconds=0.0,
            allowance_seconds=0.0,
            day=date(2026, 11, 29),
            day_credited_seconds=0.0,
            target_seconds=60.0,
            lesson_complete=False,
            course_complete=False,
        )
        db.session.add(playback)
        db.session.commit()
    return "0" * 32


def test_an_autocommit_connection_commits_each_statement(app):
    beat = {"session_id": "hot-autocommit-test", "seq": 1, "position": 0.0, "playing": True,
            "visible": True, "rate": 1.0, "credited_seconds": 0.0, "reason": "ok",
            "received_at": datetime(2026, 11, 29, tzinfo=UTC)}  # fmt: skip
    with app.app_context():
        with autocommit_connection(db.engine) as connection:
            if connection.dialect.name == "sqlite":
                with write_transaction(connection):  # SQLite: begun on the driver
                    _ADD_BEAT.execute(connection, beat)
            else:
                _ADD_BEAT.execute(connection, beat)  # PostgreSQL: commits by itself
        try:
            with db.engine.connect() as other:  # another connection sees it: committed
                assert _COUNT_BEATS.first(other, {"session_id": beat["session_id"]})[0] == 1
                if other.dialect.name == "postgresql":  # the pool's others are as they were
                    assert other.connection.driver_connection.autocommit is False
        finally:
            with db.engine.begin() as other:
                other.execute(delete(Heartbeat).filter_by(session_id=beat["session_id"]))


def test_sqlite_writers_queue_for_the_write_lock_instead_of_polling(app):
    """A second writer waits for the first in the kernel, not in SQLite's busy handler.

    Its busy timeout is 0, so were it not queued on the lock file its BEGIN IMMEDIATE would
    fail at once with "database is locked" while the first writer holds SQLite's lock.
    """
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "sqlite":
        pytest.skip("the write lock is SQLite's")
    session_id = "hot-write-lock-test"
    beat = {"session_id": session_id, "position": 0.0, "playing": True, "visible": True,
            "rate": 1.0, "credited_seconds": 0.0, "reason": "ok",
            "received_at": datetime(2026, 11, 29, tzinfo=UTC)}  # fmt: skip
    first_writing, second_waiting = threading.Event(), threading.Event()
    order: list[str] = []

    def second_writer() -> None:
        with autocommit_connection(engine) as connection:
            connection.connection.driver_connection.execute("PRAGMA busy_timeout=0")
            try:
                first_writing.wait(5)
                second_waiting.set()
                with write_transaction(connection):
                    order.append("second")
                    _ADD_BEAT.execute(connection, {**beat, "seq": 2})
            except exc.OperationalError as error:
                order.append(f"second failed: {error.orig}")
            finally:
                connection.connection.driver_connection.execute("PRAGMA busy_timeout=10000")

    with app.app_context():
        thread = threading.Thread(target=second_writer)
        try:
            with (
                autocommit_connection(db.engine) as connection,
                write_transaction(connection),
            ):
                first_writing.set()
                thread.start()
                second_waiting.wait(5)
                time.sleep(0.05)  # the second writer is now blocked on the lock
                _ADD_BEAT.execute(connection, {**beat, "seq": 1})
                order.append("first")
            thread.join(5)
            assert order == ["first", "second"]
            with db.engine.connect() as other:
                assert _COUNT_BEATS.first(other, {"session_id": session_id})[0] == 2
        finally:
            with db.engine.begin() as other:
                other.execute(delete(Heartbeat).filter_by(session_id=session_id))


class TestHeldConnection:
    """Each thread checks its hot-path connection out of the pool once, and keeps it."""

    @pytest.fixture
    def engine(self, tmp_path):
        from sqlalchemy import create_engine

        url = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path}/held.db"
        engine = create_engine(url)
        yield engine
        engine.dispose()

    @staticmethod
    def held(engine):
        with autocommit_connection(engine) as connection:
            return connection

    def test_a_thread_keeps_its_connection_and_other_threads_have_their_own(self, engine):
        first = self.held(engine)
        assert self.held(engine) is first
        assert engine.pool.checkedout() == 1
        others = []
        thread = threading.Thread(target=lambda: others.append(self.held(engine)))
        thread.start()
        thread.join()
        assert others[0] is not first

    def test_a_thread_that_ends_gives_its_connection_back(self, engine):
        def use() -> None:
            self.held(engine).connection.cursor().execute("SELECT 1")

        thread = threading.Thread(target=use)
        thread.start()
        thread.join()
        assert engine.pool.checkedout() == 0

    def test_an_invalidated_connection_is_replaced(self, engine):
        first = self.held(engine)
        first.invalidate()
        second = self.held(engine)
        assert second is not first
        assert second.connection.is_valid

    def test_disposing_the_engine_replaces_it_and_gives_the_old_one_back(self, engine):
        first = self.held(engine)
        engine.dispose()
        second = self.held(engine)
        assert second is not first
        assert first.connection.dbapi_connection is None  # checked back in
        assert engine.pool.checkedout() == 1

    def test_postgresql_holds_it_in_autocommit_and_returns_it_without(self, engine):
        if engine.dialect.name != "postgresql":
            pytest.skip("SQLite's driver has no autocommit mode to switch")
        held = self.held(engine)
        driver = held.connection.driver_connection
        assert driver.autocommit is True
        held.release()
        assert driver.autocommit is False
