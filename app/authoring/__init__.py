"""Authoring: course authors edit their provider's courses and lessons and submit them for review."""

from flask import Blueprint

bp = Blueprint("authoring", __name__)

from app.authoring import views  # noqa: E402, F401
