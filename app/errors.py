"""The domain error family and the HTTP error pages."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException


class DomainError(Exception):
    """A rule was broken; the message is translated and safe to show to the user."""

    #: The form field the error belongs to, when there is one.
    field: str | None = None

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        if field is not None:
            self.field = field

    @property
    def message(self) -> str:
        return str(self.args[0])


class NotAllowed(DomainError):
    """The user may not do this to this object."""


class Conflict(DomainError):
    """The write would duplicate or contradict existing data."""


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def register_error_handlers(app: Flask) -> None:
    """Render HTTP errors, including the 500 for unhandled ones, as pages or JSON under /api/.

    The session is rolled back by Flask-SQLAlchemy's teardown, so nothing half-written lands.
    """

    @app.errorhandler(CSRFError)
    def csrf_refused(error: CSRFError):
        if _wants_json():  # see app.csrf: a translated message and a code for the client
            reason = getattr(error, "reason", "invalid")
            return jsonify(error=str(error.description), reason=reason), 400
        return render_template("errors/error.html", error=error), 400

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if _wants_json():
            return jsonify(error=error.name, description=error.description), error.code
        return render_template("errors/error.html", error=error), error.code
