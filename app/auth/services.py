"""Account rules: registration, sign-in with lockout, password changes and resets."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, object_session

from app.audit.services import record
from app.auth import passwords
from app.auth.identity import Gender, IdType, InvalidIdNumber, normalise_document_number
from app.auth.identity import parse_resident_id as _parse_resident_id
from app.auth.models import TitleLevel, User
from app.db import china_today, utcnow
from app.errors import Conflict, DomainError
from app.orgs.services import resolve_organisation
from app.permissions import Role

MOBILE_DIGITS = 11


class InvalidIdentity(DomainError):
    field = "id_number"


class LoginFailed(DomainError):
    """Sign-in refused. The message never says whether the account exists."""


class AccountDisabled(DomainError):
    """The password was right but the account is switched off."""


@dataclass(frozen=True)
class Identity:
    """A checked identity document with the facts derived from it."""

    id_type: IdType
    number: str
    gender: Gender | None
    birth_date: date | None
    region_code: str | None


@dataclass(frozen=True)
class Registration:
    """What a learner submits to register."""

    name: str
    id_type: IdType
    id_number: str
    mobile: str
    password: str
    org_code: str | None = None
    org_name: str | None = None
    title: str | None = None
    title_level: TitleLevel = TitleLevel.NONE
    #: Only asked for documents that do not encode them (passports, permits).
    gender: Gender | None = None
    birth_date: date | None = None


def check_identity(
    id_type: IdType,
    raw_number: str,
    *,
    gender: Gender | None = None,
    birth_date: date | None = None,
    today: date | None = None,
) -> Identity:
    """Validate a document number; resident IDs also yield gender, birth date and region.

    :raises InvalidIdentity: with a message that says exactly what is wrong.
    """
    try:
        if id_type == IdType.RESIDENT_ID:
            resident = _parse_resident_id(raw_number, today=today)
            return Identity(
                id_type,
                resident.number,
                resident.gender,
                resident.birth_date,
                resident.region_code,
            )
        number = normalise_document_number(id_type, raw_number)
    except InvalidIdNumber as exc:
        raise InvalidIdentity(exc.message) from exc
    if gender is None:
        raise InvalidIdentity(_l("Choose your gender."), field="gender")
    if birth_date is None or birth_date >= (today or china_today()):
        raise InvalidIdentity(_l("Enter a birth date in the past."), field="birth_date")
    return Identity(id_type, number, gender, birth_date, None)


def normalise_mobile(raw: str) -> str:
    """Mainland mobile numbers: 11 digits starting with 1, optional +86 prefix and spaces."""
    digits = "".join(raw.split()).replace("-", "")
    digits = digits.removeprefix("+86")
    if len(digits) != MOBILE_DIGITS or not digits.isdigit() or not digits.startswith("1"):
        raise DomainError(_l("Enter an 11-digit mainland mobile number."), field="mobile")
    return digits


def _password_forbidden(*values: str | None) -> tuple[str, ...]:
    return tuple(v for v in values if v and len(v) >= 6)


def create_user(
    session: Session,
    *,
    name: str,
    mobile: str,
    password: str,
    roles: Iterable[Role] = (Role.LEARNER,),
    identity: Identity | None = None,
    organisation_id: int | None = None,
    provider_id: int | None = None,
    title: str | None = None,
    title_level: TitleLevel = TitleLevel.NONE,
) -> User:
    """Insert an account; one per identity number and per mobile, enforced by the database.

    :raises Conflict: the identity number or mobile is already registered (also when a
        concurrent request registered it a moment earlier).
    """
    name = " ".join(name.split())
    if not name:
        raise DomainError(_l("Enter your real name."), field="name")
    mobile = normalise_mobile(mobile)
    _raise_if_taken(session, identity, mobile)
    user = User(
        name=name,
        mobile=mobile,
        password_hash=passwords.hash_password(password),
        organisation_id=organisation_id,
        provider_id=provider_id,
        title=(title or "").strip() or None,
        title_level=title_level,
    )
    if identity is not None:
        user.id_type = identity.id_type
        user.id_number = identity.number
        user.gender = identity.gender
        user.birth_date = identity.birth_date
        user.region_code = identity.region_code
    for role in roles:
        user.grant(role)
    try:
        with session.begin_nested():
            session.add(user)
    except IntegrityError:
        _raise_if_taken(session, identity, mobile)
        raise
    return user


def _raise_if_taken(session: Session, identity: Identity | None, mobile: str) -> None:
    if identity is not None and session.scalar(
        select(User.id).filter_by(id_type=identity.id_type, id_number=identity.number)
    ):
        raise Conflict(
            _l(
                "An account with this ID number already exists. Sign in, or ask an "
                "administrator to reset the password."
            ),
            field="id_number",
        )
    if session.scalar(select(User.id).filter_by(mobile=mobile)):
        raise Conflict(_l("This mobile number is already registered."), field="mobile")


def register_learner(session: Session, reg: Registration, *, today: date | None = None) -> User:
    """Create a learner account from a registration.

    :raises DomainError: (with ``field``) for any invalid or duplicate input.
    """
    identity = check_identity(
        reg.id_type, reg.id_number, gender=reg.gender, birth_date=reg.birth_date, today=today
    )
    mobile = normalise_mobile(reg.mobile)
    passwords.check_password_policy(
        reg.password,
        min_length=current_app.config["PASSWORD_MIN_LENGTH"],
        forbidden=_password_forbidden(identity.number, mobile),
    )
    organisation = resolve_organisation(session, reg.org_code, reg.org_name)
    user = create_user(
        session,
        name=reg.name,
        mobile=mobile,
        password=reg.password,
        identity=identity,
        organisation_id=organisation.id,
        title=reg.title,
        title_level=reg.title_level,
    )
    record(session, "auth.registered", actor_id=user.id, target=f"user:{user.id}")
    return user


def find_by_identifier(session: Session, identifier: str) -> User | None:
    """The account whose mobile or identity number is ``identifier``."""
    text = "".join(identifier.split()).upper()
    if not text:
        return None
    candidates = {text}
    with contextlib.suppress(InvalidIdNumber):
        candidates.add(_parse_resident_id(text).number)  # also finds 15-digit legacy input
    if text.startswith("+86"):
        candidates.add(text.removeprefix("+86"))
    return session.scalar(
        select(User)
        .where(or_(User.mobile.in_(candidates), User.id_number.in_(candidates)))
        .order_by(User.id)
        .limit(1)
    )


def _login_failed_message() -> str:
    cfg = current_app.config
    return _l(
        "The account or password is incorrect. After %(n)d failed attempts in a row an "
        "account is locked for %(minutes)d minutes.",
        n=cfg["LOGIN_MAX_FAILURES"],
        minutes=cfg["LOGIN_LOCKOUT_MINUTES"],
    )


def authenticate(
    session: Session, identifier: str, password: str, *, now: datetime | None = None
) -> User:
    """Check credentials, counting failures and locking the account after too many.

    Unknown accounts, wrong passwords and locked accounts all get the same message and take
    the same time. The failure count is written even though this raises: the caller commits.

    :raises LoginFailed: credentials refused or account locked.
    :raises AccountDisabled: the password was right but the account is disabled.
    """
    now = now or utcnow()
    user = find_by_identifier(session, identifier)
    if user is None:
        passwords.burn_verification_time(password)
        raise LoginFailed(_login_failed_message())
    if user.is_locked(now):
        passwords.burn_verification_time(password)
        record(session, "auth.login_refused_locked", target=f"user:{user.id}")
        raise LoginFailed(_login_failed_message())
    if not passwords.verify_password(user.password_hash, password):
        _count_failure(session, user, now)
        raise LoginFailed(_login_failed_message())
    if not user.active:
        raise AccountDisabled(_l("This account is disabled. Contact your administrator."))
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    record(session, "auth.login", actor_id=user.id, target=f"user:{user.id}")
    return user


def _count_failure(session: Session, user: User, now: datetime) -> None:
    cfg = current_app.config
    # Increment in SQL so that concurrent failures are all counted.
    failures = session.execute(
        update(User)
        .where(User.id == user.id)
        .values(failed_logins=User.failed_logins + 1)
        .returning(User.failed_logins)
    ).scalar_one()
    if failures >= cfg["LOGIN_MAX_FAILURES"]:
        session.execute(
            update(User)
            .where(User.id == user.id)
            .values(
                failed_logins=0,
                locked_until=now + timedelta(minutes=cfg["LOGIN_LOCKOUT_MINUTES"]),
            )
        )
        record(session, "auth.locked", target=f"user:{user.id}", failures=failures)
    else:
        record(session, "auth.login_failed", target=f"user:{user.id}", failures=failures)
    session.expire(user, ["failed_logins", "locked_until"])


def change_password(session: Session, user: User, current: str, new: str) -> None:
    """Replace the password after checking the current one; signs out other sessions.

    :raises DomainError: wrong current password, or the new one breaks the policy.
    """
    if not passwords.verify_password(user.password_hash, current):
        raise DomainError(_l("The current password is incorrect."), field="current_password")
    if current == new:
        raise DomainError(_l("Choose a password different from the current one."), field="password")
    _set_password(user, new)
    user.must_change_password = False
    record(session, "auth.password_changed", actor_id=user.id, target=f"user:{user.id}")


def _set_password(user: User, new: str) -> None:
    passwords.check_password_policy(
        new,
        min_length=current_app.config["PASSWORD_MIN_LENGTH"],
        forbidden=_password_forbidden(user.id_number, user.mobile),
    )
    user.password_hash = passwords.hash_password(new)
    user.session_version += 1
    # Other devices are signed out, and their study sessions stop earning credit.
    from app.learning.study_services import end_all_sessions

    end_all_sessions(object_session(user), user.id)


def reset_password(session: Session, actor: User, target: User) -> str:
    """Give ``target`` a random temporary password that must be changed at next sign-in.

    Also lifts a lockout and signs the account out everywhere. Returns the password, to be
    shown once to the administrator.
    """
    temporary = passwords.generate_temporary_password()
    _set_password(target, temporary)
    target.must_change_password = True
    target.failed_logins = 0
    target.locked_until = None
    record(session, "admin.password_reset", actor_id=actor.id, target=f"user:{target.id}")
    return temporary


def unlock(session: Session, actor: User, target: User) -> None:
    """Lift a lockout before it expires."""
    target.failed_logins = 0
    target.locked_until = None
    record(session, "admin.unlocked", actor_id=actor.id, target=f"user:{target.id}")


def set_roles(
    session: Session, actor: User, target: User, roles: set[Role], provider_id: int | None
) -> bool:
    """Replace the target's roles; authors must belong to a provider. Whether anything changed.

    A save that changes nothing is not recorded: the audit trail lists changes.

    :raises DomainError: an author without a provider, or an admin removing their own
        admin role (which could leave nobody able to administer).
    """
    if Role.AUTHOR in roles and provider_id is None:
        raise DomainError(_l("Authors must belong to a provider."), field="provider_id")
    if actor.id == target.id and Role.ADMIN not in roles:
        raise DomainError(_l("You cannot remove your own administrator role."), field="roles")
    before = (target.roles, target.provider_id)
    target.role_rows = [row for row in target.role_rows if row.role in roles]
    for role in sorted(roles):
        target.grant(role)
    target.provider_id = provider_id if Role.AUTHOR in roles else target.provider_id
    if (target.roles, target.provider_id) == before:
        return False
    record(
        session,
        "admin.roles_changed",
        actor_id=actor.id,
        target=f"user:{target.id}",
        roles=sorted(roles),
    )
    return True
