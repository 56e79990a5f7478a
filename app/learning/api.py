"""Study API: playback sessions and their heartbeats (JSON, session cookie + CSRF header)."""

from __future__ import annotations

import json
import math
from typing import Any

from flask import Request, current_app, jsonify, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_login import current_user

from app.catalog.models import Lesson
from app.errors import DomainError, NotAllowed
from app.extensions import current_user_key, db, limiter, session_bind
from app.learning import bp
from app.learning.study import Beat
from app.learning.study_services import (
    HeartbeatResult,
    SessionGone,
    end_session,
    record_heartbeat,
    start_session,
)
from app.permissions import SESSION_COOKIE, Role, access, session_identity

#: No timeline is longer than this (the longest accepted video is 4 hours).
MAX_POSITION = 24 * 3600.0
MAX_SEQ = 2**31 - 1
_NUMBERS = (int, float)
#: A heartbeat's JSON is under 100 bytes; a larger body is refused unread.
MAX_BEAT_BYTES = 1024
#: The heartbeat's reply, compact. Built once: ``json.dumps`` with any option builds a new
#: encoder per call, which cost more than the encoding itself.
_encode_compact = json.JSONEncoder(separators=(",", ":")).encode


def _error(message: str | LazyString, status: int, **extra: Any):
    return jsonify(error=str(message), **extra), status


@bp.route("/api/v1/playback/sessions", methods=["POST"])
@access(Role.LEARNER)
@limiter.limit(lambda: current_app.config["PLAYBACK_START_RATE_LIMIT"], key_func=current_user_key)
def start_playback():
    """Open a playback session for ``{"lesson_id"}``; other sessions of the learner end."""
    data = request.get_json(silent=True)
    lesson_id = data.get("lesson_id") if isinstance(data, dict) else None
    if not isinstance(lesson_id, int) or isinstance(lesson_id, bool):
        return _error(_('Send {"lesson_id": <integer>}.'), 422)
    lesson = db.session.get(Lesson, lesson_id)
    if lesson is None:
        return _error(_("No such lesson."), 404)
    try:
        started = start_session(db.session, current_user, lesson)
        db.session.commit()
    except NotAllowed as exc:
        db.session.rollback()
        return _error(exc.message, 404)
    except DomainError as exc:
        db.session.rollback()
        return _error(exc.message, 409)
    playback = started.session
    target = playback.target_seconds
    covered = sum(b - a for a, b in playback.coverage)
    return jsonify(
        session_id=playback.id,
        heartbeat_interval=current_app.config["HEARTBEAT_INTERVAL_SECONDS"],
        resume_position=playback.last_position,
        furthest_position=playback.furthest,
        allowed_rates=list(current_app.config["PLAYBACK_ALLOWED_RATES"]),
        kind=lesson.kind.value,
        target_seconds=target,
        lesson_covered_ratio=round(min(1.0, covered / target), 4) if target else 0.0,
        lesson_complete=playback.lesson_complete,
        course_complete=playback.course_complete,
        daily_remaining_seconds=round(playback.allowance_seconds, 1),
        lesson_credited_seconds=round(started.lesson_credited_seconds, 1),
    ), 201


def parse_beat(data: object) -> Beat | LazyString:
    """A heartbeat from JSON, or the reason it is malformed (never a guess).

    Types are compared exactly: JSON gives plain ``int``, ``float`` and ``bool``, and a
    ``true`` is not a number here, as it would be to ``isinstance``. The reason is translated
    when it is shown (``app.learning.beat_path`` judges beats outside any request).
    """
    if type(data) is not dict:
        return _l("Send a JSON object.")
    seq, position, rate = data.get("seq"), data.get("position"), data.get("rate")
    playing, visible = data.get("playing"), data.get("visible")
    if type(seq) is not int or not 1 <= seq <= MAX_SEQ:
        return _l("seq must be a positive integer.")
    if type(position) not in _NUMBERS or type(rate) not in _NUMBERS:
        return _l("position and rate must be numbers.")
    if (type(position) is int and abs(position) > 2**53) or (
        type(rate) is int and abs(rate) > 2**53
    ):
        return _l("position or rate is out of range.")  # also keeps isfinite() from overflowing
    if not (math.isfinite(position) and math.isfinite(rate)):
        return _l("position and rate must be finite numbers.")
    if not 0 <= position <= MAX_POSITION or not 0 < rate <= 16:
        return _l("position or rate is out of range.")
    if type(playing) is not bool or type(visible) is not bool:
        return _l("playing and visible must be true or false.")
    return Beat(
        seq=seq, position=float(position), playing=playing, rate=float(rate), visible=visible
    )


def _json_body(req: Request, length: int | None) -> object:
    """The request's JSON body, or None when it is not JSON; read in one call.

    ``length`` is its ``content_length``. Werkzeug's ``get_json`` wraps the input in a
    length-limited stream that it reads in buffered chunks: a twentieth of a heartbeat's CPU,
    for 80 bytes.
    """
    if not req.is_json:
        return None
    if length is None:  # chunked: Werkzeug finds the end (within MAX_CONTENT_LENGTH)
        return req.get_json(silent=True)
    try:
        return json.loads(req.environ["wsgi.input"].read(length))
    except ValueError:  # not JSON, or not UTF-8
        return None


@bp.route("/api/v1/playback/sessions/<session_id>/heartbeats", methods=["POST"])
@access(SESSION_COOKIE)
@limiter.exempt
def heartbeat(session_id: str):
    """Judge one heartbeat; the reply says what it earned and where the lesson stands."""
    identity = session_identity()
    if identity is None:
        return _error(_("Sign in first."), 401)
    req = request._get_current_object()  # once: each use of the proxy looks it up again
    length = req.content_length
    if (length or 0) > MAX_BEAT_BYTES:
        return _error(_("A heartbeat is at most %(limit)d bytes.", limit=MAX_BEAT_BYTES), 413)
    beat = parse_beat(_json_body(req, length))
    if not isinstance(beat, Beat):
        return _error(beat, 422)
    try:
        result = record_heartbeat(session_bind(), identity[0], session_id, beat)  # no ORM session
    except NotAllowed as exc:
        return _error(exc.message, 403)
    except SessionGone as exc:
        return _error(exc.message, 409, reason=exc.reason)
    return current_app.response_class(encode_reply(result), mimetype="application/json")


def encode_reply(result: HeartbeatResult) -> str:
    """A heartbeat's reply as compact JSON (jsonify's provider, with its sorted keys and
    indent settings, costs a third more than the encoding)."""
    return _encode_compact(result.__dict__)


@bp.route("/api/v1/playback/sessions/<session_id>/end", methods=["POST"])
@access(SESSION_COOKIE)
def end_playback(session_id: str):
    """The page is closing: end the session (safe to call twice)."""
    identity = session_identity()
    if identity is None:
        return _error(_("Sign in first."), 401)
    try:
        end_session(db.session, identity[0], session_id)
        db.session.commit()
    except NotAllowed as exc:
        db.session.rollback()
        return _error(exc.message, 403)
    return "", 204
