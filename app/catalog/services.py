"""Writing the catalog: providers and courses with their lessons."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.catalog.models import Course, Lesson, Provider
from app.catalog.taxonomy import Category, Department, Field, LessonKind
from app.errors import Conflict, DomainError

MAX_HOURS = Decimal("999.99")


@dataclass(frozen=True)
class LessonSpec:
    title: str
    kind: LessonKind = LessonKind.VIDEO
    duration_seconds: int | None = None
    required_minutes: int | None = None


@dataclass(frozen=True)
class CourseSpec:
    code: str
    title: str
    category: Category
    field: Field
    department: Department
    hours: Decimal | str
    years: tuple[int, ...]
    summary: str = ""
    lessons: tuple[LessonSpec, ...] = ()


def parse_hours(value: Decimal | str | float) -> Decimal:
    """Declared 学时 as a positive decimal with two places.

    :raises DomainError: not a number, not positive, or too large.
    """
    try:
        hours = Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError) as exc:
        raise DomainError(_l("Enter the hours as a number, e.g. 3 or 1.5."), field="hours") from exc
    if not hours.is_finite() or hours <= 0 or hours > MAX_HOURS:
        raise DomainError(_l("Hours must be between 0.01 and 999.99."), field="hours")
    return hours


def get_or_create_provider(session: Session, code: str, name: str) -> Provider:
    provider = session.scalar(select(Provider).filter_by(code=code))
    if provider is None:
        provider = Provider(code=code, name=name)
        session.add(provider)
        session.flush()
    return provider


def create_course(session: Session, provider: Provider, spec: CourseSpec) -> Course:
    """A new draft course with its lessons in the given order.

    :raises Conflict: the course code is taken.
    """
    if session.scalar(select(Course.id).filter_by(code=spec.code)):
        raise Conflict(_l("A course with this code already exists."), field="code")
    course = Course(
        code=spec.code,
        title=spec.title.strip(),
        summary=spec.summary.strip(),
        category=spec.category,
        field=spec.field,
        department=spec.department,
        hours=parse_hours(spec.hours),
        provider=provider,
    )
    course.years = list(spec.years)
    course.lessons = [
        Lesson(
            position=index,
            title=lesson.title,
            kind=lesson.kind,
            duration_seconds=lesson.duration_seconds,
            required_minutes=lesson.required_minutes,
        )
        for index, lesson in enumerate(spec.lessons, start=1)
    ]
    session.add(course)
    session.flush()
    return course
