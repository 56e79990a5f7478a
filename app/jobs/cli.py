"""Job commands: ``flask --app app worker`` for the Redis queue, and ``flask --app app jobs …``."""

from __future__ import annotations

from collections.abc import Callable

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from rq import SimpleWorker
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import DomainError
from app.extensions import db
from app.jobs.backends import Janitor, RQBackend, get_backend, janitor_interval
from app.jobs.models import Job, JobStatus
from app.jobs.runner import resume
from app.jobs.services import cancel, retry

jobs_cli = AppGroup("jobs", help="Inspect and manage background jobs.")


@click.command("worker")
@click.option("--burst", is_flag=True, help="Exit once the queue is empty.")
@with_appcontext
def worker_command(burst: bool) -> None:
    """Run jobs from the Redis queue; start as many of these as needed, on any host."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    if not app.config.get("REDIS_URL"):
        raise click.ClickException(
            "REDIS_URL is not set. Without Redis, jobs run on threads inside the web process "
            "(the embedded default) and no worker is needed; set REDIS_URL to use workers."
        )
    backend = get_backend(app)
    if not isinstance(backend, RQBackend):
        raise click.ClickException("JOBS_BACKEND must be 'rq' (or unset) to run a worker.")
    resume(app)  # what stopped workers left behind, before taking new work
    if not burst:
        Janitor(app, janitor_interval(app), at_once=False)
    # SimpleWorker runs jobs in this process, with the app built once; a killed worker is
    # covered by the heartbeat and recover_orphans rather than by RQ's job timeouts.
    worker = SimpleWorker([backend.queue], connection=backend.connection)
    worker.work(burst=burst, with_scheduler=True)


@jobs_cli.command("list")
@click.option(
    "--status",
    type=click.Choice([s.value for s in JobStatus]),
    help="Only jobs in this status.",
)
@click.option("--limit", default=50, show_default=True, help="How many, newest first.")
def list_command(status: str | None, limit: int) -> None:
    """Show recent jobs."""
    query = select(Job).order_by(Job.id.desc()).limit(limit)
    if status:
        query = query.where(Job.status == JobStatus(status))
    for job in db.session.scalars(query):
        error = f"  {job.error[:80]}" if job.error else ""
        click.echo(
            f"{job.id:>6}  {job.kind:<24} {job.status.value:<9} {job.progress:>5.0f}%  "
            f"{job.attempts}/{job.max_attempts}{error}"
        )


@jobs_cli.command("retry")
@click.argument("job_id", type=int)
def retry_command(job_id: int) -> None:
    """Run a failed or cancelled job again from the start."""
    _change(job_id, retry, "queued again")


@jobs_cli.command("cancel")
@click.argument("job_id", type=int)
def cancel_command(job_id: int) -> None:
    """Cancel a queued or running job."""
    _change(job_id, cancel, "cancelled")


def _change(job_id: int, operation: Callable[[Session, Job], None], done: str) -> None:
    job = db.session.get(Job, job_id)
    if job is None:
        raise click.ClickException(f"There is no job {job_id}.")
    try:
        operation(db.session, job)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from exc
    click.echo(f"Job {job_id} {done}.")


def register_commands(app: Flask) -> None:
    """Add ``worker`` and the ``jobs`` group to the app's ``flask`` command."""
    app.cli.add_command(worker_command)
    app.cli.add_command(jobs_cli)
