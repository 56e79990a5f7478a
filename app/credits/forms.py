"""Forms of the credit pages (input shape only)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice


class YearForm(FlaskForm):
    """Pick the year of the ledger (GET, no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    year = SelectField(_l("Year"), coerce=int)

    def __init__(self, *args, years: list[int], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.year.choices = [SelectChoice(year, str(year)) for year in years]
