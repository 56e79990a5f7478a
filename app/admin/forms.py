"""Forms for the administration screens."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    Field,
    IntegerField,
    SearchField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    widgets,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from app.credits.models import RulePack
from app.credits.rules import PROVINCE_NAMES
from app.credits.services import (
    NewPackData,
    PackData,
    format_share,
    pack_problems,
    parse_decimal,
    parse_share,
)
from app.permissions import Role
from app.web import format_hours


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


def _number(field: Field) -> None:
    try:
        parse_decimal(field.data or "")
    except ValueError as exc:
        raise ValidationError(_l("Enter a number, e.g. 90 or 1.5.")) from exc


def _parsed(parse: Callable[[str], Decimal], text: str | None) -> Decimal | None:
    """The parsed value, or None when empty or not a number (the field reports that)."""
    try:
        return parse(text) if (text or "").strip() else None
    except ValueError:
        return None


class RulePackForm(FlaskForm):
    """The name and numbers of a rule pack; a new version starts from the one it is based on.

    Bounds are the services'; they are checked here too so every field shows its error.
    """

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    minutes_per_hour = IntegerField(
        _l("Minutes per credit hour"),
        validators=[InputRequired()],
        default=45,
        description=_l("Effective study time that makes one credit hour; usually 45."),
    )
    annual_hours = StringField(
        _l("Annual requirement (credit hours)"),
        validators=[DataRequired(), Length(max=10)],
        default="90",
        description=_l("Usually 90."),
    )
    professional_share = StringField(
        _l("Least share of professional subjects"),
        validators=[DataRequired(), Length(max=20)],
        default="2/3",
        description=_l("A fraction, decimal or percentage from 0 to 1, e.g. 2/3."),
    )
    public_cap_hours = StringField(
        _l("Public-subject cap (credit hours)"),
        validators=[Optional(), Length(max=10)],
        description=_l("Most public-subject hours that count in a year; empty for no cap."),
    )
    daily_cap_hours = StringField(
        _l("Daily cap (credit hours)"),
        validators=[DataRequired(), Length(max=10)],
        default="8",
        description=_l("Most credit hours of study credited in one day."),
    )
    submit = SubmitField(_l("Create the new version"))

    @classmethod
    def for_pack(cls, pack: RulePack, **kwargs: Any) -> RulePackForm:
        """The form filled with the pack's values (posted values win)."""
        return cls(
            data={
                "name": pack.name,
                "minutes_per_hour": pack.minutes_per_hour,
                "annual_hours": format_hours(pack.annual_hours),
                "professional_share": format_share(pack.professional_share),
                "public_cap_hours": (
                    "" if pack.public_cap_hours is None else format_hours(pack.public_cap_hours)
                ),
                "daily_cap_hours": format_hours(pack.daily_cap_hours),
            },
            **kwargs,
        )

    def validate_annual_hours(self, field: StringField) -> None:
        _number(field)

    def validate_public_cap_hours(self, field: StringField) -> None:
        if (field.data or "").strip():
            _number(field)

    def validate_daily_cap_hours(self, field: StringField) -> None:
        _number(field)

    def validate_professional_share(self, field: StringField) -> None:
        try:
            parse_share(field.data or "")
        except ValueError as exc:
            raise ValidationError(_l("Enter a fraction or decimal, e.g. 2/3 or 0.6667.")) from exc

    def validate(self, extra_validators: Any = None) -> bool:
        """Shape, then the bounds of every well-formed value, each error next to its field."""
        valid = super().validate(extra_validators)
        problems = pack_problems(self._data_class()(**self._values()))
        for name, message in problems.items():
            if not self[name].errors:
                self[name].errors = [*self[name].errors, message]
                valid = False
        return valid

    def _data_class(self) -> type[PackData]:
        return PackData

    def _values(self) -> dict[str, Any]:
        """The entered values, parsed; None for those that are not numbers."""
        return {
            "name": (self.name.data or "").strip(),
            "minutes_per_hour": self.minutes_per_hour.data,
            "annual_hours": _parsed(parse_decimal, self.annual_hours.data),
            "professional_share": _parsed(parse_share, self.professional_share.data),
            "public_cap_hours": _parsed(parse_decimal, self.public_cap_hours.data),
            "daily_cap_hours": _parsed(parse_decimal, self.daily_cap_hours.data),
        }

    def to_data(self) -> PackData:
        """The validated input for the services."""
        return PackData(**self._values())


class NewRulePackForm(RulePackForm):
    """A new regional pack: code, province and year besides the numbers."""

    code = StringField(
        _l("Code"),
        validators=[DataRequired(), Length(max=40)],
        description=_l("A stable name in lower-case letters, digits and hyphens, e.g. shanghai."),
    )
    region = SelectField(
        _l("Province"),
        choices=[SelectChoice("", _l("Choose a province"))]
        + [SelectChoice(code, f"{code} {name}") for code, name in PROVINCE_NAMES.items()],
        validators=[DataRequired(message=_l("Choose a province."))],
    )
    year = IntegerField(
        _l("Year"),
        validators=[Optional()],
        description=_l("The year it applies to; empty for every year."),
    )
    submit = SubmitField(_l("Create the rule pack"))

    def validate_code(self, field: StringField) -> None:
        field.data = (field.data or "").strip().lower()

    def _data_class(self) -> type[PackData]:
        return NewPackData

    def _values(self) -> dict[str, Any]:
        return {
            **super()._values(),
            "code": self.code.data or "",
            "region": self.region.data or "",
            "year": self.year.data,
        }

    def to_data(self) -> NewPackData:
        return NewPackData(**self._values())
