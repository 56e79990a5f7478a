"""The scale path: jobs go through Redis to ``flask worker`` processes on any host."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from redis import Redis
from rq import Queue, SimpleWorker

from app import jobs
from app.db import utcnow
from app.extensions import db
from app.jobs import JobStatus
from tests.jobs.helpers import enqueue_committed, finished, load, published, runs, wait_for

ROOT = Path(__file__).resolve().parents[2]
FLASK = Path(sys.executable).with_name("flask")


def queue_of(app) -> Queue:
    return Queue(app.config["JOBS_QUEUE"], connection=Redis.from_url(app.config["REDIS_URL"]))


def work_here(app) -> None:
    """Drain the queue with an RQ worker in this process, in the test app."""
    queue = queue_of(app)
    with app.app_context():
        SimpleWorker([queue], connection=queue.connection).work(burst=True)


def worker_process(app, tmp_path: Path, *args: str) -> subprocess.Popen:
    """``flask --app app worker`` in a process of its own, on the test database and queue."""
    env = {
        **os.environ,
        "SECRET_KEY": secrets.token_hex(16),
        "REDIS_URL": app.config["REDIS_URL"],
        "ZHIXIN_SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "ZHIXIN_JOBS_QUEUE": app.config["JOBS_QUEUE"],
        "ZHIXIN_JOBS_IMPORTS": '["tests.jobs.tasks"]',
        "ZHIXIN_JOB_RETRY_DELAY_SECONDS": "0",
        "ZHIXIN_JOB_HEARTBEAT_SECONDS": "0.2",
    }
    log = (tmp_path / "worker.log").open("w")
    return subprocess.Popen(  # noqa: S603 (our own command)
        [str(FLASK), "--app", "app", "worker", *args],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own group: the RQ scheduler it forks goes down with it
    )


def test_a_job_goes_through_redis_to_a_worker(jobs_app, redis_queue, marker):
    job_id = enqueue_committed(jobs_app, "test.succeed", {"marker": str(marker)})
    assert queue_of(jobs_app).count == 1
    assert load(jobs_app, job_id).status == JobStatus.QUEUED

    work_here(jobs_app)
    done = load(jobs_app, job_id)
    assert (done.status, done.progress, done.attempts) == (JobStatus.SUCCEEDED, 100, 1)
    assert queue_of(jobs_app).count == 0


def test_a_rolled_back_enqueue_never_reaches_redis(jobs_app, redis_queue, marker):
    with jobs_app.test_request_context():
        jobs.enqueue(db.session, "test.succeed", {"marker": str(marker)})
        db.session.rollback()
    assert queue_of(jobs_app).count == 0


def test_a_separate_worker_process_runs_jobs_and_retries(jobs_app, redis_queue, tmp_path):
    ok = enqueue_committed(jobs_app, "test.succeed", {"marker": str(tmp_path / "ok")})
    flaky = enqueue_committed(
        jobs_app, "test.flaky", {"marker": str(tmp_path / "flaky"), "failures": 1}
    )

    process = worker_process(jobs_app, tmp_path, "--burst")
    assert process.wait(timeout=30) == 0, (tmp_path / "worker.log").read_text()
    assert load(jobs_app, ok).status == JobStatus.SUCCEEDED
    done = load(jobs_app, flaky)
    assert (done.status, done.attempts) == (JobStatus.SUCCEEDED, 2)
    assert published(jobs_app, flaky) == [2]
    assert str(os.getpid()) not in done.worker  # it really ran elsewhere


def test_a_job_of_a_killed_worker_is_recovered_and_runs_again(jobs_app, redis_queue, marker):
    job_id = enqueue_committed(jobs_app, "test.stall", {"marker": str(marker), "sleep": 60})
    process = worker_process(jobs_app, marker.parent)
    try:
        running = wait_for(jobs_app, job_id, lambda job: job.status == JobStatus.RUNNING, 20)
        time.sleep(0.5)  # a few heartbeats
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    assert load(jobs_app, job_id).heartbeat_at > running.heartbeat_at
    assert load(jobs_app, job_id).status == JobStatus.RUNNING  # as the dead worker left it

    later = utcnow() + timedelta(seconds=jobs_app.config["JOB_STALE_SECONDS"] + 1)
    with jobs_app.app_context():
        assert jobs.recover_orphans(db.session, now=later) == [job_id]
        db.session.commit()
    work_here(jobs_app)
    done = wait_for(jobs_app, job_id, finished)
    assert (done.status, done.attempts) == (JobStatus.SUCCEEDED, 2)
    assert runs(marker) == [1, 2]


def test_a_sweep_queues_jobs_redis_lost_once(jobs_app, redis_queue, marker):
    """A push lost after the commit (Redis down, or flushed) is made good by the janitor."""
    job_id = enqueue_committed(jobs_app, "test.succeed", {"marker": str(marker)})
    queue_of(jobs_app).empty()  # the push is lost

    assert jobs.resume(jobs_app) == [job_id]
    jobs.resume(jobs_app)  # already waiting: not queued twice
    assert queue_of(jobs_app).count == 1
    work_here(jobs_app)
    assert load(jobs_app, job_id).status == JobStatus.SUCCEEDED
