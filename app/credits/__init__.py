"""Credits: course completion records, rule packs and the learner's annual ledger."""

from flask import Blueprint

bp = Blueprint("credits", __name__)

from app.credits import views  # noqa: E402, F401
