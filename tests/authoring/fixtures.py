"""Fixtures shared by the authoring and review tests: authors, lessons, media assets."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app.catalog.models import Course, CourseEvent, Lesson
from app.catalog.taxonomy import LessonKind
from app.extensions import db
from app.media.models import MediaAsset, MediaKind, MediaStatus
from app.permissions import Role

_serial = itertools.count(1)


@pytest.fixture
def make_author(make_user, make_provider) -> Callable[..., dict[str, Any]]:
    """An author account of a provider (a new one unless given); includes ``provider_id``."""

    def make(provider_id: int | None = None, *extra_roles: Role) -> dict[str, Any]:
        provider_id = provider_id or make_provider()
        account = make_user(Role.AUTHOR, *extra_roles, provider_id=provider_id)
        return {**account, "provider_id": provider_id}

    return make


@pytest.fixture
def attach_media(app: Flask, transaction: None) -> Callable[..., int]:
    """Give a lesson a media asset (ready unless told otherwise); returns the asset id."""

    def attach(
        lesson_id: int, status: MediaStatus = MediaStatus.READY, provider_id: int | None = None
    ) -> int:
        n = next(_serial)
        with app.test_request_context():
            lesson = db.session.get(Lesson, lesson_id)
            kind = MediaKind.DOCUMENT if lesson.kind == LessonKind.DOCUMENT else MediaKind.VIDEO
            asset = MediaAsset(
                provider_id=provider_id or lesson.course.provider_id,
                kind=kind,
                original_name=f"lesson-{n}.{'pdf' if kind == MediaKind.DOCUMENT else 'mp4'}",
                size_bytes=1024 * n,
                sha256=f"{n:064x}",
                original_key=f"originals/test-{n}",
                output_prefix=f"outputs/test-{n}-{lesson_id}",
                status=status,
            )
            db.session.add(asset)
            db.session.flush()
            lesson.media_asset_id = asset.id
            db.session.commit()
            return asset.id

    return attach


@pytest.fixture
def make_ready_course(
    app: Flask, transaction: None, make_course, attach_media
) -> Callable[..., int]:
    """A course (draft unless told otherwise) whose lessons all have ready files."""

    def make(provider_id: int, status: str = "draft", **kwargs: Any) -> int:
        course_id = make_course(provider_id=provider_id, status=status, **kwargs)
        for lesson_id in lesson_ids_of(app, course_id):
            attach_media(lesson_id)
        return course_id

    return make


def lesson_ids_of(app: Flask, course_id: int) -> list[int]:
    """The course's lesson ids in their order."""
    with app.app_context():
        return list(
            db.session.scalars(
                select(Lesson.id).where(Lesson.course_id == course_id).order_by(Lesson.position)
            )
        )


def events_of(app: Flask, course_id: int) -> list[tuple[str, str, int | None, str]]:
    """The course's trail as (from, to, actor id, comment), oldest first."""
    with app.app_context():
        rows = db.session.scalars(
            select(CourseEvent).where(CourseEvent.course_id == course_id).order_by(CourseEvent.id)
        )
        return [(e.from_status.value, e.to_status.value, e.actor_id, e.comment) for e in rows]


def status_of(app: Flask, course_id: int) -> str:
    with app.app_context():
        return db.session.get(Course, course_id).status.value
