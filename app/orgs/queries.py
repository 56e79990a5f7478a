"""Read helpers for organisations."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.orgs.models import Organisation


def search_organisations(session: Session, text: str, limit: int = 10) -> list[Organisation]:
    """Organisations whose name contains ``text`` or whose credit code starts with it."""
    text = text.strip()
    if len(text) < 2:
        return []
    query = (
        select(Organisation)
        .where(
            or_(
                Organisation.name.icontains(text, autoescape=True),
                Organisation.credit_code.startswith(text.upper(), autoescape=True),
            )
        )
        .order_by(Organisation.name)
        .limit(limit)
    )
    return list(session.scalars(query))
