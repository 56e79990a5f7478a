"""Helpers for the job tests: committed jobs, fresh reads and waiting for outcomes."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from app import jobs
from app.extensions import db
from app.jobs import Job
from tests.jobs.tasks import effects


def enqueue_committed(app: Flask, kind: str, payload: dict[str, Any], **options: Any) -> int:
    """Enqueue and commit in a unit of work of its own, as a request would."""
    with app.test_request_context():
        job = jobs.enqueue(db.session, kind, payload, **options)
        db.session.commit()
        return job.id


def add_row(app: Flask, **fields: Any) -> int:
    """Commit a job row as a stopped process left it (nothing is dispatched)."""
    with app.app_context():
        job = Job(**{"payload": {}, "progress": 0.0, "attempts": 0, "max_attempts": 3} | fields)
        db.session.add(job)
        db.session.commit()
        return job.id


def load(app: Flask, job_id: int) -> Job | None:
    with app.app_context():
        job = db.session.get(Job, job_id)
        if job is not None:
            db.session.expunge(job)
        db.session.rollback()
        return job


def wait_for(
    app: Flask, job_id: int, predicate: Callable[[Job], bool], timeout: float = 5.0
) -> Job:
    """Poll the row until ``predicate`` holds; fail with the last state after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        job = load(app, job_id)
        if job is not None and predicate(job):
            return job
        if time.monotonic() > deadline:
            error = job.error if job is not None else None
            raise AssertionError(f"timed out waiting for job {job_id}: {job!r} {error!r}")
        time.sleep(0.05)


def finished(job: Job) -> bool:
    return job.finished_at is not None


def runs(marker: Path) -> list[int]:
    """The attempts that ran, in order, from a task's marker file."""
    return [int(n) for n in marker.read_text().split()] if marker.exists() else []


def published(app: Flask, job_id: int) -> list[int]:
    """Attempts whose database writes were committed."""
    with app.app_context():
        rows = db.session.scalars(select(effects.c.attempt).where(effects.c.job_id == job_id))
        result = list(rows)
        db.session.rollback()
        return result


def count_jobs(app: Flask) -> int:
    with app.app_context():
        count = db.session.scalar(select(func.count(Job.id)))
        db.session.rollback()
        return count or 0
