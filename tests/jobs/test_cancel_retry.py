"""Authors cancel queued or running jobs and run failed or cancelled ones again."""

from __future__ import annotations

import pytest

from app import jobs
from app.errors import DomainError
from app.extensions import db
from app.jobs import Job, JobStatus
from tests.jobs.helpers import enqueue_committed, finished, published, runs, wait_for


def test_a_cancelled_queued_job_never_runs(jobs_app, session, marker):
    job = jobs.enqueue(session, "test.succeed", {"marker": str(marker)})
    session.commit()

    jobs.cancel(session, job)
    session.commit()
    assert (job.status, job.finished_at is not None) == (JobStatus.CANCELLED, True)
    jobs.run_dispatched()
    assert session.get(Job, job.id, populate_existing=True).status == JobStatus.CANCELLED
    assert runs(marker) == []


def test_a_running_job_sees_the_cancel_and_ends_cancelled(jobs_app, use_backend, marker):
    use_backend("thread")
    job_id = enqueue_committed(jobs_app, "test.until_cancelled", {"marker": str(marker)})
    wait_for(jobs_app, job_id, lambda job: job.status == JobStatus.RUNNING)

    with jobs_app.test_request_context():
        job = db.session.get(Job, job_id)
        jobs.cancel(db.session, job)
        db.session.commit()
        assert (job.status, job.finished_at) == (JobStatus.CANCELLED, None)  # stopping
        with pytest.raises(DomainError, match="still stopping"):
            jobs.retry(db.session, job)
        db.session.rollback()

    done = wait_for(jobs_app, job_id, finished)
    assert done.status == JobStatus.CANCELLED
    assert runs(marker) == [1]
    assert published(jobs_app, job_id) == []  # the cancelled attempt's work was rolled back


def test_retry_runs_a_failed_job_again_from_the_start(jobs_app, session, marker):
    job = jobs.enqueue(
        session, "test.flaky", {"marker": str(marker), "failures": 1}, max_attempts=1
    )
    session.commit()
    jobs.run_dispatched()
    session.refresh(job)
    assert (job.status, job.error) == (JobStatus.FAILED, "flaky run 1")

    jobs.retry(session, job)
    assert (job.status, job.attempts, job.error) == (JobStatus.QUEUED, 0, None)
    assert jobs.dispatched() == []  # only once committed
    session.commit()
    assert jobs.run_dispatched() == [job.id]
    session.refresh(job)
    assert (job.status, job.attempts) == (JobStatus.SUCCEEDED, 1)
    assert runs(marker) == [1, 1]


@pytest.mark.parametrize("status", [JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.SUCCEEDED])
def test_only_failed_or_cancelled_jobs_can_be_retried(jobs_app, session, status):
    job = Job(kind="test.succeed", payload={}, status=status, max_attempts=3)
    session.add(job)
    session.flush()
    with pytest.raises(DomainError, match="Only failed or cancelled"):
        jobs.retry(session, job)
    assert job.status == status


@pytest.mark.parametrize("status", [JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED])
def test_finished_jobs_cannot_be_cancelled(jobs_app, session, status):
    job = Job(kind="test.succeed", payload={}, status=status, max_attempts=3)
    session.add(job)
    session.flush()
    with pytest.raises(DomainError, match="already finished"):
        jobs.cancel(session, job)
    assert job.status == status


def test_the_cli_lists_retries_and_cancels_jobs(jobs_app, session, marker):
    failed = jobs.enqueue(session, "test.reject", {"marker": str(marker)})
    queued = jobs.enqueue(session, "test.succeed", {"marker": str(marker)})
    session.commit()
    jobs.run_dispatched()  # runs both: one fails, one succeeds
    runner = jobs_app.test_cli_runner()

    listed = runner.invoke(args=["jobs", "list", "--status", "failed"])
    assert f"{failed.id}  test.reject" in listed.output
    assert "test.succeed" not in listed.output
    assert "Job" in runner.invoke(args=["jobs", "retry", str(failed.id)]).output
    assert jobs.dispatched() == [failed.id]
    refused = runner.invoke(args=["jobs", "cancel", str(queued.id)])
    assert refused.exit_code != 0
    assert "already finished" in refused.output
    assert "no job" in runner.invoke(args=["jobs", "retry", "999999"]).output
