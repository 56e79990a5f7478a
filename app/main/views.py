"""Home page, health check and the language switch."""

from __future__ import annotations

from flask import current_app, jsonify, make_response, redirect, render_template
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.catalog.queries import CatalogFilter, published_courses
from app.extensions import db, limiter
from app.i18n import LOCALE_COOKIE
from app.main import bp
from app.permissions import PUBLIC, access
from app.web import safe_next


@bp.route("/")
@access(PUBLIC)
def index():
    """Landing page with the newest published courses."""
    newest = published_courses(CatalogFilter(), page=1, per_page=6)
    return render_template("main/index.html", newest=newest.items)


@bp.route("/healthz")
@access(PUBLIC)
@limiter.exempt
def healthz():
    """Liveness and database status for load balancers (503 when the database is down)."""
    try:
        db.session.execute(text("SELECT 1"))
        database = "ok"
    except SQLAlchemyError:
        current_app.logger.exception("health check: database unreachable")
        db.session.rollback()
        database = "unavailable"
    status = 200 if database == "ok" else 503
    body = {
        "status": "ok" if status == 200 else "degraded",
        "database": database,
        "database_backend": db.engine.dialect.name,
    }
    return jsonify(body), status


@bp.route("/api/v1/ping")
@access(PUBLIC)
@limiter.exempt
def ping():
    """Liveness without touching the database (and the benchmarks' bare baseline)."""
    return jsonify(pong=True)


@bp.route("/locale/<code>")
@access(PUBLIC)
def set_locale(code: str):
    """Remember the chosen language in a cookie and go back where the visitor was."""
    response = make_response(redirect(safe_next("main.index")))
    if code in current_app.config["LANGUAGES"]:
        response.set_cookie(
            LOCALE_COOKIE,
            code,
            max_age=365 * 24 * 3600,
            samesite="Lax",
            secure=current_app.config["SESSION_COOKIE_SECURE"],
            httponly=True,
        )
    return response
