"""Fixtures for the media tests: an author's draft course and an upload helper."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app import jobs
from app.catalog.models import Course, Lesson
from app.catalog.taxonomy import LessonKind
from app.extensions import db
from app.permissions import Role


@pytest.fixture
def studio(app, make_provider, make_user, make_course, login, client):
    """An author signed in, with a draft course holding a video and a document lesson."""
    provider = make_provider()
    author = make_user(Role.AUTHOR, provider_id=provider)
    course_id = make_course(status="draft", provider_id=provider)
    with app.app_context():
        course = db.session.get(Course, course_id)
        course.lessons.append(Lesson(position=2, title="讲义", kind=LessonKind.DOCUMENT))
        db.session.commit()
        video, document = (
            db.session.scalars(
                select(Lesson.id).where(Lesson.course_id == course_id).order_by(Lesson.position)
            )
        ).all()
    login(author)
    return {"author": author, "provider": provider, "course": course_id, "video": video,
            "document": document}  # fmt: skip


def upload_file(client, lesson_id: int, path: Path, *, name: str | None = None,
                chunk: int = 64 * 1024) -> dict[str, Any]:  # fmt: skip
    """Upload ``path`` in chunks as the browser widget does; returns the last JSON answer."""
    data = path.read_bytes()
    started = client.post(
        "/api/v1/uploads",
        json={"lesson_id": lesson_id, "filename": name or path.name, "size": len(data)},
    )
    assert started.status_code == 201, started.json
    url, offset, answer = started.json["url"], 0, started.json
    while offset < len(data):
        piece = data[offset : offset + chunk]
        response = client.patch(
            url,
            data=piece,
            headers={
                "Upload-Offset": str(offset),
                "Content-Type": "application/offset+octet-stream",
            },
        )
        assert response.status_code == 200, response.json
        answer, offset = response.json, response.json["offset"]
    return answer


def process(app) -> list[int]:
    """Run the queued processing jobs as a worker would."""
    return jobs.run_dispatched(app)
