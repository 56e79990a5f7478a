"""Browsing the catalog and viewing a course."""

from __future__ import annotations

from flask import current_app, render_template, request
from flask_login import current_user

from app.catalog import bp, queries
from app.catalog.forms import CatalogFilterForm
from app.learning.queries import enrolment_for
from app.permissions import PUBLIC, access, can_enrol


@bp.route("/courses")
@access(PUBLIC)
def index():
    """Published courses with filters, title search and pages."""
    form = CatalogFilterForm(request.args, years=queries.catalog_years())
    filters = form.to_filter()
    page = request.args.get("page", 1, type=int)
    pagination = queries.published_courses(
        filters, page=max(page, 1), per_page=current_app.config["CATALOG_PAGE_SIZE"]
    )
    return render_template("catalog/index.html", form=form, filters=filters, pagination=pagination)


@bp.route("/courses/<int:course_id>")
@access(PUBLIC)
def course(course_id: int):
    """A course page: summary, lessons, hours, provider, and the enrol button."""
    course = queries.get_course_or_404(course_id)
    enrolment = enrolment_for(current_user, course) if current_user.is_authenticated else None
    return render_template(
        "catalog/course.html",
        course=course,
        enrolment=enrolment,
        may_enrol=can_enrol(current_user, course),
    )
