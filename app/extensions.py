"""Unbound Flask extensions, bound to the app in create_app."""

from flask import request
from flask_babel import Babel
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import Connection, Engine

from app.csrf import CSRFProtect
from app.db import Base
from app.ratelimit import Limiter

db = SQLAlchemy(model_class=Base)
migrate = Migrate(render_as_batch=True, compare_type=True)
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address)


def session_bind() -> Engine | Connection:
    """What ``db.session`` is bound to, found without building the request's ORM session.

    The engine, unless the session factory names a bind of its own (tests bind it to the
    connection whose transaction each test rolls back). For ``app.db.core_transaction``.
    """
    bind = db.session.session_factory.kw.get("bind")
    return bind if bind is not None else db.engine


def current_user_key() -> str:
    """Rate-limit key for signed-in actions: the account, whatever address it comes from."""
    from flask_login import current_user

    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return f"ip:{client_ip()}"


def client_ip() -> str:
    """The caller's address as seen after ProxyFix (used for audit and rate limits)."""
    return request.remote_addr or "unknown"
