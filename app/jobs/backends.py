"""Where job ids go once their row is committed: threads here, a Redis queue, or a test list."""

from __future__ import annotations

import logging
import os
import re
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol
from uuid import uuid4

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from app.jobs.settings import setting

logger = logging.getLogger(__name__)

#: Key of the per-app state in ``app.extensions``.
EXTENSION = "zhixin.jobs"
#: What an RQ worker imports and calls with the job id.
WORKER_ENTRY = "app.jobs.worker_entry"
#: Ids to dispatch once the session's transaction commits, in ``session.info``.
_PENDING = "zhixin.jobs.pending"
_RQ_ID = re.compile(r"^zhixin-job-(\d+)-")


class Backend(Protocol):
    """Takes ids of committed, queued jobs to some worker; the claim makes duplicates harmless."""

    name: str

    def dispatch(self, job_id: int, delay: float = 0.0) -> None: ...

    def redispatch(self, job_ids: list[int]) -> None: ...

    def shutdown(self, wait: bool = True) -> None: ...


class Janitor:
    """Resumes left-over work (orphans, lost dispatches) now and every ``interval`` seconds."""

    def __init__(self, app: Flask, interval: float, *, at_once: bool = True) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._sweep, args=(app, interval, at_once), name="zhixin-jobs-janitor"
        )
        self._thread.daemon = True
        self._thread.start()

    def _sweep(self, app: Flask, interval: float, at_once: bool) -> None:
        from app.jobs.runner import resume  # the runner imports this module

        if not at_once and self._stop.wait(interval):
            return
        while True:
            try:
                resume(app)
            except Exception:
                logger.exception("resuming left-over jobs failed; trying again later")
            if self._stop.wait(interval):
                return

    def stop(self) -> None:
        self._stop.set()


def janitor_interval(app: Flask) -> float:
    """Sweep twice per JOB_STALE_SECONDS, so an orphan waits at most 1.5 times that."""
    return max(1.0, float(app.config["JOB_STALE_SECONDS"]) / 2)


class ManualBackend:
    """Records dispatched ids and runs nothing: tests decide when jobs run."""

    name = "manual"

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.ids: list[int] = []
        self._lock = threading.Lock()

    def dispatch(self, job_id: int, delay: float = 0.0) -> None:
        with self._lock:
            self.ids.append(job_id)

    def redispatch(self, job_ids: list[int]) -> None:
        for job_id in job_ids:
            self.dispatch(job_id)

    def take(self) -> list[int]:
        with self._lock:
            taken, self.ids = self.ids, []
        return taken

    def shutdown(self, wait: bool = True) -> None:
        pass


class ThreadBackend:
    """The embedded default: a pool of threads in this process runs the jobs.

    The rows stay the truth: work lost with a process (waiting in its pool or for a retry
    delay, or running) is taken up by the janitor of any process, now or after a restart.
    """

    name = "thread"

    def __init__(self, app: Flask, workers: int, janitor: Janitor | None = None) -> None:
        self.app = app
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="zhixin-job")
        self._janitor = janitor
        #: How often each id waits in this process, so sweeps do not pile up duplicates.
        self._pending: Counter[int] = Counter()
        self._lock = threading.Lock()

    def dispatch(self, job_id: int, delay: float = 0.0) -> None:
        with self._lock:
            self._pending[job_id] += 1
        if delay > 0:
            timer = threading.Timer(delay, self._submit, (job_id,))
            timer.daemon = True
            timer.start()
        else:
            self._submit(job_id)

    def redispatch(self, job_ids: list[int]) -> None:
        with self._lock:
            missing = [job_id for job_id in job_ids if not self._pending[job_id]]
        for job_id in missing:
            self.dispatch(job_id)

    def shutdown(self, wait: bool = True) -> None:
        if self._janitor is not None:
            self._janitor.stop()
        self._pool.shutdown(wait=wait, cancel_futures=True)

    def _submit(self, job_id: int) -> None:
        try:
            self._pool.submit(self._run, job_id)
        except RuntimeError:  # shut down: the row stays queued for the next start
            self._done(job_id)
            logger.info("job %s not started: the thread pool is shut down", job_id)

    def _run(self, job_id: int) -> None:
        from app.jobs.runner import run_job  # the runner imports this module

        try:
            with self.app.app_context():
                run_job(job_id)
        except Exception:
            logger.exception("job %s: the runner itself failed", job_id)
        finally:
            self._done(job_id)

    def _done(self, job_id: int) -> None:
        with self._lock:
            self._pending[job_id] -= 1
            if self._pending[job_id] <= 0:
                del self._pending[job_id]


class RQBackend:
    """The scale path: ids go to a Redis queue read by ``flask worker`` processes on any host."""

    name = "rq"

    def __init__(self, url: str, queue_name: str) -> None:
        from redis import Redis
        from rq import Queue

        self.connection = Redis.from_url(url)
        self.queue = Queue(queue_name, connection=self.connection)

    def dispatch(self, job_id: int, delay: float = 0.0) -> None:
        options: dict[str, Any] = {
            # The id names our row, so a sweep can tell which rows are already waiting.
            "job_id": f"zhixin-job-{job_id}-{uuid4().hex[:12]}",
            "description": f"zhixin job {job_id}",
            # Liveness is our heartbeat's business, and the row keeps the outcome.
            "job_timeout": -1,
            "result_ttl": 0,
            "failure_ttl": 7 * 24 * 3600,
        }
        if delay > 0:
            self.queue.enqueue_in(timedelta(seconds=delay), WORKER_ENTRY, job_id, **options)
        else:
            self.queue.enqueue(WORKER_ENTRY, job_id, **options)

    def redispatch(self, job_ids: list[int]) -> None:
        """Queue again the ids Redis does not hold (lost pushes, a flushed Redis)."""
        waiting = self.waiting_ids()
        for job_id in job_ids:
            if job_id not in waiting:
                self.dispatch(job_id)

    def waiting_ids(self) -> set[int]:
        from rq.registry import ScheduledJobRegistry

        rq_ids = [
            *self.queue.get_job_ids(),
            *ScheduledJobRegistry(queue=self.queue).get_job_ids(),
        ]
        return {int(m.group(1)) for rq_id in rq_ids if (m := _RQ_ID.match(rq_id))}

    def shutdown(self, wait: bool = True) -> None:
        self.connection.close()


@dataclass
class _State:
    """One app's backend, rebuilt when its settings change or the process forked."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    backend: Backend | None = None
    signature: tuple[Any, ...] = ()


_state_lock = threading.Lock()


def _state(app: Flask) -> _State:
    with _state_lock:
        return app.extensions.setdefault(EXTENSION, _State())


def backend_name(app: Flask) -> str:
    name = setting(app, "JOBS_BACKEND") or ("rq" if app.config.get("REDIS_URL") else "thread")
    if name not in ("thread", "rq", "manual"):
        raise RuntimeError(f"JOBS_BACKEND must be 'thread', 'rq' or 'manual', not {name!r}")
    return name


def get_backend(app: Flask) -> Backend:
    """The app's backend, created on first use (and anew in a forked child process).

    A new thread backend starts a janitor that resumes work left by stopped processes.
    """
    name = backend_name(app)
    signature = (
        name,
        app.config.get("REDIS_URL"),
        app.config["JOBS_QUEUE"],
        app.config["JOBS_WORKERS"],
        os.getpid(),
    )
    state = _state(app)
    with state.lock:
        if state.backend is not None and state.signature == signature:
            return state.backend
        if state.backend is not None and state.signature[-1] == os.getpid():
            state.backend.shutdown(wait=False)
        state.backend = _make_backend(app, name)
        state.signature = signature
        return state.backend


def shutdown_backend(app: Flask, wait: bool = True) -> None:
    """Stop the app's backend (waiting for running jobs if ``wait``); the next use makes anew."""
    state = _state(app)
    with state.lock:
        backend, state.backend, state.signature = state.backend, None, ()
    if backend is not None:
        backend.shutdown(wait=wait)


def _make_backend(app: Flask, name: str) -> Backend:
    if name == "manual":
        return ManualBackend(app)
    if name == "rq":
        url = app.config.get("REDIS_URL")
        if not url:
            raise RuntimeError("JOBS_BACKEND is 'rq' but REDIS_URL is not set")
        return RQBackend(url, app.config["JOBS_QUEUE"])
    janitor = Janitor(app, janitor_interval(app)) if resumes(app) else None
    return ThreadBackend(app, int(app.config["JOBS_WORKERS"]), janitor)


def resumes(app: Flask) -> bool:
    """Whether this app takes up left-over work by itself (not in tests unless asked)."""
    configured = setting(app, "JOBS_RESUME")
    return (not app.testing) if configured is None else bool(configured)


def dispatch_after_commit(session: Session, job_id: int, delay: float = 0.0) -> None:
    """Hand ``job_id`` to the backend once ``session`` commits; a rollback forgets it.

    A worker must never see an id whose row is not committed yet, nor one that will never be.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    session.info.setdefault(_PENDING, []).append((app, job_id, delay))


@event.listens_for(Session, "after_commit")
def _dispatch_committed(session: Session) -> None:
    if session.in_nested_transaction():  # a released savepoint: the transaction goes on
        return
    for app, job_id, delay in session.info.pop(_PENDING, ()):
        try:
            get_backend(app).dispatch(job_id, delay)
        except Exception:
            # The commit stands; the row stays queued until a resume or sweep dispatches it.
            logger.exception("job %s committed but could not be dispatched", job_id)


@event.listens_for(Session, "after_transaction_end")
def _forget_rolled_back(session: Session, transaction: SessionTransaction) -> None:
    # after_commit has already taken what was committed; what is left was rolled back.
    if transaction.parent is None:
        session.info.pop(_PENDING, None)
