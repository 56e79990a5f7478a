"""The whole way from an author's idea to the catalog, through one round of changes."""

from __future__ import annotations

from sqlalchemy import select

from app.catalog.models import Course
from app.extensions import db
from app.i18n import LOCALE_COOKIE
from app.permissions import Role
from tests.authoring.fixtures import events_of, lesson_ids_of


def test_author_to_reviewer_and_back_to_the_catalog(
    app, client, login, make_author, make_user, attach_media
):
    client.set_cookie(LOCALE_COOKIE, "en")
    author = make_author()
    reviewer = make_user(Role.REVIEWER, name="王审核")

    # The author creates a course and adds a lesson.
    login(author)
    created = client.post(
        "/author/courses/new",
        data={
            "code": "ZX-FLOW-001",
            "title": "应急管理实务",
            "category": "professional",
            "field": "emergency_management",
            "department": "mem",
            "hours": "2",
            "years": "2026",
        },
    )
    assert created.status_code == 302
    with app.app_context():
        course_id = db.session.scalar(select(Course.id).filter_by(code="ZX-FLOW-001"))
    client.post(f"/author/courses/{course_id}/lessons", data={"title": "预案编制", "kind": "video"})
    (lesson_id,) = lesson_ids_of(app, course_id)

    # Without a processed file the course cannot be submitted; with one it can.
    assert client.post(f"/author/courses/{course_id}/submit").status_code == 400
    attach_media(lesson_id)
    assert client.post(f"/author/courses/{course_id}/submit").status_code == 302

    # The reviewer finds it in the queue and returns it with reasons.
    login(reviewer)
    assert "应急管理实务" in client.get("/review/").get_data(as_text=True)
    returned = client.post(
        f"/review/courses/{course_id}/return", data={"return-comment": "请补充演练案例"}
    )
    assert returned.status_code == 302

    # The author sees the reasons prominently, changes the course and submits again.
    login(author)
    page = client.get(f"/author/courses/{course_id}").get_data(as_text=True)
    assert "Returned by the reviewer" in page
    assert page.index("请补充演练案例") < page.index("<h1>")
    assert "王审核" in page
    edited = client.post(
        f"/author/courses/{course_id}/lessons/{lesson_id}/edit", data={"title": "预案编制与演练"}
    )
    assert edited.status_code == 302
    resubmitted = client.post(
        f"/author/courses/{course_id}/submit", data={"comment": "已补充演练案例"}
    )
    assert resubmitted.status_code == 302
    page = client.get(f"/author/courses/{course_id}").get_data(as_text=True)
    assert "Returned by the reviewer" not in page

    # The reviewer sees the author's note and approves; the course is in the catalog.
    login(reviewer)
    assert "已补充演练案例" in client.get(f"/review/courses/{course_id}").get_data(as_text=True)
    assert client.post(f"/review/courses/{course_id}/approve").status_code == 302
    client.post("/logout")
    catalog = client.get("/courses").get_data(as_text=True)
    assert "应急管理实务" in catalog
    assert "预案编制与演练" in client.get(f"/courses/{course_id}").get_data(as_text=True)

    assert [(step[0], step[1]) for step in events_of(app, course_id)] == [
        ("draft", "in_review"),
        ("in_review", "draft"),
        ("draft", "in_review"),
        ("in_review", "published"),
    ]
    assert lesson_ids_of(app, course_id) == [lesson_id]
