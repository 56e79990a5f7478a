"""Crash recovery: a job whose worker died runs again from the start, up to a limit."""

from __future__ import annotations

from datetime import timedelta

from app import jobs
from app.db import utcnow
from app.extensions import db
from app.jobs import JobStatus
from tests.jobs.helpers import add_row, load, published, runs

STALE = utcnow() - timedelta(hours=1)


def orphan(app, marker, **fields) -> int:
    """A row as a worker killed mid-job leaves it: running, with an old heartbeat."""
    row = {
        "kind": "test.succeed",
        "payload": {"marker": str(marker)},
        "status": JobStatus.RUNNING,
        "attempts": 1,
        "worker": "gone:1:x",
        "started_at": STALE,
        "heartbeat_at": STALE,
    }
    return add_row(app, **(row | fields))


def recover(app, now=None) -> list[int]:
    with app.app_context():
        touched = jobs.recover_orphans(db.session, now=now)
        db.session.commit()
        return touched


def test_an_orphan_is_queued_again_and_runs_from_the_start(jobs_app, marker):
    job_id = orphan(jobs_app, marker)

    assert recover(jobs_app) == [job_id]
    requeued = load(jobs_app, job_id)
    assert (requeued.status, requeued.worker, requeued.progress) == (JobStatus.QUEUED, None, 0)
    assert jobs.run_dispatched(jobs_app) == [job_id]
    done = load(jobs_app, job_id)
    assert (done.status, done.attempts, done.error) == (JobStatus.SUCCEEDED, 2, None)
    assert runs(marker) == [2]
    assert published(jobs_app, job_id) == [2]


def test_an_orphan_out_of_attempts_fails_with_a_readable_reason(jobs_app, marker):
    job_id = orphan(jobs_app, marker, attempts=3, max_attempts=3)

    assert recover(jobs_app) == [job_id]
    failed = load(jobs_app, job_id)
    assert failed.status == JobStatus.FAILED
    assert failed.error == "The worker stopped while processing, 3 attempts."
    assert failed.finished_at is not None
    assert jobs.dispatched(jobs_app) == []


def test_only_stale_jobs_are_orphans(jobs_app, marker):
    fresh = orphan(jobs_app, marker, heartbeat_at=utcnow())
    never_beat = orphan(jobs_app, marker, heartbeat_at=None)
    young = orphan(jobs_app, marker, heartbeat_at=None, started_at=utcnow())
    stopping = orphan(jobs_app, marker, status=JobStatus.CANCELLED)

    assert recover(jobs_app) == [never_beat, stopping]
    assert load(jobs_app, fresh).status == JobStatus.RUNNING
    assert load(jobs_app, young).status == JobStatus.RUNNING
    cancelled = load(jobs_app, stopping)
    assert (cancelled.status, cancelled.finished_at is not None) == (JobStatus.CANCELLED, True)
    # Seen from later on, the fresh one is stale too.
    assert recover(jobs_app, now=utcnow() + timedelta(seconds=121)) == [fresh, young]


def test_a_live_worker_keeps_its_job_after_a_recovery(jobs_app, marker):
    """An attempt that lost its row to recovery publishes nothing and leaves it alone."""
    job_id = orphan(jobs_app, marker)
    recover(jobs_app)
    with jobs_app.app_context():  # the old worker turns up again and tries to finish
        job = db.session.get(jobs.Job, job_id)
        ctx = jobs.JobContext(
            job_id=job_id,
            kind=job.kind,
            payload=job.payload,
            attempt=1,
            max_attempts=3,
            worker="gone:1:x",
            bind=db.session.get_bind(),
        )
        db.session.rollback()
        assert ctx.is_cancelled()
    assert load(jobs_app, job_id).status == JobStatus.QUEUED
