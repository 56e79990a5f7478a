"""Authoring: course authors write their provider's courses and lessons and submit them."""

from flask import Blueprint

bp = Blueprint("authoring", __name__)

from app.authoring import views  # noqa: E402, F401
