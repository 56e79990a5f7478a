"""Writes on job rows for the rest of the app: enqueue, cancel, retry, recover orphans."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, literal, or_, select, update
from sqlalchemy.orm import Session

from app.db import utcnow
from app.errors import DomainError
from app.jobs.backends import dispatch_after_commit
from app.jobs.models import Job, JobStatus

#: Statuses in which a worker may still be executing the task.
ACTIVE = (JobStatus.RUNNING, JobStatus.CANCELLED)


def enqueue(
    session: Session, kind: str, payload: dict[str, Any], *, max_attempts: int | None = None
) -> Job:
    """Add a queued job; it is dispatched to a worker only once the transaction commits.

    :param payload: JSON data for the task — ids, never objects.
    """
    if max_attempts is None:
        max_attempts = int(current_app.config["JOB_MAX_ATTEMPTS"])
    job = Job(
        kind=kind,
        payload=payload,
        status=JobStatus.QUEUED,
        progress=0.0,
        attempts=0,
        max_attempts=max(1, max_attempts),
    )
    session.add(job)
    session.flush()
    dispatch_after_commit(session, job.id)
    return job


def cancel(session: Session, job: Job) -> None:
    """Cancel a job: a queued one at once, a running one by telling its task to stop.

    A running job becomes ``cancelled`` with no ``finished_at`` until its worker has stopped
    and rolled back the task's work; ``ctx.is_cancelled()`` turns true for the task.

    :raises DomainError: when the job has already finished.
    """
    now = utcnow()
    # One conditional statement, so a worker finishing at the same moment cannot be overruled.
    result = session.execute(
        update(Job)
        .where(Job.id == job.id, Job.status.in_((JobStatus.QUEUED, JobStatus.RUNNING)))
        .values(
            status=JobStatus.CANCELLED,
            finished_at=case(
                (Job.status == JobStatus.QUEUED, literal(now, Job.finished_at.type)), else_=None
            ),
        )
        .execution_options(synchronize_session=False)
    )
    session.refresh(job)
    if result.rowcount != 1:
        raise DomainError(_l("This job has already finished."))


def retry(session: Session, job: Job) -> None:
    """Queue a failed or cancelled job again from the start, with a fresh count of attempts.

    :raises DomainError: when the job is not failed or cancelled, or a cancelled job's worker
        has not stopped yet.
    """
    result = session.execute(
        update(Job)
        .where(
            Job.id == job.id,
            or_(
                Job.status == JobStatus.FAILED,
                and_(Job.status == JobStatus.CANCELLED, Job.finished_at.is_not(None)),
            ),
        )
        .values(
            status=JobStatus.QUEUED,
            attempts=0,
            progress=0.0,
            error=None,
            worker=None,
            started_at=None,
            heartbeat_at=None,
            finished_at=None,
        )
        .execution_options(synchronize_session=False)
    )
    session.refresh(job)
    if result.rowcount != 1:
        if job.status == JobStatus.CANCELLED:
            raise DomainError(_l("The job is still stopping; try again in a moment."))
        raise DomainError(_l("Only failed or cancelled jobs can be run again."))
    dispatch_after_commit(session, job.id)


def recover_orphans(session: Session, now: datetime | None = None) -> list[int]:
    """Take back jobs whose worker died: run them again from the start, or fail them.

    A job is orphaned when its heartbeat (or, lacking one, its start) is older than
    JOB_STALE_SECONDS. It is queued again while attempts remain, else failed with a readable
    reason; a cancelled job whose worker died is marked finished. Returns the ids touched.
    """
    now = now or utcnow()
    cutoff = now - timedelta(seconds=float(current_app.config["JOB_STALE_SECONDS"]))
    stale = or_(
        Job.heartbeat_at < cutoff,
        and_(Job.heartbeat_at.is_(None), or_(Job.started_at.is_(None), Job.started_at < cutoff)),
    )
    orphans = session.scalars(
        select(Job)
        .where(Job.status.in_(ACTIVE), Job.finished_at.is_(None), stale)
        .order_by(Job.id)
        .with_for_update(skip_locked=True)  # a live worker holding its row is not an orphan
    ).all()
    for job in orphans:
        if job.status == JobStatus.CANCELLED:
            job.finished_at = now
        elif job.attempts < job.max_attempts:
            job.status = JobStatus.QUEUED
            job.error = str(_l("The worker stopped while processing; trying again."))
            job.progress = 0.0
            job.worker = None
            job.heartbeat_at = None
        else:
            job.status = JobStatus.FAILED
            job.error = str(
                _l(
                    "The worker stopped while processing, %(attempts)d attempts.",
                    attempts=job.attempts,
                )
            )
            job.finished_at = now
    session.flush()
    for job in orphans:
        if job.status == JobStatus.QUEUED:
            dispatch_after_commit(session, job.id)
    return [job.id for job in orphans]


def queued_ids(session: Session) -> list[int]:
    """Ids of every queued job, oldest first (for resuming after a restart)."""
    return list(
        session.scalars(select(Job.id).where(Job.status == JobStatus.QUEUED).order_by(Job.id))
    )
