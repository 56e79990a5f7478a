"""Read helpers for authoring: the author's courses, their lessons' files and review trails."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from flask import abort
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.auth.models import User
from app.authoring.services import EDITED_AFTER_PUBLICATION, WITHDRAWN_BY_AUTHOR
from app.catalog.models import Course, CourseEvent, CourseStatus, Lesson
from app.extensions import db
from app.media.models import MediaAsset
from app.permissions import can_author_course


class StepKind(StrEnum):
    """What a step of the review trail meant, read from its statuses and its actor."""

    SUBMITTED = "submitted"
    WITHDRAWN = "withdrawn"
    RETURNED = "returned"
    APPROVED = "approved"
    REOPENED = "reopened"
    RETIRED = "retired"
    OTHER = "other"

    @property
    def label(self) -> str:
        return STEP_LABELS[self]


STEP_LABELS = {
    StepKind.SUBMITTED: _l("Submitted for review"),
    StepKind.WITHDRAWN: _l("Withdrawn from review"),
    StepKind.RETURNED: _l("Returned to the author"),
    StepKind.APPROVED: _l("Approved and published"),
    StepKind.REOPENED: _l("Reopened for changes"),
    StepKind.RETIRED: _l("Retired"),
    StepKind.OTHER: _l("Status changed"),
}

#: Comments written by the system, stored in English, shown in the reader's language.
SYSTEM_COMMENTS = {
    EDITED_AFTER_PUBLICATION: _l("Edited after publication; it must be reviewed again."),
    WITHDRAWN_BY_AUTHOR: _l("Withdrawn by the author."),
}


@dataclass(frozen=True)
class TrailStep:
    """One CourseEvent with who made it and what it meant."""

    event: CourseEvent
    actor_name: str | None
    kind: StepKind

    @property
    def comment(self) -> str:
        text = self.event.comment or ""
        return str(SYSTEM_COMMENTS.get(text, text))


def step_kind(event: CourseEvent, actor: User | None, course: Course) -> StepKind:
    """Withdrawals and returns both go from review to draft; the actor tells them apart.

    Reviewers never decide on their own provider's courses (``can_review_course``), so a
    move out of review by one of the provider's authors is a withdrawal.
    """
    if event.to_status == CourseStatus.IN_REVIEW:
        return StepKind.SUBMITTED
    if event.to_status == CourseStatus.RETIRED:
        return StepKind.RETIRED
    if event.from_status == CourseStatus.IN_REVIEW and event.to_status == CourseStatus.PUBLISHED:
        return StepKind.APPROVED
    if event.from_status == CourseStatus.IN_REVIEW and event.to_status == CourseStatus.DRAFT:
        by_author = actor is not None and can_author_course(actor, course)
        return StepKind.WITHDRAWN if by_author else StepKind.RETURNED
    if event.from_status == CourseStatus.PUBLISHED and event.to_status == CourseStatus.DRAFT:
        return StepKind.REOPENED
    return StepKind.OTHER


def trail_steps(events: Iterable[CourseEvent], courses: dict[int, Course]) -> list[TrailStep]:
    """Wrap events (of any courses, all given) with their actors, loaded in one query."""
    events = list(events)
    actor_ids = {event.actor_id for event in events if event.actor_id is not None}
    actors = (
        {user.id: user for user in db.session.scalars(select(User).where(User.id.in_(actor_ids)))}
        if actor_ids
        else {}
    )
    steps = []
    for event in events:
        actor = actors.get(event.actor_id) if event.actor_id is not None else None
        steps.append(
            TrailStep(
                event=event,
                actor_name=actor.name if actor is not None else None,
                kind=step_kind(event, actor, courses[event.course_id]),
            )
        )
    return steps


def review_trail(course: Course) -> list[TrailStep]:
    """The course's trail, newest step first."""
    events = db.session.scalars(
        select(CourseEvent)
        .where(CourseEvent.course_id == course.id)
        .order_by(CourseEvent.at.desc(), CourseEvent.id.desc())
    )
    return trail_steps(events, {course.id: course})


def pending_return(course: Course, trail: list[TrailStep]) -> TrailStep | None:
    """The reviewer's return the author still has to act on, if that is the latest step."""
    if course.status == CourseStatus.DRAFT and trail and trail[0].kind == StepKind.RETURNED:
        return trail[0]
    return None


def provider_courses(provider_id: int | None, page: int, per_page: int) -> Pagination:
    """One page of a provider's courses, most recently changed first."""
    query = (
        select(Course)
        .where(Course.provider_id == provider_id)
        .options(selectinload(Course.lessons))
        .order_by(Course.updated_at.desc(), Course.id.desc())
    )
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def media_of(course: Course) -> dict[int, MediaAsset]:
    """The files attached to the course's lessons, by id."""
    ids = {lesson.media_asset_id for lesson in course.lessons if lesson.media_asset_id}
    if not ids:
        return {}
    return {
        asset.id: asset
        for asset in db.session.scalars(select(MediaAsset).where(MediaAsset.id.in_(ids)))
    }


def get_own_course_or_404(course_id: int) -> Course:
    """The course with its lessons if the current author may work on it; 404 otherwise.

    Other providers' courses answer 404, not 403, so their existence is not revealed.
    """
    course = db.session.scalar(
        select(Course).where(Course.id == course_id).options(selectinload(Course.lessons))
    )
    if course is None or not can_author_course(current_user, course):
        abort(404)
    return course


def get_own_lesson_or_404(course: Course, lesson_id: int) -> Lesson:
    """A lesson of a course already loaded with ``get_own_course_or_404``."""
    lesson = next((item for item in course.lessons if item.id == lesson_id), None)
    if lesson is None:
        abort(404)
    return lesson
