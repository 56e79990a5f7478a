"""Review decisions: publish a course in review, or return it to its author with reasons."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from app.audit.services import record
from app.auth.models import User
from app.authoring.services import MediaNotReady, lessons_not_ready, lock_course, log_transition
from app.catalog.models import Course, CourseEvent, CourseStatus
from app.errors import DomainError, NotAllowed
from app.permissions import can_review_course
from app.web import join_list


class AlreadyDecided(DomainError):
    """The course left review before this decision arrived (a double click, a colleague)."""


def _check_reviewer(reviewer: User, course: Course) -> None:
    if not can_review_course(reviewer, course):
        raise NotAllowed(_l("You may not review this course."))


def _lock_in_review(session: Session, course: Course) -> None:
    """Lock the course and make sure it still waits for a decision.

    :raises AlreadyDecided: it was approved, returned or withdrawn meanwhile.
    """
    lock_course(session, course)
    if course.status != CourseStatus.IN_REVIEW:
        raise AlreadyDecided(
            _l("This course has already been decided or withdrawn; nothing was changed.")
        )


def approve(
    session: Session,
    reviewer: User,
    course: Course,
    comment: str = "",
    now: datetime | None = None,
) -> CourseEvent:
    """Publish a course in review; it appears in the catalog at once.

    Safe to submit twice: the second call raises AlreadyDecided and writes nothing.

    :raises NotAllowed: not a reviewer, or a reviewer of the course's own provider.
    :raises AlreadyDecided: the course is no longer in review.
    :raises MediaNotReady: a lesson's file is no longer ready (names the lessons).
    """
    _check_reviewer(reviewer, course)
    _lock_in_review(session, course)
    missing = lessons_not_ready(session, course)
    if missing:
        # Files are checked at submission; this catches one that failed or was replaced since.
        raise MediaNotReady(
            _l(
                "Some lessons have no processed file any more: %(lessons)s. "
                "Return the course to its author.",
                lessons=join_list(f"{lesson.position}. {lesson.title}" for lesson in missing),
            )
        )
    course.publish(now)
    event = log_transition(session, course, reviewer, CourseStatus.IN_REVIEW, comment, now)
    session.flush()
    record(
        session,
        "review.approved",
        actor_id=reviewer.id,
        target=f"course:{course.id}",
        course_event_id=event.id,
    )
    return event


def return_to_author(
    session: Session,
    reviewer: User,
    course: Course,
    comment: str,
    now: datetime | None = None,
) -> CourseEvent:
    """Send a course in review back to draft, telling the author what to change.

    :raises DomainError: no comment (field ``comment``): the author needs the reasons.
    :raises NotAllowed: not a reviewer, or a reviewer of the course's own provider.
    :raises AlreadyDecided: the course is no longer in review.
    """
    _check_reviewer(reviewer, course)
    if not comment.strip():
        raise DomainError(
            _l("Tell the author what to change before returning the course."), field="comment"
        )
    _lock_in_review(session, course)
    course.return_to_draft()
    event = log_transition(session, course, reviewer, CourseStatus.IN_REVIEW, comment, now)
    session.flush()
    record(
        session,
        "review.returned",
        actor_id=reviewer.id,
        target=f"course:{course.id}",
        course_event_id=event.id,
    )
    return event
