"""Registration, sign-in and sign-out, and the account page."""

from __future__ import annotations

import hashlib

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from app.auth import bp, services
from app.auth.forms import ChangePasswordForm, LoginForm, RegistrationForm
from app.auth.identity import Gender, IdType
from app.auth.models import TitleLevel
from app.auth.services import MOBILE_DIGITS
from app.errors import DomainError
from app.extensions import current_user_key, db, limiter
from app.permissions import PUBLIC, SIGNED_IN, access
from app.web import attach_error, safe_next


def _configured(name: str):
    """A rate limit read from the config at request time, so deployments can tune it."""
    return lambda: current_app.config[name]


def _identifier_key() -> str:
    """Rate-limit key for guesses at one account spread over many addresses.

    Hashed, so that ID numbers are not stored in the rate-limit store (Redis) in clear.
    """
    identifier = "".join((request.form.get("identifier") or "").split()).upper()
    return "login-id:" + hashlib.sha256(identifier.encode()).hexdigest()[:32]


@bp.route("/register", methods=["GET", "POST"])
@access(PUBLIC)
@limiter.limit(_configured("REGISTER_RATE_LIMIT"), methods=["POST"])
def register():
    """Real-name registration for learners."""
    if current_user.is_authenticated:
        return redirect(url_for("learning.dashboard"))
    form = RegistrationForm()
    if form.validate_on_submit():
        registration = services.Registration(
            name=form.name.data,
            id_type=IdType(form.id_type.data),
            id_number=form.id_number.data,
            mobile=form.mobile.data,
            password=form.password.data,
            org_code=form.org_code.data,
            org_name=form.org_name.data,
            title=form.title.data,
            title_level=TitleLevel(form.title_level.data),
            gender=Gender(form.gender.data) if form.gender.data else None,
            birth_date=form.birth_date.data,
        )
        try:
            user = services.register_learner(db.session, registration)
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            attach_error(form, exc)
        else:
            login_user(user)
            flash(
                _("Welcome to Zhixin, %(name)s. Your account is ready.", name=user.name), "success"
            )
            return redirect(url_for("learning.dashboard"))
    return render_template("auth/register.html", form=form)


@bp.route("/login", methods=["GET", "POST"])
@access(PUBLIC)
@limiter.limit(_configured("LOGIN_RATE_LIMIT"), methods=["POST"])
@limiter.limit(
    _configured("LOGIN_IDENTIFIER_RATE_LIMIT"), methods=["POST"], key_func=_identifier_key
)
def login():
    """Sign in with mobile or ID number and password."""
    if current_user.is_authenticated:
        return redirect(safe_next())
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = services.authenticate(db.session, form.identifier.data, form.password.data)
        except DomainError as exc:
            db.session.commit()  # keep the failure count and audit trail
            form.form_errors.append(exc.message)
            if len(form.identifier.data or "") > MOBILE_DIGITS:
                form.identifier.data = ""  # an ID number is not echoed back into the page
        else:
            db.session.commit()
            login_user(user, remember=form.remember.data)
            if user.must_change_password:
                flash(_("Please choose a new password before you continue."), "warning")
                return redirect(url_for("auth.change_password"))
            return redirect(safe_next())
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@access(SIGNED_IN)
def logout():
    """Sign out (POST with CSRF, so other sites cannot sign people out).

    The whole session is cleared, so nothing of this user (pending messages included)
    is shown to the next person on a shared computer.
    """
    logout_user()
    session.clear()
    flash(_("You have signed out."), "info")
    return redirect(url_for("main.index"))


@bp.route("/account")
@access(SIGNED_IN)
def account():
    """The signed-in user's own details."""
    return render_template("auth/account.html", user=current_user)


@bp.route("/account/password", methods=["GET", "POST"])
@access(SIGNED_IN)
@limiter.limit(
    _configured("CHANGE_PASSWORD_RATE_LIMIT"), methods=["POST"], key_func=current_user_key
)
def change_password():
    """Change one's own password; other devices are signed out."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            services.change_password(
                db.session, user, form.current_password.data, form.password.data
            )
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            attach_error(form, exc)
        else:
            login_user(user)  # the session identifier changed with the password
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("auth.account"))
    return render_template("auth/change_password.html", form=form)
