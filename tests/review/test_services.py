"""Review decisions: only courses in review are decided, once, by someone other than their
authors, with reasons when they are returned, and every decision is on the record."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.auth.models import User
from app.authoring import services as authoring
from app.authoring.services import MediaNotReady
from app.catalog.models import Course, CourseEvent, CourseStatus
from app.db import utcnow
from app.errors import DomainError, NotAllowed
from app.media.models import MediaAsset, MediaStatus
from app.permissions import Role
from app.review import queries
from app.review.services import AlreadyDecided, approve, return_to_author


@pytest.fixture
def reviewer(session, make_user) -> User:
    return session.get(User, make_user(Role.REVIEWER)["id"])


@pytest.fixture
def submitted(session, make_author, make_ready_course):
    """Submit a fresh course of a new provider; returns (course, author)."""

    def submit(title: str | None = None, now=None) -> tuple[Course, User]:
        account = make_author()
        author = session.get(User, account["id"])
        kwargs = {"title": title} if title else {}
        course = session.get(Course, make_ready_course(account["provider_id"], **kwargs))
        authoring.submit_for_review(session, author, course, now=now)
        return course, author

    return submit


def audit_actions(session, course: Course) -> list[str]:
    return list(
        session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.target == f"course:{course.id}")
            .order_by(AuditEvent.id)
        )
    )


class TestApprove:
    def test_approving_publishes_and_records_the_decision(self, session, reviewer, submitted):
        course, _author = submitted()
        event = approve(session, reviewer, course, "  内容完整  ")
        assert course.status == CourseStatus.PUBLISHED
        assert course.published_at is not None
        assert (event.from_status, event.to_status) == (
            CourseStatus.IN_REVIEW,
            CourseStatus.PUBLISHED,
        )
        assert (event.actor_id, event.comment) == (reviewer.id, "内容完整")
        assert audit_actions(session, course) == ["review.approved"]

    def test_a_comment_is_optional(self, session, reviewer, submitted):
        course, _author = submitted()
        assert approve(session, reviewer, course).comment == ""

    def test_approving_twice_writes_one_decision(self, session, reviewer, submitted):
        course, _author = submitted()
        approve(session, reviewer, course)
        with pytest.raises(AlreadyDecided):
            approve(session, reviewer, course)
        decisions = session.scalars(
            select(CourseEvent).filter_by(course_id=course.id, to_status=CourseStatus.PUBLISHED)
        ).all()
        assert len(decisions) == 1
        assert audit_actions(session, course) == ["review.approved"]

    def test_a_course_whose_file_failed_meanwhile_is_not_published(
        self, app, session, reviewer, submitted
    ):
        course, _author = submitted()
        asset = session.get(MediaAsset, course.lessons[0].media_asset_id)
        asset.status = MediaStatus.FAILED
        with pytest.raises(MediaNotReady, match=course.lessons[0].title):
            approve(session, reviewer, course)
        assert course.status == CourseStatus.IN_REVIEW

    @pytest.mark.parametrize("status", ["draft", "published", "retired"])
    def test_only_courses_in_review_are_decided(self, session, reviewer, make_course, status):
        course = session.get(Course, make_course(status=status))
        with pytest.raises(AlreadyDecided):
            approve(session, reviewer, course)
        with pytest.raises(AlreadyDecided):
            return_to_author(session, reviewer, course, "请修改")
        assert course.status == CourseStatus(status)
        assert session.scalars(select(CourseEvent)).all() == []

    def test_administrators_review_too(self, session, make_user, submitted):
        admin = session.get(User, make_user(Role.ADMIN)["id"])
        course, _author = submitted()
        approve(session, admin, course)
        assert course.status == CourseStatus.PUBLISHED

    def test_nobody_decides_on_their_own_providers_course(self, session, make_author, submitted):
        course, _author = submitted()
        colleague = session.get(User, make_author(course.provider_id, Role.REVIEWER)["id"])
        with pytest.raises(NotAllowed):
            approve(session, colleague, course)
        with pytest.raises(NotAllowed):
            return_to_author(session, colleague, course, "自己审自己")
        assert course.status == CourseStatus.IN_REVIEW

    def test_learners_and_authors_cannot_decide(self, session, make_user, submitted):
        course, author = submitted()
        learner = session.get(User, make_user(Role.LEARNER)["id"])
        for someone in (learner, author):
            with pytest.raises(NotAllowed):
                approve(session, someone, course)


class TestReturn:
    def test_returning_needs_a_comment(self, session, reviewer, submitted):
        course, _author = submitted()
        with pytest.raises(DomainError) as caught:
            return_to_author(session, reviewer, course, "   ")
        assert caught.value.field == "comment"
        assert course.status == CourseStatus.IN_REVIEW

    def test_returning_sends_the_course_back_with_the_reasons(self, session, reviewer, submitted):
        course, author = submitted()
        event = return_to_author(session, reviewer, course, "第二讲声音太小\n请重新录制")
        assert course.status == CourseStatus.DRAFT
        assert (event.from_status, event.to_status) == (CourseStatus.IN_REVIEW, CourseStatus.DRAFT)
        assert event.comment == "第二讲声音太小\n请重新录制"
        assert audit_actions(session, course) == ["review.returned"]
        # The author can change it and send it again.
        authoring.submit_for_review(session, author, course)
        assert course.status == CourseStatus.IN_REVIEW

    def test_a_withdrawn_course_cannot_be_decided(self, session, reviewer, submitted):
        course, author = submitted()
        authoring.withdraw_from_review(session, author, course)
        with pytest.raises(AlreadyDecided):
            return_to_author(session, reviewer, course, "太迟了")


class TestQueue:
    def test_the_longest_waiting_course_comes_first(self, session, submitted):
        now = utcnow()
        late, _ = submitted("后提交", now=now)
        early, early_author = submitted("先提交", now=now - timedelta(days=2))
        session.commit()
        page = queries.review_queue(page=1, per_page=10)
        assert [course.title for course in page.items] == ["先提交", "后提交"]
        submissions = queries.latest_submissions(page.items)
        assert submissions[early.id].actor_name == early_author.name
        assert submissions[late.id].event.at == now

    def test_recent_decisions_leave_withdrawals_out(self, session, reviewer, submitted):
        approved, _ = submitted("通过的")
        returned, _ = submitted("退回的")
        withdrawn, withdrawn_author = submitted("撤回的")
        approve(session, reviewer, approved)
        return_to_author(session, reviewer, returned, "请补充")
        authoring.withdraw_from_review(session, withdrawn_author, withdrawn)
        session.commit()
        pagination, steps, courses = queries.recent_decisions(page=1, per_page=10)
        assert pagination.total == 2
        assert sorted(courses[step.event.course_id].title for step in steps) == sorted(
            ["通过的", "退回的"]
        )
