"""Tasks for the job tests, registered on import (worker processes get it via JOBS_IMPORTS).

Each task appends its attempt number to the file ``payload["marker"]``, which shows how often
it ran, across threads and processes; ``effects`` rows show what a run published.
"""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, Table, insert

from app.extensions import db
from app.jobs import JobContext, PermanentJobError, task

#: A scratch table the tests create and drop: what a task's run wrote to the database.
effects = Table(
    "jobs_test_effect",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("job_id", Integer, nullable=False),
    Column("attempt", Integer, nullable=False),
)


def mark(ctx: JobContext) -> int:
    """Note this run in the marker file; returns the number of runs so far."""
    path = Path(ctx.payload["marker"])
    with path.open("a") as handle:
        handle.write(f"{ctx.attempt}\n")
    return len(path.read_text().split())


def publish(ctx: JobContext) -> None:
    db.session.execute(insert(effects).values(job_id=ctx.job_id, attempt=ctx.attempt))


@task("test.succeed")
def succeed(ctx: JobContext) -> None:
    mark(ctx)
    ctx.set_progress(40)
    time.sleep(ctx.payload.get("sleep", 0))
    publish(ctx)


@task("test.flaky")
def flaky(ctx: JobContext) -> None:
    """Publishes, then fails on its first ``failures`` runs."""
    runs = mark(ctx)
    publish(ctx)
    if runs <= ctx.payload.get("failures", 99):
        raise RuntimeError(f"flaky run {runs}")


@task("test.reject")
def reject(ctx: JobContext) -> None:
    mark(ctx)
    raise PermanentJobError("The file is not a video.")


@task("test.until_cancelled")
def until_cancelled(ctx: JobContext) -> None:
    """Waits to be cancelled, then publishes (which the runner must roll back)."""
    mark(ctx)
    deadline = time.monotonic() + 5
    while not ctx.is_cancelled():
        if time.monotonic() > deadline:
            raise RuntimeError("never cancelled")
        time.sleep(0.05)
    publish(ctx)


@task("test.stall")
def stall(ctx: JobContext) -> None:
    """Sleeps on its first attempt without reporting anything (to be killed, or to beat)."""
    mark(ctx)
    if ctx.attempt == 1:
        time.sleep(ctx.payload["sleep"])
