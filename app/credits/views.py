"""The learner's annual ledger and transcript, and the evidence behind each credit record."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from flask import abort, render_template, request
from flask_login import current_user

from app.audit.services import record as record_event
from app.credits import bp, queries, services
from app.credits.forms import YearForm
from app.credits.rules import current_year, region_label
from app.credits.services import Ledger
from app.extensions import db
from app.permissions import SIGNED_IN, access

#: Years a ledger may be asked for.
FIRST_YEAR, LAST_YEAR = services.YEAR_RANGE

#: Width of the chart's coordinate system (the SVG viewBox); the page scales it.
CHART_WIDTH = 1000
MARKER_INSET = 1.5


@dataclass(frozen=True)
class Chart:
    """Geometry of the ledger's bar, in viewBox units: x positions and widths."""

    professional: float
    public: float
    target: float
    minimum: float
    #: ``text-anchor`` of the labels of the target and minimum markers, to keep them inside.
    target_anchor: str
    minimum_anchor: str


def _anchor(x: float, width: float) -> str:
    if x > width * 0.85:
        return "end"
    if x < width * 0.15:
        return "start"
    return "middle"


def ledger_chart(ledger: Ledger, width: int = CHART_WIDTH) -> Chart:
    """Professional, then counted public hours, on a scale reaching the requirement (or the
    total when it is exceeded), with markers at the requirement and the professional minimum."""
    scale = max(ledger.required_total, ledger.total_counted, Decimal(1))

    def x(hours: Decimal) -> float:
        return round(float(hours / scale) * width, 1)

    def marker(hours: Decimal) -> float:
        # Half the stroke inside the box, so a marker at either end stays visible.
        return min(max(x(hours), MARKER_INSET), width - MARKER_INSET)

    target, minimum = marker(ledger.required_total), marker(ledger.required_professional)
    return Chart(
        professional=x(ledger.professional_hours),
        public=x(ledger.public_counted),
        target=target,
        minimum=minimum,
        target_anchor=_anchor(target, width),
        minimum_anchor=_anchor(minimum, width),
    )


def _year_or_404(year: int) -> int:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        abort(404)
    return year


@bp.app_template_filter("share")
def share_filter(share: Decimal) -> str:
    """A rule pack's professional share as people read it, e.g. 2/3."""
    return services.format_share(share)


@bp.app_template_filter("region")
def region_filter(region: str | None) -> str | None:
    return region_label(region)


@bp.app_template_global()
def hours_this_year() -> Ledger | None:
    """The signed-in user's ledger for the current year, for shortcuts on other pages."""
    if not current_user.is_authenticated:
        return None
    try:
        return services.ledger_for(db.session, current_user, current_year())
    except LookupError:
        return None


@bp.route("/my/hours")
@access(SIGNED_IN)
def my_hours():
    """A year's credit hours by category against the requirement, and what is missing."""
    this_year = current_year()
    year = _year_or_404(request.args.get("year", this_year, type=int))
    ledger = services.ledger_for(db.session, current_user, year)
    years = sorted({*queries.record_years(current_user.id), this_year, year}, reverse=True)
    return render_template(
        "credits/hours.html",
        ledger=ledger,
        chart=ledger_chart(ledger),
        form=YearForm(formdata=None, data={"year": year}, years=years),
    )


@bp.route("/my/hours/<int:year>/transcript")
@access(SIGNED_IN)
def transcript(year: int):
    """The year's credit records, each with a link to its evidence; laid out for printing."""
    year = _year_or_404(year)
    return render_template(
        "credits/transcript.html",
        ledger=services.ledger_for(db.session, current_user, year),
        records=queries.records_of(current_user.id, year),
    )


@bp.route("/records/<int:record_id>/evidence")
@access(SIGNED_IN)
def evidence(record_id: int):
    """What a credit record rests on: sessions, heartbeats accepted and refused, and why.

    ``?session=<id>`` adds the heartbeat-by-heartbeat log of one of its sessions.
    """
    record = queries.get_record_or_404(record_id)
    if record.user_id != current_user.id:  # an audit of someone's record is itself recorded
        record_event(db.session, "admin.evidence_viewed", actor_id=current_user.id,
                     target=f"credit_record:{record.id}")  # fmt: skip
        db.session.commit()
    session_id = request.args.get("session", "")[:32]
    log = queries.heartbeat_log_or_404(record, session_id) if session_id else None
    return render_template(
        "credits/evidence.html",
        record=record,
        report=services.evidence_for(db.session, record),
        reason_label=services.reason_label,
        selected=session_id or None,
        log=log,
        learner=queries.learner_of(record),
    )
