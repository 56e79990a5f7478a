"""Accounts: identity, credentials, roles and login protection state."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.identity import Gender, IdType, mask_id_number
from app.db import Base, UTCDateTime, enum_column, utcnow
from app.permissions import Role

if TYPE_CHECKING:
    from app.catalog.models import Provider
    from app.orgs.models import Organisation


class TitleLevel(StrEnum):
    """Levels of professional title (职称级别)."""

    SENIOR = "senior"  # 正高级
    ASSOCIATE_SENIOR = "associate_senior"  # 副高级
    INTERMEDIATE = "intermediate"  # 中级
    JUNIOR = "junior"  # 初级
    NONE = "none"  # 无

    @property
    def label(self) -> str:
        return TITLE_LEVEL_LABELS[self]


TITLE_LEVEL_LABELS = {
    TitleLevel.SENIOR: _l("Senior (正高级)"),
    TitleLevel.ASSOCIATE_SENIOR: _l("Associate senior (副高级)"),
    TitleLevel.INTERMEDIATE: _l("Intermediate (中级)"),
    TitleLevel.JUNIOR: _l("Junior (初级)"),
    TitleLevel.NONE: _l("No title"),
}


class UserRole(Base):
    __tablename__ = "user_role"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[Role] = mapped_column(enum_column(Role), primary_key=True)

    def __repr__(self) -> str:
        return f"<UserRole {self.user_id} {self.role}>"


class User(UserMixin, Base):
    """A real-name account. One account per identity document number."""

    __tablename__ = "app_user"
    __table_args__ = (UniqueConstraint("id_type", "id_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Real name as on the identity document.
    name: Mapped[str] = mapped_column(String(50))
    id_type: Mapped[IdType] = mapped_column(enum_column(IdType, 3), default=IdType.RESIDENT_ID)
    #: Normalised document number (18 characters, upper-case X, for resident IDs).
    id_number: Mapped[str | None] = mapped_column(String(32))
    gender: Mapped[Gender | None] = mapped_column(enum_column(Gender, 1))
    birth_date: Mapped[date | None] = mapped_column(Date)
    #: GB/T 2260 code of the place of registration, from the resident ID number.
    region_code: Mapped[str | None] = mapped_column(String(6))
    mobile: Mapped[str] = mapped_column(String(20), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))

    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="SET NULL"), index=True
    )
    #: Authors belong to the provider (施教机构) whose courses they write.
    provider_id: Mapped[int | None] = mapped_column(
        ForeignKey("provider.id", ondelete="SET NULL"), index=True
    )
    #: Name of the professional title, e.g. 高级工程师.
    title: Mapped[str | None] = mapped_column(String(50))
    title_level: Mapped[TitleLevel] = mapped_column(
        enum_column(TitleLevel), default=TitleLevel.NONE, server_default=TitleLevel.NONE.value
    )

    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    must_change_password: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Bumped when the password changes, which signs the account out everywhere else.
    session_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    role_rows: Mapped[list[UserRole]] = relationship(lazy="selectin", cascade="all, delete-orphan")
    organisation: Mapped[Organisation | None] = relationship(lazy="joined")
    provider: Mapped[Provider | None] = relationship()

    def __repr__(self) -> str:
        return f"<User {self.id} {self.mobile}>"

    # -- Flask-Login ---------------------------------------------------------------------

    def get_id(self) -> str:
        return f"{self.id}.{self.session_version}"

    @property
    def is_active(self) -> bool:
        return self.active

    # -- roles ---------------------------------------------------------------------------

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(row.role for row in self.role_rows)

    def has_role(self, role: Role | str) -> bool:
        return role in self.roles

    def has_any_role(self, roles: frozenset[str] | set[str]) -> bool:
        return not self.roles.isdisjoint(roles)

    def grant(self, role: Role) -> None:
        if role not in self.roles:
            self.role_rows.append(UserRole(role=role))

    # -- presentation --------------------------------------------------------------------

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number)

    def is_locked(self, now: datetime) -> bool:
        return self.locked_until is not None and self.locked_until > now
