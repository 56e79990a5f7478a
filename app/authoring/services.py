"""Authoring rules: writing a provider's courses and lessons, and sending them to review."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.auth.models import User
from app.catalog.models import Course, CourseEvent, CourseStatus, IllegalTransition, Lesson
from app.catalog.services import CourseSpec, create_course, parse_hours
from app.catalog.taxonomy import Category, Department, Field, LessonKind
from app.db import utcnow
from app.errors import Conflict, DomainError, NotAllowed
from app.media.models import MediaAsset, MediaStatus
from app.permissions import can_author_course
from app.web import join_list

#: Stored as the comment of system-made trail events; shown translated (see queries).
EDITED_AFTER_PUBLICATION = "edited after publication"
WITHDRAWN_BY_AUTHOR = "withdrawn by the author"

#: Bounds of a document lesson's required study time, in minutes.
MIN_REQUIRED_MINUTES = 1
MAX_REQUIRED_MINUTES = 600

#: Lesson kinds an author adds by hand (packages arrive with the courseware importer).
AUTHORED_LESSON_KINDS = (LessonKind.VIDEO, LessonKind.DOCUMENT)


class ReadOnlyCourse(DomainError):
    """The course cannot be changed in its current status."""


class MediaNotReady(DomainError):
    """Some lessons have no processed file, so the course cannot be reviewed yet."""


@dataclass(frozen=True)
class CourseData:
    """The author-editable facts of a course, as entered."""

    code: str
    title: str
    category: Category
    field: Field
    department: Department
    hours: str
    years: tuple[int, ...]
    summary: str = ""


@dataclass(frozen=True)
class LessonData:
    """A lesson as the author describes it; the file is attached separately."""

    title: str
    kind: LessonKind = LessonKind.VIDEO
    required_minutes: int | None = None


# -- helpers -----------------------------------------------------------------------------


def log_transition(
    session: Session,
    course: Course,
    actor: User | None,
    from_status: CourseStatus,
    comment: str = "",
    now: datetime | None = None,
) -> CourseEvent:
    """Add one step to the course's review trail (the course has already moved)."""
    event = CourseEvent(
        course_id=course.id,
        actor_id=actor.id if actor is not None else None,
        from_status=from_status,
        to_status=course.status,
        comment=comment.strip(),
        at=now or utcnow(),
    )
    session.add(event)
    return event


def lock_course(session: Session, course: Course) -> None:
    """Re-read the course's status under a row lock before moving it.

    Two requests (a double click, an author withdrawing while a reviewer approves) then
    queue up instead of both acting on the status they loaded. SQLite ignores FOR UPDATE
    but its transactions already take the write lock at BEGIN.
    """
    session.refresh(course, ["status", "published_at"], with_for_update=True)
    session.expire(course, ["lessons"])


def _check_author(author: User, course: Course) -> None:
    if not can_author_course(author, course):
        raise NotAllowed(_l("Only authors of the course's provider may change it."))


def _check_changeable(course: Course) -> None:
    """Courses in review wait for the decision; retired ones are history.

    :raises ReadOnlyCourse: in review or retired.
    """
    if course.status == CourseStatus.IN_REVIEW:
        raise ReadOnlyCourse(
            _l("This course is in review. Withdraw it from review first to change it.")
        )
    if course.status == CourseStatus.RETIRED:
        raise ReadOnlyCourse(_l("This course is retired and can no longer be changed."))


def _reopen_if_published(
    session: Session, author: User, course: Course, now: datetime | None = None
) -> None:
    """A change to a published course takes it back to draft, so it is reviewed again."""
    if course.status == CourseStatus.PUBLISHED:
        course.return_to_draft()
        log_transition(
            session, course, author, CourseStatus.PUBLISHED, EDITED_AFTER_PUBLICATION, now
        )


def check_can_change(author: User, course: Course) -> None:
    """Whether the author may change the course now, without changing anything yet.

    :raises NotAllowed: not an author of the course's provider.
    :raises ReadOnlyCourse: in review or retired.
    """
    _check_author(author, course)
    _check_changeable(course)


def open_for_change(
    session: Session, author: User, course: Course, now: datetime | None = None
) -> None:
    """Check that the author may change the course now; a published one goes back to draft.

    For changes made outside this module, such as replacing a lesson's video.

    :raises NotAllowed: not an author of the course's provider.
    :raises ReadOnlyCourse: in review or retired.
    """
    _check_author(author, course)
    lock_course(session, course)
    _check_changeable(course)
    _reopen_if_published(session, author, course, now)


def _require_draft(course: Course) -> None:
    """Removing and reordering lessons is for drafts only (learners' progress is per lesson)."""
    if course.status == CourseStatus.IN_REVIEW:
        raise ReadOnlyCourse(
            _l("This course is in review. Withdraw it from review first to change it.")
        )
    if course.status != CourseStatus.DRAFT:
        raise ReadOnlyCourse(
            _l(
                "Lessons can be removed or reordered only while the course is a draft. "
                "Edit the course details to reopen it as a draft."
            )
        )


def _renumber(course: Course, ordered: list[Lesson]) -> None:
    """Give the lessons positions 1..n in the given order."""
    for position, lesson in enumerate(ordered, start=1):
        lesson.position = position
    course.lessons[:] = ordered


def _touch(course: Course, now: datetime | None = None) -> None:
    """Lesson changes count as a change of the course (its "last change" column)."""
    course.updated_at = now or utcnow()


def _clean_lesson(
    data: LessonData, kinds: tuple[LessonKind, ...] = AUTHORED_LESSON_KINDS
) -> LessonData:
    """Documents need a study time, videos take theirs from the file."""
    title = data.title.strip()
    if not title:
        raise DomainError(_l("Give the lesson a title."), field="title")
    if data.kind not in kinds:
        raise DomainError(_l("Choose video or document."), field="kind")
    if data.kind == LessonKind.DOCUMENT:
        minutes = data.required_minutes
        if minutes is None or not MIN_REQUIRED_MINUTES <= minutes <= MAX_REQUIRED_MINUTES:
            raise DomainError(
                _l(
                    "Enter the study time of the document, %(low)d to %(high)d minutes.",
                    low=MIN_REQUIRED_MINUTES,
                    high=MAX_REQUIRED_MINUTES,
                ),
                field="required_minutes",
            )
        return LessonData(title, data.kind, minutes)
    return LessonData(title, data.kind, None)


# -- courses -----------------------------------------------------------------------------


def create_course_for(session: Session, author: User, data: CourseData) -> Course:
    """A new draft course of the author's provider.

    :raises NotAllowed: the account is not linked to a provider.
    :raises Conflict: the course code is taken (also when another request took it first).
    :raises DomainError: the hours are not a valid number (field ``hours``).
    """
    if author.provider_id is None:
        raise NotAllowed(
            _l("Your account is not linked to a provider yet. Ask an administrator to link it.")
        )
    spec = CourseSpec(
        code=data.code.strip().upper(),
        title=data.title,
        category=data.category,
        field=data.field,
        department=data.department,
        hours=parse_hours(data.hours),
        years=data.years,
        summary=data.summary,
    )
    try:
        with session.begin_nested():
            course = create_course(session, author.provider, spec)
    except IntegrityError as exc:
        raise Conflict(_l("A course with this code already exists."), field="code") from exc
    return course


def update_course(
    session: Session, author: User, course: Course, data: CourseData, now: datetime | None = None
) -> Course:
    """Change a course's details; a published course goes back to draft and to review.

    Lessons stay as they are, ids included: learners' progress refers to them.

    :raises ReadOnlyCourse: in review (withdraw first) or retired.
    :raises Conflict: the new code is taken.
    :raises DomainError: hours invalid, or the code of a once-published course changed.
    """
    _check_author(author, course)
    lock_course(session, course)
    _check_changeable(course)
    hours = parse_hours(data.hours)
    code = data.code.strip().upper()
    if code != course.code:
        if course.published_at is not None:
            raise DomainError(
                _l("The code of a course that has been published cannot change."), field="code"
            )
        taken = session.scalar(select(Course.id).where(Course.code == code, Course.id != course.id))
        if taken:
            raise Conflict(_l("A course with this code already exists."), field="code")
    _reopen_if_published(session, author, course, now)
    course.code = code
    course.title = data.title.strip()
    course.summary = data.summary.strip()
    course.category = data.category
    course.field = data.field
    course.department = data.department
    course.hours = hours
    course.years = list(data.years)
    _touch(course, now)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise Conflict(_l("A course with this code already exists."), field="code") from exc
    return course


def lessons_not_ready(session: Session, course: Course) -> list[Lesson]:
    """Lessons without a processed file of the course's own provider."""
    asset_ids = {lesson.media_asset_id for lesson in course.lessons if lesson.media_asset_id}
    ready = set(
        session.scalars(
            select(MediaAsset.id).where(
                MediaAsset.id.in_(asset_ids),
                MediaAsset.status == MediaStatus.READY,
                MediaAsset.provider_id == course.provider_id,
            )
        )
    )
    return [lesson for lesson in course.lessons if lesson.media_asset_id not in ready]


def submit_for_review(
    session: Session, author: User, course: Course, comment: str = "", now: datetime | None = None
) -> CourseEvent:
    """Send a draft to the reviewers, with an optional note for them.

    :raises IllegalTransition: not a draft, or no lessons.
    :raises MediaNotReady: some lessons have no ready file; the message names them.
    """
    _check_author(author, course)
    lock_course(session, course)
    if course.status == CourseStatus.IN_REVIEW:
        raise IllegalTransition(_l("This course is already waiting for review."))
    if course.status == CourseStatus.DRAFT and course.lessons:
        missing = lessons_not_ready(session, course)
        if missing:
            raise MediaNotReady(
                _l(
                    "Every lesson needs a processed file before review. Not ready yet: "
                    "%(lessons)s.",
                    lessons=join_list(f"{lesson.position}. {lesson.title}" for lesson in missing),
                )
            )
    course.submit_for_review()
    _touch(course, now)
    event = log_transition(session, course, author, CourseStatus.DRAFT, comment, now)
    session.flush()
    return event


def withdraw_from_review(
    session: Session, author: User, course: Course, now: datetime | None = None
) -> CourseEvent:
    """Take a course back from the review queue to change it.

    :raises IllegalTransition: the course is not in review (perhaps already decided).
    """
    _check_author(author, course)
    lock_course(session, course)
    if course.status != CourseStatus.IN_REVIEW:
        raise IllegalTransition(_l("This course is not in review any more."))
    course.return_to_draft()
    _touch(course, now)
    event = log_transition(
        session, course, author, CourseStatus.IN_REVIEW, WITHDRAWN_BY_AUTHOR, now
    )
    session.flush()
    return event


# -- lessons -----------------------------------------------------------------------------


def add_lesson(
    session: Session, author: User, course: Course, data: LessonData, now: datetime | None = None
) -> Lesson:
    """Append a lesson; a published course goes back to draft first.

    :raises ReadOnlyCourse: in review or retired.
    :raises DomainError: title, kind or study time invalid (with the field).
    """
    _check_author(author, course)
    clean = _clean_lesson(data)
    lock_course(session, course)
    _check_changeable(course)
    _reopen_if_published(session, author, course, now)
    lesson = Lesson(
        position=len(course.lessons) + 1,
        title=clean.title,
        kind=clean.kind,
        required_minutes=clean.required_minutes,
    )
    course.lessons.append(lesson)
    _touch(course, now)
    session.flush()
    return lesson


def update_lesson(
    session: Session,
    author: User,
    course: Course,
    lesson: Lesson,
    title: str,
    required_minutes: int | None = None,
    now: datetime | None = None,
) -> Lesson:
    """Rename a lesson (and set a document's study time); the lesson keeps its id.

    :raises ReadOnlyCourse: in review or retired.
    """
    _check_author(author, course)
    if lesson.course_id != course.id:
        raise NotAllowed(_l("This lesson belongs to another course."))
    clean = _clean_lesson(LessonData(title, lesson.kind, required_minutes), tuple(LessonKind))
    lock_course(session, course)
    _check_changeable(course)
    _reopen_if_published(session, author, course, now)
    lesson.title = clean.title
    lesson.required_minutes = clean.required_minutes
    _touch(course, now)
    session.flush()
    return lesson


def delete_lesson(
    session: Session, author: User, course: Course, lesson: Lesson, now: datetime | None = None
) -> None:
    """Remove a lesson of a draft; the others close the gap (positions stay 1..n).

    Lessons of a course that was ever published stay: learners' progress refers to them.

    :raises ReadOnlyCourse: the course is not a draft, or has been published before.
    """
    _check_author(author, course)
    if lesson.course_id != course.id:
        raise NotAllowed(_l("This lesson belongs to another course."))
    lock_course(session, course)
    _require_draft(course)
    if course.published_at is not None:
        raise ReadOnlyCourse(
            _l(
                "Lessons of a course that has been published cannot be deleted: learners' "
                "progress refers to them. Rename the lesson or replace its file instead."
            )
        )
    _renumber(course, [other for other in course.lessons if other.id != lesson.id])
    _touch(course, now)
    session.flush()


def move_lesson(
    session: Session,
    author: User,
    course: Course,
    lesson: Lesson,
    offset: int,
    now: datetime | None = None,
) -> None:
    """Move a lesson of a draft up (-1) or down (+1); moving past either end does nothing.

    :raises ReadOnlyCourse: the course is not a draft.
    """
    _check_author(author, course)
    if lesson.course_id != course.id:
        raise NotAllowed(_l("This lesson belongs to another course."))
    if offset not in (-1, 1):
        raise ValueError("offset must be -1 or 1")
    lock_course(session, course)
    _require_draft(course)
    ordered = sorted(course.lessons, key=lambda item: (item.position, item.id))
    index = next((i for i, item in enumerate(ordered) if item.id == lesson.id), None)
    if index is None:  # removed by another request meanwhile
        raise NotAllowed(_l("This lesson no longer exists."))
    target = index + offset
    if 0 <= target < len(ordered):
        ordered[index], ordered[target] = ordered[target], ordered[index]
    _renumber(course, ordered)
    _touch(course, now)
    session.flush()
