"""Which rule pack applies to a learner in a year, and the numbers it implies."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.auth.identity import CHINA_TZ
from app.credits.models import RulePack
from app.db import utcnow


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


def learner_region(user: object) -> str | None:
    """Where a learner's hours are recognised: the employer's region, else their own.

    Recognition (学时认定) belongs to the province where the person works; the region in the
    ID number is only where they were first registered.
    """
    organisation = getattr(user, "organisation", None)
    return getattr(organisation, "region_code", None) or getattr(user, "region_code", None)


def daily_cap_seconds(pack: RulePack) -> float:
    """The most study time credited per day: daily cap hours × minutes per 学时."""
    return float(Decimal(pack.daily_cap_hours) * pack.minutes_per_hour * 60)


def current_year(now: datetime | None = None) -> int:
    """The calendar year in Asia/Shanghai, which decides the year a ledger shows by default."""
    return (now or utcnow()).astimezone(CHINA_TZ).year


#: Province-level divisions of GB/T 2260 that a regional pack may apply to, with their names.
#: A subset of the ID-number prefixes (those also accept 83, Taiwan residents' permits).
PROVINCE_NAMES = {
    "11": "北京市",
    "12": "天津市",
    "13": "河北省",
    "14": "山西省",
    "15": "内蒙古自治区",
    "21": "辽宁省",
    "22": "吉林省",
    "23": "黑龙江省",
    "31": "上海市",
    "32": "江苏省",
    "33": "浙江省",
    "34": "安徽省",
    "35": "福建省",
    "36": "江西省",
    "37": "山东省",
    "41": "河南省",
    "42": "湖北省",
    "43": "湖南省",
    "44": "广东省",
    "45": "广西壮族自治区",
    "46": "海南省",
    "50": "重庆市",
    "51": "四川省",
    "52": "贵州省",
    "53": "云南省",
    "54": "西藏自治区",
    "61": "陕西省",
    "62": "甘肃省",
    "63": "青海省",
    "64": "宁夏回族自治区",
    "65": "新疆维吾尔自治区",
    "71": "台湾省",
    "81": "香港特别行政区",
    "82": "澳门特别行政区",
}


def region_label(region: str | None) -> str | None:
    """A province code with its name, e.g. "31 上海市"; None for the national default."""
    if region is None:
        return None
    name = PROVINCE_NAMES.get(region)
    return f"{region} {name}" if name else region
