"""Admin commands: ``flask --app app users create-admin`` and ``flask --app app seed demo``."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select

from app import jobs
from app.auth import passwords
from app.auth.models import User
from app.auth.services import check_identity, create_user, normalise_mobile
from app.credits.rules import current_year
from app.errors import DomainError
from app.extensions import db
from app.jobs.cli import register_commands as register_jobs_commands
from app.permissions import Role

users_cli = AppGroup("users", help="Manage accounts.")
media_cli = AppGroup("media", help="Maintain uploaded media.")
seed_cli = AppGroup("seed", help="Load data.")


@users_cli.command("create-admin")
@click.option("--name", prompt="Real name", help="Real name of the administrator.")
@click.option("--mobile", prompt="Mobile number", help="Mobile number used to sign in.")
@click.option("--id-number", default="", help="Resident ID number (optional).")
@click.password_option(help="Password (asked for when not given).")
def create_admin(name: str, mobile: str, id_number: str, password: str) -> None:
    """Create an administrator, or make an existing account (same mobile) one."""
    try:
        mobile = normalise_mobile(mobile)
        existing = db.session.scalar(select(User).filter_by(mobile=mobile))
        if existing is not None:
            existing.grant(Role.ADMIN)
            db.session.commit()
            click.echo(f"{existing.name} ({mobile}) is now an administrator.")
            return
        passwords.check_password_policy(
            password, min_length=current_app.config["PASSWORD_MIN_LENGTH"]
        )
        identity = None
        if id_number:
            from app.auth.identity import IdType

            identity = check_identity(IdType.RESIDENT_ID, id_number)
        user = create_user(
            db.session,
            name=name,
            mobile=mobile,
            password=password,
            roles={Role.ADMIN},
            identity=identity,
        )
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc.message)) from exc
    click.echo(f"Administrator {user.name} ({user.mobile}) created.")


@seed_cli.command("demo")
@click.option(
    "--allow-production",
    is_flag=True,
    help="Load demo accounts even though the app is not in debug mode.",
)
@click.option("--no-media", is_flag=True, help="Skip synthesizing and processing demo videos.")
def seed_demo_command(allow_production: bool, no_media: bool) -> None:
    """Load the demo organisation, accounts of every role and a dozen courses (idempotent)."""
    from app.demo import DEMO_PASSWORD, DEMO_USERS, seed_demo, seed_demo_media

    if not (current_app.debug or current_app.testing or allow_production):
        raise click.ClickException(
            "Refusing to create demo accounts with a public password outside debug mode "
            "(use --allow-production if you really mean it)."
        )
    created = seed_demo(db.session, year=current_year())
    db.session.commit()
    # Process the demo media here and now, so the site has playable lessons when it starts.
    current_app.config["JOBS_BACKEND"] = "manual"
    queued = [] if no_media else seed_demo_media(db.session)
    db.session.commit()
    if queued:
        click.echo(f"Processing {len(queued)} demo media files…")
        jobs.run_dispatched(current_app)
    click.echo(f"Demo data ready ({created['users']} accounts, {created['courses']} courses new).")
    click.echo(f"Sign in with any of these mobiles and the password {DEMO_PASSWORD}:")
    for demo in DEMO_USERS:
        click.echo(f"  {demo.role.value:<9} {demo.mobile}  {demo.name}")


@media_cli.command("sweep")
def media_sweep() -> None:
    """Delete abandoned uploads and scratch folders left by killed workers (run hourly)."""
    from pathlib import Path

    from app.media.services import sweep_abandoned_uploads
    from app.media.tasks import sweep_work_dir

    uploads = sweep_abandoned_uploads(db.session)
    db.session.commit()
    folders = sweep_work_dir(
        Path(current_app.config["MEDIA_WORK_DIR"]),
        max_age=current_app.config["MEDIA_WORK_MAX_AGE_HOURS"] * 3600,
    )
    click.echo(f"Removed {uploads} abandoned uploads and {folders} stale scratch folders.")


def register_cli(app: Flask) -> None:
    app.cli.add_command(users_cli)
    app.cli.add_command(seed_cli)
    app.cli.add_command(media_cli)
    register_jobs_commands(app)
