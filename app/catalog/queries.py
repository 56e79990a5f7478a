"""Read helpers for the catalog."""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort
from flask_login import current_user
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.catalog.models import Course, CourseStatus, CourseYear
from app.catalog.taxonomy import Category, Field
from app.extensions import db
from app.permissions import can_view_course


@dataclass(frozen=True)
class CatalogFilter:
    """What a learner narrows the catalog by; every part is optional."""

    category: Category | None = None
    field: Field | None = None
    year: int | None = None
    text: str = ""


def published_courses(filters: CatalogFilter, page: int, per_page: int) -> Pagination:
    """One page of published courses matching the filter, newest first."""
    query = select(Course).where(Course.status == CourseStatus.PUBLISHED)
    if filters.category:
        query = query.where(Course.category == filters.category)
    if filters.field:
        query = query.where(Course.field == filters.field)
    if filters.year:
        query = query.where(
            Course.id.in_(select(CourseYear.course_id).where(CourseYear.year == filters.year))
        )
    if filters.text:
        query = query.where(Course.title.icontains(filters.text, autoescape=True))
    query = query.order_by(Course.published_at.desc(), Course.id.desc())
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def catalog_years() -> list[int]:
    """Years for which published courses exist, newest first."""
    query = (
        select(CourseYear.year)
        .join(Course, Course.id == CourseYear.course_id)
        .where(Course.status == CourseStatus.PUBLISHED)
        .distinct()
        .order_by(CourseYear.year.desc())
    )
    return list(db.session.scalars(query))


def get_course_or_404(course_id: int) -> Course:
    """The course with its lessons, if the current user may see it; 404 otherwise.

    Hidden courses answer 404, not 403, so their existence is not revealed.
    """
    course = db.session.scalar(
        select(Course).where(Course.id == course_id).options(selectinload(Course.lessons))
    )
    if course is None or not can_view_course(current_user, course):
        abort(404)
    return course
