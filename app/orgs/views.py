"""Employer lookup used by the registration form's autocomplete."""

from __future__ import annotations

from flask import current_app, jsonify, request

from app.extensions import db, limiter
from app.orgs import bp
from app.orgs.queries import search_organisations
from app.permissions import PUBLIC, access


@bp.route("/orgs/lookup")
@access(PUBLIC)
@limiter.limit(lambda: current_app.config["LOOKUP_RATE_LIMIT"])
def lookup():
    """Up to ten employers matching ``q`` by name or credit-code prefix (public data)."""
    text = request.args.get("q", "")[:100]
    found = search_organisations(db.session, text)
    return jsonify(results=[{"name": o.name, "credit_code": o.credit_code} for o in found])
