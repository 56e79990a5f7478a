"""CSRF protection: Flask-WTF's tokens, with a token's signature checked once, not per request.

A player sends the same ``X-CSRFToken`` header with every heartbeat (one every 15 s for as long
as a lesson plays), and Flask-WTF builds a serializer, decodes and HMAC-verifies that token
anew each time: a fifth of a heartbeat's CPU. Here a verified token's content and signing time
are remembered (by the exact token string and key, so a forged or altered token is verified
in full), and everything else about the check is unchanged: the token must match the one in
the session, be younger than ``WTF_CSRF_TIME_LIMIT``, and pass the HTTPS referrer check.
"""

from __future__ import annotations

import functools
import hmac
import logging
import time
from collections.abc import Mapping
from typing import Any

from flask import Config, Flask, Request, current_app, g, request, session
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError, same_origin
from flask_wtf.csrf import CSRFProtect as _FlaskWTFCSRFProtect
from itsdangerous import BadData, URLSafeTimedSerializer
from wtforms import ValidationError

logger = logging.getLogger("flask_wtf.csrf")

_FORM_MIMETYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})

_INVALID = _l("The security token is invalid. Reload the page and try again.")
_FOREIGN = _l("This request did not come from this site's pages.")
#: Flask-WTF's reasons, as a code for clients and a message in the user's language.
_REASONS = {
    "The CSRF token is missing.": (
        "missing",
        _l("The security token is missing. Reload the page and try again."),
    ),
    "The CSRF session token is missing.": ("invalid", _INVALID),
    "The CSRF token is invalid.": ("invalid", _INVALID),
    "The CSRF tokens do not match.": ("mismatch", _INVALID),
    "The CSRF token has expired.": (
        "expired",
        _l("The security token has expired. Reload the page and try again."),
    ),
    "The referrer header is missing.": ("referrer", _FOREIGN),
    "The referrer does not match the host.": ("referrer", _FOREIGN),
}


class CSRFRefused(CSRFError):
    """A refused request, with a reason code and a translated description."""

    def __init__(self, reason: str) -> None:
        self.reason, message = _REASONS.get(reason, ("invalid", _INVALID))
        super().__init__(message)


@functools.lru_cache(maxsize=4096)
def _unsign(secret_key: str | bytes, token: str) -> tuple[str, int]:
    """The raw token inside a signed one and when it was signed; raises BadData if forged.

    Only verified tokens are cached (exceptions are not), so the cache holds at most one entry
    per live browser session and cannot be filled by guessing.
    """
    serializer = URLSafeTimedSerializer(secret_key, salt="wtf-csrf-token")
    raw, signed_at = serializer.loads(token, return_timestamp=True)
    return raw, int(signed_at.timestamp())


def validate_csrf(token: str | None) -> None:
    """Flask-WTF's ``validate_csrf`` with the signature check cached.

    :raises ValidationError: with Flask-WTF's message for what is wrong.
    """
    check_token(current_app.config, session, token)


def check_token(
    config: Mapping[str, Any], session_content: Mapping[str, Any], token: str | None
) -> None:
    """``validate_csrf`` for a given app config and session content (no request needed).

    :raises ValidationError: with Flask-WTF's message for what is wrong.
    """
    secret_key = config.get("WTF_CSRF_SECRET_KEY") or config["SECRET_KEY"]
    field_name = config.get("WTF_CSRF_FIELD_NAME") or "csrf_token"
    time_limit = config.get("WTF_CSRF_TIME_LIMIT", 3600)
    if not token:
        raise ValidationError("The CSRF token is missing.")
    expected = session_content.get(field_name)
    if expected is None:
        raise ValidationError("The CSRF session token is missing.")
    try:
        raw, signed_at = _unsign(secret_key, token)
    except BadData as error:
        raise ValidationError("The CSRF token is invalid.") from error
    if time_limit is not None and not 0 <= int(time.time()) - signed_at <= time_limit:
        raise ValidationError("The CSRF token has expired.")
    if not hmac.compare_digest(expected, raw):
        raise ValidationError("The CSRF tokens do not match.")


class CSRFProtect(_FlaskWTFCSRFProtect):
    """Flask-WTF's ``CSRFProtect`` (1.3), checking tokens with the cached ``validate_csrf``.

    ``protect`` makes Flask-WTF's checks, with the method first (a read is never checked, and
    most requests are reads) and whether a view is exempt decided once per view; the token is
    looked up in the headers first, and a request body is parsed as a form only when it is one
    (a JSON body is not).
    """

    def __init__(self, app: Flask | None = None) -> None:
        #: Whether a view is exempt, by (endpoint, view): decided on its first request.
        self._exempt_views_seen: dict[tuple[str, Any], bool] = {}
        super().__init__(app)

    def _get_csrf_token(self) -> str | None:
        return self._token(current_app.config, request._get_current_object())

    def _token(self, config: Config, req: Request) -> str | None:
        for header_name in config["WTF_CSRF_HEADERS"]:
            if token := req.headers.get(header_name):
                return token
        if req.mimetype in _FORM_MIMETYPES:
            return super()._get_csrf_token()
        return None

    def exempt(self, view: Any) -> Any:
        self._exempt_views_seen.clear()
        return super().exempt(view)

    def protect(self, apply_exemptions: bool = False) -> None:
        # The request and the app are looked up once: each use of a proxy looks again.
        req = request._get_current_object()
        app = current_app._get_current_object()
        if req.method not in app.config["WTF_CSRF_METHODS"]:
            return  # first: most requests are reads, and for them the answer is the same
        if apply_exemptions and self._exempt_view(app, req.endpoint):
            return
        try:
            validate_csrf(self._token(app.config, req))
        except ValidationError as error:
            logger.info(error.args[0])
            self._error_response(error.args[0])
        if req.is_secure and app.config["WTF_CSRF_SSL_STRICT"]:
            self._check_referrer()
        g.csrf_valid = True

    def lets_through(
        self,
        app: Flask,
        environ: Mapping[str, Any],
        host: str,
        session_content: Mapping[str, Any],
    ) -> bool:
        """Whether ``protect`` would let this request through, decided from its WSGI environ
        and verified session content alone, with no request context: for the heartbeat's
        short path (``app.learning.beat_path``), which serves the request only on a yes and
        hands anything else to Flask, whose ``protect`` then refuses it as usual. A view's
        exemption is not looked up: an exempt view's request gets a no, and Flask lets it in.
        ``host`` is the request's, as Flask validates it (``werkzeug.wsgi.get_host``).
        """
        config = app.config
        if not (config["WTF_CSRF_ENABLED"] and config["WTF_CSRF_CHECK_DEFAULT"]):
            return True
        if environ["REQUEST_METHOD"] not in config["WTF_CSRF_METHODS"]:
            return True
        token = None
        for header_name in config["WTF_CSRF_HEADERS"]:
            if token := environ.get(_environ_key(header_name)):
                break
        try:
            check_token(config, session_content, token)
        except ValidationError:
            return False
        if environ["wsgi.url_scheme"] == "https" and config["WTF_CSRF_SSL_STRICT"]:
            referrer = environ.get("HTTP_REFERER")
            return bool(referrer) and same_origin(referrer, f"https://{host}/")
        return True

    def _exempt_view(self, app: Flask, endpoint: str | None) -> bool:
        """Flask-WTF's ``_is_exempt``, remembered per view (no endpoint: nothing to check)."""
        if not endpoint:
            return True
        key = (endpoint, app.view_functions.get(endpoint))
        exempt = self._exempt_views_seen.get(key)
        if exempt is None:
            exempt = self._exempt_views_seen[key] = self._is_exempt()
        return exempt

    def _error_response(self, reason: str) -> None:
        raise CSRFRefused(reason)

    def _check_referrer(self) -> None:
        if not request.referrer:
            self._error_response("The referrer header is missing.")
        if not same_origin(request.referrer, f"https://{request.host}/"):
            self._error_response("The referrer does not match the host.")


@functools.lru_cache(maxsize=16)
def _environ_key(header_name: str) -> str:
    """Where WSGI puts a request header: ``X-CSRFToken`` → ``HTTP_X_CSRFTOKEN``."""
    return "HTTP_" + header_name.upper().replace("-", "_")
