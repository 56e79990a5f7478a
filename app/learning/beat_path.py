"""The heartbeat's short path: a plain heartbeat served in front of Flask's request machinery.

Heartbeats are nearly all of the site's requests (every playing tab sends one every 15 s), and
for one of them Flask's machinery (request and URL adapter objects, before- and after-request
hooks, session save, response object) cost more CPU than judging and storing the beat
(``bench/heartbeat.py``). This WSGI layer serves the common case itself: a well-formed beat,
with a genuine, unexpired session cookie and CSRF token, for an active playback session of the
caller's. It runs the checks and the work the view runs, with the same functions (cookie and
token verification, ``identity_in``, ``parse_beat``, ``record_heartbeat``), and answers with
the status, headers and body the view would give.

Anything else it hands to Flask as it came (the body it read is put back), before anything
was written: a refused token, an unknown host, a malformed or foreign beat, a session that
is gone, a session cookie that Flask would refresh. The view then answers as always, in the
caller's language. ``tests/learning/test_beat_path.py`` compares the two answers request by
request. ``HEARTBEAT_SHORT_PATH = False`` sends every heartbeat through Flask.

The work runs in an app context, not a request context: nothing on a heartbeat's way, the
rare path of a completion or a new day included, may read the request. Flask's hooks are
skipped, so each one's effect on a heartbeat is mirrored here or makes the request Flask's
(``test_flask_runs_no_hook_the_short_path_does_not_mirror`` lists them).
"""

from __future__ import annotations

import functools
import io
import json
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import SecurityError
from werkzeug.http import parse_options_header
from werkzeug.wsgi import get_host

from app.cookies import parse_cookie_header
from app.errors import DomainError
from app.extensions import csrf, session_bind
from app.http import security_headers_for
from app.jobs import start_in_this_process
from app.learning.api import MAX_BEAT_BYTES, encode_reply, parse_beat
from app.learning.study import Beat
from app.learning.study_services import record_heartbeat
from app.permissions import identity_in

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment
    from flask import Flask

#: The heartbeat route's rule (``/api/v1/playback/sessions/<session_id>/heartbeats``), as
#: Werkzeug matches it: a ``string`` converter takes one path segment.
_ROUTE = re.compile(r"/api/v1/playback/sessions/([^/]+)/heartbeats")
#: A Content-Length that ``int`` reads as Werkzeug does (``isdigit`` also admits "²", and
#: ``int`` refuses more than 4,300 digits); a longer one is over the limit anyway.
_LENGTH = re.compile(r"[0-9]{1,4}")
_HTTP = frozenset({"http", "https"})


class BeatPath:
    """WSGI middleware: serve plain heartbeats, pass everything else to ``wsgi_app``."""

    def __init__(self, app: Flask, wsgi_app: WSGIApplication) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self.headers = [*security_headers_for(app.config), ("Vary", "Cookie")]

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ["REQUEST_METHOD"] == "POST" and (
            match := _ROUTE.fullmatch(environ.get("PATH_INFO", ""))
        ):
            try:
                body = self.serve(environ, match.group(1))
            except Exception as error:  # answered as Flask answers a view's
                return self._failed(environ, start_response, error)
            if body is not None:
                headers = [
                    ("Content-Type", "application/json"),
                    ("Content-Length", str(len(body))),
                    *self.headers,
                ]
                start_response("200 OK", headers)
                return [body]
        return self.wsgi_app(environ, start_response)

    def serve(self, environ: WSGIEnvironment, session_id: str) -> bytes | None:
        """The reply to a plain heartbeat, or None to leave the request to Flask."""
        app = self.app
        config = app.config
        if not config["HEARTBEAT_SHORT_PATH"] or config["SERVER_NAME"]:
            return None  # with SERVER_NAME, Flask routes by host too
        length = environ.get("CONTENT_LENGTH", "")
        if not _LENGTH.fullmatch(length) or int(length) > MAX_BEAT_BYTES:
            return None
        if "HTTP_TRANSFER_ENCODING" in environ or not _is_json(environ.get("CONTENT_TYPE", "")):
            return None
        if environ["wsgi.url_scheme"] not in _HTTP or "HTTP_UPGRADE" in environ:
            return None  # Werkzeug routes WebSocket requests (ws, wss, Upgrade) apart
        try:
            host = get_host(environ, config["TRUSTED_HOSTS"])  # Flask refuses an untrusted one
        except SecurityError:
            return None
        cookie = parse_cookie_header(environ.get("HTTP_COOKIE", "")).get(
            config["SESSION_COOKIE_NAME"]
        )
        content = app.session_interface.verified_content(app, cookie)  # type: ignore[attr-defined]
        if not content or _sets_a_cookie(content, config):
            return None
        identity = identity_in(content)
        if identity is None or not csrf.lets_through(app, environ, host, content):
            return None
        raw = environ["wsgi.input"].read(int(length))
        environ["wsgi.input"] = io.BytesIO(raw)  # for Flask, should the view answer after all
        try:
            beat = parse_beat(json.loads(raw))
        except ValueError:  # not JSON, or not UTF-8
            return None
        if not isinstance(beat, Beat):
            return None
        with app.app_context():
            start_in_this_process(app)  # as Flask's first request of a process would
            try:
                result = record_heartbeat(session_bind(), identity[0], session_id, beat)
            except DomainError:  # not the caller's, or gone: nothing was written
                return None
        return encode_reply(result).encode()

    def _failed(
        self, environ: WSGIEnvironment, start_response: StartResponse, error: Exception
    ) -> Iterable[bytes]:
        """An unexpected error, logged and answered by Flask's error handling, as a view's
        would be (the app's JSON 500 under /api/; raised again when testing)."""
        with self.app.request_context(environ):
            response = self.app.handle_exception(error)
        return response(environ, start_response)


def install(app: Flask) -> None:
    """Put the short path in front of the app's WSGI callable (before any proxy fix-up is
    wrapped around it, so that it sees the request as Flask does)."""
    app.wsgi_app = BeatPath(app, app.wsgi_app)  # type: ignore[method-assign]


@functools.lru_cache(maxsize=64)
def _is_json(content_type: str) -> bool:
    """Werkzeug's ``Request.is_json`` for a Content-Type header (its own parser: ``strip``
    would also remove characters that Werkzeug keeps)."""
    mimetype = parse_options_header(content_type)[0].lower()
    return mimetype == "application/json" or (
        mimetype.startswith("application/") and mimetype.endswith("+json")
    )


def _sets_a_cookie(content: Mapping[str, Any], config: Mapping[str, Any]) -> bool:
    """Whether Flask's answer would set a cookie: a permanent session it refreshes, or a
    remember-me cookie Flask-Login sets, clears or refreshes (each changes the session)."""
    return bool(
        (content.get("_permanent") and config["SESSION_REFRESH_EACH_REQUEST"])
        or "_remember" in content
        or config.get("REMEMBER_COOKIE_REFRESH_EACH_REQUEST")
    )
