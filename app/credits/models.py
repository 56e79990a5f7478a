"""Credit records (学时 earned by completing a course) and the rule packs that judge them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.catalog.models import Course
from app.catalog.taxonomy import Category
from app.db import Base, UTCDateTime, enum_column, utcnow


class CreditRecord(Base):
    """One course completed by one learner: exactly one row, whatever races happen."""

    __tablename__ = "credit_record"
    __table_args__ = (UniqueConstraint("user_id", "course_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"), index=True)
    #: Year of completion in Asia/Shanghai time.
    year: Mapped[int] = mapped_column(Integer, index=True)
    category: Mapped[Category] = mapped_column(enum_column(Category))
    #: The course's declared 学时 at completion.
    hours: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    #: Raw study time credited across the course's lessons, kept so hours can be recomputed.
    study_seconds: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Summary of the evidence: sessions, heartbeats accepted and refused by reason.
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    course: Mapped[Course] = relationship(lazy="joined")

    def __repr__(self) -> str:
        return f"<CreditRecord user={self.user_id} course={self.course_id} {self.hours}>"


class RulePack(Base):
    """Recognition rules of a region for a year (学时认定), versioned; None region = national."""

    __tablename__ = "rule_pack"
    __table_args__ = (UniqueConstraint("code", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stable name of the pack, e.g. ``national`` or ``shanghai``.
    code: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer, default=1)
    name: Mapped[str] = mapped_column(String(100))
    #: GB/T 2260 province code (two digits) the pack applies to; None for the national default.
    region: Mapped[str | None] = mapped_column(String(6), index=True)
    #: Year it applies to; None for every year.
    year: Mapped[int | None] = mapped_column(Integer)
    minutes_per_hour: Mapped[int] = mapped_column(Integer, default=45)
    annual_hours: Mapped[Decimal] = mapped_column(Numeric(6, 2), default=Decimal(90))
    #: Least share of professional-subject hours in the annual total (e.g. 0.6667 = 2/3).
    professional_share: Mapped[Decimal] = mapped_column(Numeric(5, 4), default=Decimal("0.6667"))
    #: Most public-subject hours that count in a year; None for no cap.
    public_cap_hours: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    daily_cap_hours: Mapped[Decimal] = mapped_column(Numeric(4, 2), default=Decimal(8))
    #: Only active versions are used; admins activate one version per code.
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<RulePack {self.code} v{self.version}>"
