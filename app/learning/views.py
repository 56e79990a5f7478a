"""The learner's dashboard and enrolment."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.catalog.queries import get_course_or_404
from app.errors import DomainError
from app.extensions import db
from app.learning import bp, queries, services
from app.media.queries import asset_of, playback_urls
from app.permissions import SIGNED_IN, Role, access, can_study


@bp.route("/dashboard")
@access(SIGNED_IN)
def dashboard():
    """My courses, and shortcuts for the roles the user holds."""
    return render_template(
        "learning/dashboard.html", enrolments=queries.enrolments_of(current_user.id)
    )


@bp.route("/courses/<int:course_id>/enrol", methods=["POST"])
@access(Role.LEARNER)
def enrol(course_id: int):
    """Enrol the current learner (safe to submit twice)."""
    course = get_course_or_404(course_id)
    try:
        _enrolment, created = services.enrol(db.session, current_user, course)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("catalog.course", course_id=course.id))
    if created:
        flash(_("You are enrolled in “%(title)s”.", title=course.title), "success")
    else:
        flash(_("You were already enrolled in this course."), "info")
    return redirect(url_for("learning.dashboard"))


@bp.route("/courses/<int:course_id>/lessons/<int:lesson_id>")
@access(SIGNED_IN)
def lesson(course_id: int, lesson_id: int):
    """Study one lesson: the video player or the document, with the course outline."""
    course = get_course_or_404(course_id)
    lesson = next((item for item in course.lessons if item.id == lesson_id), None)
    if lesson is None:
        abort(404)
    enrolled = queries.enrolment_for(current_user, course) is not None
    if not can_study(current_user, course, enrolled):
        flash(_("Enrol in the course to study its lessons."), "info")
        return redirect(url_for("catalog.course", course_id=course.id))
    asset = asset_of(lesson.media_asset_id)
    position = course.lessons.index(lesson)
    return render_template(
        "learning/lesson.html",
        course=course,
        lesson=lesson,
        asset=asset,
        urls=playback_urls(asset),
        course_progress=queries.course_progress(current_user.id, course),
        previous=course.lessons[position - 1] if position > 0 else None,
        following=course.lessons[position + 1] if position + 1 < len(course.lessons) else None,
    )
