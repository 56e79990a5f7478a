"""The embedded default: jobs run on a thread pool inside the app's process."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app import create_app, jobs
from app.db import utcnow
from app.extensions import db
from app.jobs import JobStatus
from tests.jobs.helpers import (
    add_row,
    enqueue_committed,
    finished,
    load,
    published,
    runs,
    wait_for,
)


@pytest.fixture(autouse=True)
def threads(use_backend):
    use_backend("thread")


def test_a_committed_job_runs_on_a_thread_and_records_progress(jobs_app, marker):
    job_id = enqueue_committed(jobs_app, "test.succeed", {"marker": str(marker), "sleep": 0.6})

    running = wait_for(jobs_app, job_id, lambda job: job.progress == 40)
    assert running.status == JobStatus.RUNNING
    assert running.worker is not None
    assert running.heartbeat_at >= running.started_at
    done = wait_for(jobs_app, job_id, finished)
    assert (done.status, done.progress, done.attempts, done.error) == (
        JobStatus.SUCCEEDED,
        100,
        1,
        None,
    )
    assert runs(marker) == [1]
    assert published(jobs_app, job_id) == [1]


def test_a_failing_task_is_retried_up_to_max_attempts_then_failed(jobs_app, marker):
    job_id = enqueue_committed(jobs_app, "test.flaky", {"marker": str(marker)}, max_attempts=3)

    done = wait_for(jobs_app, job_id, finished)
    assert (done.status, done.attempts, done.error) == (JobStatus.FAILED, 3, "flaky run 3")
    assert runs(marker) == [1, 2, 3]
    assert published(jobs_app, job_id) == []  # every failed attempt was rolled back


def test_a_task_that_fails_once_succeeds_on_the_next_attempt(jobs_app, marker):
    job_id = enqueue_committed(jobs_app, "test.flaky", {"marker": str(marker), "failures": 1})

    done = wait_for(jobs_app, job_id, finished)
    assert (done.status, done.attempts, done.error) == (JobStatus.SUCCEEDED, 2, None)
    assert published(jobs_app, job_id) == [2]


def test_a_permanent_error_fails_at_once(jobs_app, marker):
    job_id = enqueue_committed(jobs_app, "test.reject", {"marker": str(marker)}, max_attempts=5)

    done = wait_for(jobs_app, job_id, finished)
    assert (done.status, done.attempts) == (JobStatus.FAILED, 1)
    assert done.error == "The file is not a video."
    assert runs(marker) == [1]


def test_a_rolled_back_enqueue_never_runs(jobs_app, tmp_path):
    never, later = tmp_path / "never", tmp_path / "later"
    with jobs_app.test_request_context():
        rolled_back = jobs.enqueue(db.session, "test.succeed", {"marker": str(never)}).id
        db.session.rollback()
    job_id = enqueue_committed(jobs_app, "test.succeed", {"marker": str(later)})

    wait_for(jobs_app, job_id, finished)
    jobs.shutdown(jobs_app)  # nothing else is still running
    assert load(jobs_app, rolled_back) is None or rolled_back == job_id
    assert not never.exists()
    assert runs(later) == [1]


def test_a_silent_task_keeps_its_heartbeat_fresh(jobs_app, marker):
    job_id = enqueue_committed(jobs_app, "test.stall", {"marker": str(marker), "sleep": 1.0})

    beating = wait_for(
        jobs_app,
        job_id,
        lambda job: (
            job.heartbeat_at is not None
            and job.heartbeat_at - job.started_at >= timedelta(seconds=0.3)
        ),
    )
    assert beating.status == JobStatus.RUNNING
    assert wait_for(jobs_app, job_id, finished).status == JobStatus.SUCCEEDED


def test_a_new_process_resumes_work_left_by_a_stopped_one(jobs_app, tmp_path):
    """What ``jobs.init_app`` does on the first request: recover orphans, run queued jobs."""
    stale = utcnow() - timedelta(hours=1)
    queued = add_row(jobs_app, kind="test.succeed", payload={"marker": str(tmp_path / "q")})
    orphan = add_row(
        jobs_app,
        kind="test.succeed",
        payload={"marker": str(tmp_path / "o")},
        status=JobStatus.RUNNING,
        attempts=1,
        worker="gone:1:x",
        started_at=stale,
        heartbeat_at=stale,
    )
    restarted = create_app(
        {
            **{key: jobs_app.config[key] for key in ("SQLALCHEMY_DATABASE_URI", "MEDIA_ROOT")},
            "TESTING": True,
            "JOBS_BACKEND": "thread",
            "JOBS_RESUME": True,
            "JOB_RETRY_DELAY_SECONDS": 0,
        }
    )
    jobs.init_app(restarted)
    try:
        restarted.test_client().get("/no-such-page")
        for job_id in (queued, orphan):
            done = wait_for(jobs_app, job_id, finished)
            assert done.status == JobStatus.SUCCEEDED
        assert load(jobs_app, orphan).attempts == 2
        assert runs(tmp_path / "o") == [2]
    finally:
        jobs.shutdown(restarted)
        with restarted.app_context():
            db.engine.dispose()
