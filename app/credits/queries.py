"""Read helpers for the credit pages: records, years, rule packs, heartbeat logs."""

from __future__ import annotations

from flask import abort
from flask_login import current_user
from sqlalchemy import select

from app.auth.models import User
from app.credits.models import CreditRecord, RulePack
from app.extensions import db
from app.learning.progress_models import Heartbeat, PlaybackSession
from app.permissions import can_view_record


def records_of(user_id: int, year: int) -> list[CreditRecord]:
    """The user's credit records of the year, in the order the courses were completed."""
    query = (
        select(CreditRecord)
        .where(CreditRecord.user_id == user_id, CreditRecord.year == year)
        .order_by(CreditRecord.completed_at, CreditRecord.id)
    )
    return list(db.session.scalars(query))


def record_years(user_id: int) -> list[int]:
    """The years in which the user has credit records, most recent first."""
    query = (
        select(CreditRecord.year)
        .where(CreditRecord.user_id == user_id)
        .distinct()
        .order_by(CreditRecord.year.desc())
    )
    return list(db.session.scalars(query))


def get_record_or_404(record_id: int) -> CreditRecord:
    """A credit record the current user may see; 404 otherwise, so its existence stays private."""
    record = db.session.get(CreditRecord, record_id)
    if record is None or not can_view_record(current_user, record):
        abort(404)
    return record


def learner_of(record: CreditRecord) -> User:
    """The learner a record belongs to (named on the evidence page for auditors)."""
    return db.session.get(User, record.user_id)


def heartbeat_log_or_404(record: CreditRecord, session_id: str) -> list[Heartbeat]:
    """Every heartbeat of one playback session of the record's learner and course, in order.

    404 when the session belongs to another learner or course, or started after completion.
    """
    playback = db.session.get(PlaybackSession, session_id)
    if (
        playback is None
        or playback.user_id != record.user_id
        or playback.course_id != record.course_id
        or playback.started_at > record.completed_at
    ):
        abort(404)
    query = (
        select(Heartbeat)
        .where(Heartbeat.session_id == playback.id)
        .order_by(Heartbeat.seq, Heartbeat.id)
    )
    return list(db.session.scalars(query))


def rule_packs() -> list[RulePack]:
    """Every rule pack version: the national default first, then by code, newest version first."""
    query = select(RulePack).order_by(
        RulePack.region.is_not(None), RulePack.code, RulePack.version.desc()
    )
    return list(db.session.scalars(query))


def versions_of(pack: RulePack) -> list[RulePack]:
    """All versions of the pack's code, newest first."""
    query = select(RulePack).where(RulePack.code == pack.code).order_by(RulePack.version.desc())
    return list(db.session.scalars(query))


def get_rule_pack_or_404(pack_id: int) -> RulePack:
    pack = db.session.get(RulePack, pack_id)
    if pack is None:
        abort(404)
    return pack
