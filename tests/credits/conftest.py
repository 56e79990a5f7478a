"""Fixtures of the credit tests: credit records, rule packs, playback sessions, heartbeats.

Rows are made directly (the heartbeat engine that normally writes them is another area).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app.catalog.models import Course, Lesson
from app.catalog.taxonomy import Category
from app.credits.models import CreditRecord, RulePack
from app.extensions import db
from app.learning.progress_models import Heartbeat, PlaybackSession, SessionStatus

_serial = itertools.count(1)


@pytest.fixture
def make_record(app: Flask, transaction: None, make_course) -> Callable[..., int]:
    """A completed course for a learner: a new course of the category and hours, and its
    credit record in the year; returns the record id."""

    def make(
        user_id: int,
        hours: str = "6",
        category: Category = Category.PROFESSIONAL,
        year: int = 2026,
        *,
        completed_at: datetime | None = None,
        study_seconds: int | None = None,
        title: str | None = None,
    ) -> int:
        course_id = make_course(category=category, hours=hours, years=(year,), title=title)
        with app.test_request_context():
            record = CreditRecord(
                user_id=user_id,
                course_id=course_id,
                year=year,
                category=category,
                hours=Decimal(hours),
                study_seconds=study_seconds if study_seconds is not None else 2700,
                started_at=None,
                completed_at=completed_at or datetime(year, 6, 1, 8, 0, tzinfo=UTC),
                evidence={},
            )
            db.session.add(record)
            db.session.commit()
            return record.id

    return make


@pytest.fixture
def make_pack(app: Flask, transaction: None) -> Callable[..., int]:
    """A rule pack row (active unless told otherwise); returns its id."""

    def make(code: str | None = None, **values: Any) -> int:
        fields = {
            "code": code or f"pack-{next(_serial)}",
            "version": 1,
            "name": "测试规则",
            "region": None,
            "year": None,
            "minutes_per_hour": 45,
            "annual_hours": Decimal(90),
            "professional_share": Decimal("0.6667"),
            "public_cap_hours": None,
            "daily_cap_hours": Decimal(8),
            "active": True,
            **values,
        }
        with app.test_request_context():
            pack = RulePack(**fields)
            db.session.add(pack)
            db.session.commit()
            return pack.id

    return make


@pytest.fixture
def national_id(app: Flask, transaction: None) -> int:
    """The national default pack the migration ships."""
    with app.test_request_context():
        return db.session.scalar(select(RulePack.id).filter_by(code="national", version=1))


def lesson_of(course_id: int) -> Lesson:
    return db.session.scalar(select(Lesson).filter_by(course_id=course_id))


@pytest.fixture
def make_playback(app: Flask, transaction: None) -> Callable[..., str]:
    """A playback session of the record's learner and course with the given heartbeats.

    ``beats`` are (reason, credited seconds) pairs, 15 s apart from ``started_at``.
    Returns the session id.
    """

    def make(
        record_id: int,
        beats: Iterable[tuple[str, float]] = (),
        *,
        started_at: datetime | None = None,
        status: SessionStatus = SessionStatus.ENDED,
    ) -> str:
        session_id = f"{next(_serial):032x}"
        with app.test_request_context():
            record = db.session.get(CreditRecord, record_id)
            course = db.session.get(Course, record.course_id)
            start = started_at or record.completed_at - timedelta(hours=1)
            beats = list(beats)
            credited = sum(seconds for _reason, seconds in beats)
            db.session.add(
                PlaybackSession(
                    id=session_id,
                    user_id=record.user_id,
                    lesson_id=lesson_of(course.id).id,
                    course_id=course.id,
                    status=status,
                    started_at=start,
                    anchor_at=start,
                    credited_seconds=credited,
                    day=date(start.year, start.month, start.day),
                    target_seconds=600.0,
                    ended_at=(
                        start + timedelta(seconds=15 * (len(beats) + 1))
                        if status == SessionStatus.ENDED
                        else None
                    ),
                )
            )
            for seq, (reason, seconds) in enumerate(beats, start=1):
                db.session.add(
                    Heartbeat(
                        session_id=session_id,
                        seq=seq,
                        received_at=start + timedelta(seconds=15 * seq),
                        position=15.0 * seq,
                        playing=reason != "paused",
                        visible=reason != "hidden",
                        rate=2.0 if reason == "rate" else 1.0,
                        credited_seconds=seconds,
                        reason=reason,
                    )
                )
            db.session.commit()
            return session_id

    return make
