"""Running one job as a unit of work: claim the row, run the task, commit the outcome with it."""

from __future__ import annotations

import functools
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, current_app, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import Connection, Engine, Row, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql import ColumnElement

from app.db import utcnow
from app.extensions import db
from app.jobs.backends import dispatch_after_commit, get_backend
from app.jobs.models import Job, JobStatus
from app.jobs.registry import lookup
from app.jobs.services import ACTIVE, queued_ids, recover_orphans
from app.jobs.settings import setting

logger = logging.getLogger(__name__)

#: Progress is written at most this often (seconds), except when it reaches 100.
PROGRESS_INTERVAL = 1.0
#: ``is_cancelled`` reads the row at most this often (seconds).
CANCEL_CHECK_INTERVAL = 1.0
ERROR_MAX_LENGTH = 2000


class PermanentJobError(Exception):
    """Raised by a task when retrying cannot help (bad input): the job fails at once."""


class JobContext:
    """What a running task sees: its input and attempt, and a channel back to its row.

    Progress, heartbeats and cancel checks use their own short transactions, so the task's
    own transaction, which the runner commits together with the outcome, never commits early.
    They are best effort: a failed write is logged and never breaks the task.
    """

    def __init__(
        self,
        *,
        job_id: int,
        kind: str,
        payload: dict[str, Any],
        attempt: int,
        max_attempts: int,
        worker: str,
        bind: Engine | Connection,
    ) -> None:
        self.job_id = job_id
        self.kind = kind
        self.payload = payload
        self.attempt = attempt
        self.max_attempts = max_attempts
        self._worker = worker
        self._bind = bind
        self._progress: float | None = None
        self._progress_written = float("-inf")
        self._cancel_checked = float("-inf")
        self._cancelled = False

    def __repr__(self) -> str:
        return f"<JobContext {self.job_id} {self.kind} attempt {self.attempt}/{self.max_attempts}>"

    @property
    def is_last_attempt(self) -> bool:
        """Whether a failure now fails the job for good (tasks may record it as final)."""
        return self.attempt >= self.max_attempts

    def set_progress(self, percent: float) -> None:
        """Record progress (0–100) and prove the worker alive; throttled to once a second."""
        percent = min(100.0, max(0.0, float(percent)))
        self._progress = percent
        now = time.monotonic()
        if percent < 100 and now - self._progress_written < PROGRESS_INTERVAL:
            return
        self._progress_written = now
        self._write(progress=percent)

    def heartbeat(self) -> None:
        """Prove the worker alive (also writes the latest progress a throttle held back)."""
        self._write(progress=self._progress)

    def is_cancelled(self) -> bool:
        """Whether the task should stop: cancelled, or the job is no longer this worker's."""
        if self._cancelled:
            return True
        now = time.monotonic()
        if now - self._cancel_checked < CANCEL_CHECK_INTERVAL:
            return False
        self._cancel_checked = now
        query = select(Job.status, Job.worker, Job.attempts).where(Job.id == self.job_id)
        try:
            with self._side(write=False) as conn:
                row = conn.execute(query).first() if conn is not None else None
        except SQLAlchemyError:
            logger.warning("job %s: could not check for cancellation", self.job_id, exc_info=True)
            return False
        self._cancelled = row is None or (row.status, row.worker, row.attempts) != (
            JobStatus.RUNNING,
            self._worker,
            self.attempt,
        )
        return self._cancelled

    def _mine(self) -> ColumnElement[bool]:
        """The row as this attempt claimed it; a stale worker can no longer match it."""
        return (
            (Job.id == self.job_id)
            & (Job.worker == self._worker)
            & (Job.attempts == self.attempt)
            & Job.status.in_(ACTIVE)
            & Job.finished_at.is_(None)
        )

    def _write(self, progress: float | None = None) -> None:
        values: dict[str, Any] = {"heartbeat_at": utcnow()}
        if progress is not None:
            values["progress"] = progress
        try:
            with self._side(write=True) as conn:
                if conn is not None:
                    conn.execute(update(Job).where(self._mine()).values(**values))
        except SQLAlchemyError:
            logger.warning("job %s: could not record progress", self.job_id, exc_info=True)

    @contextmanager
    def _side(self, *, write: bool) -> Iterator[Connection | None]:
        """A short transaction of its own, or None when a write cannot have one now."""
        bind = self._bind
        if isinstance(bind, Connection):
            # A test's connection, shared with the task's session: a savepoint nests in it.
            with bind.begin_nested():
                yield bind
            return
        if bind.dialect.name == "sqlite" and has_app_context() and db.session().in_transaction():
            # The task's open transaction holds SQLite's only write lock: another connection
            # would wait for it, that is for us. Reads can share the task's connection.
            yield None if write else db.session.connection()
            return
        with bind.begin() as conn:
            yield conn


class _Heartbeat:
    """Refreshes a running job's heartbeat even while its task reports nothing."""

    def __init__(self, ctx: JobContext, interval: float) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._beat, args=(ctx, interval), name=f"zhixin-heartbeat-{ctx.job_id}"
        )
        self._thread.daemon = True
        self._thread.start()

    def _beat(self, ctx: JobContext, interval: float) -> None:
        while not self._stop.wait(interval):
            ctx.heartbeat()

    def stop(self) -> None:
        # Not joined: on SQLite a beat may be waiting for the lock our own commit releases.
        self._stop.set()


def run_job(job_id: int) -> None:
    """Run one job the way every worker does; call it inside an app context.

    Claims the row atomically (so each attempt runs once however often the id was
    dispatched), runs the task, and commits the task's work together with ``succeeded``.
    On failure the work is rolled back and the job is queued again while attempts remain
    (unless the task raised PermanentJobError), else failed with the reason. Returns quietly
    when the job is not queued: another worker has it, it was cancelled, or it is gone.
    """
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    with app.app_context():  # a session of its own, removed afterwards
        _run(app, job_id)


def _run(app: Flask, job_id: int) -> None:
    worker = f"{socket.gethostname()}:{os.getpid()}:{threading.current_thread().name}"[:120]
    claimed = _claim(job_id, worker)
    if claimed is None:
        logger.debug("job %s not claimed: not queued", job_id)
        return
    bind = db.session.get_bind()
    ctx = JobContext(
        job_id=job_id,
        kind=claimed.kind,
        payload=dict(claimed.payload or {}),
        attempt=claimed.attempts,
        max_attempts=claimed.max_attempts,
        worker=worker,
        bind=bind,
    )
    heartbeat = None
    if isinstance(bind, Engine):  # a test's shared connection must stay in one thread
        heartbeat = _Heartbeat(ctx, float(app.config["JOB_HEARTBEAT_SECONDS"]))
    try:
        try:
            fn = lookup(ctx.kind, setting(app, "JOBS_IMPORTS") or ())
            if fn is None:
                reason = _l("No task is registered as %(kind)s.", kind=ctx.kind)
                raise PermanentJobError(str(reason))
            fn(ctx)
            _succeed(ctx)
        except Exception as exc:
            db.session.rollback()
            _fail(app, ctx, exc)
    finally:
        if heartbeat is not None:
            heartbeat.stop()


def _claim(job_id: int, worker: str) -> Row[Any] | None:
    """Take the job if it is still queued, in a short transaction of its own."""
    now = utcnow()
    row = db.session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == JobStatus.QUEUED)
        .values(
            status=JobStatus.RUNNING,
            attempts=Job.attempts + 1,
            worker=worker,
            started_at=now,
            heartbeat_at=now,
            finished_at=None,
        )
        .returning(Job.kind, Job.payload, Job.attempts, Job.max_attempts)
        .execution_options(synchronize_session=False)
    ).first()
    db.session.commit()
    return row


def _succeed(ctx: JobContext) -> None:
    """Commit the task's work with ``succeeded``, unless the job stopped being ours."""
    db.session.flush()
    now = utcnow()
    result = db.session.execute(
        update(Job)
        .where(ctx._mine(), Job.status == JobStatus.RUNNING)
        .values(
            status=JobStatus.SUCCEEDED,
            progress=100.0,
            error=None,
            heartbeat_at=now,
            finished_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 1:
        db.session.commit()
        return
    db.session.rollback()  # cancelled or taken over: nothing of this attempt is published
    _settle(ctx)


def _fail(app: Flask, ctx: JobContext, exc: Exception) -> None:
    """Record a failed attempt: queue the job again while attempts remain, else fail it."""
    message = describe(exc)
    final = isinstance(exc, PermanentJobError) or ctx.is_last_attempt
    if isinstance(exc, PermanentJobError):
        logger.info("job %s (%s) failed for good: %s", ctx.job_id, ctx.kind, message)
    else:
        logger.warning(
            "job %s (%s) attempt %s/%s failed",
            ctx.job_id,
            ctx.kind,
            ctx.attempt,
            ctx.max_attempts,
            exc_info=exc,
        )
    now = utcnow()
    if final:
        values: dict[str, Any] = {
            "status": JobStatus.FAILED,
            "error": message,
            "heartbeat_at": now,
            "finished_at": now,
        }
    else:
        values = {
            "status": JobStatus.QUEUED,
            "error": message,
            "progress": 0.0,
            "worker": None,
            "heartbeat_at": None,
        }
    try:
        result = db.session.execute(
            update(Job)
            .where(ctx._mine(), Job.status == JobStatus.RUNNING)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1 and not final:
            dispatch_after_commit(db.session, ctx.job_id, retry_delay(app, ctx.attempt))
        db.session.commit()
    except SQLAlchemyError:
        # The row stays running and its heartbeat stops: recover_orphans will take it back.
        db.session.rollback()
        logger.exception("job %s: could not record the failure", ctx.job_id)
        return
    if result.rowcount != 1:
        _settle(ctx)


def _settle(ctx: JobContext) -> None:
    """Mark a job cancelled while running as finished, now that its worker has stopped."""
    now = utcnow()
    result = db.session.execute(
        update(Job)
        .where(ctx._mine(), Job.status == JobStatus.CANCELLED)
        .values(heartbeat_at=now, finished_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if result.rowcount == 1:
        logger.info("job %s cancelled; the attempt's work was rolled back", ctx.job_id)
    else:
        logger.warning("job %s was taken over by another worker; work rolled back", ctx.job_id)


def describe(exc: BaseException) -> str:
    """The readable reason of a failure: ``exc.message`` when it has one, else ``str(exc)``."""
    message = getattr(exc, "message", None)
    text = str(message) if message else str(exc)
    return (text or type(exc).__name__)[:ERROR_MAX_LENGTH]


def retry_delay(app: Flask, attempt: int) -> float:
    """Seconds before attempt ``attempt + 1``: exponential backoff, capped."""
    base = float(setting(app, "JOB_RETRY_DELAY_SECONDS"))
    if base <= 0:
        return 0.0
    return min(base * 2 ** max(0, attempt - 1), float(setting(app, "JOB_RETRY_MAX_DELAY_SECONDS")))


def resume(app: Flask) -> list[int]:
    """Take up what stopped processes left: recover orphans, dispatch queued jobs again.

    Safe to run any number of times and in several processes: a job runs only for the worker
    that claims its row. Returns the ids recovered or found queued (each handed to the
    backend unless it already holds it).
    """
    with app.app_context():
        recovered = recover_orphans(db.session)
        db.session.commit()  # dispatches the recovered jobs
        waiting = [i for i in queued_ids(db.session) if i not in recovered]
        db.session.rollback()
    if waiting:
        get_backend(app).redispatch(waiting)
    if recovered:
        logger.info("recovered orphaned jobs %s", recovered)
    return sorted({*recovered, *waiting})


def worker_entry(job_id: int) -> None:
    """What an RQ worker calls: run the job in this process's app, built once."""
    app = current_app._get_current_object() if has_app_context() else _standalone_app()  # type: ignore[attr-defined]
    with app.app_context():
        run_job(job_id)


@functools.cache
def _standalone_app() -> Flask:
    """The app of a worker started without ``flask`` (e.g. ``rq worker``)."""
    from app import create_app

    return create_app()
