"""Cookies: the Cookie header parsed, and the signed session cookie verified, once per value.

A signed-in browser sends the same cookies until its session changes, and the player sends
them with every heartbeat (one every 15 s while a lesson plays). Flask parses the header and
builds a serializer to HMAC-verify, inflate and parse the session cookie on every request, a
good share of a heartbeat's CPU. Here both are remembered, keyed by the exact string (a forged
or altered cookie is verified in full): the parsed header as the immutable mapping Flask
would give, the session's verified content with its signing time. The session's age limit is
still checked on every request, and each request gets its own copy of the content.
"""

from __future__ import annotations

import copy
import functools
import time
from collections.abc import Mapping
from typing import Any

import flask
from flask import Flask
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.http import parse_cookie
from werkzeug.utils import cached_property

_IMMUTABLE = (str, int, float, bool, type(None))


class Request(flask.Request):
    """Flask's request, with the Cookie header's parse shared by requests that send the same."""

    @cached_property
    def cookies(self) -> ImmutableMultiDict[str, str]:
        # The WSGI server gives the Cookie header as one value (Werkzeug joins a list of
        # them, which costs a walk through every header of the environ to find).
        return parse_cookie_header(self.environ.get("HTTP_COOKIE", ""))


@functools.lru_cache(maxsize=4096)
def parse_cookie_header(header: str) -> ImmutableMultiDict[str, str]:
    return parse_cookie(header, cls=ImmutableMultiDict)


class SessionInterface(SecureCookieSessionInterface):
    """``SecureCookieSessionInterface`` with its serializer built once per key and verified
    cookies cached (at most ``cache_size`` of them, least recently used dropped first)."""

    cache_size = 4096

    def __init__(self) -> None:
        self._keys: tuple[Any, ...] | None = None
        self._serializer: URLSafeTimedSerializer | None = None
        self._load: Any = None

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        if not app.secret_key:
            return None
        keys = (app.secret_key, *(app.config["SECRET_KEY_FALLBACKS"] or ()))
        if keys != self._keys:  # first use, or the key was rotated: forget what it verified
            serializer = super().get_signing_serializer(app)
            self._serializer, self._keys = serializer, keys
            self._load = functools.lru_cache(maxsize=self.cache_size)(
                functools.partial(_verified, serializer)
            )
        return self._serializer

    def open_session(self, app: Flask, request: flask.Request) -> SecureCookieSession | None:
        if self.get_signing_serializer(app) is None:
            return None
        data = self.verified_content(app, request.cookies.get(self.get_cookie_name(app)))
        if not data:
            return self.session_class()
        return self.session_class(
            {k: v if isinstance(v, _IMMUTABLE) else copy.deepcopy(v) for k, v in data.items()}
        )

    def verified_content(self, app: Flask, value: str | None) -> Mapping[str, Any] | None:
        """The content of a session cookie that is genuine and within its age limit, else
        None. Shared with other requests that sent the same cookie: read it, never change it.
        """
        if not value or self.get_signing_serializer(app) is None:
            return None
        try:
            data, signed_at = self._load(value)
        except BadSignature:
            return None
        age = int(time.time()) - signed_at
        if not 0 <= age <= app.permanent_session_lifetime.total_seconds():
            return None  # expired, as itsdangerous would say
        return data


def _verified(serializer: URLSafeTimedSerializer, value: str) -> tuple[dict[str, Any], int]:
    """A cookie's content and signing time; raises BadSignature (not cached) if forged."""
    data, signed_at = serializer.loads(value, return_timestamp=True)
    if not isinstance(data, dict):
        raise BadSignature("the session is not a mapping")
    return data, int(signed_at.timestamp())
