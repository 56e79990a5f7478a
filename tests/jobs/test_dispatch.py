"""Dispatch: after commit only, once per claim, and deterministic with the manual backend."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import update

from app import jobs
from app.extensions import db
from app.jobs import Job, JobStatus
from app.jobs.backends import backend_name
from app.jobs.runner import retry_delay
from tests.jobs.helpers import enqueue_committed, load, published, runs


def test_enqueue_in_a_test_savepoint_session_dispatches_on_commit(jobs_app, session, marker):
    job = jobs.enqueue(session, "test.succeed", {"marker": str(marker)})
    assert jobs.dispatched() == []
    session.commit()
    assert jobs.dispatched() == [job.id]

    assert jobs.run_dispatched() == [job.id]
    session.refresh(job)
    assert (job.status, job.progress, job.attempts) == (JobStatus.SUCCEEDED, 100, 1)
    assert runs(marker) == [1]


def test_a_released_savepoint_is_not_yet_a_commit(jobs_app, session, marker):
    with session.begin_nested():
        job = jobs.enqueue(session, "test.succeed", {"marker": str(marker)})
    assert jobs.dispatched() == []
    session.commit()
    assert jobs.dispatched() == [job.id]


def test_a_rolled_back_enqueue_is_never_dispatched(jobs_app, session, marker):
    job_id = jobs.enqueue(session, "test.succeed", {"marker": str(marker)}).id
    session.rollback()
    session.commit()  # a later commit does not bring it back
    assert jobs.dispatched() == []
    assert session.get(Job, job_id) is None


def test_retries_are_dispatched_until_the_job_succeeds(jobs_app, session, marker):
    job = jobs.enqueue(session, "test.flaky", {"marker": str(marker), "failures": 2})
    session.commit()
    assert jobs.run_dispatched() == [job.id] * 3
    session.refresh(job)
    assert (job.status, job.attempts) == (JobStatus.SUCCEEDED, 3)


def test_an_unknown_kind_fails_with_a_readable_reason(jobs_app, session):
    job = jobs.enqueue(session, "nowhere.to_be_found", {})
    session.commit()
    jobs.run_dispatched()
    session.refresh(job)
    assert (job.status, job.attempts) == (JobStatus.FAILED, 1)
    assert job.error == "No task is registered as nowhere.to_be_found."


def test_a_missing_job_is_ignored(jobs_app):
    with jobs_app.app_context():
        jobs.run_job(987654)


def test_two_workers_given_the_same_job_run_it_once(jobs_app, marker):
    job_id = enqueue_committed(jobs_app, "test.succeed", {"marker": str(marker), "sleep": 0.2})
    barrier = threading.Barrier(2)

    def work() -> None:
        with jobs_app.app_context():
            barrier.wait()
            jobs.run_job(job_id)

    workers = [threading.Thread(target=work) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=10)
    done = load(jobs_app, job_id)
    assert (done.status, done.attempts) == (JobStatus.SUCCEEDED, 1)
    assert runs(marker) == [1]
    assert published(jobs_app, job_id) == [1]


def test_the_backend_follows_the_configuration(jobs_app, monkeypatch):
    monkeypatch.delitem(jobs_app.config, "JOBS_BACKEND")
    monkeypatch.setitem(jobs_app.config, "REDIS_URL", None)
    assert backend_name(jobs_app) == "thread"
    monkeypatch.setitem(jobs_app.config, "REDIS_URL", "redis://127.0.0.1:6379/0")
    assert backend_name(jobs_app) == "rq"
    monkeypatch.setitem(jobs_app.config, "JOBS_BACKEND", "celery")
    with pytest.raises(RuntimeError, match="JOBS_BACKEND"):
        backend_name(jobs_app)


def test_a_kind_belongs_to_one_task():
    with pytest.raises(ValueError, match="already registered"):

        @jobs.task("test.succeed")
        def impostor(ctx: jobs.JobContext) -> None:
            pass


def test_the_worker_command_needs_redis(jobs_app, monkeypatch):
    monkeypatch.setitem(jobs_app.config, "REDIS_URL", None)
    result = jobs_app.test_cli_runner().invoke(args=["worker", "--burst"])
    assert result.exit_code != 0
    assert "REDIS_URL is not set" in result.output
    assert "inside the web process" in result.output


def test_progress_is_throttled_but_reaching_100_is_always_written(jobs_app):
    job_id = enqueue_committed(jobs_app, "test.succeed", {})
    with jobs_app.app_context():
        db.session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(status=JobStatus.RUNNING, attempts=1, worker="here:1:x")
        )
        db.session.commit()
        ctx = jobs.JobContext(
            job_id=job_id,
            kind="test.succeed",
            payload={},
            attempt=1,
            max_attempts=3,
            worker="here:1:x",
            bind=db.engine,
        )
    ctx.set_progress(10)
    ctx.set_progress(50)  # within a second of the last write: held back
    assert load(jobs_app, job_id).progress == 10
    ctx.set_progress(100)
    assert load(jobs_app, job_id).progress == 100


def test_retries_back_off_exponentially_up_to_a_cap(jobs_app, monkeypatch):
    monkeypatch.setitem(jobs_app.config, "JOB_RETRY_DELAY_SECONDS", 5)
    monkeypatch.setitem(jobs_app.config, "JOB_RETRY_MAX_DELAY_SECONDS", 30)
    assert [retry_delay(jobs_app, attempt) for attempt in (1, 2, 3, 4)] == [5, 10, 20, 30]
