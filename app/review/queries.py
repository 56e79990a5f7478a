"""Read helpers for review: the queue, recent decisions and the course under review."""

from __future__ import annotations

from flask import abort
from flask_login import current_user
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import selectinload

from app.auth.models import User, UserRole
from app.authoring.queries import TrailStep, trail_steps
from app.catalog.models import Course, CourseEvent, CourseStatus
from app.extensions import db
from app.permissions import Role, can_review_course


def _submitted_at():
    """When the course last entered review (correlated to the outer Course)."""
    return (
        select(func.max(CourseEvent.at))
        .where(CourseEvent.course_id == Course.id, CourseEvent.to_status == CourseStatus.IN_REVIEW)
        .correlate(Course)
        .scalar_subquery()
    )


def review_queue(page: int, per_page: int) -> Pagination:
    """Courses waiting for a decision, the longest-waiting first."""
    query = (
        select(Course)
        .where(Course.status == CourseStatus.IN_REVIEW)
        .order_by(func.coalesce(_submitted_at(), Course.updated_at).asc(), Course.id.asc())
    )
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def latest_submissions(courses: list[Course]) -> dict[int, TrailStep]:
    """The last "submitted" step of each course (who sent it, when, with which note)."""
    if not courses:
        return {}
    by_id = {course.id: course for course in courses}
    latest = (
        select(func.max(CourseEvent.id))
        .where(CourseEvent.course_id.in_(by_id), CourseEvent.to_status == CourseStatus.IN_REVIEW)
        .group_by(CourseEvent.course_id)
    )
    events = db.session.scalars(select(CourseEvent).where(CourseEvent.id.in_(latest)))
    return {step.event.course_id: step for step in trail_steps(events, by_id)}


def recent_decisions(page: int, per_page: int) -> tuple[Pagination, list[TrailStep], dict]:
    """Approvals and returns, newest first, with their courses (withdrawals left out).

    A move out of review by an author of the course's provider is a withdrawal: reviewers
    never decide on their own provider's courses.
    """
    actor_provider = (
        select(User.provider_id).where(User.id == CourseEvent.actor_id).scalar_subquery()
    )
    by_author = exists().where(
        UserRole.user_id == CourseEvent.actor_id, UserRole.role == Role.AUTHOR
    )
    withdrawal = and_(
        CourseEvent.to_status == CourseStatus.DRAFT,
        by_author,
        func.coalesce(actor_provider, -1) == Course.provider_id,
    )
    query = (
        select(CourseEvent)
        .join(Course, Course.id == CourseEvent.course_id)
        .where(
            CourseEvent.from_status == CourseStatus.IN_REVIEW,
            CourseEvent.to_status.in_([CourseStatus.PUBLISHED, CourseStatus.DRAFT]),
            ~withdrawal,
        )
        .order_by(CourseEvent.at.desc(), CourseEvent.id.desc())
    )
    pagination = db.paginate(query, page=page, per_page=per_page, error_out=False)
    ids = {event.course_id for event in pagination.items}
    courses = (
        {c.id: c for c in db.session.scalars(select(Course).where(Course.id.in_(ids)))}
        if ids
        else {}
    )
    return pagination, trail_steps(pagination.items, courses), courses


def get_course_for_review_or_404(course_id: int) -> Course:
    """The course with its lessons; 404 when missing, 403 for a reviewer of its provider."""
    course = db.session.scalar(
        select(Course).where(Course.id == course_id).options(selectinload(Course.lessons))
    )
    if course is None:
        abort(404)
    if not can_review_course(current_user, course):
        abort(403)
    return course
