"""Finding and registering employers."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.errors import DomainError
from app.orgs.credit_code import InvalidCreditCode, normalise_credit_code, region_of
from app.orgs.models import Organisation


class OrganisationError(DomainError):
    field = "org_code"


def get_or_create_organisation(
    session: Session, credit_code: str, name: str, department: str | None = None
) -> Organisation:
    """The organisation with this credit code, created with ``name`` if it is new.

    Safe under concurrency: the unique credit code decides, and the loser of a race
    gets the winner's row.
    """
    try:
        code = normalise_credit_code(credit_code)
    except InvalidCreditCode as exc:
        raise OrganisationError(exc.message) from exc
    existing = session.scalar(select(Organisation).filter_by(credit_code=code))
    if existing is not None:
        return existing
    name = " ".join(name.split())
    if not name:
        raise OrganisationError(
            _l("This employer is not registered yet: enter its full name as well."),
            field="org_name",
        )
    org = Organisation(
        credit_code=code, name=name, region_code=region_of(code), department=department
    )
    try:
        with session.begin_nested():
            session.add(org)
    except IntegrityError:
        return session.scalars(select(Organisation).filter_by(credit_code=code)).one()
    return org


def resolve_organisation(
    session: Session, credit_code: str | None, name: str | None
) -> Organisation:
    """The employer a registrant chose, by credit code (preferred) or by exact name.

    :raises OrganisationError: nothing chosen, an invalid code, or a name that matches no
        single registered organisation.
    """
    credit_code = (credit_code or "").strip()
    name = " ".join((name or "").split())
    if credit_code:
        return get_or_create_organisation(session, credit_code, name)
    if not name:
        raise OrganisationError(_l("Choose your employer by its credit code or name."))
    matches = session.scalars(
        select(Organisation).where(func.lower(Organisation.name) == name.lower()).limit(2)
    ).all()
    if len(matches) == 1:
        return matches[0]
    raise OrganisationError(
        _l(
            "“%(name)s” does not match exactly one registered employer. "
            "Enter its unified social credit code.",
            name=name,
        )
    )
