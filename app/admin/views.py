"""Account administration: find users, reset passwords, lift lockouts, set roles."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from app.admin import bp, queries
from app.admin.forms import ConfirmForm, RolesForm, UserSearchForm
from app.auth import services as auth_services
from app.auth.identity import mask_id_number
from app.catalog.models import Provider
from app.errors import DomainError
from app.extensions import db
from app.permissions import Role, access, can_manage_user
from app.web import attach_error


def looks_like_id_number(text: str) -> bool:
    """Long digit strings (ID numbers, not 11-digit mobiles) are never echoed back."""
    compact = "".join(text.split())
    return len(compact) > 11 and sum(c.isdigit() for c in compact) >= 8


def _managed_user_or_404(user_id: int):
    user = queries.get_user_or_404(user_id)
    if not can_manage_user(current_user, user):
        abort(403)
    return user


def _roles_form(user, formdata=None) -> RolesForm:
    form = RolesForm(formdata=formdata, data={"roles": [r.value for r in user.roles]})
    providers = db.session.scalars(select(Provider).order_by(Provider.name)).all()
    form.provider_id.choices = [SelectChoice("", "—")] + [
        SelectChoice(str(p.id), f"{p.name} ({p.code})") for p in providers
    ]
    if formdata is None:
        form.provider_id.data = user.provider_id
    return form


@bp.route("/users", methods=["GET", "POST"])
@access(Role.ADMIN)
def users():
    """All accounts page by page (GET), or the first page of a search (POST)."""
    form = UserSearchForm()
    text = ""
    if form.validate_on_submit():
        text = form.q.data or ""
        form.q.data = mask_id_number(text) if looks_like_id_number(text) else text
    page = 1 if text else max(request.args.get("page", 1, type=int), 1)
    pagination = queries.search_users(
        text, page=page, per_page=current_app.config["ADMIN_PAGE_SIZE"]
    )
    return render_template(
        "admin/users.html", form=form, pagination=pagination, searched=bool(text)
    )


@bp.route("/users/<int:user_id>")
@access(Role.ADMIN)
def user(user_id: int):
    """One account: identity (masked), roles, lock state and recent audit events."""
    target = queries.get_user_or_404(user_id)
    return render_template(
        "admin/user.html",
        target=target,
        events=queries.recent_events_about(target),
        confirm_form=ConfirmForm(),
        roles_form=_roles_form(target),
        manageable=can_manage_user(current_user, target),
    )


@bp.route("/users/<int:user_id>/reset-password", methods=["POST"])
@access(Role.ADMIN)
def reset_password(user_id: int):
    """Set a temporary password, shown once, that must be changed at next sign-in."""
    target = _managed_user_or_404(user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    temporary = auth_services.reset_password(db.session, current_user, target)
    db.session.commit()
    return render_template("admin/password_reset.html", target=target, temporary=temporary)


@bp.route("/users/<int:user_id>/unlock", methods=["POST"])
@access(Role.ADMIN)
def unlock(user_id: int):
    """Lift a sign-in lockout."""
    target = _managed_user_or_404(user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    auth_services.unlock(db.session, current_user, target)
    db.session.commit()
    flash(_("The account is unlocked."), "success")
    return redirect(url_for("admin.user", user_id=target.id))


@bp.route("/users/<int:user_id>/roles", methods=["POST"])
@access(Role.ADMIN)
def set_roles(user_id: int):
    """Replace an account's roles (and an author's provider)."""
    target = queries.get_user_or_404(user_id)
    form = _roles_form(target, formdata=request.form)
    if form.validate_on_submit():
        try:
            auth_services.set_roles(
                db.session,
                current_user,
                target,
                {Role(value) for value in form.roles.data},
                form.provider_id.data,
            )
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            attach_error(form, exc)
        else:
            flash(_("Roles saved."), "success")
            return redirect(url_for("admin.user", user_id=target.id))
    return render_template(
        "admin/user.html",
        target=target,
        events=queries.recent_events_about(target),
        confirm_form=ConfirmForm(),
        roles_form=form,
        manageable=can_manage_user(current_user, target),
    ), 400
