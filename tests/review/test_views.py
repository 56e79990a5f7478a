"""Review pages: the queue, the course under review with its previews, and decisions that
cannot be made twice or without reasons."""

from __future__ import annotations

import pytest

from app.auth.models import User
from app.authoring import services as authoring
from app.catalog.models import Course
from app.extensions import db
from app.i18n import LOCALE_COOKIE
from app.permissions import Role
from tests.authoring.fixtures import events_of, lesson_ids_of, status_of


@pytest.fixture
def english(client):
    client.set_cookie(LOCALE_COOKIE, "en")


@pytest.fixture
def in_review(app, make_author, make_ready_course):
    """A course of a new provider, submitted by its author with a note; returns its id."""

    def make(title: str | None = None, note: str = "") -> int:
        account = make_author()
        kwargs = {"title": title} if title else {}
        course_id = make_ready_course(account["provider_id"], **kwargs)
        with app.test_request_context():
            author = db.session.get(User, account["id"])
            authoring.submit_for_review(db.session, author, db.session.get(Course, course_id), note)
            db.session.commit()
        return course_id

    return make


@pytest.fixture
def reviewer(login, make_user):
    account = make_user(Role.REVIEWER, name="王审核")
    login(account)
    return account


def page_of(response) -> str:
    return response.get_data(as_text=True)


class TestAccess:
    @pytest.mark.parametrize("role", [Role.LEARNER, Role.HR, Role.AUTHOR])
    def test_only_reviewers_and_admins_enter(self, client, login, make_user, in_review, role):
        course_id = in_review()
        login(make_user(role))
        for path in ("/review/", "/review/decided", f"/review/courses/{course_id}"):
            assert client.get(path).status_code == 403
        for action in ("approve", "return"):
            assert client.post(f"/review/courses/{course_id}/{action}").status_code == 403

    def test_anonymous_visitors_are_sent_to_sign_in(self, client):
        response = client.get("/review/")
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]

    def test_administrators_enter(self, client, login, make_user, in_review):
        course_id = in_review()
        login(make_user(Role.ADMIN))
        assert client.get("/review/").status_code == 200
        assert client.get(f"/review/courses/{course_id}").status_code == 200

    def test_a_reviewer_of_the_courses_own_provider_is_refused(
        self, app, client, login, make_author, in_review
    ):
        course_id = in_review()
        with app.app_context():
            provider_id = db.session.get(Course, course_id).provider_id
        login(make_author(provider_id, Role.REVIEWER))
        assert client.get(f"/review/courses/{course_id}").status_code == 403
        assert client.post(f"/review/courses/{course_id}/approve").status_code == 403
        assert status_of(app, course_id) == "in_review"

    def test_an_unknown_course_is_not_found(self, client, reviewer):
        assert client.get("/review/courses/999999").status_code == 404

    def test_nav_and_dashboard_lead_reviewers_to_the_queue(self, client, reviewer):
        assert 'href="/review/"' in page_of(client.get("/dashboard"))
        assert 'href="/author/courses"' not in page_of(client.get("/dashboard"))


class TestQueue:
    def test_the_queue_shows_provider_submitter_and_time(
        self, client, in_review, reviewer, make_course, english
    ):
        in_review("等待审核的课程")
        make_course(title="草稿课程", status="draft")
        page = page_of(client.get("/review/"))
        assert "等待审核的课程" in page
        assert "草稿课程" not in page
        assert "施教机构" in page  # provider names of the test factory
        assert "学员" in page  # the submitting author's name
        assert "1 course waiting" in page

    def test_the_decided_tab_lists_decisions(self, client, in_review, reviewer, english):
        course_id = in_review("已通过的课程")
        client.post(f"/review/courses/{course_id}/approve")
        page = page_of(client.get("/review/decided"))
        assert "已通过的课程" in page
        assert "Approved and published" in page
        assert "王审核" in page


class TestDecisions:
    def test_the_course_page_shows_lessons_with_previews_and_the_note(
        self, app, client, in_review, reviewer, english
    ):
        course_id = in_review(note="请重点审核第一讲")
        lesson_id = lesson_ids_of(app, course_id)[0]
        page = page_of(client.get(f"/review/courses/{course_id}"))
        assert f'href="/courses/{course_id}/lessons/{lesson_id}"' in page
        assert "请重点审核第一讲" in page
        assert "Approve and publish" in page
        assert "Return to the author" in page

    def test_approving_publishes_the_course(self, app, client, in_review, reviewer):
        course_id = in_review("好课程")
        response = client.post(
            f"/review/courses/{course_id}/approve", data={"approve-comment": "通过"}
        )
        assert response.status_code == 302
        assert response.headers["Location"].endswith("/review/")
        assert status_of(app, course_id) == "published"
        assert events_of(app, course_id)[-1][1:] == ("published", reviewer["id"], "通过")

    def test_approving_twice_says_already_decided(self, app, client, in_review, reviewer, english):
        course_id = in_review()
        client.post(f"/review/courses/{course_id}/approve")
        second = client.post(f"/review/courses/{course_id}/approve")
        assert second.status_code == 302
        page = page_of(client.get(second.headers["Location"]))
        assert "already been decided" in page
        assert "not waiting for review" in page
        decisions = [e for e in events_of(app, course_id) if e[1] == "published"]
        assert len(decisions) == 1

    def test_returning_without_a_comment_is_explained_on_the_field(
        self, app, client, in_review, reviewer, english
    ):
        course_id = in_review()
        response = client.post(f"/review/courses/{course_id}/return", data={"return-comment": "  "})
        assert response.status_code == 400
        section = page_of(response).split('id="field-return-comment"')[1].split("</div>")[0]
        assert "Tell the author what to change" in section
        assert status_of(app, course_id) == "in_review"

    def test_returning_with_a_comment(self, app, client, in_review, reviewer):
        course_id = in_review()
        response = client.post(
            f"/review/courses/{course_id}/return", data={"return-comment": "缺少课后练习"}
        )
        assert response.status_code == 302
        assert status_of(app, course_id) == "draft"
        assert events_of(app, course_id)[-1] == (
            "in_review",
            "draft",
            reviewer["id"],
            "缺少课后练习",
        )

    def test_decision_forms_are_hidden_once_decided(self, client, make_course, reviewer, english):
        course_id = make_course()  # published
        page = page_of(client.get(f"/review/courses/{course_id}"))
        assert "not waiting for review" in page
        assert "approve-comment" not in page


def test_csrf_is_required_for_decisions(app, in_review, make_user):
    """With CSRF on (as in production), a decision without the page's token is refused."""
    course_id = in_review()
    reviewer = make_user(Role.REVIEWER)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        client = app.test_client()
        login_page = page_of(client.get("/login"))
        token = login_page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        signed_in = client.post(
            "/login",
            data={
                "identifier": reviewer["mobile"],
                "password": reviewer["password"],
                "csrf_token": token,
            },
        )
        assert signed_in.status_code == 302
        review_page = page_of(client.get(f"/review/courses/{course_id}"))
        assert 'name="approve-csrf_token"' in review_page
        assert client.post(f"/review/courses/{course_id}/approve").status_code == 400
        assert status_of(app, course_id) == "in_review"
        token = review_page.split('name="approve-csrf_token" type="hidden" value="')[1]
        response = client.post(
            f"/review/courses/{course_id}/approve",
            data={"approve-csrf_token": token.split('"')[0]},
        )
        assert response.status_code == 302
        assert status_of(app, course_id) == "published"
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
