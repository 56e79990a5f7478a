"""Small helpers shared by views: errors onto forms, safe redirects."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from urllib.parse import urlsplit

from flask import Flask, request, url_for
from flask_babel import get_locale
from flask_wtf import FlaskForm

from app.db import utcnow
from app.errors import DomainError


def attach_error(form: FlaskForm, error: DomainError) -> None:
    """Show a service's error next to its field, or above the form when it has none."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)


def safe_next(default_endpoint: str = "learning.dashboard") -> str:
    """The ``next`` parameter if it points into this site, else the default page."""
    target = request.args.get("next") or request.form.get("next") or ""
    parts = urlsplit(target)
    if target.startswith("/") and not target.startswith("//") and not parts.netloc:
        return target if "\\" not in target else url_for(default_endpoint)
    return url_for(default_endpoint)


def format_hours(value: Decimal | float | int | None) -> str:
    """Credit hours without trailing zeros: 6.00 → "6", 1.50 → "1.5"."""
    if value is None:
        return "—"
    text = f"{Decimal(value):.2f}".rstrip("0").rstrip(".")
    return text or "0"


def join_list(items: Iterable[object]) -> str:
    """Join short items the way the current language does: 2025、2026 or 2025, 2026."""
    locale = get_locale()
    separator = "、" if locale is not None and locale.language == "zh" else ", "
    return separator.join(str(item) for item in items)


def init_app(app: Flask) -> None:
    app.add_template_filter(format_hours, "hours")
    app.add_template_filter(join_list, "join_list")

    @app.context_processor
    def clock() -> dict[str, object]:
        return {"now": utcnow()}
