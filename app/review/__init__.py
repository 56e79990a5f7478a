"""Review: reviewers check submitted courses, preview them, and publish or return them."""

from flask import Blueprint

bp = Blueprint("review", __name__)

from app.review import views  # noqa: E402, F401
