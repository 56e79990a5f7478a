"""Which rule pack applies to a learner in a year, and the numbers it implies."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.credits.models import RulePack


def resolve_rule_pack(session: Session, region_code: str | None, year: int) -> RulePack:
    """The active pack for the learner's province and the year, else the national default.

    A pack for the exact year wins over one for every year; a provincial pack over the
    national one. ``region_code`` is the learner's GB/T 2260 code (its first two digits are
    the province).

    :raises LookupError: no active national pack (the migration ships one).
    """
    province = (region_code or "")[:2] or None
    query = (
        select(RulePack)
        .where(
            RulePack.active.is_(True),
            or_(RulePack.year.is_(None), RulePack.year == year),
            or_(RulePack.region.is_(None), RulePack.region == province),
        )
        .order_by(
            RulePack.region.is_(None),  # provincial first
            RulePack.year.is_(None),  # then the exact year
            RulePack.version.desc(),
        )
        .limit(1)
    )
    pack = session.scalar(query)
    if pack is None:
        raise LookupError("no active rule pack; run the migrations")
    return pack


def daily_cap_seconds(pack: RulePack) -> float:
    """The most study time credited per day: daily cap hours × minutes per 学时."""
    return float(Decimal(pack.daily_cap_hours) * pack.minutes_per_hour * 60)
