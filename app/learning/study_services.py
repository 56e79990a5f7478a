"""Study sessions and heartbeats against the database.

Hot path (every heartbeat): one SELECT of the session row by primary key, then one guarded
UPDATE and one INSERT of evidence (a single statement on PostgreSQL) — statements built once,
no ORM session, no user load. Rare path (a session starts or ends, a day ends mid-session, a
lesson completes): folding into lesson progress, daily totals and the course's credit record,
with the ORM, in one transaction.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Connection,
    Engine,
    bindparam,
    case,
    exists,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.auth.models import User
from app.catalog.models import Course, Lesson
from app.catalog.taxonomy import LessonKind
from app.credits.models import CreditRecord
from app.credits.rules import daily_cap_seconds, learner_region, resolve_rule_pack
from app.db import (
    HotConnection,
    HotStatement,
    autocommit_connection,
    core_transaction,
    utcnow,
    write_transaction,
)
from app.errors import Conflict, DomainError, NotAllowed
from app.learning.models import Enrolment
from app.learning.progress_models import (
    DailyStudy,
    Heartbeat,
    LessonProgress,
    PlaybackSession,
    SessionStatus,
)
from app.learning.study import (
    Beat,
    Outcome,
    SessionState,
    StudyRules,
    coverage_from_json,
    coverage_to_json,
    covered,
    is_complete,
    judge,
    union,
)
from app.media.models import MediaAsset, MediaStatus

SHANGHAI = ZoneInfo("Asia/Shanghai")


class SessionGone(Conflict):
    """The session was superseded by another tab or device, or has ended."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def local_day(moment: datetime) -> date:
    """The calendar day in Asia/Shanghai, which decides daily caps and the year of credit."""
    return moment.astimezone(SHANGHAI).date()


def rules_from_config() -> StudyRules:
    """The study rules from the app's settings, as they are now (tests change them)."""
    cfg = current_app.config
    return _study_rules(
        cfg["HEARTBEAT_INTERVAL_SECONDS"],
        cfg.get("HEARTBEAT_MAX_GAP_SECONDS"),
        cfg["HEARTBEAT_TOLERANCE_SECONDS"],
        cfg["HEARTBEAT_TOLERANCE_RATIO"],
        tuple(cfg["PLAYBACK_ALLOWED_RATES"]),
        cfg["LESSON_COMPLETE_RATIO"],
    )


@functools.lru_cache(maxsize=16)
def _study_rules(
    interval: float,
    max_gap: float | None,
    tolerance_seconds: float,
    tolerance_ratio: float,
    allowed_rates: tuple[float, ...],
    complete_ratio: float,
) -> StudyRules:
    """Built once per combination of settings: every heartbeat asks for the rules."""
    return StudyRules(
        interval=float(interval),
        max_gap=float(max_gap or 2 * float(interval)),
        tolerance_seconds=float(tolerance_seconds),
        tolerance_ratio=float(tolerance_ratio),
        allowed_rates=allowed_rates,
        complete_ratio=float(complete_ratio),
    )


@dataclass(frozen=True)
class Started:
    session: PlaybackSession
    lesson_credited_seconds: float


# -- starting and ending --------------------------------------------------------------------


def _target_seconds(lesson: Lesson, asset: MediaAsset | None) -> float:
    if lesson.kind == LessonKind.DOCUMENT:
        return float((lesson.required_minutes or 0) * 60)
    if asset is not None and asset.duration_seconds:
        return float(asset.duration_seconds)
    return float(lesson.duration_seconds or 0)


def start_session(
    session: Session, user: User, lesson: Lesson, *, now: datetime | None = None
) -> Started:
    """Open a playback session; the learner's other active sessions end (one stream at a time).

    :raises NotAllowed: not enrolled in a published course.
    :raises DomainError: the lesson has nothing to study yet.
    """
    now = now or utcnow()
    course = lesson.course
    enrolled = session.scalar(select(Enrolment.id).filter_by(user_id=user.id, course_id=course.id))
    if enrolled is None or not course.is_open_for_enrolment:
        raise NotAllowed(_l("Enrol in the course to study its lessons."))
    asset = session.get(MediaAsset, lesson.media_asset_id) if lesson.media_asset_id else None
    target = _target_seconds(lesson, asset)
    if asset is None or asset.status != MediaStatus.READY or target <= 0:
        raise DomainError(_l("This lesson's material is not available yet."))

    _close_open_sessions(session, user.id, now)
    progress = _progress(session, user.id, lesson)
    today = local_day(now)
    pack = resolve_rule_pack(session, learner_region(user), today.year)
    used = session.scalar(select(DailyStudy.seconds).filter_by(user_id=user.id, day=today)) or 0.0
    course_done = session.scalar(
        select(CreditRecord.id).filter_by(user_id=user.id, course_id=course.id)
    )
    playback = PlaybackSession(
        id=secrets.token_hex(16),
        user_id=user.id,
        lesson_id=lesson.id,
        course_id=course.id,
        status=SessionStatus.ACTIVE,
        started_at=now,
        anchor_at=now,
        last_seq=0,
        last_position=progress.last_position if progress.completed_at is None else 0.0,
        furthest=progress.furthest,
        coverage=progress.coverage,
        credited_seconds=0.0,
        allowance_seconds=max(0.0, daily_cap_seconds(pack) - used),
        day=today,
        day_credited_seconds=0.0,
        target_seconds=target,
        lesson_complete=progress.completed_at is not None,
        course_complete=course_done is not None,
    )
    session.add(playback)
    session.flush()
    return Started(playback, progress.credited_seconds)


def _progress(session: Session, user_id: int, lesson: Lesson) -> LessonProgress:
    progress = session.scalar(
        select(LessonProgress).filter_by(user_id=user_id, lesson_id=lesson.id)
    )
    if progress is None:
        progress = LessonProgress(
            user_id=user_id,
            lesson_id=lesson.id,
            course_id=lesson.course_id,
            coverage=[],
            covered_seconds=0.0,
            furthest=0.0,
            last_position=0.0,
            credited_seconds=0.0,
        )
        try:
            with session.begin_nested():
                session.add(progress)
        except IntegrityError:
            progress = session.scalars(
                select(LessonProgress).filter_by(user_id=user_id, lesson_id=lesson.id)
            ).one()
    return progress


def _close_open_sessions(session: Session, user_id: int, now: datetime) -> None:
    """Supersede the learner's active sessions and fold every unfolded one."""
    session.execute(
        update(PlaybackSession)
        .where(
            PlaybackSession.user_id == user_id,
            PlaybackSession.status == SessionStatus.ACTIVE,
        )
        .values(status=SessionStatus.SUPERSEDED, ended_at=now)
        .execution_options(synchronize_session=False)
    )
    unfolded = session.scalars(
        select(PlaybackSession).where(
            PlaybackSession.user_id == user_id, PlaybackSession.folded.is_(False)
        )
    ).all()
    for playback in unfolded:
        session.refresh(playback)
        fold(session, playback, final=True)


def end_all_sessions(session: Session, user_id: int, now: datetime | None = None) -> None:
    """End every active session of a user (password changed or reset, account disabled).

    Their heartbeats then get 409: an old cookie on another device earns nothing more.
    """
    _close_open_sessions(session, user_id, now or utcnow())


def end_session(
    session: Session, user_id: int, session_id: str, now: datetime | None = None
) -> None:
    """The page closed: end the session and fold it (idempotent)."""
    playback = session.get(PlaybackSession, session_id)
    if playback is None or playback.user_id != user_id:
        raise NotAllowed(_l("No such playback session."))
    if playback.status == SessionStatus.ACTIVE:
        playback.status = SessionStatus.ENDED
        playback.ended_at = now or utcnow()
    if not playback.folded:
        fold(session, playback, final=True)


def fold(session: Session, playback: PlaybackSession, *, final: bool) -> LessonProgress:
    """Carry a session's coverage into lesson progress; when ``final``, its time too.

    Coverage union is idempotent, so folding a session again (at completion, then at its end)
    is harmless; time is added once, when the session is closed.
    """
    lesson = session.get(Lesson, playback.lesson_id)
    progress = _progress(session, playback.user_id, lesson)
    coverage = union(coverage_from_json(progress.coverage), coverage_from_json(playback.coverage))
    progress.coverage = coverage_to_json(coverage)
    progress.covered_seconds = covered(coverage)
    progress.furthest = max(progress.furthest, playback.furthest)
    progress.last_position = playback.last_position
    ratio = 1.0 if lesson.kind == LessonKind.DOCUMENT else rules_from_config().complete_ratio
    if progress.completed_at is None and is_complete(coverage, playback.target_seconds, ratio):
        progress.completed_at = utcnow()
    if final and not playback.folded:
        progress.credited_seconds += playback.credited_seconds
        _add_daily(session, playback.user_id, playback.day, playback.day_credited_seconds)
        playback.folded = True
    return progress


def _add_daily(session: Session, user_id: int, day: date, seconds: float) -> None:
    if seconds <= 0:
        return
    row = session.get(DailyStudy, (user_id, day))
    if row is None:
        row = DailyStudy(user_id=user_id, day=day, seconds=0.0)
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:
            row = session.get(DailyStudy, (user_id, day))
    row.seconds += seconds


# -- the hot path --------------------------------------------------------------------------
#
# Every playing tab sends a heartbeat every 15 s, so this is the busiest write in the product.
# Its statements are built once, from the tables rather than the mapped classes, and run as
# HotStatements (app.db): no SQL construction, no ORM session, none of the per-execution
# bookkeeping that would cost more than the database's own work.
#
# A plain beat reads its session row on its own and writes the outcome with optimistic
# concurrency: the UPDATE is guarded by the ``last_seq`` and status it read, so a concurrent
# beat of the same session, a newer tab or an ended session makes it match nothing, and the
# beat is stored as a replay that earns nothing. On PostgreSQL the guarded UPDATE and the
# evidence INSERT are one statement (a data-modifying CTE) outside any transaction: two round
# trips in all instead of five (BEGIN, SELECT, UPDATE, INSERT, COMMIT). On SQLite they are one
# short write transaction. The UPDATE sets only the columns the judgement changed (for the
# common ``too_frequent`` beat just ``last_seq``). The rare beat that starts a new day or
# completes the lesson is judged again inside one transaction, with the ORM for the rare steps.
# Measured with bench/heartbeat.py; see bench/README.md.

_SESSIONS = PlaybackSession.__table__
_LESSONS = Lesson.__table__
_HEARTBEATS = Heartbeat.__table__

_LOAD_SESSION = HotStatement(
    select(
        _SESSIONS.c.user_id,
        _SESSIONS.c.status,
        _SESSIONS.c.anchor_at,
        _SESSIONS.c.last_seq,
        _SESSIONS.c.last_position,
        _SESSIONS.c.furthest,
        _SESSIONS.c.coverage,
        _SESSIONS.c.credited_seconds,
        _SESSIONS.c.allowance_seconds,
        _SESSIONS.c.day,
        _SESSIONS.c.day_credited_seconds,
        _SESSIONS.c.target_seconds,
        _SESSIONS.c.lesson_complete,
        _SESSIONS.c.course_complete,
        _LESSONS.c.kind,
    )
    .join_from(_SESSIONS, _LESSONS, _LESSONS.c.id == _SESSIONS.c.lesson_id)
    .where(_SESSIONS.c.id == bindparam("session_id"))
)

#: The evidence of one beat, as stored.
_EVIDENCE = (
    "session_id",
    "seq",
    "received_at",
    "position",
    "playing",
    "visible",
    "rate",
    "credited_seconds",
    "reason",
)

_RECORD_BEAT = HotStatement(
    insert(_HEARTBEATS).inline(),  # inline: no RETURNING of the id nobody reads
    keys=_EVIDENCE,
)


def _guarded_update(columns: tuple[str, ...], prefix: str = ""):
    """UPDATE the session's ``columns`` (parameters ``prefix + column``) unless it moved on.

    The guard on ``last_seq`` makes a concurrent beat of the same session lose (no double
    credit); the one on status makes a beat lose to a newer tab that superseded its session.
    """
    return (
        update(_SESSIONS)
        .where(
            _SESSIONS.c.id == bindparam("session_id"),
            _SESSIONS.c.last_seq == bindparam("seen_seq"),
            _SESSIONS.c.status == SessionStatus.ACTIVE,
        )
        .values({name: bindparam(prefix + name, type_=_SESSIONS.c[name].type) for name in columns})
    )


@functools.cache
def _advance_session(columns: tuple[str, ...]) -> HotStatement:
    """The guarded UPDATE setting ``columns``; one per combination (a handful occur)."""
    return HotStatement(_guarded_update(columns))


@functools.cache
def _advance_and_record(columns: tuple[str, ...]) -> HotStatement:
    """The guarded UPDATE and the evidence INSERT in one statement (PostgreSQL).

    The evidence keeps the judged credit and reason only when the UPDATE matched; otherwise
    it says ``replay`` with no credit. Returns the stored reason. The session's new values
    are the parameters ``session_<column>`` (both tables have a ``credited_seconds``).

    The statement commits asynchronously (``synchronous_commit`` off for its own transaction
    only): it does not wait for the WAL to reach the disk, which halves its latency. A crash
    of the database server can lose the last fraction of a second of beats (at most three
    ``wal_writer_delay``, 0.6 s by default) — the session row and its evidence together, so
    the learner re-earns at most one beat's seconds — and never corrupts anything. Completions
    and credit records (the rare path) commit synchronously.
    """
    advanced = _guarded_update(columns, "session_").returning(_SESSIONS.c.id).cte("advanced")
    relaxed = select(func.set_config("synchronous_commit", "off", True).label("value"))
    relaxed_commit = relaxed.cte("relaxed_commit")
    won = exists(select(advanced.c.id))
    given = [bindparam(name, type_=_HEARTBEATS.c[name].type) for name in _EVIDENCE[:-2]]
    credited = bindparam("credited_seconds", type_=_HEARTBEATS.c.credited_seconds.type)
    reason = bindparam("reason", type_=_HEARTBEATS.c.reason.type)
    evidence = select(
        *given,
        case((won, credited), else_=literal(0.0)),
        case((won, reason), else_=literal(_REPLAY)),
    ).select_from(relaxed_commit)
    return HotStatement(
        insert(_HEARTBEATS)
        .from_select(list(_EVIDENCE), evidence)
        .returning(_HEARTBEATS.c.reason)
        .add_cte(advanced, relaxed_commit)
    )


_REPLAY = "replay"


@dataclass(frozen=True)
class HeartbeatResult:
    credited_seconds: float
    session_credited_seconds: float
    lesson_covered_ratio: float
    lesson_complete: bool
    course_complete: bool
    furthest_position: float
    reason: str
    daily_remaining_seconds: float


class _LostRace(Exception):
    """The session moved on between reading and writing it: the beat earns nothing."""


def record_heartbeat(
    bind: Engine | Connection,
    user_id: int,
    session_id: str,
    beat: Beat,
    *,
    now: datetime | None = None,
    rules: StudyRules | None = None,
) -> HeartbeatResult:
    """Judge one heartbeat, store the outcome and its evidence, complete what it completes.

    ``bind`` is the engine (or, in tests, a connection in a transaction, which the work then
    joins). See the comment above for how the writes are made safe without a transaction.

    :raises NotAllowed: someone else's (or no) session.
    :raises SessionGone: superseded or ended.
    """
    now = now or utcnow()
    rules = rules or rules_from_config()
    today = local_day(now)
    with autocommit_connection(bind) as connection:
        row, state = _load(connection, user_id, session_id)
        if today == state.day:
            outcome = judge(state, beat, now.timestamp(), today, rules, 0.0)
            if not outcome.completed_now:
                outcome = _store(connection, session_id, beat, now, state, outcome)
                return _result(outcome, row.course_complete)
    # Rare: a new day in Asia/Shanghai started mid-session, or the lesson completes.
    try:
        with core_transaction(bind) as connection:
            row, state = _load(connection, user_id, session_id)
            outcome, course_complete = _judge_rare(
                connection, user_id, session_id, beat, now, state, rules, row.course_complete
            )
    except _LostRace:
        outcome, course_complete = Outcome(state, 0.0, _REPLAY), row.course_complete
        with autocommit_connection(bind) as connection:
            _RECORD_BEAT.execute(connection, _evidence(session_id, beat, now, outcome))
    return _result(outcome, course_complete)


def _load(connection: HotConnection, user_id: int, session_id: str) -> tuple[Any, SessionState]:
    row = _LOAD_SESSION.first(connection, {"session_id": session_id})
    if row is None or row.user_id != user_id:
        raise NotAllowed(_l("No such playback session."))
    if row.status != SessionStatus.ACTIVE:
        raise SessionGone(
            _l("Another tab or device took over, or this session ended."), row.status.value
        )
    state = SessionState(
        anchor=row.anchor_at.timestamp(),
        last_seq=row.last_seq,
        last_position=row.last_position,
        furthest=row.furthest,
        coverage=coverage_from_json(row.coverage),
        credited=row.credited_seconds,
        allowance=row.allowance_seconds,
        day=row.day,
        day_credited=row.day_credited_seconds,
        target=row.target_seconds,
        complete=row.lesson_complete,
        document=row.kind == LessonKind.DOCUMENT,
    )
    return row, state


def _store(
    connection: HotConnection,
    session_id: str,
    beat: Beat,
    now: datetime,
    state: SessionState,
    outcome: Outcome,
) -> Outcome:
    """Write a plain beat's outcome and evidence; the outcome as it was stored."""
    if outcome.reason == _REPLAY:  # nothing to update: the evidence is all
        _RECORD_BEAT.execute(connection, _evidence(session_id, beat, now, outcome))
        return outcome
    changes = _changes(state, outcome.state, now)
    lost = Outcome(state, 0.0, _REPLAY)
    if connection.dialect.name == "postgresql":
        values = {f"session_{name}": value for name, value in changes.items()}
        values.update(seen_seq=state.last_seq, **_evidence(session_id, beat, now, outcome))
        stored = _advance_and_record(tuple(changes)).first(connection, values)
        won = stored.reason == outcome.reason
    else:
        guard = {"session_id": session_id, "seen_seq": state.last_seq, **changes}
        with write_transaction(connection):
            won = _advance_session(tuple(changes)).execute(connection, guard) == 1
            stored = outcome if won else lost
            _RECORD_BEAT.execute(connection, _evidence(session_id, beat, now, stored))
    return outcome if won else lost


def _judge_rare(
    connection: Connection,
    user_id: int,
    session_id: str,
    beat: Beat,
    now: datetime,
    state: SessionState,
    rules: StudyRules,
    course_complete: bool,
) -> tuple[Outcome, bool]:
    """Judge and store a beat that books a finished day or completes the lesson.

    Runs in one transaction; raises ``_LostRace`` (rolling it back) when the session moved on.
    """
    read = state
    today = local_day(now)
    if today != state.day:  # book the old day, then start the new one whatever the beat says
        with _rare_path(connection) as session:
            _add_daily(session, user_id, state.day, state.day_credited)
            cap = _daily_cap(session, user_id, today)
        state = replace(state, day=today, day_credited=0.0, allowance=cap)
    outcome = judge(state, beat, now.timestamp(), today, rules, 0.0)
    changes = _changes(read, outcome.state, now)
    guard = {"session_id": session_id, "seen_seq": read.last_seq, **changes}
    if _advance_session(tuple(changes)).execute(connection, guard) != 1:
        raise _LostRace
    _RECORD_BEAT.execute(connection, _evidence(session_id, beat, now, outcome))
    if outcome.completed_now:
        with _rare_path(connection) as session:
            course_complete = complete_lesson(session, session_id, now)
    return outcome, course_complete


def _evidence(session_id: str, beat: Beat, now: datetime, outcome: Outcome) -> dict[str, object]:
    return {
        "session_id": session_id,
        "seq": beat.seq,
        "received_at": now,
        "position": beat.position,
        "playing": beat.playing,
        "visible": beat.visible,
        "rate": beat.rate,
        "credited_seconds": outcome.credited,
        "reason": outcome.reason,
    }


def _result(outcome: Outcome, course_complete: bool) -> HeartbeatResult:
    new = outcome.state
    return HeartbeatResult(
        credited_seconds=round(outcome.credited, 3),
        session_credited_seconds=round(new.credited, 3),
        lesson_covered_ratio=round(min(1.0, covered(new.coverage) / new.target), 4)
        if new.target
        else 0.0,
        lesson_complete=new.complete,
        course_complete=course_complete,
        furthest_position=round(new.furthest, 3),
        reason=outcome.reason,
        daily_remaining_seconds=round(max(0.0, new.allowance), 1),
    )


@contextmanager
def _rare_path(connection: Connection) -> Iterator[Session]:
    """An ORM session on the heartbeat's connection; its work is kept when the block ends."""
    with Session(bind=connection, join_transaction_mode="create_savepoint") as session:
        yield session
        session.commit()  # releases the SAVEPOINT; the heartbeat's transaction decides


def _changes(old: SessionState, new: SessionState, now: datetime) -> dict[str, object]:
    """The session columns a judgement changed, as values to store (always ``last_seq``)."""
    values: dict[str, object] = {"last_seq": new.last_seq}
    if new.anchor != old.anchor:
        values["anchor_at"] = datetime.fromtimestamp(new.anchor, tz=now.tzinfo)
    if new.last_position != old.last_position:
        values["last_position"] = new.last_position
    if new.furthest != old.furthest:
        values["furthest"] = new.furthest
    if new.coverage != old.coverage:
        values["coverage"] = coverage_to_json(new.coverage)
    if new.credited != old.credited:
        values["credited_seconds"] = new.credited
    if new.allowance != old.allowance:
        values["allowance_seconds"] = new.allowance
    if new.day != old.day:
        values["day"] = new.day
    if new.day_credited != old.day_credited:
        values["day_credited_seconds"] = new.day_credited
    if new.complete != old.complete:
        values["lesson_complete"] = new.complete
    return values


def _daily_cap(session: Session, user_id: int, today: date) -> float:
    """The learner's daily cap; read only when a new day starts mid-session."""
    region = learner_region(session.get(User, user_id))
    return daily_cap_seconds(resolve_rule_pack(session, region, today.year))


# -- completion ----------------------------------------------------------------------------


def complete_lesson(session: Session, session_id: str, now: datetime) -> bool:
    """Record a lesson's completion and, when it was the last one, the course's credit.

    Returns whether the course is complete.
    """
    playback = session.get(PlaybackSession, session_id)
    session.refresh(playback)
    fold(session, playback, final=False)
    session.flush()
    record = complete_course_if_done(session, playback.user_id, playback.course_id, now)
    if record is not None:
        playback.course_complete = True
    return record is not None


def complete_course_if_done(
    session: Session, user_id: int, course_id: int, now: datetime
) -> CreditRecord | None:
    """Create the course's one credit record once every lesson is complete.

    Exactly once, even when many requests race: the unique (user, course) key decides and
    the losers read the winner's row.
    """
    existing = session.scalar(select(CreditRecord).filter_by(user_id=user_id, course_id=course_id))
    if existing is not None:
        return existing
    course = session.get(Course, course_id)
    lesson_ids = [lesson.id for lesson in course.lessons]
    done = session.scalar(
        select(func.count(LessonProgress.id)).where(
            LessonProgress.user_id == user_id,
            LessonProgress.lesson_id.in_(lesson_ids),
            LessonProgress.completed_at.is_not(None),
        )
    )
    if done < len(lesson_ids):
        return None
    study = session.scalar(
        select(func.coalesce(func.sum(PlaybackSession.credited_seconds), 0.0)).where(
            PlaybackSession.user_id == user_id, PlaybackSession.course_id == course_id
        )
    )
    started = session.scalar(
        select(func.min(PlaybackSession.started_at)).where(
            PlaybackSession.user_id == user_id, PlaybackSession.course_id == course_id
        )
    )
    record = CreditRecord(
        user_id=user_id,
        course_id=course_id,
        year=local_day(now).year,
        category=course.category,
        hours=course.hours,
        study_seconds=int(study),
        started_at=started,
        completed_at=now,
        evidence=_evidence_summary(session, user_id, course_id),
    )
    try:
        with session.begin_nested():
            session.add(record)
    except IntegrityError:
        return session.scalars(
            select(CreditRecord).filter_by(user_id=user_id, course_id=course_id)
        ).one()
    return record


def _evidence_summary(session: Session, user_id: int, course_id: int) -> dict:
    """Counts of heartbeats by reason and seconds credited, kept with the record."""
    rows = session.execute(
        select(Heartbeat.reason, func.count(Heartbeat.id), func.sum(Heartbeat.credited_seconds))
        .join(PlaybackSession, PlaybackSession.id == Heartbeat.session_id)
        .where(PlaybackSession.user_id == user_id, PlaybackSession.course_id == course_id)
        .group_by(Heartbeat.reason)
    ).all()
    sessions = session.scalar(
        select(func.count(PlaybackSession.id)).where(
            PlaybackSession.user_id == user_id, PlaybackSession.course_id == course_id
        )
    )
    return {
        "sessions": sessions,
        "heartbeats": {
            reason: {"count": n, "seconds": round(s or 0.0, 1)} for reason, n, s in rows
        },
    }
