"""Employers (用人单位), identified by their unified social credit code."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow


class Organisation(Base):
    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    #: 统一社会信用代码 (GB 32100-2015), normalised to upper case.
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    #: GB/T 2260 region code, characters 3–8 of the credit code.
    region_code: Mapped[str] = mapped_column(String(6))
    #: Competent department (主管部门), free text.
    department: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<Organisation {self.credit_code} {self.name}>"
