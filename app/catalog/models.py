"""Providers, courses and their lessons, with the course lifecycle."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, Integer, Numeric, String, Text
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.catalog.taxonomy import Category, Department, Field, LessonKind
from app.db import Base, UTCDateTime, enum_column, utcnow
from app.errors import DomainError


class ProviderStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


class Provider(Base):
    """A training provider (施教机构 / 继续教育基地) whose authors publish courses."""

    __tablename__ = "provider"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[ProviderStatus] = mapped_column(
        enum_column(ProviderStatus), default=ProviderStatus.ACTIVE
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<Provider {self.code}>"


class CourseStatus(StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    PUBLISHED = "published"
    RETIRED = "retired"

    @property
    def label(self) -> str:
        return COURSE_STATUS_LABELS[self]


COURSE_STATUS_LABELS = {
    CourseStatus.DRAFT: _l("Draft"),
    CourseStatus.IN_REVIEW: _l("In review"),
    CourseStatus.PUBLISHED: _l("Published"),
    CourseStatus.RETIRED: _l("Retired"),
}


class IllegalTransition(DomainError):
    """The course cannot move to that status from where it is."""


class Course(Base):
    __tablename__ = "course"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(200), index=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[Category] = mapped_column(enum_column(Category), index=True)
    field: Mapped[Field] = mapped_column(enum_column(Field, 32), index=True)
    department: Mapped[Department] = mapped_column(enum_column(Department))
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id"), index=True)
    #: Declared credit hours (学时) earned on completion.
    hours: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    status: Mapped[CourseStatus] = mapped_column(
        enum_column(CourseStatus), default=CourseStatus.DRAFT, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    provider: Mapped[Provider] = relationship(lazy="joined")
    lessons: Mapped[list[Lesson]] = relationship(
        back_populates="course", order_by="Lesson.position", cascade="all, delete-orphan"
    )
    year_rows: Mapped[list[CourseYear]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="CourseYear.year"
    )

    def __repr__(self) -> str:
        return f"<Course {self.code} {self.status}>"

    @property
    def years(self) -> list[int]:
        return [row.year for row in self.year_rows]

    @years.setter
    def years(self, values: list[int]) -> None:
        wanted = sorted(set(values))
        self.year_rows = [row for row in self.year_rows if row.year in wanted]
        have = set(self.years)
        self.year_rows.extend(CourseYear(year=y) for y in wanted if y not in have)

    @hybrid_property
    def is_visible_in_catalog(self) -> bool:
        return self.status == CourseStatus.PUBLISHED

    @is_visible_in_catalog.inplace.expression
    @classmethod
    def _is_visible_in_catalog_expression(cls):
        return cls.status == CourseStatus.PUBLISHED

    @property
    def is_open_for_enrolment(self) -> bool:
        return self.status == CourseStatus.PUBLISHED

    @property
    def total_duration_seconds(self) -> int:
        return sum(lesson.duration_seconds or 0 for lesson in self.lessons)

    # -- lifecycle -------------------------------------------------------------------------

    def _move(self, allowed_from: set[CourseStatus], to: CourseStatus) -> None:
        if self.status not in allowed_from:
            raise IllegalTransition(
                _l(
                    "A course in status “%(status)s” cannot become “%(target)s”.",
                    status=self.status.label,
                    target=to.label,
                )
            )
        self.status = to

    def submit_for_review(self) -> None:
        if not self.lessons:
            raise IllegalTransition(_l("Add at least one lesson before submitting for review."))
        self._move({CourseStatus.DRAFT}, CourseStatus.IN_REVIEW)

    def return_to_draft(self) -> None:
        self._move({CourseStatus.IN_REVIEW, CourseStatus.PUBLISHED}, CourseStatus.DRAFT)

    def publish(self, now: datetime | None = None) -> None:
        self._move({CourseStatus.IN_REVIEW}, CourseStatus.PUBLISHED)
        self.published_at = now or utcnow()

    def retire(self) -> None:
        self._move({CourseStatus.PUBLISHED}, CourseStatus.RETIRED)


class CourseEvent(Base):
    """One step in a course's review trail: who moved it where, when, and why."""

    __tablename__ = "course_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    from_status: Mapped[CourseStatus] = mapped_column(enum_column(CourseStatus))
    to_status: Mapped[CourseStatus] = mapped_column(enum_column(CourseStatus))
    comment: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<CourseEvent {self.course_id} {self.from_status}→{self.to_status}>"


class CourseYear(Base):
    """A year in which the course counts toward the annual requirement."""

    __tablename__ = "course_year"

    course_id: Mapped[int] = mapped_column(
        ForeignKey("course.id", ondelete="CASCADE"), primary_key=True
    )
    year: Mapped[int] = mapped_column(Integer, primary_key=True, index=True)


class Lesson(Base):
    __tablename__ = "lesson"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), index=True)
    #: Order within the course, from 1.
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[LessonKind] = mapped_column(enum_column(LessonKind), default=LessonKind.VIDEO)
    #: Length of the video; None until the media is processed.
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    #: Study time required for documents, in minutes.
    required_minutes: Mapped[int | None] = mapped_column(Integer)
    #: The video or document shown; None until the author uploads one.
    media_asset_id: Mapped[int | None] = mapped_column(
        ForeignKey("media_asset.id", ondelete="SET NULL"), index=True
    )

    course: Mapped[Course] = relationship(back_populates="lessons")

    def __repr__(self) -> str:
        return f"<Lesson {self.course_id}#{self.position} {self.title!r}>"
