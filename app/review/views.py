"""Reviewers work through the queue and publish courses or return them to their authors."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.authoring.queries import review_trail
from app.catalog.models import Course
from app.errors import DomainError
from app.extensions import db
from app.permissions import Role, access
from app.review import bp, queries, services
from app.review.forms import ApproveForm, ReturnForm
from app.review.services import AlreadyDecided
from app.web import attach_error

#: Rows per page of the queue and of the decisions, unless configured.
DEFAULT_PAGE_SIZE = 25


def _review_page(
    course: Course,
    *,
    approve_form: ApproveForm | None = None,
    return_form: ReturnForm | None = None,
    status: int = 200,
):
    """The course under review, re-rendered with a failed decision's errors."""
    return render_template(
        "review/course.html",
        course=course,
        trail=review_trail(course),
        submission=queries.latest_submissions([course]).get(course.id),
        approve_form=approve_form or ApproveForm(formdata=None),
        return_form=return_form or ReturnForm(formdata=None),
    ), status


def _already_decided(course: Course, exc: DomainError):
    """A second click or a colleague's decision: say so, change nothing, show the course."""
    db.session.rollback()
    flash(exc.message, "info")
    return redirect(url_for("review.course", course_id=course.id))


def _page_args() -> tuple[int, int]:
    page = max(request.args.get("page", 1, type=int), 1)
    return page, current_app.config.get("REVIEW_PAGE_SIZE", DEFAULT_PAGE_SIZE)


@bp.route("/")
@access(Role.REVIEWER, Role.ADMIN)
def queue():
    """Courses waiting for review, longest-waiting first, so none is forgotten."""
    page, per_page = _page_args()
    pagination = queries.review_queue(page=page, per_page=per_page)
    return render_template(
        "review/queue.html",
        pagination=pagination,
        submissions=queries.latest_submissions(pagination.items),
    )


@bp.route("/decided")
@access(Role.REVIEWER, Role.ADMIN)
def decided():
    """Recent approvals and returns, to look up what was decided and why."""
    page, per_page = _page_args()
    pagination, steps, courses = queries.recent_decisions(page=page, per_page=per_page)
    return render_template(
        "review/decided.html", pagination=pagination, steps=steps, courses=courses
    )


@bp.route("/courses/<int:course_id>")
@access(Role.REVIEWER, Role.ADMIN)
def course(course_id: int):
    """Everything a reviewer checks: details, lessons with previews, the author's note, trail."""
    return _review_page(queries.get_course_for_review_or_404(course_id))


@bp.route("/courses/<int:course_id>/approve", methods=["POST"])
@access(Role.REVIEWER, Role.ADMIN)
def approve(course_id: int):
    """Publish the course (a second click changes nothing and says so)."""
    course = queries.get_course_for_review_or_404(course_id)
    form = ApproveForm()
    if form.validate_on_submit():
        try:
            services.approve(db.session, current_user, course, form.comment.data or "")
            db.session.commit()
        except AlreadyDecided as exc:
            return _already_decided(course, exc)
        except DomainError as exc:
            db.session.rollback()
            attach_error(form, exc)
        else:
            flash(_("“%(title)s” is published.", title=course.title), "success")
            return redirect(url_for("review.queue"))
    return _review_page(course, approve_form=form, status=400)


@bp.route("/courses/<int:course_id>/return", methods=["POST"])
@access(Role.REVIEWER, Role.ADMIN)
def return_to_author(course_id: int):
    """Send the course back to draft with the reasons, which its author sees."""
    course = queries.get_course_for_review_or_404(course_id)
    form = ReturnForm()
    if form.validate_on_submit():
        try:
            services.return_to_author(db.session, current_user, course, form.comment.data or "")
            db.session.commit()
        except AlreadyDecided as exc:
            return _already_decided(course, exc)
        except DomainError as exc:
            db.session.rollback()
            attach_error(form, exc)
        else:
            flash(_("“%(title)s” is returned to its author.", title=course.title), "success")
            return redirect(url_for("review.queue"))
    return _review_page(course, return_form=form, status=400)
