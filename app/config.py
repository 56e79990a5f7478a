"""Configuration defaults; everything can be overridden from the environment."""

from __future__ import annotations

import os
from datetime import timedelta

#: The key used only in debug and testing; create_app refuses it anywhere else.
DEV_SECRET_KEY = "zhixin-dev-only-not-secret"  # noqa: S105 (public by design)


def database_url(raw: str | None) -> str:
    """Normalise a DATABASE_URL so PostgreSQL URLs use the psycopg 3 driver."""
    if not raw:
        return "sqlite:///zhixin.db"  # relative: Flask-SQLAlchemy puts it in the instance folder
    for prefix in ("postgres://", "postgresql://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw.removeprefix(prefix)
    return raw


class Config:
    """Defaults for the embedded setup: SQLite, local media, in-process jobs."""

    SECRET_KEY = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = database_url(os.environ.get("DATABASE_URL"))
    REDIS_URL = os.environ.get("REDIS_URL")
    MEDIA_ROOT = os.environ.get("MEDIA_ROOT")  # default: <instance>/media

    # Sessions and cookies: secure unless running in debug (plain http on localhost);
    # None means "decide from debug/testing" in create_app.
    SESSION_COOKIE_SECURE: bool | None = None
    REMEMBER_COOKIE_SECURE: bool | None = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_DURATION = timedelta(days=14)
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    WTF_CSRF_TIME_LIMIT = 3600 * 12

    # Number of reverse proxies in front of the app whose X-Forwarded-* headers are trusted.
    PROXY_COUNT = 0

    # Login protection.
    LOGIN_RATE_LIMIT = "10 per minute"
    LOGIN_IDENTIFIER_RATE_LIMIT = "30 per hour"
    REGISTER_RATE_LIMIT = "20 per hour"
    #: Per account: guessing the current password with a stolen cookie is slowed down too.
    CHANGE_PASSWORD_RATE_LIMIT = "10 per hour"  # noqa: S105 (a rate, not a password)
    #: Per account: each start writes a session row.
    PLAYBACK_START_RATE_LIMIT = "60 per minute"
    LOOKUP_RATE_LIMIT = "60 per minute"
    LOGIN_MAX_FAILURES = 5
    LOGIN_LOCKOUT_MINUTES = 15
    PASSWORD_MIN_LENGTH = 8
    RATELIMIT_HEADERS_ENABLED = True

    # Internationalisation: Simplified Chinese first.
    LANGUAGES = ("zh_CN", "en")
    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"

    # Courseware: uploads, validation, processing, serving.
    MEDIA_MAX_UPLOAD_BYTES = 4 * 1024**3
    #: Largest chunk a client may send in one request of a resumable upload.
    UPLOAD_CHUNK_BYTES = 8 * 1024**2
    #: No request body may be larger than one upload chunk (plus headroom for forms).
    MAX_CONTENT_LENGTH = UPLOAD_CHUNK_BYTES + 1024**2
    #: Uploads with no new bytes for this long are deleted.
    UPLOAD_ABANDON_HOURS = 24
    VIDEO_MIN_SECONDS = 1.0
    VIDEO_MAX_SECONDS = 4 * 3600.0
    #: Lifetime of signed media URLs; players ask for fresh ones when they expire.
    MEDIA_URL_TTL_SECONDS = 4 * 3600
    #: Local scratch space for conversions (default <instance>/work); must be on local disk.
    MEDIA_WORK_DIR = os.environ.get("MEDIA_WORK_DIR")
    #: Scratch folders older than this were left by a killed worker and are removed.
    MEDIA_WORK_MAX_AGE_HOURS = 24
    #: x264 preset for the HLS ladder.
    TRANSCODE_PRESET = "veryfast"

    # Background jobs: threads in this process, or a Redis queue when REDIS_URL is set.
    JOBS_WORKERS = 2
    JOBS_QUEUE = "zhixin"
    JOB_MAX_ATTEMPTS = 3
    #: A running job refreshes its heartbeat this often ...
    JOB_HEARTBEAT_SECONDS = 10
    #: ... and is considered orphaned (its process died) when it is this stale.
    JOB_STALE_SECONDS = 120

    # Study timing (学时): the server's clock decides; see app/learning/study.py.
    HEARTBEAT_INTERVAL_SECONDS = 15
    #: Most a single heartbeat can earn; None means twice the interval.
    HEARTBEAT_MAX_GAP_SECONDS: float | None = None
    HEARTBEAT_TOLERANCE_SECONDS = 2.0
    HEARTBEAT_TOLERANCE_RATIO = 0.10
    PLAYBACK_ALLOWED_RATES = (1.0,)
    #: Share of a video's timeline that must be covered (documents need all their minutes).
    LESSON_COMPLETE_RATIO = 0.95
    #: Serve plain heartbeats in front of Flask's request machinery (app/learning/beat_path.py).
    HEARTBEAT_SHORT_PATH = True

    CATALOG_PAGE_SIZE = 12
    ADMIN_PAGE_SIZE = 25
