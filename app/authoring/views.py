"""Authors write their provider's courses and lessons and send them to review."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from app.authoring import bp, queries, services
from app.authoring.forms import (
    ActionForm,
    CourseForm,
    LessonEditForm,
    LessonForm,
    MoveForm,
    SubmitForm,
)
from app.catalog.models import Course
from app.errors import DomainError
from app.extensions import db
from app.permissions import Role, access
from app.web import attach_error

#: Courses per page of the author's list, unless configured.
DEFAULT_PAGE_SIZE = 25


def _course_page(
    course: Course,
    *,
    lesson_form: LessonForm | None = None,
    submit_form: SubmitForm | None = None,
    status: int = 200,
):
    """The course page, re-rendered with a failed form's errors when there is one."""
    trail = queries.review_trail(course)
    return render_template(
        "authoring/course.html",
        course=course,
        trail=trail,
        returned=queries.pending_return(course, trail),
        media=queries.media_of(course),
        lesson_form=lesson_form or LessonForm(formdata=None),
        submit_form=submit_form or SubmitForm(formdata=None),
    ), status


def _to_course(course: Course, anchor: str | None = None):
    return redirect(url_for("authoring.course", course_id=course.id, _anchor=anchor))


def _require(form: FlaskForm) -> None:
    """Buttons without inputs: a missing or stale CSRF token is a bad request."""
    if not form.validate_on_submit():
        abort(400)


@bp.route("/")
@bp.route("/courses")
@access(Role.AUTHOR)
def courses():
    """The provider's courses, most recently changed first, to pick up work where it was."""
    page = max(request.args.get("page", 1, type=int), 1)
    per_page = current_app.config.get("AUTHORING_PAGE_SIZE", DEFAULT_PAGE_SIZE)
    pagination = queries.provider_courses(current_user.provider_id, page=page, per_page=per_page)
    return render_template("authoring/courses.html", pagination=pagination)


@bp.route("/courses/new", methods=["GET", "POST"])
@access(Role.AUTHOR)
def new_course():
    """Start a course as a draft of the author's provider; lessons come next."""
    form = CourseForm()
    if form.validate_on_submit():
        try:
            course = services.create_course_for(db.session, current_user, form.to_data())
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            attach_error(form, exc)
        else:
            flash(_("The course is created as a draft. Add its lessons next."), "success")
            return _to_course(course, "lessons")
    return render_template("authoring/course_form.html", form=form, course=None)


@bp.route("/courses/<int:course_id>")
@access(Role.AUTHOR)
def course(course_id: int):
    """A course as its author works on it: lessons and their files, actions, review trail."""
    return _course_page(queries.get_own_course_or_404(course_id))


@bp.route("/courses/<int:course_id>/edit", methods=["GET", "POST"])
@access(Role.AUTHOR)
def edit_course(course_id: int):
    """Change a course's details; a published course goes back to draft and to review."""
    course = queries.get_own_course_or_404(course_id)
    form = CourseForm.for_course(course)
    if form.validate_on_submit():
        try:
            services.update_course(db.session, current_user, course, form.to_data())
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            attach_error(form, exc)
        else:
            flash(_("Changes saved."), "success")
            return _to_course(course)
    return render_template("authoring/course_form.html", form=form, course=course)


@bp.route("/courses/<int:course_id>/lessons", methods=["POST"])
@access(Role.AUTHOR)
def add_lesson(course_id: int):
    """Append a lesson; its file is uploaded to it afterwards."""
    course = queries.get_own_course_or_404(course_id)
    form = LessonForm()
    if form.validate_on_submit():
        try:
            services.add_lesson(db.session, current_user, course, form.to_data())
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            attach_error(form, exc)
        else:
            flash(_("Lesson added."), "success")
            return _to_course(course, "lessons")
    return _course_page(course, lesson_form=form, status=400)


@bp.route("/courses/<int:course_id>/lessons/<int:lesson_id>/edit", methods=["GET", "POST"])
@access(Role.AUTHOR)
def edit_lesson(course_id: int, lesson_id: int):
    """Rename a lesson (or change a document's study time); it keeps its id and file."""
    course = queries.get_own_course_or_404(course_id)
    lesson = queries.get_own_lesson_or_404(course, lesson_id)
    form = LessonEditForm(obj=lesson)
    if form.validate_on_submit():
        try:
            services.update_lesson(
                db.session,
                current_user,
                course,
                lesson,
                form.title.data or "",
                form.required_minutes.data,
            )
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            attach_error(form, exc)
        else:
            flash(_("Lesson saved."), "success")
            return _to_course(course, "lessons")
    return render_template("authoring/lesson_form.html", form=form, course=course, lesson=lesson)


@bp.route("/courses/<int:course_id>/lessons/<int:lesson_id>/delete", methods=["POST"])
@access(Role.AUTHOR)
def delete_lesson(course_id: int, lesson_id: int):
    """Remove a lesson from a draft; the others close the gap."""
    course = queries.get_own_course_or_404(course_id)
    lesson = queries.get_own_lesson_or_404(course, lesson_id)
    _require(ActionForm())
    try:
        services.delete_lesson(db.session, current_user, course, lesson)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        flash(_("Lesson removed."), "success")
    return _to_course(course, "lessons")


@bp.route("/courses/<int:course_id>/lessons/<int:lesson_id>/move", methods=["POST"])
@access(Role.AUTHOR)
def move_lesson(course_id: int, lesson_id: int):
    """Move a lesson of a draft one place up or down."""
    course = queries.get_own_course_or_404(course_id)
    lesson = queries.get_own_lesson_or_404(course, lesson_id)
    form = MoveForm()
    _require(form)
    try:
        services.move_lesson(db.session, current_user, course, lesson, form.offset)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    return _to_course(course, f"lesson-{lesson.id}")


@bp.route("/courses/<int:course_id>/submit", methods=["POST"])
@access(Role.AUTHOR)
def submit(course_id: int):
    """Send a draft to the reviewers; refused while a lesson has no ready file."""
    course = queries.get_own_course_or_404(course_id)
    form = SubmitForm()
    if form.validate_on_submit():
        try:
            services.submit_for_review(db.session, current_user, course, form.comment.data or "")
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            attach_error(form, exc)
        else:
            flash(_("Submitted for review. The reviewer's decision will appear here."), "success")
            return _to_course(course)
    return _course_page(course, submit_form=form, status=400)


@bp.route("/courses/<int:course_id>/withdraw", methods=["POST"])
@access(Role.AUTHOR)
def withdraw(course_id: int):
    """Take a course back from review to change it."""
    course = queries.get_own_course_or_404(course_id)
    _require(ActionForm())
    try:
        services.withdraw_from_review(db.session, current_user, course)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        flash(_("Withdrawn from review. The course is a draft again."), "success")
    return _to_course(course)
