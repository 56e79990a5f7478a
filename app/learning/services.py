"""Enrolling learners in courses."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.auth.models import User
from app.catalog.models import Course
from app.errors import NotAllowed
from app.learning.models import Enrolment
from app.permissions import can_enrol


def enrol(session: Session, user: User, course: Course) -> tuple[Enrolment, bool]:
    """Enrol the user; idempotent. Returns the enrolment and whether it is new.

    :raises NotAllowed: the user is not a learner or the course is not open.
    """
    if not can_enrol(user, course):
        raise NotAllowed(_l("This course is not open for enrolment."))
    existing = session.scalar(select(Enrolment).filter_by(user_id=user.id, course_id=course.id))
    if existing is not None:
        return existing, False
    enrolment = Enrolment(user_id=user.id, course_id=course.id)
    try:
        with session.begin_nested():
            session.add(enrolment)
    except IntegrityError:
        # A concurrent request (double click) enrolled first.
        return session.scalars(
            select(Enrolment).filter_by(user_id=user.id, course_id=course.id)
        ).one(), False
    return enrolment, True
