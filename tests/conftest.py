"""Shared fixtures: one app per run, one rolled-back transaction per test, factories.

The database is SQLite in a temporary file, or PostgreSQL when TEST_DATABASE_URL is set.
The schema is built by running the Alembic migrations, so every run also tests them.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from flask_sqlalchemy.session import _app_ctx_id
from sqlalchemy import text
from sqlalchemy.orm import Session, scoped_session, sessionmaker

from app import create_app
from app.auth.identity import IdType, make_resident_id, parse_resident_id
from app.auth.models import User
from app.auth.services import Identity, create_user
from app.catalog.models import Course, Provider
from app.catalog.services import CourseSpec, LessonSpec, create_course, get_or_create_provider
from app.catalog.taxonomy import Category, Department, Field
from app.extensions import db, limiter
from app.orgs.credit_code import make_credit_code
from app.orgs.models import Organisation
from app.orgs.services import get_or_create_organisation
from app.permissions import Role

#: Session-scoped synthesized media (good clips, bad inputs, PDFs) for every test folder.
pytest_plugins = ("tests.media_samples",)

PASSWORD = "Secret123"
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")


def _reset_database(app: Flask) -> None:
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        upgrade()


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    folder = tmp_path_factory.mktemp("zhixin")
    url = TEST_DATABASE_URL or f"sqlite:///{folder / 'test.db'}"
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": url,
            "WTF_CSRF_ENABLED": False,
            "PASSWORD_HASHER": "cheapest",
            # Jobs wait until a test runs them (jobs.run_dispatched()); tests/jobs use the
            # real thread and Redis backends.
            "JOBS_BACKEND": "manual",
            "MEDIA_ROOT": str(folder / "media"),
            # Limits are exercised by dedicated tests, which lower them.
            "LOGIN_RATE_LIMIT": "10000 per minute",
            "LOGIN_IDENTIFIER_RATE_LIMIT": "10000 per minute",
            "REGISTER_RATE_LIMIT": "10000 per minute",
            "LOOKUP_RATE_LIMIT": "10000 per minute",
        }
    )
    _reset_database(app)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def transaction(app: Flask) -> Iterator[None]:
    """Run the test inside one outer transaction that is rolled back at the end.

    Every session (the test's, each request's) joins it through a SAVEPOINT, so code under
    test may commit freely and still leave nothing behind.
    """
    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
    original = db.session
    # A plain Session: Flask-SQLAlchemy's own would route queries back to the engine.
    factory = sessionmaker(bind=connection, join_transaction_mode="create_savepoint")
    db.session = scoped_session(factory, scopefunc=_app_ctx_id)
    limiter.reset()
    try:
        yield
    finally:
        db.session = original
        outer.rollback()
        connection.close()


@pytest.fixture
def session(app: Flask, transaction: None) -> Iterator[Session]:
    """A database session inside an app context, for service tests."""
    with app.test_request_context():
        yield db.session


@pytest.fixture
def client(app: Flask, transaction: None) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def in_app(app: Flask, transaction: None) -> Callable[..., Any]:
    """Run a function in a fresh app context and commit (to the test's savepoint)."""

    def run(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with app.test_request_context():
            result = fn(*args, **kwargs)
            db.session.commit()
            return result

    return run


_serial = itertools.count(1)


def _next() -> int:
    return next(_serial)


@pytest.fixture
def make_org(app: Flask, transaction: None) -> Callable[..., int]:
    def make(name: str | None = None) -> int:
        n = _next()
        with app.test_request_context():
            org = get_or_create_organisation(
                db.session, make_credit_code(f"91110108MA{n:07d}"), name or f"测试单位{n}"
            )
            db.session.commit()
            return org.id

    return make


@pytest.fixture
def make_user(app: Flask, transaction: None, make_org: Callable[..., int]) -> Callable[..., dict]:
    """Create an account; returns its id, mobile, ID number and password."""

    def make(
        *roles: Role,
        org_id: int | None = None,
        provider_id: int | None = None,
        name: str | None = None,
        birth: date = date(1985, 5, 20),
    ) -> dict[str, Any]:
        n = _next()
        number = make_resident_id("110105", birth, n % 1000)
        resident = parse_resident_id(number)
        mobile = f"139{n:08d}"
        with app.test_request_context():
            user = create_user(
                db.session,
                name=name or f"学员{n}",
                mobile=mobile,
                password=PASSWORD,
                roles=roles or (Role.LEARNER,),
                identity=Identity(
                    IdType.RESIDENT_ID,
                    resident.number,
                    resident.gender,
                    resident.birth_date,
                    resident.region_code,
                ),
                organisation_id=org_id if org_id is not None else make_org(),
                provider_id=provider_id,
            )
            db.session.commit()
            return {
                "id": user.id,
                "mobile": mobile,
                "id_number": resident.number,
                "password": PASSWORD,
            }

    return make


@pytest.fixture
def make_provider(app: Flask, transaction: None) -> Callable[..., int]:
    def make(code: str | None = None) -> int:
        n = _next()
        with app.test_request_context():
            provider = get_or_create_provider(db.session, code or f"P{n:04d}", f"施教机构{n}")
            db.session.commit()
            return provider.id

    return make


@pytest.fixture
def make_course(
    app: Flask, transaction: None, make_provider: Callable[..., int]
) -> Callable[..., int]:
    """Create a course (published unless ``status`` says otherwise); returns its id."""

    def make(
        *,
        title: str | None = None,
        category: Category = Category.PROFESSIONAL,
        field: Field = Field.NEXT_GEN_IT,
        hours: str = "6",
        years: tuple[int, ...] = (2026,),
        provider_id: int | None = None,
        status: str = "published",
    ) -> int:
        n = _next()
        with app.test_request_context():
            provider = db.session.get(Provider, provider_id or make_provider())
            course = create_course(
                db.session,
                provider,
                CourseSpec(
                    code=f"T-{n:05d}",
                    title=title or f"测试课程{n}",
                    category=category,
                    field=field,
                    department=Department.MIIT,
                    hours=Decimal(hours),
                    years=years,
                    lessons=(LessonSpec("第一讲", duration_seconds=600),),
                ),
            )
            if status in ("in_review", "published", "retired"):
                course.submit_for_review()
            if status in ("published", "retired"):
                course.publish()
            if status == "retired":
                course.retire()
            db.session.commit()
            return course.id

    return make


@pytest.fixture
def login(client: FlaskClient) -> Callable[[dict[str, Any]], None]:
    """Sign the test client in as an account made by ``make_user``."""

    def sign_in(account: dict[str, Any]) -> None:
        client.post("/logout")
        response = client.post(
            "/login", data={"identifier": account["mobile"], "password": account["password"]}
        )
        assert response.status_code == 302, response.get_data(as_text=True)

    return sign_in


def fetch(app: Flask, model: type, ident: int) -> Any:
    """Reload a row in a fresh context (helper for assertions)."""
    with app.app_context():
        obj = db.session.get(model, ident)
        if obj is not None:
            db.session.expunge(obj)
        return obj


@pytest.fixture
def get_row(app: Flask) -> Callable[[type, int], Any]:
    return lambda model, ident: fetch(app, model, ident)


__all__ = ["PASSWORD", "Course", "Organisation", "User"]
