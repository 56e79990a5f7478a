"""Fixtures for study-time tests: a course with processed lessons, an enrolled learner, a clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.catalog.models import Course, Lesson
from app.catalog.taxonomy import LessonKind
from app.extensions import db
from app.media.models import MediaAsset, MediaKind, MediaStatus


class Clock:
    """The server's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    import app.learning.study_services as services

    clock = Clock()
    monkeypatch.setattr(services, "utcnow", clock)
    return clock


def add_ready_media(course_id: int, duration: float = 60.0, lessons: int = 1) -> list[int]:
    """Give the course ``lessons`` video lessons whose media is processed; returns their ids."""
    course = db.session.get(Course, course_id)
    while len(course.lessons) < lessons:
        course.lessons.append(Lesson(position=len(course.lessons) + 1, title="第二讲"))
    db.session.flush()
    for lesson in course.lessons:
        asset = MediaAsset(
            provider_id=course.provider_id,
            kind=MediaKind.VIDEO,
            status=MediaStatus.READY,
            original_name="a.mp4",
            size_bytes=1,
            sha256=f"{lesson.id:064d}",
            original_key=f"originals/{lesson.id:032d}",
            output_prefix=f"media/{lesson.id:032d}",
            duration_seconds=duration,
        )
        db.session.add(asset)
        db.session.flush()
        lesson.media_asset_id = asset.id
        lesson.kind = LessonKind.VIDEO
    db.session.commit()
    return [lesson.id for lesson in course.lessons]


@pytest.fixture
def studying(app, client, make_user, make_course, login, clock):
    """A learner signed in and enrolled in a published 6-hour course with one 60 s lesson."""
    learner = make_user()
    course_id = make_course(hours="6")
    with app.app_context():
        lessons = add_ready_media(course_id)
    login(learner)
    assert client.post(f"/courses/{course_id}/enrol").status_code == 302
    return {"learner": learner, "course": course_id, "lesson": lessons[0]}


def lesson_ids(app, course_id: int) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(select(Lesson.id).filter_by(course_id=course_id)))
