"""Read helpers for a learner's enrolments."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.catalog.models import Course
from app.extensions import db
from app.learning.models import Enrolment


def enrolment_for(user: Any, course: Course) -> Enrolment | None:
    return db.session.scalar(select(Enrolment).filter_by(user_id=user.id, course_id=course.id))


def enrolments_of(user_id: int) -> list[Enrolment]:
    """The user's enrolments, most recent first."""
    query = (
        select(Enrolment)
        .where(Enrolment.user_id == user_id)
        .order_by(Enrolment.enrolled_at.desc(), Enrolment.id.desc())
    )
    return list(db.session.scalars(query))
