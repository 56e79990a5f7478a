"""Read helpers for a learner's enrolments."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from app.catalog.models import Course
from app.extensions import db
from app.learning.models import Enrolment


def enrolment_for(user: Any, course: Course) -> Enrolment | None:
    return db.session.scalar(select(Enrolment).filter_by(user_id=user.id, course_id=course.id))


def course_progress(user_id: int, course: Course) -> dict[str, int]:
    """How many of the course's lessons the learner has completed."""
    from app.learning.progress_models import LessonProgress

    lesson_ids = [lesson.id for lesson in course.lessons]
    completed = db.session.scalar(
        select(func.count(LessonProgress.id)).where(
            LessonProgress.user_id == user_id,
            LessonProgress.lesson_id.in_(lesson_ids),
            LessonProgress.completed_at.is_not(None),
        )
    )
    return {"completed_lessons": completed or 0, "total_lessons": len(lesson_ids)}


def enrolments_of(user_id: int) -> list[Enrolment]:
    """The user's enrolments, most recent first."""
    query = (
        select(Enrolment)
        .where(Enrolment.user_id == user_id)
        .order_by(Enrolment.enrolled_at.desc(), Enrolment.id.desc())
    )
    return list(db.session.scalars(query))
