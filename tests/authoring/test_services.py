"""Authoring rules: courses and lessons change only when their status allows, every move is
recorded, and a course goes to review only with every file processed."""

from __future__ import annotations

from decimal import Decimal

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from app.auth.models import User
from app.authoring import services
from app.authoring.queries import StepKind, pending_return, review_trail
from app.authoring.services import (
    EDITED_AFTER_PUBLICATION,
    WITHDRAWN_BY_AUTHOR,
    CourseData,
    LessonData,
    MediaNotReady,
    ReadOnlyCourse,
)
from app.catalog.models import Course, CourseEvent, CourseStatus, IllegalTransition, Lesson
from app.catalog.taxonomy import Category, Department, Field, LessonKind
from app.errors import Conflict, DomainError, NotAllowed
from app.media.models import MediaStatus
from app.permissions import Role
from app.review.services import return_to_author
from tests.authoring.fixtures import events_of, lesson_ids_of


def course_data(**overrides) -> CourseData:
    values = {
        "code": "zx-2026-100",
        "title": "  数据安全实务  ",
        "category": Category.PROFESSIONAL,
        "field": Field.CYBERSECURITY,
        "department": Department.CAC,
        "hours": "4.5",
        "years": (2026, 2025),
        "summary": "面向专业技术人员",
    }
    return CourseData(**{**values, **overrides})


@pytest.fixture
def author(session, make_author) -> User:
    return session.get(User, make_author()["id"])


def add_lessons(session, author: User, course: Course, *titles: str) -> list[Lesson]:
    return [services.add_lesson(session, author, course, LessonData(title)) for title in titles]


def positions(course: Course) -> list[tuple[str, int]]:
    return [(lesson.title, lesson.position) for lesson in course.lessons]


class TestCourses:
    def test_a_new_course_is_a_draft_of_the_authors_provider(self, session, author):
        course = services.create_course_for(session, author, course_data())
        assert course.status == CourseStatus.DRAFT
        assert course.provider_id == author.provider_id
        assert course.code == "ZX-2026-100"
        assert course.title == "数据安全实务"
        assert course.hours == Decimal("4.50")
        assert course.years == [2025, 2026]

    def test_an_author_without_provider_cannot_create_courses(self, session, make_user):
        loner = session.get(User, make_user(Role.AUTHOR)["id"])
        with pytest.raises(NotAllowed):
            services.create_course_for(session, loner, course_data())

    def test_course_codes_are_unique(self, session, author, make_course):
        services.create_course_for(session, author, course_data())
        with pytest.raises(Conflict) as caught:
            services.create_course_for(session, author, course_data(title="另一门"))
        assert caught.value.field == "code"

    def test_bad_hours_are_reported_on_their_field(self, session, author):
        with pytest.raises(DomainError) as caught:
            services.create_course_for(session, author, course_data(hours="0"))
        assert caught.value.field == "hours"

    def test_editing_a_draft_changes_it_and_records_no_step(self, session, author):
        course = services.create_course_for(session, author, course_data())
        services.update_course(
            session, author, course, course_data(title="新标题", hours="6", years=(2027,))
        )
        assert (course.title, course.hours, course.years) == ("新标题", Decimal("6.00"), [2027])
        assert course.status == CourseStatus.DRAFT
        assert session.scalars(select(CourseEvent).filter_by(course_id=course.id)).all() == []

    def test_editing_a_published_course_sends_it_back_to_draft_and_keeps_lesson_ids(
        self, app, session, make_author, make_course
    ):
        account = make_author()
        author = session.get(User, account["id"])
        course = session.get(Course, make_course(provider_id=account["provider_id"]))
        before = [lesson.id for lesson in course.lessons]
        services.update_course(
            session, author, course, course_data(code=course.code, title="修订版")
        )
        assert course.status == CourseStatus.DRAFT
        assert course.published_at is not None  # it was published once; the code stays
        assert [lesson.id for lesson in course.lessons] == before
        event = session.scalars(select(CourseEvent).filter_by(course_id=course.id)).one()
        assert (event.from_status, event.to_status) == (CourseStatus.PUBLISHED, CourseStatus.DRAFT)
        assert (event.actor_id, event.comment) == (author.id, EDITED_AFTER_PUBLICATION)
        assert event.at is not None

    def test_the_code_of_a_once_published_course_is_fixed(self, session, make_author, make_course):
        account = make_author()
        author = session.get(User, account["id"])
        course = session.get(Course, make_course(provider_id=account["provider_id"]))
        with pytest.raises(DomainError) as caught:
            services.update_course(session, author, course, course_data(code="NEW-CODE"))
        assert caught.value.field == "code"
        assert course.status == CourseStatus.PUBLISHED

    def test_editing_a_course_in_review_is_refused_until_withdrawn(
        self, session, make_author, make_course
    ):
        account = make_author()
        author = session.get(User, account["id"])
        course = session.get(
            Course, make_course(provider_id=account["provider_id"], status="in_review")
        )
        with force_locale("en"), pytest.raises(ReadOnlyCourse, match="Withdraw it from review"):
            services.update_course(session, author, course, course_data(code=course.code))
        assert course.status == CourseStatus.IN_REVIEW

    def test_retired_courses_are_read_only(self, session, make_author, make_course):
        account = make_author()
        author = session.get(User, account["id"])
        course = session.get(
            Course, make_course(provider_id=account["provider_id"], status="retired")
        )
        with pytest.raises(ReadOnlyCourse):
            services.update_course(session, author, course, course_data(code=course.code))
        with pytest.raises(ReadOnlyCourse):
            services.add_lesson(session, author, course, LessonData("新一讲"))
        with pytest.raises(ReadOnlyCourse):
            services.delete_lesson(session, author, course, course.lessons[0])

    def test_another_providers_author_may_not_touch_the_course(
        self, session, make_author, make_course
    ):
        course = session.get(Course, make_course(status="draft"))
        stranger = session.get(User, make_author()["id"])
        with pytest.raises(NotAllowed):
            services.update_course(session, stranger, course, course_data(code=course.code))
        with pytest.raises(NotAllowed):
            services.add_lesson(session, stranger, course, LessonData("偷偷加一讲"))
        with pytest.raises(NotAllowed):
            services.submit_for_review(session, stranger, course)


class TestLessons:
    def test_lessons_are_appended_in_order(self, session, author):
        course = services.create_course_for(session, author, course_data())
        add_lessons(session, author, course, "一", "二")
        services.add_lesson(
            session, author, course, LessonData("讲义", LessonKind.DOCUMENT, required_minutes=30)
        )
        assert positions(course) == [("一", 1), ("二", 2), ("讲义", 3)]
        assert course.lessons[2].required_minutes == 30
        assert course.lessons[0].required_minutes is None

    @pytest.mark.parametrize("minutes", [None, 0, 601])
    def test_documents_need_a_sensible_study_time(self, session, author, minutes):
        course = services.create_course_for(session, author, course_data())
        with pytest.raises(DomainError) as caught:
            services.add_lesson(
                session, author, course, LessonData("讲义", LessonKind.DOCUMENT, minutes)
            )
        assert caught.value.field == "required_minutes"

    def test_a_blank_title_is_refused(self, session, author):
        course = services.create_course_for(session, author, course_data())
        with pytest.raises(DomainError) as caught:
            services.add_lesson(session, author, course, LessonData("   "))
        assert caught.value.field == "title"

    def test_adding_a_lesson_to_a_published_course_reopens_it(
        self, session, make_author, make_course
    ):
        account = make_author()
        author = session.get(User, account["id"])
        course = session.get(Course, make_course(provider_id=account["provider_id"]))
        first = course.lessons[0].id
        services.add_lesson(session, author, course, LessonData("补充一讲"))
        assert course.status == CourseStatus.DRAFT
        assert course.lessons[0].id == first
        assert [e.comment for e in session.scalars(select(CourseEvent))] == [
            EDITED_AFTER_PUBLICATION
        ]

    def test_renaming_keeps_the_lesson_id(self, session, author):
        course = services.create_course_for(session, author, course_data())
        (lesson,) = add_lessons(session, author, course, "旧名")
        services.update_lesson(session, author, course, lesson, "新名")
        assert (lesson.title, session.get(Lesson, lesson.id).title) == ("新名", "新名")

    @pytest.mark.parametrize(
        ("moves", "expected"),
        [
            ([("C", -1)], "ACBD"),
            ([("A", 1)], "BACD"),
            ([("A", -1)], "ABCD"),  # already first
            ([("D", 1)], "ABCD"),  # already last
            ([("D", -1), ("D", -1), ("D", -1)], "DABC"),
            ([("A", 1), ("A", 1), ("A", 1), ("B", 1)], "CBDA"),
        ],
    )
    def test_moving_keeps_positions_unique_and_dense(self, session, author, moves, expected):
        course = services.create_course_for(session, author, course_data())
        lessons = {lesson.title: lesson for lesson in add_lessons(session, author, course, *"ABCD")}
        for title, offset in moves:
            services.move_lesson(session, author, course, lessons[title], offset)
        session.expire_all()
        rows = session.execute(
            select(Lesson.title, Lesson.position)
            .where(Lesson.course_id == course.id)
            .order_by(Lesson.position)
        ).all()
        assert "".join(title for title, _position in rows) == expected
        assert [position for _title, position in rows] == [1, 2, 3, 4]

    def test_deleting_closes_the_gap(self, session, author):
        course = services.create_course_for(session, author, course_data())
        lessons = add_lessons(session, author, course, "A", "B", "C")
        services.delete_lesson(session, author, course, lessons[1])
        session.expire_all()
        assert positions(session.get(Course, course.id)) == [("A", 1), ("C", 2)]
        assert session.get(Lesson, lessons[1].id) is None

    @pytest.mark.parametrize("status", ["in_review", "published", "retired"])
    def test_lessons_are_deleted_and_reordered_only_in_drafts(
        self, app, session, make_author, make_course, status
    ):
        account = make_author()
        author = session.get(User, account["id"])
        course_id = make_course(provider_id=account["provider_id"], status=status)
        course = session.get(Course, course_id)
        lesson = course.lessons[0]
        with pytest.raises(ReadOnlyCourse):
            services.move_lesson(session, author, course, lesson, 1)
        with pytest.raises(ReadOnlyCourse):
            services.delete_lesson(session, author, course, lesson)
        assert lesson_ids_of(app, course_id) == [lesson.id]
        assert course.status == CourseStatus(status)

    def test_a_lesson_of_another_course_is_refused(self, session, author):
        one = services.create_course_for(session, author, course_data())
        other = services.create_course_for(session, author, course_data(code="ZX-OTHER"))
        (lesson,) = add_lessons(session, author, other, "别处的")
        with pytest.raises(NotAllowed):
            services.delete_lesson(session, author, one, lesson)
        with pytest.raises(NotAllowed):
            services.move_lesson(session, author, one, lesson, 1)


class TestSubmission:
    def test_a_course_with_ready_files_goes_to_review(
        self, app, session, make_author, make_ready_course
    ):
        account = make_author()
        author = session.get(User, account["id"])
        course = session.get(Course, make_ready_course(account["provider_id"]))
        event = services.submit_for_review(session, author, course, "请重点看第一讲")
        assert course.status == CourseStatus.IN_REVIEW
        assert (event.from_status, event.to_status) == (CourseStatus.DRAFT, CourseStatus.IN_REVIEW)
        assert (event.actor_id, event.comment) == (author.id, "请重点看第一讲")

    def test_lessons_without_ready_files_are_named(
        self, app, session, make_author, make_course, attach_media
    ):
        account = make_author()
        course_id = make_course(provider_id=account["provider_id"], status="draft")
        author = session.get(User, account["id"])
        course = session.get(Course, course_id)
        add_lessons(session, author, course, "待处理一讲", "失败一讲", "就绪一讲", "无文件一讲")
        session.commit()
        first, pending, failed, ready, _none = lesson_ids_of(app, course_id)
        attach_media(first)
        attach_media(pending, MediaStatus.PROCESSING)
        attach_media(failed, MediaStatus.FAILED)
        attach_media(ready)
        session.expire_all()
        course = session.get(Course, course_id)
        with pytest.raises(MediaNotReady) as caught:
            services.submit_for_review(session, author, course)
        message = caught.value.message
        assert "待处理一讲" in message
        assert "失败一讲" in message
        assert "无文件一讲" in message
        assert "就绪一讲" not in message
        assert "第一讲" not in message
        assert course.status == CourseStatus.DRAFT

    def test_a_file_of_another_provider_does_not_count(
        self, app, session, make_author, make_course, make_provider, attach_media
    ):
        account = make_author()
        course_id = make_course(provider_id=account["provider_id"], status="draft")
        attach_media(lesson_ids_of(app, course_id)[0], provider_id=make_provider())
        author = session.get(User, account["id"])
        with pytest.raises(MediaNotReady):
            services.submit_for_review(session, author, session.get(Course, course_id))

    def test_a_course_without_lessons_cannot_be_submitted(self, session, author):
        course = services.create_course_for(session, author, course_data())
        with pytest.raises(IllegalTransition):
            services.submit_for_review(session, author, course)

    def test_submitting_twice_is_refused(self, session, make_author, make_ready_course):
        account = make_author()
        author = session.get(User, account["id"])
        course = session.get(Course, make_ready_course(account["provider_id"]))
        services.submit_for_review(session, author, course)
        with force_locale("en"), pytest.raises(IllegalTransition, match="already waiting"):
            services.submit_for_review(session, author, course)
        assert len(session.scalars(select(CourseEvent)).all()) == 1

    def test_withdrawing_returns_the_course_to_draft(
        self, app, session, make_author, make_ready_course
    ):
        account = make_author()
        author = session.get(User, account["id"])
        course = session.get(Course, make_ready_course(account["provider_id"]))
        services.submit_for_review(session, author, course)
        services.withdraw_from_review(session, author, course)
        session.commit()
        assert course.status == CourseStatus.DRAFT
        assert events_of(app, course.id) == [
            ("draft", "in_review", author.id, ""),
            ("in_review", "draft", author.id, WITHDRAWN_BY_AUTHOR),
        ]
        trail = review_trail(course)
        assert [step.kind for step in trail] == [StepKind.WITHDRAWN, StepKind.SUBMITTED]
        assert pending_return(course, trail) is None

    @pytest.mark.parametrize(
        ("status", "action"),
        [
            ("draft", "withdraw"),
            ("published", "withdraw"),
            ("retired", "withdraw"),
            ("published", "submit"),
            ("retired", "submit"),
        ],
    )
    def test_illegal_moves_are_refused_and_change_nothing(
        self, app, session, make_author, make_ready_course, status, action
    ):
        account = make_author()
        author = session.get(User, account["id"])
        course_id = make_ready_course(account["provider_id"], status=status)
        course = session.get(Course, course_id)
        move = {
            "withdraw": services.withdraw_from_review,
            "submit": services.submit_for_review,
        }[action]
        with pytest.raises(IllegalTransition):
            move(session, author, course)
        session.rollback()
        assert events_of(app, course_id) == []
        assert session.get(Course, course_id).status == CourseStatus(status)

    def test_a_reviewers_return_is_told_apart_from_a_withdrawal(
        self, session, make_author, make_ready_course, make_user
    ):
        account = make_author()
        author = session.get(User, account["id"])
        reviewer = session.get(User, make_user(Role.REVIEWER)["id"])
        course = session.get(Course, make_ready_course(account["provider_id"]))
        services.submit_for_review(session, author, course)
        return_to_author(session, reviewer, course, "请补充案例")
        trail = review_trail(course)
        assert trail[0].kind == StepKind.RETURNED
        assert pending_return(course, trail).comment == "请补充案例"


def test_lessons_of_a_once_published_course_are_never_deleted(session, make_author, make_course):
    """Learners' progress is keyed by lesson; a reopened course keeps every lesson."""
    account = make_author()
    author = session.get(User, account["id"])
    course = session.get(Course, make_course(provider_id=account["provider_id"]))
    services.update_course(session, author, course, course_data(code=course.code))
    assert course.status == CourseStatus.DRAFT
    with pytest.raises(ReadOnlyCourse):
        services.delete_lesson(session, author, course, course.lessons[0])
    assert len(course.lessons) == 1
