"""The annual ledger (学时 by category against a rule pack), rule pack versions, and evidence.

Nothing here stores a summary: the ledger is computed from the credit records under the rule
pack in force, so activating another pack changes what the ledger says and never the records.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from flask_babel import format_percent
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.audit.services import record as audit
from app.auth.models import User
from app.catalog.models import Lesson
from app.catalog.taxonomy import Category
from app.credits.models import CreditRecord, RulePack
from app.credits.rules import PROVINCE_NAMES, learner_region, resolve_rule_pack
from app.errors import Conflict, DomainError, NotAllowed
from app.learning.progress_models import Heartbeat, PlaybackSession, SessionStatus
from app.permissions import Role

#: Hours are kept to two places, shares to four (the columns' scales).
HOURS = Decimal("0.01")
SHARE = Decimal("0.0001")
ZERO = Decimal("0.00")

# -- the ledger ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PackTerms:
    """The numbers of a rule pack the ledger applies, detached from the database row."""

    code: str
    version: int
    name: str
    minutes_per_hour: int
    annual_hours: Decimal
    #: Least share of professional hours, as stored (0.6667 stands for 2/3).
    professional_share: Decimal
    #: Most public-subject hours that count in a year; None for no cap.
    public_cap_hours: Decimal | None
    daily_cap_hours: Decimal = Decimal(8)
    id: int | None = None
    region: str | None = None
    year: int | None = None

    @classmethod
    def of(cls, pack: RulePack) -> PackTerms:
        return cls(
            code=pack.code,
            version=pack.version,
            name=pack.name,
            minutes_per_hour=pack.minutes_per_hour,
            annual_hours=Decimal(pack.annual_hours),
            professional_share=Decimal(pack.professional_share),
            public_cap_hours=(
                None if pack.public_cap_hours is None else Decimal(pack.public_cap_hours)
            ),
            daily_cap_hours=Decimal(pack.daily_cap_hours),
            id=pack.id,
            region=pack.region,
            year=pack.year,
        )

    @property
    def share_fraction(self) -> Fraction:
        return share_fraction(self.professional_share)


@dataclass(frozen=True)
class Ledger:
    """A learner's year: hours by category, what counts, what is required and what is missing.

    All hours are Decimal with two places; no "missing" figure is ever negative.
    """

    year: int
    pack: PackTerms
    public_hours: Decimal
    professional_hours: Decimal
    #: Public hours that count toward the total: all of them, or the pack's cap.
    public_counted: Decimal
    total_counted: Decimal
    required_total: Decimal
    required_professional: Decimal
    missing_total: Decimal
    missing_professional: Decimal
    compliant: bool
    #: Number of credit records (completed courses) in the year.
    records: int = 0

    @property
    def public_uncounted(self) -> Decimal:
        """Public hours above the cap, studied but not counted."""
        return self.public_hours - self.public_counted

    @property
    def still_needed(self) -> Decimal:
        """The fewest further hours that would meet the requirement."""
        return max(self.missing_total, self.missing_professional)

    @property
    def professional_needed(self) -> Decimal:
        """How many of ``still_needed`` must be professional: the minimum's shortfall, or
        more when the public cap leaves too little room for public hours."""
        cap = self.pack.public_cap_hours
        if cap is None:
            return self.missing_professional
        room = max(cap.quantize(HOURS) - self.public_counted, ZERO)
        return max(self.missing_professional, self.still_needed - room, ZERO)


def share_fraction(share: Decimal | float | str) -> Fraction:
    """The simplest fraction that rounds to the stored share: 0.6667 → 2/3, 0.7 → 7/10.

    Shares are stored to four places, so 2/3 arrives as 0.6667; computing with that would
    require 60.003 hours of 90. The share meant is the fraction with the smallest
    denominator inside the rounding interval [share − 0.00005, share + 0.00005).
    """
    exact = Fraction(Decimal(str(share)).quantize(SHARE, rounding=ROUND_HALF_UP))
    half = Fraction(SHARE) / 2
    low, high = exact - half, exact + half
    for denominator in range(1, int(1 / SHARE) + 1):
        numerator = max(math.ceil(low * denominator), 0)
        candidate = Fraction(numerator, denominator)
        if candidate < high:
            return candidate
    return exact  # not reached: exact itself has denominator 10 000


def required_professional(annual_hours: Decimal, share: Decimal) -> Decimal:
    """Least professional hours: annual × share, rounded up to two places (≥ is the rule).

    90 × 2/3 = 60.00 exactly; 50 × 2/3 = 33.333… needs 33.34, since 33.33 falls short.
    """
    needed = Fraction(Decimal(annual_hours)) * share_fraction(share)
    return (Decimal(math.ceil(needed * 100)) / 100).quantize(HOURS)


def summarise(
    public: Decimal | int | str,
    professional: Decimal | int | str,
    pack: PackTerms | RulePack,
    *,
    year: int,
    records: int = 0,
) -> Ledger:
    """The ledger arithmetic, on its own: public and professional hours judged by a pack."""
    terms = pack if isinstance(pack, PackTerms) else PackTerms.of(pack)
    public = Decimal(public).quantize(HOURS)
    professional = Decimal(professional).quantize(HOURS)
    cap = terms.public_cap_hours
    public_counted = public if cap is None else min(public, Decimal(cap).quantize(HOURS))
    total = public_counted + professional
    required_total = Decimal(terms.annual_hours).quantize(HOURS)
    required_prof = required_professional(required_total, terms.professional_share)
    missing_total = max(required_total - total, ZERO)
    missing_prof = max(required_prof - professional, ZERO)
    return Ledger(
        year=year,
        pack=terms,
        public_hours=public,
        professional_hours=professional,
        public_counted=public_counted,
        total_counted=total,
        required_total=required_total,
        required_professional=required_prof,
        missing_total=missing_total,
        missing_professional=missing_prof,
        compliant=missing_total == 0 and missing_prof == 0,
        records=records,
    )


def ledger_with_pack(
    session: Session, user_id: int, year: int, pack: PackTerms | RulePack
) -> Ledger:
    """The user's ledger for the year under the given pack (to compare packs, or to test)."""
    rows = session.execute(
        select(CreditRecord.category, func.sum(CreditRecord.hours), func.count(CreditRecord.id))
        .where(CreditRecord.user_id == user_id, CreditRecord.year == year)
        .group_by(CreditRecord.category)
    ).all()
    hours = {category: Decimal(0) for category in Category}
    records = 0
    for category, total, count in rows:
        hours[Category(category)] += Decimal(total or 0)
        records += count
    return summarise(
        hours[Category.PUBLIC],
        hours[Category.PROFESSIONAL],
        pack,
        year=year,
        records=records,
    )


def ledger_for(session: Session, user: User, year: int) -> Ledger:
    """The user's ledger for the year under the pack in force for their province.

    :raises LookupError: no active national pack (the migration ships one).
    """
    pack = resolve_rule_pack(session, learner_region(user), year)
    return ledger_with_pack(session, user.id, year, pack)


def format_share(share: Decimal | float | str) -> str:
    """A share as people read it: "2/3" for simple fractions, else a percentage."""
    fraction = share_fraction(share)
    if fraction.denominator == 1:
        return str(fraction.numerator)
    if fraction.denominator <= 12:
        return f"{fraction.numerator}/{fraction.denominator}"
    return format_percent(Decimal(str(share)), "#0.##%")


# -- rule packs ----------------------------------------------------------------------------

#: Bounds administrators may set (inclusive).
MINUTES_PER_HOUR_RANGE = (30, 60)
ANNUAL_HOURS_RANGE = (Decimal(1), Decimal(300))
SHARE_RANGE = (Decimal(0), Decimal(1))
PUBLIC_CAP_RANGE = (Decimal(0), Decimal(300))
DAILY_CAP_RANGE = (Decimal(1), Decimal(24))
YEAR_RANGE = (2000, 2100)
NAME_MAX = 100
#: Pack codes: lower-case letters, digits and hyphens, e.g. ``shanghai`` or ``gd-2027``.
CODE_PATTERN = re.compile(r"[a-z][a-z0-9-]{1,39}")


@dataclass(frozen=True)
class PackData:
    """The name and numbers of a rule pack, as an administrator enters them."""

    name: str
    minutes_per_hour: int
    annual_hours: Decimal
    professional_share: Decimal
    public_cap_hours: Decimal | None
    daily_cap_hours: Decimal


@dataclass(frozen=True)
class NewPackData(PackData):
    """A new regional pack: its code, province and year besides the numbers."""

    code: str = ""
    region: str = ""
    #: None: every year.
    year: int | None = None


def parse_decimal(text: str) -> Decimal:
    """A finite decimal number from a form ("90", "1.5").

    :raises ValueError: not a plain number.
    """
    try:
        value = Decimal(text.strip().replace(",", ""))
    except (InvalidOperation, AttributeError) as exc:
        raise ValueError(text) from exc
    if not value.is_finite():
        raise ValueError(text)
    return value


def parse_share(text: str) -> Decimal:
    """A share from a form, to four places: a decimal ("0.6667"), fraction ("2/3") or percentage.

    :raises ValueError: neither.
    """
    text = (text or "").strip()
    if text.endswith("%"):
        return (parse_decimal(text[:-1]) / 100).quantize(SHARE, rounding=ROUND_HALF_UP)
    if "/" in text:
        top, _slash, bottom = text.partition("/")
        numerator, denominator = parse_decimal(top), parse_decimal(bottom)
        if denominator == 0:
            raise ValueError(text)
        value = numerator / denominator
    else:
        value = parse_decimal(text)
    return value.quantize(SHARE, rounding=ROUND_HALF_UP)


def _check_admin(admin: User) -> None:
    if not admin.has_role(Role.ADMIN):
        raise NotAllowed(_l("Only administrators manage rule packs."))


def _in_range(value: Decimal | int | None, bounds: tuple) -> bool:
    return value is not None and bounds[0] <= value <= bounds[1]


def _hours(value: Decimal | int | str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        hours = Decimal(value).quantize(HOURS, rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError, TypeError):
        return None
    return hours if hours.is_finite() else None


def _share(value: Decimal | int | str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        share = Decimal(value).quantize(SHARE, rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError, TypeError):
        return None
    return share if share.is_finite() else None


def pack_problems(data: PackData) -> dict[str, Any]:
    """Every entered value out of its bounds, as {field: message}; empty when all is well."""
    problems: dict[str, Any] = {}
    name = (data.name or "").strip()
    if not name or len(name) > NAME_MAX:
        problems["name"] = _l(
            "Give the rule pack a name of at most %(max)d characters.", max=NAME_MAX
        )
    if not _in_range(data.minutes_per_hour, MINUTES_PER_HOUR_RANGE):
        problems["minutes_per_hour"] = _l(
            "Minutes per credit hour must be a whole number from %(low)d to %(high)d.",
            low=MINUTES_PER_HOUR_RANGE[0],
            high=MINUTES_PER_HOUR_RANGE[1],
        )
    if not _in_range(_hours(data.annual_hours), ANNUAL_HOURS_RANGE):
        problems["annual_hours"] = _l(
            "The annual requirement must be from %(low)d to %(high)d credit hours.",
            low=int(ANNUAL_HOURS_RANGE[0]),
            high=int(ANNUAL_HOURS_RANGE[1]),
        )
    if not _in_range(_share(data.professional_share), SHARE_RANGE):
        problems["professional_share"] = _l(
            "The professional share must be from 0 to 1, e.g. 2/3 or 0.6667."
        )
    if data.public_cap_hours is not None and not _in_range(
        _hours(data.public_cap_hours), PUBLIC_CAP_RANGE
    ):
        problems["public_cap_hours"] = _l(
            "The public-subject cap must be from %(low)d to %(high)d credit hours, "
            "or empty for none.",
            low=int(PUBLIC_CAP_RANGE[0]),
            high=int(PUBLIC_CAP_RANGE[1]),
        )
    if not _in_range(_hours(data.daily_cap_hours), DAILY_CAP_RANGE):
        problems["daily_cap_hours"] = _l(
            "The daily cap must be from %(low)d to %(high)d credit hours.",
            low=int(DAILY_CAP_RANGE[0]),
            high=int(DAILY_CAP_RANGE[1]),
        )
    if isinstance(data, NewPackData):
        if not CODE_PATTERN.fullmatch(data.code or ""):
            problems["code"] = _l(
                "Use 2 to 40 lower-case letters, digits and hyphens, starting with a letter."
            )
        if data.region not in PROVINCE_NAMES:
            problems["region"] = _l("Choose a province.")
        if data.year is not None and not _in_range(data.year, YEAR_RANGE):
            problems["year"] = _l(
                "The year must be from %(low)d to %(high)d, or empty for every year.",
                low=YEAR_RANGE[0],
                high=YEAR_RANGE[1],
            )
    return problems


def validated_numbers(data: PackData) -> dict[str, Any]:
    """The pack's columns from the entered data, rounded to their scales.

    :raises DomainError: a value out of its bounds, naming the field (the first one found).
    """
    problems = pack_problems(data)
    if problems:
        field, message = next(iter(problems.items()))
        raise DomainError(message, field=field)
    return {
        "name": data.name.strip(),
        "minutes_per_hour": int(data.minutes_per_hour),
        "annual_hours": _hours(data.annual_hours),
        "professional_share": _share(data.professional_share),
        "public_cap_hours": _hours(data.public_cap_hours),
        "daily_cap_hours": _hours(data.daily_cap_hours),
    }


def _insert(session: Session, pack: RulePack, message: Any, field: str | None = None) -> None:
    """Add the pack in a savepoint; the (code, version) key turns a race into a Conflict."""
    try:
        with session.begin_nested():
            session.add(pack)
    except IntegrityError as exc:
        raise Conflict(message, field=field) from exc


def create_version(session: Session, admin: User, base_pack: RulePack, data: PackData) -> RulePack:
    """A new version of the base pack's code with new numbers, inactive until activated.

    The code, province and year stay those of the base pack; the version is one more than
    the highest so far.

    :raises NotAllowed: not an administrator.
    :raises DomainError: a number out of bounds (names the field).
    :raises Conflict: another version was created at the same moment.
    """
    _check_admin(admin)
    values = validated_numbers(data)
    versions = session.scalars(
        select(RulePack.version).where(RulePack.code == base_pack.code).with_for_update()
    ).all()
    pack = RulePack(
        code=base_pack.code,
        version=max(versions, default=0) + 1,
        region=base_pack.region,
        year=base_pack.year,
        active=False,
        **values,
    )
    _insert(
        session,
        pack,
        _l("Another version of this pack was saved at the same moment; please try again."),
    )
    audit(
        session,
        "admin.rule_pack_version_created",
        actor_id=admin.id,
        target=f"rule_pack:{pack.id}",
        code=pack.code,
        version=pack.version,
        based_on=base_pack.version,
    )
    return pack


def create_pack(session: Session, admin: User, data: NewPackData) -> RulePack:
    """A new regional pack (version 1), inactive until activated.

    One code per province and year: a change to an existing pack is a new version of it.

    :raises NotAllowed: not an administrator.
    :raises DomainError: a bad code, province, year or number (names the field).
    :raises Conflict: the code is taken, or a pack already covers the province and year.
    """
    _check_admin(admin)
    code = data.code
    values = validated_numbers(data)
    taken = _l("The code “%(code)s” is already used; create a new version of that pack.", code=code)
    if session.scalar(select(RulePack.id).where(RulePack.code == code).limit(1)) is not None:
        raise Conflict(taken, field="code")
    same_year = RulePack.year.is_(None) if data.year is None else RulePack.year == data.year
    clash = session.scalar(
        select(RulePack).where(RulePack.region == data.region, same_year).limit(1)
    )
    if clash is not None:
        raise Conflict(
            _l(
                "The pack “%(code)s” already covers this province and year; "
                "create a new version of it instead.",
                code=clash.code,
            ),
            field="region",
        )
    pack = RulePack(
        code=code, version=1, region=data.region, year=data.year, active=False, **values
    )
    _insert(session, pack, taken, field="code")
    audit(
        session,
        "admin.rule_pack_created",
        actor_id=admin.id,
        target=f"rule_pack:{pack.id}",
        code=pack.code,
        region=pack.region,
        year=pack.year,
    )
    return pack


def activate(session: Session, admin: User, pack: RulePack) -> RulePack:
    """Put this version in force, taking the other versions of its code out of force.

    Ledgers follow at once: they are computed, not stored. Activating the version already
    in force changes nothing and logs nothing.

    :raises NotAllowed: not an administrator.
    """
    _check_admin(admin)
    versions = session.scalars(
        select(RulePack).where(RulePack.code == pack.code).with_for_update()
    ).all()
    changed = [other for other in versions if other.active != (other.id == pack.id)]
    if not changed:
        return pack
    for other in versions:
        other.active = other.id == pack.id
    session.flush()
    audit(
        session,
        "admin.rule_pack_activated",
        actor_id=admin.id,
        target=f"rule_pack:{pack.id}",
        code=pack.code,
        version=pack.version,
        deactivated=sorted(other.version for other in changed if other.id != pack.id),
    )
    return pack


# -- evidence ------------------------------------------------------------------------------

#: The heartbeat outcome that credits the interval in full.
ACCEPTED = "ok"

#: What each heartbeat outcome means, in the order they are listed.
REASON_LABELS = {
    ACCEPTED: _l("Accepted"),
    "stalled": _l("Playback advanced less than the time passed (credited what was played)"),
    "daily_cap": _l("Daily limit reached"),
    "paused": _l("Playback paused"),
    "hidden": _l("Page not visible"),
    "rate": _l("Playback speed not allowed"),
    "jump": _l("Skipped ahead"),
    "seek": _l("Went back to re-watch"),
    "too_frequent": _l("Too soon after the previous heartbeat"),
    "replay": _l("Repeated or out-of-order heartbeat"),
    "complete": _l("Lesson already complete"),
}

SESSION_STATUS_LABELS = {
    SessionStatus.ACTIVE: _l("In progress"),
    SessionStatus.SUPERSEDED: _l("Replaced by another session"),
    SessionStatus.ENDED: _l("Ended"),
}


def reason_label(reason: str) -> str:
    """The readable meaning of a heartbeat outcome; unknown codes are shown as they are."""
    return REASON_LABELS.get(reason, reason)


def _reason_order(reason: str) -> tuple[int, str]:
    order = list(REASON_LABELS)
    return (order.index(reason) if reason in order else len(order), reason)


@dataclass(frozen=True)
class ReasonTally:
    """Heartbeats with one outcome: how many, and the seconds they credited."""

    reason: str
    count: int
    seconds: float

    @property
    def label(self) -> str:
        return reason_label(self.reason)

    @property
    def accepted(self) -> bool:
        return self.reason == ACCEPTED


def _tallies(counts: dict[str, list[float]]) -> tuple[ReasonTally, ...]:
    return tuple(
        ReasonTally(reason, int(n), float(seconds))
        for reason, (n, seconds) in sorted(counts.items(), key=lambda item: _reason_order(item[0]))
    )


@dataclass(frozen=True)
class SessionEvidence:
    """One playback session of the course and what its heartbeats earned."""

    id: str
    lesson_id: int
    lesson_title: str
    started_at: datetime
    ended_at: datetime | None
    status: SessionStatus
    #: Credit the session row holds (what lesson progress was folded from).
    credited_seconds: float
    tallies: tuple[ReasonTally, ...]

    @property
    def status_label(self) -> str:
        return SESSION_STATUS_LABELS.get(self.status, self.status)

    @property
    def heartbeats(self) -> int:
        return sum(t.count for t in self.tallies)

    @property
    def accepted(self) -> int:
        return sum(t.count for t in self.tallies if t.accepted)

    @property
    def refused(self) -> int:
        return self.heartbeats - self.accepted


@dataclass(frozen=True)
class EvidenceReport:
    """Everything behind one credit record: its sessions and their heartbeats by outcome."""

    record: CreditRecord
    sessions: tuple[SessionEvidence, ...]
    #: Heartbeats of all the sessions by outcome, accepted first.
    tallies: tuple[ReasonTally, ...]
    #: The summary stored with the record when it was created, to compare with the rows.
    snapshot: tuple[ReasonTally, ...]
    snapshot_sessions: int | None

    @property
    def heartbeats(self) -> int:
        return sum(t.count for t in self.tallies)

    @property
    def accepted(self) -> int:
        return sum(t.count for t in self.tallies if t.accepted)

    @property
    def refused(self) -> int:
        return self.heartbeats - self.accepted

    @property
    def refused_by_reason(self) -> dict[str, int]:
        return {t.reason: t.count for t in self.tallies if not t.accepted}

    @property
    def credited_seconds(self) -> float:
        """Seconds credited by the heartbeats (the evidence of the record's study time)."""
        return sum(t.seconds for t in self.tallies)

    @property
    def session_seconds(self) -> float:
        return sum(s.credited_seconds for s in self.sessions)


def _snapshot(evidence: Any) -> tuple[tuple[ReasonTally, ...], int | None]:
    """Read the stored summary defensively: it is JSON written by another area."""
    if not isinstance(evidence, dict):
        return (), None
    counts: dict[str, list[float]] = {}
    beats = evidence.get("heartbeats")
    if isinstance(beats, dict):
        for reason, item in beats.items():
            if isinstance(item, dict):
                try:
                    counts[str(reason)] = [int(item.get("count", 0)), float(item.get("seconds", 0))]
                except (TypeError, ValueError):
                    continue
    sessions = evidence.get("sessions")
    return _tallies(counts), sessions if isinstance(sessions, int) else None


def evidence_for(session: Session, record: CreditRecord) -> EvidenceReport:
    """The playback sessions of the record's learner and course up to its completion, each
    with its heartbeats counted by outcome (accepted, or refused and why) and seconds credited.

    Sessions started after the completion cannot have contributed and are left out.
    """
    in_scope = (
        PlaybackSession.user_id == record.user_id,
        PlaybackSession.course_id == record.course_id,
        PlaybackSession.started_at <= record.completed_at,
    )
    rows = session.execute(
        select(PlaybackSession, Lesson.title)
        .join(Lesson, Lesson.id == PlaybackSession.lesson_id)
        .where(*in_scope)
        .order_by(PlaybackSession.started_at, PlaybackSession.id)
    ).all()
    counted = session.execute(
        select(
            Heartbeat.session_id,
            Heartbeat.reason,
            func.count(Heartbeat.id),
            func.coalesce(func.sum(Heartbeat.credited_seconds), 0.0),
        )
        .join(PlaybackSession, PlaybackSession.id == Heartbeat.session_id)
        .where(*in_scope)
        .group_by(Heartbeat.session_id, Heartbeat.reason)
    ).all()
    per_session: dict[str, dict[str, list[float]]] = defaultdict(dict)
    overall: dict[str, list[float]] = {}
    for session_id, reason, n, seconds in counted:
        per_session[session_id][reason] = [n, float(seconds)]
        total = overall.setdefault(reason, [0, 0.0])
        total[0] += n
        total[1] += float(seconds)
    sessions = tuple(
        SessionEvidence(
            id=playback.id,
            lesson_id=playback.lesson_id,
            lesson_title=title,
            started_at=playback.started_at,
            ended_at=playback.ended_at,
            status=playback.status,
            credited_seconds=float(playback.credited_seconds or 0.0),
            tallies=_tallies(per_session.get(playback.id, {})),
        )
        for playback, title in rows
    )
    snapshot, snapshot_sessions = _snapshot(record.evidence)
    return EvidenceReport(
        record=record,
        sessions=sessions,
        tallies=_tallies(overall),
        snapshot=snapshot,
        snapshot_sessions=snapshot_sessions,
    )
