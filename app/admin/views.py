"""Administration: accounts (find, reset passwords, lift lockouts, set roles) and the
credit-hour rule packs (versions, activation, new regional packs)."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from app.admin import bp, queries
from app.admin.forms import (
    ConfirmForm,
    NewRulePackForm,
    RolesForm,
    RulePackForm,
    UserSearchForm,
)
from app.auth import services as auth_services
from app.auth.identity import mask_id_number
from app.catalog.models import Provider
from app.credits import queries as credit_queries
from app.credits import services as credit_services
from app.credits.models import RulePack
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
            changed = auth_services.set_roles(
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
            if changed:
                flash(_("Roles saved."), "success")
            else:
                flash(_("Nothing changed: the account already had these roles."), "info")
            return redirect(url_for("admin.user", user_id=target.id))
    return render_template(
        "admin/user.html",
        target=target,
        events=queries.recent_events_about(target),
        confirm_form=ConfirmForm(),
        roles_form=form,
        manageable=can_manage_user(current_user, target),
    ), 400


# -- rule packs ----------------------------------------------------------------------------


def _rule_pack_page(pack: RulePack, form: RulePackForm | None = None, status: int = 200):
    """A rule pack version, re-rendered with a failed new version's errors."""
    return render_template(
        "admin/rule_packs_detail.html",
        pack=pack,
        versions=credit_queries.versions_of(pack),
        required_professional=credit_services.required_professional(
            pack.annual_hours, pack.professional_share
        ),
        form=form or RulePackForm.for_pack(pack, formdata=None),
        confirm_form=ConfirmForm(),
    ), status


@bp.route("/rule-packs")
@access(Role.ADMIN)
def rule_packs():
    """Every rule pack and its versions; the active version of each code is in force."""
    return render_template("admin/rule_packs.html", packs=credit_queries.rule_packs())


@bp.route("/rule-packs/new", methods=["GET", "POST"])
@access(Role.ADMIN)
def new_rule_pack():
    """Start a pack for a province (and optionally one year), inactive until activated."""
    form = NewRulePackForm()
    if form.validate_on_submit():
        try:
            pack = credit_services.create_pack(db.session, current_user, form.to_data())
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            attach_error(form, exc)
        else:
            flash(_("The rule pack is created. Activate it to put it in force."), "success")
            return redirect(url_for("admin.rule_pack", pack_id=pack.id))
    return render_template("admin/rule_packs_new.html", form=form)


@bp.route("/rule-packs/<int:pack_id>")
@access(Role.ADMIN)
def rule_pack(pack_id: int):
    """One version of a pack: its numbers, its siblings, and a form for a new version."""
    return _rule_pack_page(credit_queries.get_rule_pack_or_404(pack_id))


@bp.route("/rule-packs/<int:pack_id>/versions", methods=["POST"])
@access(Role.ADMIN)
def new_rule_pack_version(pack_id: int):
    """Save changed numbers as the next version of the pack, inactive until activated."""
    pack = credit_queries.get_rule_pack_or_404(pack_id)
    form = RulePackForm()
    if form.validate_on_submit():
        try:
            version = credit_services.create_version(db.session, current_user, pack, form.to_data())
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            attach_error(form, exc)
        else:
            flash(
                _(
                    "Version %(version)d is saved. Activate it to put it in force.",
                    version=version.version,
                ),
                "success",
            )
            return redirect(url_for("admin.rule_pack", pack_id=version.id))
    return _rule_pack_page(pack, form=form, status=400)


@bp.route("/rule-packs/<int:pack_id>/activate", methods=["POST"])
@access(Role.ADMIN)
def activate_rule_pack(pack_id: int):
    """Put this version in force instead of the code's other versions; ledgers follow."""
    pack = credit_queries.get_rule_pack_or_404(pack_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        credit_services.activate(db.session, current_user, pack)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        flash(
            _(
                "Version %(version)d of “%(name)s” is now in force.",
                version=pack.version,
                name=pack.name,
            ),
            "success",
        )
    return redirect(url_for("admin.rule_pack", pack_id=pack.id))
