"""The catalog's filter form (GET, no CSRF: it changes nothing)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SearchField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from app.catalog.queries import CatalogFilter
from app.catalog.taxonomy import Category, Field


class CatalogFilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = SearchField(_l("Search titles"), validators=[Optional(), Length(max=100)])
    category = SelectField(
        _l("Category"),
        choices=[SelectChoice("", _l("All categories"))]
        + [SelectChoice(c.value, c.label) for c in Category],
        validators=[Optional()],
    )
    field = SelectField(
        _l("Field"),
        choices=[SelectChoice("", _l("All fields"))]
        + [SelectChoice(f.value, f.label) for f in Field],
        validators=[Optional()],
    )
    year = SelectField(
        _l("Year"), choices=[SelectChoice("", _l("All years"))], validators=[Optional()]
    )

    def __init__(self, *args, years: list[int], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.year.choices = [SelectChoice("", _l("All years"))] + [
            SelectChoice(str(y)) for y in years
        ]

    def to_filter(self) -> CatalogFilter:
        """The valid parts of the query string; unknown values are simply ignored."""
        valid = self.validate()
        return CatalogFilter(
            category=Category(self.category.data) if valid and self.category.data else None,
            field=Field(self.field.data) if valid and self.field.data else None,
            year=int(self.year.data) if valid and self.year.data else None,
            text=(self.q.data or "").strip()[:100] if valid else "",
        )
