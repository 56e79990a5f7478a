"""Flask-Login wiring: loading the user from the session, and forced password changes."""

from __future__ import annotations

from flask import Flask, flash, jsonify, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.auth.models import User
from app.extensions import db, login_manager

#: Endpoints a user who must change their password may still reach.
_ALLOWED_DURING_FORCED_CHANGE = {
    "auth.change_password",
    "auth.logout",
    "main.set_locale",
    "main.healthz",
    "static",
}


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """Resolve ``"<id>.<session_version>"``; an old version means the password changed."""
    user_id, _, version = session_id.partition(".")
    if not user_id.isdigit() or not version.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or user.session_version != int(version):
        return None
    return user


@login_manager.unauthorized_handler
def unauthorized():
    if request.path.startswith("/api/"):
        return jsonify(error="Unauthorized", description="Sign in first."), 401
    flash(str(login_manager.login_message), "info")
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def init_app(app: Flask) -> None:
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.session_protection = "basic"

    @app.before_request
    def require_password_change():
        if request.path.startswith("/api/") or request.endpoint in _ALLOWED_DURING_FORCED_CHANGE:
            return None  # JSON clients cannot follow the redirect; pages will catch the user
        if current_user.is_authenticated and current_user.must_change_password:
            return redirect(url_for("auth.change_password"))
        return None
