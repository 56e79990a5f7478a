"""Study-time tracking: playback sessions, heartbeats (evidence), lesson progress, daily totals.

Hot path design: a heartbeat touches one row, the learner's single active playback session,
which carries everything the rules need (anchor time, last position, coverage, allowance);
lesson progress is folded from sessions when a session starts, ends or completes a lesson.
Heartbeats are appended to an evidence table that nothing on the hot path reads.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, enum_column, utcnow


class SessionStatus(StrEnum):
    ACTIVE = "active"
    #: Another session of the same learner started (another tab or device).
    SUPERSEDED = "superseded"
    ENDED = "ended"


class PlaybackSession(Base):
    """One continuous viewing of one lesson in one tab."""

    __tablename__ = "playback_session"
    __table_args__ = (Index("ix_playback_session_user_status", "user_id", "status"),)

    #: Random and unguessable: it appears in the heartbeat URL.
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lesson.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"))
    status: Mapped[SessionStatus] = mapped_column(
        enum_column(SessionStatus), default=SessionStatus.ACTIVE
    )
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Server time of the last heartbeat that moved the anchor; credit is measured from here.
    anchor_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    #: Position reported by the last heartbeat (or the resume position at start).
    last_position: Mapped[float] = mapped_column(Float, default=0.0)
    #: Furthest point legitimately reached in this lesson (carried over between sessions).
    furthest: Mapped[float] = mapped_column(Float, default=0.0)
    #: Covered intervals of the lesson's timeline, [[start, end], …], merged and sorted.
    coverage: Mapped[list[list[float]]] = mapped_column(JSON, default=list)
    #: Study time credited by this session.
    credited_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    #: What the daily cap still allows this session (day of ``day``, Asia/Shanghai).
    allowance_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    day: Mapped[date] = mapped_column(Date)
    #: Study time this session credited on ``day`` (added to DailyStudy when folded).
    day_credited_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    #: Length of the lesson's timeline (video) or required seconds (document).
    target_seconds: Mapped[float] = mapped_column(Float)
    lesson_complete: Mapped[bool] = mapped_column(Boolean, default=False)
    course_complete: Mapped[bool] = mapped_column(Boolean, default=False)
    #: True once this session's coverage and credit are folded into lesson progress.
    folded: Mapped[bool] = mapped_column(Boolean, default=False)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<PlaybackSession {self.id} user={self.user_id} lesson={self.lesson_id}>"


class Heartbeat(Base):
    """Evidence: every heartbeat received, what it claimed and what it earned, and why."""

    __tablename__ = "heartbeat"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[str] = mapped_column(String(32), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    position: Mapped[float | None] = mapped_column(Float)
    playing: Mapped[bool] = mapped_column(Boolean)
    visible: Mapped[bool] = mapped_column(Boolean)
    rate: Mapped[float | None] = mapped_column(Float)
    credited_seconds: Mapped[float] = mapped_column(Float)
    #: Why it earned what it did: ok, paused, hidden, rate, jump, stalled, too_frequent,
    #: replay, daily_cap, complete.
    reason: Mapped[str] = mapped_column(String(20))


class LessonProgress(Base):
    """A learner's progress in one lesson, folded from their playback sessions."""

    __tablename__ = "lesson_progress"
    __table_args__ = (UniqueConstraint("user_id", "lesson_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lesson.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), index=True)
    coverage: Mapped[list[list[float]]] = mapped_column(JSON, default=list)
    covered_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    furthest: Mapped[float] = mapped_column(Float, default=0.0)
    #: Where to resume.
    last_position: Mapped[float] = mapped_column(Float, default=0.0)
    credited_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<LessonProgress user={self.user_id} lesson={self.lesson_id}>"


class DailyStudy(Base):
    """Credited study time per learner per day (Asia/Shanghai), for the daily cap."""

    __tablename__ = "daily_study"
    __table_args__ = (PrimaryKeyConstraint("user_id", "day"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
