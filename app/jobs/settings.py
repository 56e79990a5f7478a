"""Job settings beyond those in app.config, with their defaults."""

from __future__ import annotations

from typing import Any

from flask import Flask

#: Defaults for the settings app/config.py does not (yet) declare.
DEFAULTS: dict[str, Any] = {
    #: "thread", "rq" or "manual"; None picks "rq" when REDIS_URL is set, else "thread".
    #: "manual" only records dispatched ids, for tests to run with ``run_dispatched``.
    "JOBS_BACKEND": None,
    #: Extra modules to import so that their ``@task`` functions are known to workers.
    "JOBS_IMPORTS": (),
    #: Let the thread backend take up work left by stopped processes (orphans, queued rows)
    #: when it starts and every JOB_STALE_SECONDS / 2; None means "unless testing", where it
    #: would touch other tests' rows.
    "JOBS_RESUME": None,
    #: First delay before a failed attempt runs again; doubles with every attempt.
    "JOB_RETRY_DELAY_SECONDS": 5.0,
    #: Cap on that delay.
    "JOB_RETRY_MAX_DELAY_SECONDS": 300.0,
}


def setting(app: Flask, key: str) -> Any:
    """A job setting from the app's config, falling back to the defaults above."""
    return app.config.get(key, DEFAULTS.get(key))
