"""The learner's dashboard and enrolment."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.catalog.queries import get_course_or_404
from app.errors import DomainError
from app.extensions import db
from app.learning import bp, queries, services
from app.permissions import SIGNED_IN, Role, access


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
