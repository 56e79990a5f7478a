"""Read helpers for the administration screens."""

from __future__ import annotations

from flask import abort
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import or_, select

from app.audit.models import AuditEvent
from app.auth.models import User
from app.extensions import db


def search_users(text: str, page: int, per_page: int) -> Pagination:
    """Accounts whose name contains ``text``, or whose mobile or ID number equals it."""
    query = select(User).order_by(User.id.desc())
    text = text.strip()
    if text:
        compact = "".join(text.split()).upper()
        query = query.where(
            or_(
                User.name.icontains(text, autoescape=True),
                User.mobile == compact,
                User.id_number == compact,
            )
        )
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def get_user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


def recent_events_about(user: User, limit: int = 20) -> list[AuditEvent]:
    query = (
        select(AuditEvent)
        .where(or_(AuditEvent.target == f"user:{user.id}", AuditEvent.actor_id == user.id))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))
