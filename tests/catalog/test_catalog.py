"""The catalog: what learners can find, filter and enrol in."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.catalog.models import Course, CourseStatus, IllegalTransition
from app.catalog.services import parse_hours
from app.catalog.taxonomy import Category, Field
from app.errors import DomainError, NotAllowed
from app.extensions import db
from app.learning.models import Enrolment
from app.learning.services import enrol
from app.permissions import Role


def titles(response) -> list[str]:
    page = response.get_data(as_text=True)
    return [part.split("</a>")[0].split(">")[-1] for part in page.split("<h3>")[1:]]


class TestBrowsing:
    def test_only_published_courses_are_listed(self, client, make_course):
        make_course(title="已发布课程")
        for status in ("draft", "in_review", "retired"):
            make_course(title=f"{status}课程", status=status)
        assert titles(client.get("/courses")) == ["已发布课程"]

    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            ("category=public", ["公需甲"]),
            ("category=professional", ["专业乙", "专业丙"]),
            ("field=cybersecurity", ["专业乙"]),
            ("year=2025", ["专业丙"]),
            ("q=乙", ["专业乙"]),
            ("q=100%25", []),
            ("category=bogus", ["公需甲", "专业乙", "专业丙"]),
        ],
    )
    def test_filters_and_title_search(self, client, make_course, query, expected):
        make_course(title="专业丙", years=(2025,), field=Field.NEW_ENERGY)
        make_course(title="专业乙", field=Field.CYBERSECURITY)
        make_course(title="公需甲", category=Category.PUBLIC, field=Field.OTHER)
        assert sorted(titles(client.get(f"/courses?{query}"))) == sorted(expected)

    def test_pages_of_twelve(self, client, make_course, make_provider):
        provider = make_provider()
        for n in range(14):
            make_course(title=f"课程{n:02d}", provider_id=provider)
        first, second = client.get("/courses"), client.get("/courses?page=2")
        assert len(titles(first)) == 12
        assert len(titles(second)) == 2
        assert 'rel="next"' in first.get_data(as_text=True)
        assert titles(client.get("/courses?page=99")) == []

    def test_a_course_page_shows_lessons_hours_and_provider(self, client, make_course):
        course_id = make_course(title="网络安全实务", hours="4.50")
        page = client.get(f"/courses/{course_id}").get_data(as_text=True)
        assert "网络安全实务" in page
        assert "第一讲" in page
        assert "4.5" in page
        assert "施教机构" in page

    def test_unpublished_courses_are_hidden_from_learners_but_not_from_staff(
        self, client, make_course, make_user, make_provider, login
    ):
        provider = make_provider()
        draft = make_course(status="draft", provider_id=provider)
        assert client.get(f"/courses/{draft}").status_code == 404
        login(make_user())
        assert client.get(f"/courses/{draft}").status_code == 404
        login(make_user(Role.AUTHOR, provider_id=make_provider()))
        assert client.get(f"/courses/{draft}").status_code == 404
        login(make_user(Role.AUTHOR, provider_id=provider))
        assert client.get(f"/courses/{draft}").status_code == 200
        login(make_user(Role.REVIEWER))
        assert client.get(f"/courses/{draft}").status_code == 200


class TestCourseRules:
    @pytest.mark.parametrize(
        ("raw", "hours"), [("3", "3.00"), ("1.5", "1.50"), ("0.005", "0.01"), (2, "2.00")]
    )
    def test_hours_have_two_decimal_places(self, raw, hours):
        assert parse_hours(raw) == Decimal(hours)

    @pytest.mark.parametrize("raw", ["0", "-1", "abc", "NaN", "Infinity", "1000"])
    def test_hours_must_be_a_positive_number(self, raw):
        with pytest.raises(DomainError):
            parse_hours(raw)

    def test_lifecycle_moves_only_along_allowed_transitions(self, session, make_course):
        course = session.get(Course, make_course(status="draft"))
        with pytest.raises(IllegalTransition):
            course.publish()
        course.submit_for_review()
        with pytest.raises(IllegalTransition):
            course.retire()
        course.publish()
        assert course.status == CourseStatus.PUBLISHED
        assert course.published_at is not None
        course.retire()
        with pytest.raises(IllegalTransition):
            course.submit_for_review()

    def test_a_course_without_lessons_cannot_be_submitted(self, session, make_course):
        course = session.get(Course, make_course(status="draft"))
        course.lessons.clear()
        with pytest.raises(IllegalTransition):
            course.submit_for_review()


class TestEnrolment:
    def test_enrolling_twice_keeps_one_enrolment(self, session, make_user, make_course):
        from app.auth.models import User

        user = session.get(User, make_user()["id"])
        course = session.get(Course, make_course())
        first, created = enrol(session, user, course)
        again, created_again = enrol(session, user, course)
        assert (created, created_again) == (True, False)
        assert first.id == again.id

    def test_only_learners_enrol_and_only_in_published_courses(
        self, session, make_user, make_course
    ):
        from app.auth.models import User

        reviewer = session.get(User, make_user(Role.REVIEWER)["id"])
        learner = session.get(User, make_user()["id"])
        with pytest.raises(NotAllowed):
            enrol(session, reviewer, session.get(Course, make_course()))
        with pytest.raises(NotAllowed):
            enrol(session, learner, session.get(Course, make_course(status="retired")))

    def test_the_dashboard_lists_my_courses_and_not_others(
        self, app, client, make_user, make_course, login
    ):
        mine, theirs = make_course(title="我的课程"), make_course(title="别人的课程")
        other = make_user()
        login(other)
        client.post(f"/courses/{theirs}/enrol")
        login(make_user())
        response = client.post(f"/courses/{mine}/enrol")
        assert response.headers["Location"].endswith("/dashboard")
        client.post(f"/courses/{mine}/enrol")  # double click
        page = client.get("/dashboard").get_data(as_text=True)
        assert "我的课程" in page
        assert "别人的课程" not in page
        with app.app_context():
            assert db.session.scalar(select(func.count(Enrolment.id))) == 2
