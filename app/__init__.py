"""知新 Zhixin: the Flask application factory."""

from __future__ import annotations

import contextlib
import os
import weakref
from collections.abc import Callable
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from app.config import DEV_SECRET_KEY, Config
from app.cookies import Request, SessionInterface


class Zhixin(Flask):
    """Flask, remembering which functions it was given are plain ``def`` functions.

    Flask asks ``inspect`` whether each hook and view is a coroutine function each time it
    calls one, about ten times a request, and the answer never changes for a function.
    Remembered weakly: functions made for one request are not kept alive.
    """

    request_class = Request

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sync_functions: weakref.WeakSet[Callable[..., Any]] = weakref.WeakSet()
        self.session_interface = SessionInterface()

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        try:
            if func in self._sync_functions:
                return func
        except TypeError:  # unhashable: asked every time
            return super().ensure_sync(func)
        runnable = super().ensure_sync(func)
        if runnable is func:
            with contextlib.suppress(TypeError):  # not weakly referable: asked every time
                self._sync_functions.add(func)
        return runnable


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the app: config → extensions → blueprints → CLI. No I/O beyond that."""
    app = Zhixin(__name__, template_folder="../templates", static_folder="../static")
    app.config.from_object(Config)
    app.config.from_prefixed_env("ZHIXIN")
    if overrides:
        app.config.update(overrides)
    _finish_config(app)

    from app import http, i18n, jobs, web
    from app.auth import session as auth_session
    from app.errors import register_error_handlers
    from app.extensions import babel, csrf, db, limiter, login_manager, migrate
    from app.media import storage as media_storage

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(app.root_path, "..", "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=None)
    login_manager.init_app(app)
    from app.learning import beat_path

    beat_path.install(app)  # before ProxyFix is wrapped around it: it sees what Flask sees
    if app.config["PROXY_COUNT"]:
        n = int(app.config["PROXY_COUNT"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]

    _register_blueprints(app)
    register_error_handlers(app)
    http.init_app(app)
    i18n.init_app(app)
    web.init_app(app)
    auth_session.init_app(app)
    media_storage.init_app(app)
    jobs.init_app(app)

    from app import models  # noqa: F401  (complete metadata for migrations)
    from app.cli import register_cli
    from app.media import tasks as media_tasks  # noqa: F401  (registers the processing job)

    register_cli(app)

    from app.permissions import check_every_view_declares_access

    check_every_view_declares_access(app)
    return app


def _finish_config(app: Flask) -> None:
    """Derive settings and refuse unsafe ones outside debug and testing."""
    relaxed = app.debug or app.testing
    if not app.config.get("SECRET_KEY"):
        if not relaxed:
            raise RuntimeError(
                "SECRET_KEY is not set. Set the SECRET_KEY environment variable to a long "
                "random value (python -c 'import secrets; print(secrets.token_hex(32))')."
            )
        app.config["SECRET_KEY"] = DEV_SECRET_KEY
    elif app.config["SECRET_KEY"] == DEV_SECRET_KEY and not relaxed:
        raise RuntimeError("SECRET_KEY is the development key; set a real one.")

    for key in ("SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE"):
        if app.config.get(key) is None:
            app.config[key] = not relaxed
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")
    if not app.config.get("MEDIA_ROOT"):
        app.config["MEDIA_ROOT"] = os.path.join(app.instance_path, "media")
    if not app.config.get("MEDIA_WORK_DIR"):
        app.config["MEDIA_WORK_DIR"] = os.path.join(app.instance_path, "work")
    os.makedirs(app.instance_path, exist_ok=True)


def _register_blueprints(app: Flask) -> None:
    from app.admin import bp as admin_bp
    from app.auth import bp as auth_bp
    from app.authoring import bp as authoring_bp
    from app.catalog import bp as catalog_bp
    from app.credits import bp as credits_bp
    from app.learning import bp as learning_bp
    from app.main import bp as main_bp
    from app.media import bp as media_bp
    from app.orgs import bp as orgs_bp
    from app.review import bp as review_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(catalog_bp)
    app.register_blueprint(credits_bp)
    app.register_blueprint(learning_bp)
    app.register_blueprint(orgs_bp)
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(authoring_bp, url_prefix="/author")
    app.register_blueprint(review_bp, url_prefix="/review")
    app.register_blueprint(media_bp)
