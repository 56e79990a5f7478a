"""Admin commands: create-admin and the idempotent demo seed."""

from __future__ import annotations

from sqlalchemy import func, select

from app.auth.models import User
from app.catalog.models import Course, CourseStatus
from app.extensions import db
from app.permissions import Role


def test_seed_demo_is_idempotent_and_covers_every_role(app, transaction):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed", "demo", "--no-media"])
    assert first.exit_code == 0, first.output
    assert "5 accounts, 13 courses new" in first.output
    again = runner.invoke(args=["seed", "demo", "--no-media"])
    assert "0 accounts, 0 courses new" in again.output
    with app.app_context():
        roles = {row.role for user in db.session.scalars(select(User)) for row in user.role_rows}
        assert roles == set(Role)
        published = db.session.scalar(
            select(func.count(Course.id)).where(Course.status == CourseStatus.PUBLISHED)
        )
        categories = set(db.session.scalars(select(Course.category).distinct()))
        fields = set(db.session.scalars(select(Course.field).distinct()))
    assert published == 12
    assert len(categories) == 2
    assert len(fields) >= 10


def test_seed_demo_refuses_outside_debug(app, transaction, monkeypatch):
    monkeypatch.setattr(app, "testing", False)
    result = app.test_cli_runner().invoke(args=["seed", "demo"])
    assert result.exit_code != 0
    assert "debug" in result.output


def test_create_admin_makes_a_new_admin_or_promotes_an_account(app, transaction, make_user):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["users", "create-admin", "--name", "管理员", "--mobile", "13700000000"],
        input="Admin2025x\nAdmin2025x\n",
    )
    assert result.exit_code == 0, result.output
    existing = make_user()
    result = runner.invoke(
        args=["users", "create-admin", "--name", "x", "--mobile", existing["mobile"]],
        input="Whatever1\nWhatever1\n",
    )
    assert "is now an administrator" in result.output
    with app.app_context():
        admins = db.session.scalars(
            select(User).where(User.mobile.in_(["13700000000", existing["mobile"]]))
        ).all()
        assert all(user.has_role(Role.ADMIN) for user in admins)
        assert len(admins) == 2


def test_create_admin_explains_bad_input(app, transaction):
    result = app.test_cli_runner().invoke(
        args=["users", "create-admin", "--name", "x", "--mobile", "123"],
        input="Admin2025x\nAdmin2025x\n",
    )
    assert result.exit_code != 0
    assert "11" in result.output  # "Enter an 11-digit mainland mobile number", translated


def test_seed_demo_makes_playable_lessons_once(app, transaction, monkeypatch):
    """The demo media are synthesized, processed on the spot, and not made twice."""
    from app import demo
    from app.catalog.models import Lesson
    from app.media.models import MediaAsset, MediaStatus

    monkeypatch.setattr(
        demo, "DEMO_MEDIA", (("ZX-2025-001", 1, {"seconds": 2, "width": 320, "height": 180}),)
    )
    runner = app.test_cli_runner()
    result = runner.invoke(args=["seed", "demo"])
    assert "Processing 1 demo media files" in result.output, result.output
    assert "Processing" not in runner.invoke(args=["seed", "demo"]).output
    with app.app_context():
        lesson = db.session.scalar(
            select(Lesson).join(Course).where(Course.code == "ZX-2025-001", Lesson.position == 1)
        )
        asset = db.session.get(MediaAsset, lesson.media_asset_id)
        assert asset.status == MediaStatus.READY
        assert lesson.course.status == CourseStatus.PUBLISHED
