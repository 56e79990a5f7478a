"""Forms for writing courses and lessons (input shape only; rules live in the services)."""

from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from app.authoring.services import (
    AUTHORED_LESSON_KINDS,
    MAX_REQUIRED_MINUTES,
    MIN_REQUIRED_MINUTES,
    CourseData,
    LessonData,
)
from app.catalog.models import Course
from app.catalog.services import parse_hours
from app.catalog.taxonomy import Category, Department, Field, LessonKind
from app.errors import DomainError
from app.web import format_hours

#: Letters, digits and - _ . as in ZX-2025-001; at most 32 characters.
CODE_PATTERN = re.compile(r"[A-Z0-9][A-Z0-9._-]{1,31}")
#: Years may be separated by commas (either width), 、, semicolons or spaces.
YEAR_SEPARATORS = re.compile(r"[\s,，、;；]+")
FIRST_YEAR, LAST_YEAR = 2000, 2100


def parse_years(text: str) -> tuple[int, ...]:
    """Read a list of years: "2025, 2026" → (2025, 2026), sorted and without repeats.

    :raises ValueError: with a message fit for the user.
    """
    parts = [part for part in YEAR_SEPARATORS.split(text or "") if part]
    if not parts:
        raise ValueError(_l("Enter at least one year, e.g. 2026."))
    years = set()
    for part in parts:
        if not part.isdigit() or not FIRST_YEAR <= int(part) <= LAST_YEAR:
            raise ValueError(
                _l(
                    "“%(value)s” is not a year from %(first)d to %(last)d.",
                    value=part[:10],
                    first=FIRST_YEAR,
                    last=LAST_YEAR,
                )
            )
        years.add(int(part))
    return tuple(sorted(years))


class CourseForm(FlaskForm):
    code = StringField(
        _l("Course code"),
        validators=[DataRequired(), Length(max=32)],
        description=_l("Letters, digits and hyphens, e.g. ZX-2026-001. Fixed once published."),
    )
    title = StringField(_l("Course title"), validators=[DataRequired(), Length(max=200)])
    summary = TextAreaField(
        _l("Summary"),
        validators=[Optional(), Length(max=4000)],
        description=_l("What learners will get from the course, shown on its page."),
        render_kw={"rows": 5},
    )
    category = RadioField(
        _l("Category"),
        choices=[SelectChoice(c.value, c.label) for c in Category],
        validators=[DataRequired(message=_l("Choose a category."))],
    )
    field = SelectField(
        _l("Field"),
        choices=[SelectChoice("", _l("Choose a field"))]
        + [SelectChoice(f.value, f.label) for f in Field],
        validators=[DataRequired(message=_l("Choose a field."))],
    )
    department = SelectField(
        _l("Competent department"),
        choices=[SelectChoice("", _l("Choose a department"))]
        + [SelectChoice(d.value, d.label) for d in Department],
        validators=[DataRequired(message=_l("Choose the competent department."))],
    )
    hours = StringField(
        _l("Credit hours"),
        validators=[DataRequired(), Length(max=10)],
        description=_l("Declared credit hours, up to two decimal places, e.g. 6 or 1.5."),
    )
    years = StringField(
        _l("Counts toward the years"),
        validators=[DataRequired(), Length(max=100)],
        description=_l("One or more years separated by commas, e.g. 2025, 2026."),
    )
    submit = SubmitField(_l("Save"))

    @classmethod
    def for_course(cls, course: Course, **kwargs: Any) -> CourseForm:
        """The form filled with the course as it is (posted values win)."""
        return cls(
            data={
                "code": course.code,
                "title": course.title,
                "summary": course.summary,
                "category": course.category.value,
                "field": course.field.value,
                "department": course.department.value,
                "hours": format_hours(course.hours),
                "years": ", ".join(str(year) for year in course.years),
            },
            **kwargs,
        )

    def validate_code(self, field: StringField) -> None:
        field.data = (field.data or "").strip().upper()
        if not CODE_PATTERN.fullmatch(field.data):
            raise ValidationError(_l("Use 2 to 32 letters, digits, hyphens, dots or underscores."))

    def validate_hours(self, field: StringField) -> None:
        try:
            parse_hours((field.data or "").strip())
        except DomainError as exc:
            raise ValidationError(exc.message) from exc

    def validate_years(self, field: StringField) -> None:
        try:
            parse_years(field.data or "")
        except ValueError as exc:
            raise ValidationError(str(exc.args[0])) from exc

    def to_data(self) -> CourseData:
        """The validated input for the services."""
        return CourseData(
            code=self.code.data,
            title=self.title.data or "",
            summary=self.summary.data or "",
            category=Category(self.category.data),
            field=Field(self.field.data),
            department=Department(self.department.data),
            hours=(self.hours.data or "").strip(),
            years=parse_years(self.years.data or ""),
        )


REQUIRED_MINUTES_HINT = _l("Documents only: the study time credited for reading it, in minutes.")


class LessonForm(FlaskForm):
    """Add a lesson; the file is uploaded to it afterwards."""

    title = StringField(_l("Lesson title"), validators=[DataRequired(), Length(max=200)])
    kind = RadioField(
        _l("Kind"),
        choices=[SelectChoice(k.value, k.label) for k in AUTHORED_LESSON_KINDS],
        default=LessonKind.VIDEO.value,
        validators=[DataRequired(message=_l("Choose video or document."))],
    )
    required_minutes = IntegerField(
        _l("Required study time (minutes)"),
        validators=[Optional(), NumberRange(MIN_REQUIRED_MINUTES, MAX_REQUIRED_MINUTES)],
        description=REQUIRED_MINUTES_HINT,
    )
    submit = SubmitField(_l("Add lesson"))

    # A document's missing study time is reported by the service, which knows the bounds.

    def to_data(self) -> LessonData:
        kind = LessonKind(self.kind.data)
        minutes = self.required_minutes.data if kind == LessonKind.DOCUMENT else None
        return LessonData(title=self.title.data or "", kind=kind, required_minutes=minutes)


class LessonEditForm(FlaskForm):
    """Rename a lesson; documents also carry their study time."""

    title = StringField(_l("Lesson title"), validators=[DataRequired(), Length(max=200)])
    required_minutes = IntegerField(
        _l("Required study time (minutes)"),
        validators=[Optional(), NumberRange(MIN_REQUIRED_MINUTES, MAX_REQUIRED_MINUTES)],
        description=REQUIRED_MINUTES_HINT,
    )
    submit = SubmitField(_l("Save"))


class SubmitForm(FlaskForm):
    comment = TextAreaField(
        _l("Note for the reviewer"),
        validators=[Optional(), Length(max=2000)],
        description=_l("Optional: what changed since the last review, anything to check."),
        render_kw={"rows": 3},
    )
    submit = SubmitField(_l("Submit for review"))


class MoveForm(FlaskForm):
    """Move a lesson one place; the buttons post ``direction``."""

    direction = SelectField(choices=[SelectChoice("up"), SelectChoice("down")])

    @property
    def offset(self) -> int:
        return -1 if self.direction.data == "up" else 1


class ActionForm(FlaskForm):
    """A button that needs nothing but a CSRF token (withdraw, delete)."""
