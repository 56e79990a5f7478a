"""Short-lived signed media URLs, verified from the URL alone (no database, CDN-friendly).

A URL grants read access to everything under one asset's output prefix until it expires:
``/m/<expires>/<signature>/<prefix>/<file>``. HLS playlists use relative URIs, so the
segments a player fetches carry the same signature.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

from flask import current_app

SIGNATURE_LENGTH = 22


def _key() -> bytes:
    # A separate key derived from SECRET_KEY, so media signatures cannot sign anything else.
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, b"zhixin-media-urls", hashlib.sha256).digest()


def sign(prefix: str, expires: int) -> str:
    mac = hmac.new(_key(), f"{prefix}\n{expires}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode()[:SIGNATURE_LENGTH]


def signed_path(
    prefix: str, filename: str, *, ttl: int | None = None, now: float | None = None
) -> str:
    """The URL path of ``filename`` under ``prefix``, valid for ``ttl`` seconds.

    Expiry is rounded up to the next ten minutes so that URLs issued close together are
    identical and caches (browser, CDN) can share them.
    """
    ttl = ttl if ttl is not None else current_app.config["MEDIA_URL_TTL_SECONDS"]
    expires = int((now or time.time()) + ttl)
    expires += -expires % 600
    return f"/m/{expires}/{sign(prefix, expires)}/{prefix}/{filename}"


def verify(prefix: str, expires: int, signature: str, *, now: float | None = None) -> bool:
    """True when the signature matches and has not expired."""
    if expires < (now or time.time()):
        return False
    return hmac.compare_digest(sign(prefix, expires), signature)
