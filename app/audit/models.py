"""The audit log: who did what, when and from where."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow

#: Readable names of the recorded actions; unknown ones are shown as their code.
ACTION_LABELS = {
    "auth.registered": _l("Registered"),
    "auth.login": _l("Signed in"),
    "auth.login_failed": _l("Sign-in failed"),
    "auth.locked": _l("Locked after repeated failures"),
    "auth.login_refused_locked": _l("Sign-in refused while locked"),
    "auth.password_changed": _l("Changed password"),
    "admin.password_reset": _l("Password reset by an administrator"),
    "admin.unlocked": _l("Unlocked by an administrator"),
    "admin.roles_changed": _l("Roles changed by an administrator"),
    "review.approved": _l("Approved a course"),
    "review.returned": _l("Returned a course to its authors"),
    "admin.evidence_viewed": _l("Evidence of a credit record read by an administrator"),
    "admin.rule_pack_created": _l("Rule pack created by an administrator"),
    "admin.rule_pack_version_created": _l("Rule pack version created by an administrator"),
    "admin.rule_pack_activated": _l("Rule pack version put in force by an administrator"),
}


class AuditEvent(Base):
    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("app_user.id", ondelete="SET NULL"), index=True
    )
    #: Dotted verb, e.g. ``auth.login_failed`` or ``admin.password_reset``.
    action: Mapped[str] = mapped_column(String(64), index=True)
    #: What was acted on, e.g. ``user:42``.
    target: Mapped[str | None] = mapped_column(String(100))
    ip: Mapped[str | None] = mapped_column(String(45))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    @property
    def action_label(self) -> str:
        return ACTION_LABELS.get(self.action, self.action)

    def __repr__(self) -> str:
        return f"<AuditEvent {self.action} {self.target} by {self.actor_id}>"
