"""Employers: lookup for registration (HR screens come later)."""

from flask import Blueprint

bp = Blueprint("orgs", __name__)

from app.orgs import views  # noqa: E402, F401
