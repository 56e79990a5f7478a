"""Authoring pages: authors see and change only their provider's courses, and every refusal
is explained next to the input it concerns."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.catalog.models import Course, Lesson
from app.extensions import db
from app.i18n import LOCALE_COOKIE
from app.media.models import MediaStatus
from app.permissions import Role
from tests.authoring.fixtures import events_of, lesson_ids_of, status_of

NEW_COURSE = {
    "code": "zx-2026-200",
    "title": "新能源汽车电池安全",
    "summary": "电池热失控与防护",
    "category": "professional",
    "field": "new_energy_vehicles",
    "department": "miit",
    "hours": "3.5",
    "years": "2026，2025",
}


@pytest.fixture
def english(client):
    """Assert on English texts, whatever the Chinese catalog says."""
    client.set_cookie(LOCALE_COOKIE, "en")


@pytest.fixture
def signed_in_author(login, make_author):
    account = make_author()
    login(account)
    return account


def page_of(response) -> str:
    return response.get_data(as_text=True)


class TestAccess:
    @pytest.mark.parametrize("role", [Role.LEARNER, Role.HR, Role.REVIEWER, Role.ADMIN])
    def test_only_authors_enter(self, client, login, make_user, role):
        login(make_user(role))
        for path in ("/author/", "/author/courses", "/author/courses/new"):
            assert client.get(path).status_code == 403

    def test_anonymous_visitors_are_sent_to_sign_in(self, client):
        response = client.get("/author/courses")
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]

    @pytest.mark.parametrize(
        ("method", "path"),
        [
            ("GET", "/author/courses/{course}"),
            ("GET", "/author/courses/{course}/edit"),
            ("POST", "/author/courses/{course}/edit"),
            ("POST", "/author/courses/{course}/lessons"),
            ("GET", "/author/courses/{course}/lessons/{lesson}/edit"),
            ("POST", "/author/courses/{course}/lessons/{lesson}/edit"),
            ("POST", "/author/courses/{course}/lessons/{lesson}/delete"),
            ("POST", "/author/courses/{course}/lessons/{lesson}/move"),
            ("POST", "/author/courses/{course}/submit"),
            ("POST", "/author/courses/{course}/withdraw"),
        ],
    )
    @pytest.mark.parametrize("status", ["draft", "in_review", "published"])
    def test_another_providers_course_is_not_found(
        self, app, client, make_course, signed_in_author, method, path, status
    ):
        course_id = make_course(status=status)  # of a provider of its own
        lesson_id = lesson_ids_of(app, course_id)[0]
        url = path.format(course=course_id, lesson=lesson_id)
        response = client.open(url, method=method, data={"direction": "up", "title": "x"})
        assert response.status_code == 404
        assert status_of(app, course_id) == status

    def test_a_lesson_of_another_course_is_not_found(
        self, app, client, make_course, signed_in_author
    ):
        mine = make_course(status="draft", provider_id=signed_in_author["provider_id"])
        theirs = lesson_ids_of(app, make_course(status="draft"))[0]
        assert client.get(f"/author/courses/{mine}/lessons/{theirs}/edit").status_code == 404

    def test_the_list_shows_only_my_providers_courses(
        self, client, make_course, signed_in_author, english
    ):
        make_course(title="我的草稿", status="draft", provider_id=signed_in_author["provider_id"])
        make_course(title="我的已发布", provider_id=signed_in_author["provider_id"])
        make_course(title="别人的课程", status="draft")
        page = page_of(client.get("/author/courses"))
        assert "我的草稿" in page
        assert "我的已发布" in page
        assert "别人的课程" not in page
        assert "Draft" in page
        assert "Published" in page

    def test_an_author_without_provider_is_told_so(self, client, login, make_user, english):
        login(make_user(Role.AUTHOR))
        page = page_of(client.get("/author/courses"))
        assert "not linked to a provider" in page
        assert "/author/courses/new" not in page

    def test_nav_and_dashboard_lead_authors_to_their_courses(
        self, client, signed_in_author, english
    ):
        assert 'href="/author/courses"' in page_of(client.get("/dashboard"))
        assert 'href="/review/"' not in page_of(client.get("/dashboard"))


class TestCourseForm:
    def test_creating_a_course(self, app, client, signed_in_author):
        response = client.post("/author/courses/new", data=NEW_COURSE)
        assert response.status_code == 302
        with app.app_context():
            course = db.session.scalar(select(Course).filter_by(code="ZX-2026-200"))
            assert course.provider_id == signed_in_author["provider_id"]
            assert course.years == [2025, 2026]
            assert str(course.hours) == "3.50"
            assert response.headers["Location"].endswith(f"/author/courses/{course.id}#lessons")

    @pytest.mark.parametrize(
        ("field", "value", "message"),
        [
            ("hours", "abc", "Enter the hours as a number"),
            ("hours", "0", "between 0.01 and 999.99"),
            ("years", "1999", "is not a year from 2000 to 2100"),
            ("years", "2026, soon", "“soon” is not a year"),
            ("years", " , ", "Enter at least one year"),
            ("code", "课程一", "Use 2 to 32 letters"),
            ("field", "", "Choose a field."),
            ("department", "nowhere", "Not a valid choice"),
            ("title", "", "This field is required"),
        ],
    )
    def test_bad_input_is_explained_next_to_its_field(
        self, client, signed_in_author, english, field, value, message
    ):
        response = client.post("/author/courses/new", data={**NEW_COURSE, field: value})
        assert response.status_code == 200
        page = page_of(response)
        section = page.split(f'id="field-{field}"')[1].split('<div class="field')[0]
        assert message in section

    def test_a_taken_code_is_reported_on_the_code_field(
        self, client, make_course, signed_in_author, english
    ):
        client.post("/author/courses/new", data=NEW_COURSE)
        response = client.post("/author/courses/new", data={**NEW_COURSE, "title": "重复"})
        section = page_of(response).split('id="field-code"')[1]
        assert "already exists" in section.split('<div class="field')[0]

    def test_editing_a_published_course_sends_it_back_to_draft(
        self, app, client, make_course, signed_in_author, english
    ):
        course_id = make_course(provider_id=signed_in_author["provider_id"])
        form = client.get(f"/author/courses/{course_id}/edit")
        assert "takes it out of the catalog" in page_of(form)
        with app.app_context():
            code = db.session.get(Course, course_id).code
        data = {**NEW_COURSE, "code": code, "title": "修订后的标题"}
        response = client.post(f"/author/courses/{course_id}/edit", data=data)
        assert response.status_code == 302
        assert status_of(app, course_id) == "draft"
        assert events_of(app, course_id)[-1][:2] == ("published", "draft")
        page = page_of(client.get(f"/author/courses/{course_id}"))
        assert "修订后的标题" in page
        assert "Reopened for changes" in page
        client.post("/logout")
        assert client.get(f"/courses/{course_id}").status_code == 404  # out of the catalog

    def test_editing_a_course_in_review_explains_what_to_do(
        self, app, client, make_course, signed_in_author, english
    ):
        course_id = make_course(provider_id=signed_in_author["provider_id"], status="in_review")
        with app.app_context():
            code = db.session.get(Course, course_id).code
        response = client.post(
            f"/author/courses/{course_id}/edit", data={**NEW_COURSE, "code": code}
        )
        assert response.status_code == 200
        assert "Withdraw it from review first" in page_of(response)
        assert status_of(app, course_id) == "in_review"

    def test_a_retired_course_offers_no_save_button(
        self, client, make_course, signed_in_author, english
    ):
        course_id = make_course(provider_id=signed_in_author["provider_id"], status="retired")
        page = page_of(client.get(f"/author/courses/{course_id}/edit"))
        assert "can no longer be changed" in page
        assert 'type="submit"' not in page.split('<main id="content"')[1]


class TestLessonsOnTheCoursePage:
    def test_lessons_are_listed_with_their_file_state(
        self, app, client, make_course, signed_in_author, attach_media, english
    ):
        course_id = make_course(provider_id=signed_in_author["provider_id"], status="draft")
        client.post(
            f"/author/courses/{course_id}/lessons", data={"title": "第二讲", "kind": "video"}
        )
        client.post(
            f"/author/courses/{course_id}/lessons",
            data={"title": "阅读材料", "kind": "document", "required_minutes": "20"},
        )
        first, second, third = lesson_ids_of(app, course_id)
        attach_media(first)
        attach_media(second, MediaStatus.FAILED)
        page = page_of(client.get(f"/author/courses/{course_id}"))
        assert page.index("第一讲") < page.index("第二讲") < page.index("阅读材料")
        assert "Ready" in page
        assert "Processing failed" in page
        assert "No file yet" in page
        assert "20 min of reading" in page
        assert f'id="lesson-media-{third}"' in page

    def test_a_document_without_study_time_is_explained(
        self, app, client, make_course, signed_in_author, english
    ):
        course_id = make_course(provider_id=signed_in_author["provider_id"], status="draft")
        response = client.post(
            f"/author/courses/{course_id}/lessons", data={"title": "讲义", "kind": "document"}
        )
        assert response.status_code == 400
        section = page_of(response).split('id="field-required_minutes"')[1]
        assert "Enter the study time of the document" in section.split("</div>")[0]
        assert len(lesson_ids_of(app, course_id)) == 1

    def test_moving_and_deleting(self, app, client, make_course, signed_in_author):
        course_id = make_course(provider_id=signed_in_author["provider_id"], status="draft")
        for title in ("B", "C"):
            client.post(f"/author/courses/{course_id}/lessons", data={"title": title})
        a, b, c = lesson_ids_of(app, course_id)
        response = client.post(
            f"/author/courses/{course_id}/lessons/{c}/move", data={"direction": "up"}
        )
        assert response.headers["Location"].endswith(f"#lesson-{c}")
        assert lesson_ids_of(app, course_id) == [a, c, b]
        client.post(f"/author/courses/{course_id}/lessons/{a}/delete")
        assert lesson_ids_of(app, course_id) == [c, b]
        with app.app_context():
            positions = db.session.scalars(
                select(Lesson.position).where(Lesson.course_id == course_id).order_by(Lesson.id)
            ).all()
        assert sorted(positions) == [1, 2]

    def test_an_unknown_direction_is_a_bad_request(
        self, app, client, make_course, signed_in_author
    ):
        course_id = make_course(provider_id=signed_in_author["provider_id"], status="draft")
        lesson = lesson_ids_of(app, course_id)[0]
        url = f"/author/courses/{course_id}/lessons/{lesson}/move"
        assert client.post(url, data={"direction": "sideways"}).status_code == 400

    def test_deleting_from_a_published_course_is_refused_with_a_reason(
        self, app, client, make_course, signed_in_author, english
    ):
        course_id = make_course(provider_id=signed_in_author["provider_id"])
        lesson = lesson_ids_of(app, course_id)[0]
        response = client.post(
            f"/author/courses/{course_id}/lessons/{lesson}/delete", follow_redirects=True
        )
        assert "only while the course is a draft" in page_of(response)
        assert lesson_ids_of(app, course_id) == [lesson]

    def test_renaming_a_lesson(self, app, client, make_course, signed_in_author):
        course_id = make_course(provider_id=signed_in_author["provider_id"], status="draft")
        lesson = lesson_ids_of(app, course_id)[0]
        url = f"/author/courses/{course_id}/lessons/{lesson}/edit"
        assert "第一讲" in page_of(client.get(url))
        assert client.post(url, data={"title": "导论"}).status_code == 302
        assert "导论" in page_of(client.get(f"/author/courses/{course_id}"))


class TestSubmitAndWithdraw:
    def test_submitting_with_unprocessed_files_names_the_lessons(
        self, app, client, make_course, signed_in_author, attach_media, english
    ):
        course_id = make_course(provider_id=signed_in_author["provider_id"], status="draft")
        client.post(f"/author/courses/{course_id}/lessons", data={"title": "尚未上传"})
        attach_media(lesson_ids_of(app, course_id)[0], MediaStatus.PENDING)
        response = client.post(f"/author/courses/{course_id}/submit")
        assert response.status_code == 400
        page = page_of(response)
        assert "Every lesson needs a processed file" in page
        assert "1. 第一讲" in page
        assert "2. 尚未上传" in page
        assert status_of(app, course_id) == "draft"

    def test_submitting_and_withdrawing(
        self, app, client, make_ready_course, signed_in_author, english
    ):
        course_id = make_ready_course(signed_in_author["provider_id"])
        response = client.post(f"/author/courses/{course_id}/submit", data={"comment": "请审核"})
        assert response.status_code == 302
        assert status_of(app, course_id) == "in_review"
        page = page_of(client.get(f"/author/courses/{course_id}"))
        assert "Withdraw from review" in page
        assert "请审核" in page
        client.post(f"/author/courses/{course_id}/withdraw")
        assert status_of(app, course_id) == "draft"
        again = client.post(f"/author/courses/{course_id}/withdraw", follow_redirects=True)
        assert "not in review any more" in page_of(again)
        assert [event[:2] for event in events_of(app, course_id)] == [
            ("draft", "in_review"),
            ("in_review", "draft"),
        ]
