"""Learning: enrolments and the learner's dashboard."""

from flask import Blueprint

bp = Blueprint("learning", __name__)

from app.learning import api, views  # noqa: E402, F401
