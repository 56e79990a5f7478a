"""Fixtures for the job tests: real commits, since workers have their own sessions."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest
from flask import Flask
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import delete, select

from app import jobs
from app.extensions import db
from app.jobs import Job
from tests.jobs.tasks import effects

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def jobs_app(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    """The test app on committed data, with the manual backend until a test picks another.

    List it before ``session``: it commits, which must happen outside the test transaction.

    Afterwards the backend is stopped and the job rows and scratch table it made are
    deleted, so other tests still find the database empty.
    """
    settings = {
        "JOBS_BACKEND": "manual",
        "JOBS_RESUME": False,
        "JOB_RETRY_DELAY_SECONDS": 0,
        "JOB_HEARTBEAT_SECONDS": 0.2,
        # Workers write reasons in the default language; the assertions are in English.
        "BABEL_DEFAULT_LOCALE": "en",
    }
    for key, value in settings.items():
        monkeypatch.setitem(app.config, key, value)
    jobs.shutdown(app)
    with app.app_context():
        effects.create(db.engine, checkfirst=True)
        existing = set(db.session.scalars(select(Job.id)))
        db.session.rollback()
    yield app
    jobs.shutdown(app)
    with app.app_context():
        db.session.execute(delete(Job).where(Job.id.not_in(existing)) if existing else delete(Job))
        db.session.commit()
        effects.drop(db.engine, checkfirst=True)


@pytest.fixture
def use_backend(jobs_app: Flask, monkeypatch: pytest.MonkeyPatch):
    def use(name: str) -> None:
        monkeypatch.setitem(jobs_app.config, "JOBS_BACKEND", name)

    return use


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    """A task's marker file (see tests/jobs/tasks.py), unique per test."""
    return tmp_path / f"marker-{uuid4().hex[:8]}"


@pytest.fixture
def redis_queue(jobs_app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The rq backend on a queue of its own in the real Redis, removed afterwards."""
    connection = Redis.from_url(REDIS_URL)
    try:
        connection.ping()
    except RedisError:
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    name = f"zhixin-test-{uuid4().hex[:12]}"
    monkeypatch.setitem(jobs_app.config, "REDIS_URL", REDIS_URL)
    monkeypatch.setitem(jobs_app.config, "JOBS_QUEUE", name)
    monkeypatch.setitem(jobs_app.config, "JOBS_BACKEND", "rq")
    yield name
    jobs.shutdown(jobs_app)
    _forget_queue(connection, name)
    connection.close()


def _forget_queue(connection: Redis, name: str) -> None:
    """Delete what RQ keeps about a queue that would not expire by itself."""
    for key in connection.scan_iter("rq:job:zhixin-job-*"):
        if connection.hget(key, "origin") == name.encode():
            connection.delete(key)
    workers = connection.smembers(f"rq:workers:{name}")
    if workers:
        connection.srem("rq:workers", *workers)
        connection.delete(*workers, *(worker + b":executions" for worker in workers))
    connection.srem("rq:queues", f"rq:queue:{name}")
    for key in connection.scan_iter(f"*{name}*"):
        connection.delete(key)
