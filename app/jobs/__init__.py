"""Background jobs: rows in the database, run by threads in this process or by RQ workers.

Other areas import only from here. A task is a function registered under a kind::

    @task("media.process")
    def process_media(ctx: JobContext) -> None:
        asset = db.session.get(MediaAsset, ctx.payload["media_asset_id"])
        ...
        ctx.set_progress(50)

and a service enqueues it with ``enqueue(session, "media.process", {"media_asset_id": id})``;
the job is dispatched once the caller commits. The runner commits the task's work together
with the outcome, so a failed or killed attempt publishes nothing and runs again from the
start. Tasks found by convention live in ``app/<area>/tasks.py`` (kind ``<area>.<name>``).

Backends (JOBS_BACKEND): "thread" (default without REDIS_URL), "rq" (default with it; run
``flask --app app worker``), and "manual" for tests, which only records dispatched ids;
``run_dispatched()`` then runs them in the test's thread.
"""

from __future__ import annotations

import logging
import os

from flask import Flask, current_app

from app.jobs.backends import ManualBackend, backend_name, get_backend, shutdown_backend
from app.jobs.models import Job, JobStatus
from app.jobs.registry import task
from app.jobs.runner import JobContext, PermanentJobError, resume, run_job, worker_entry
from app.jobs.services import cancel, enqueue, recover_orphans, retry

__all__ = [
    "Job",
    "JobContext",
    "JobStatus",
    "PermanentJobError",
    "cancel",
    "dispatched",
    "enqueue",
    "init_app",
    "recover_orphans",
    "resume",
    "retry",
    "run_dispatched",
    "run_job",
    "shutdown",
    "start_in_this_process",
    "task",
    "worker_entry",
]

logger = logging.getLogger(__name__)

#: Where an app remembers the process that started its job threads.
_STARTED_IN = "zhixin.jobs.started_in_pid"


def init_app(app: Flask) -> None:
    """Start the embedded job threads with the first request a serving process handles.

    Starting them resumes what a stopped process left behind (orphaned and queued jobs), so
    jobs survive a restart with no extra service. With Redis, ``flask worker`` does that.
    """
    app.extensions[_STARTED_IN] = 0

    @app.before_request
    def start_jobs() -> None:
        start_in_this_process(app)


def start_in_this_process(app: Flask) -> None:
    """Start the embedded job threads unless this process already did (after a fork the
    child starts its own). Every request calls it; only the first does any work."""
    if app.extensions[_STARTED_IN] == os.getpid():
        return
    app.extensions[_STARTED_IN] = os.getpid()
    try:
        if backend_name(app) == "thread":
            get_backend(app)
    except Exception:
        logger.exception("the job backend could not start")


def dispatched(app: Flask | None = None) -> list[int]:
    """Ids dispatched so far and not yet run (manual backend, for tests)."""
    return list(_manual(app).ids)


def run_dispatched(app: Flask | None = None) -> list[int]:
    """Run the jobs dispatched so far, and any they dispatch in turn (manual backend).

    Each runs as a worker would, in an app context of its own. Returns the ids run.
    """
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    backend = _manual(app)
    ran: list[int] = []
    while ids := backend.take():
        for job_id in ids:
            with app.app_context():
                run_job(job_id)
            ran.append(job_id)
    return ran


def shutdown(app: Flask | None = None, wait: bool = True) -> None:
    """Stop this process's job backend, waiting for running jobs when ``wait``."""
    shutdown_backend(app or current_app._get_current_object(), wait=wait)  # type: ignore[attr-defined]


def _manual(app: Flask | None) -> ManualBackend:
    backend = get_backend(app or current_app._get_current_object())  # type: ignore[attr-defined]
    if not isinstance(backend, ManualBackend):
        raise RuntimeError("this needs JOBS_BACKEND = 'manual'")
    return backend
