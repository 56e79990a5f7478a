"""Forms for the administration screens."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SearchField, SelectField, SelectMultipleField, SubmitField, widgets
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from app.permissions import Role


class UserSearchForm(FlaskForm):
    """Posted, not in the query string, so ID numbers stay out of URLs and access logs."""

    q = SearchField(_l("Name, mobile or ID number"), validators=[Optional(), Length(max=50)])
    submit = SubmitField(_l("Search"))


class ConfirmForm(FlaskForm):
    """An action button that needs nothing but a CSRF token."""

    submit = SubmitField(_l("Confirm"))


class RolesForm(FlaskForm):
    roles = SelectMultipleField(
        _l("Roles"),
        choices=[SelectChoice(role.value, role.label) for role in Role],
        widget=widgets.ListWidget(prefix_label=False),
        option_widget=widgets.CheckboxInput(),
    )
    provider_id = SelectField(
        _l("Provider (for authors)"),
        coerce=lambda v: int(v) if v else None,
        validators=[Optional()],
    )
    submit = SubmitField(_l("Save roles"))
