"""Response hardening: security headers on every response."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, Response

#: No inline scripts or styles, no third-party origins: everything is served from here.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; media-src 'self' blob:; worker-src 'self' blob:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)

#: Set on every response unless the view set its own (the PDF viewer relaxes framing).
SECURITY_HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
)
#: Only over https (when session cookies are Secure): browsers ignore it on plain http anyway.
HSTS = ("Strict-Transport-Security", "max-age=31536000")


def security_headers_for(config: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """The headers every response of an app with this config carries (unless its view set
    its own)."""
    return (*SECURITY_HEADERS, HSTS) if config["SESSION_COOKIE_SECURE"] else SECURITY_HEADERS


def init_app(app: Flask) -> None:
    wanted = [(name.lower(), name, value) for name, value in security_headers_for(app.config)]

    @app.after_request
    def security_headers(response: Response) -> Response:
        """Add each security header the view did not set itself.

        Werkzeug's ``Headers.setdefault`` (and ``in``) raise and catch a KeyError for every
        absent header; one pass over the names the view set is several times cheaper, and
        this runs on every response.
        """
        headers = response.headers
        present = {name.lower() for name, _ in headers}  # Headers iterate as (name, value)
        for lower, name, value in wanted:
            if lower not in present:
                headers.add(name, value)
        return response
