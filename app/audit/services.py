"""Writing the audit log."""

from __future__ import annotations

from typing import Any

from flask import has_request_context
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.extensions import client_ip


def record(
    session: Session,
    action: str,
    *,
    actor_id: int | None = None,
    target: str | None = None,
    **details: Any,
) -> AuditEvent:
    """Add an audit event to the current unit of work (committed with it)."""
    event = AuditEvent(
        action=action,
        actor_id=actor_id,
        target=target,
        ip=client_ip() if has_request_context() else None,
        details=details,
    )
    session.add(event)
    return event
