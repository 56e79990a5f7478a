"""Forms for registration, sign-in and password changes (input shape only)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Optional, ValidationError

from app.auth.identity import Gender, IdType, InvalidIdNumber, normalise_document_number
from app.auth.models import TitleLevel
from app.auth.services import normalise_mobile
from app.errors import DomainError

NOT_ON_RESIDENT_IDS = _l(
    "Needed for passports and permits only; it is read from resident ID numbers."
)


class RegistrationForm(FlaskForm):
    name = StringField(_l("Real name"), validators=[DataRequired(), Length(max=50)])
    id_type = SelectField(
        _l("ID type"),
        choices=[SelectChoice(t.value, t.label) for t in IdType],
        default=IdType.RESIDENT_ID.value,
    )
    id_number = StringField(_l("ID number"), validators=[DataRequired(), Length(max=32)])
    gender = RadioField(
        _l("Gender"),
        choices=[SelectChoice(g.value, g.label) for g in Gender],
        validators=[Optional()],
        description=NOT_ON_RESIDENT_IDS,
    )
    birth_date = DateField(
        _l("Birth date"),
        validators=[Optional()],
        description=NOT_ON_RESIDENT_IDS,
    )
    mobile = StringField(_l("Mobile number"), validators=[DataRequired(), Length(max=20)])
    org_name = StringField(
        _l("Employer"),
        validators=[Length(max=200)],
        description=_l("Type part of the name to find a registered employer."),
    )
    org_code = StringField(
        _l("Employer's unified social credit code"),
        validators=[Length(max=24)],
        description=_l("18 characters, e.g. 91110000600037341L."),
    )
    title = StringField(
        _l("Professional title"),
        validators=[Length(max=50)],
        description=_l("e.g. 工程师, 主治医师"),
    )
    title_level = SelectField(
        _l("Title level"),
        choices=[SelectChoice(level.value, level.label) for level in TitleLevel],
        default=TitleLevel.NONE.value,
    )
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=128)])
    password_again = PasswordField(
        _l("Repeat password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )
    submit = SubmitField(_l("Register"))

    def validate_id_number(self, field: StringField) -> None:
        if self.id_type.data not in {t.value for t in IdType}:
            return  # the id_type field reports an invalid choice itself
        try:
            field.data = normalise_document_number(IdType(self.id_type.data), field.data or "")
        except InvalidIdNumber as exc:
            raise ValidationError(str(exc.message)) from exc

    def validate_mobile(self, field: StringField) -> None:
        try:
            field.data = normalise_mobile(field.data or "")
        except DomainError as exc:
            raise ValidationError(str(exc.message)) from exc

    def validate_org_name(self, field: StringField) -> None:
        if not (field.data or "").strip() and not (self.org_code.data or "").strip():
            raise ValidationError(_l("Choose your employer by its credit code or name."))


class LoginForm(FlaskForm):
    identifier = StringField(_l("Mobile or ID number"), validators=[DataRequired(), Length(max=40)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=128)])
    remember = BooleanField(_l("Keep me signed in on this device"))
    submit = SubmitField(_l("Sign in"))


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=128)])
    password_again = PasswordField(
        _l("Repeat new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )
    submit = SubmitField(_l("Change password"))
