"""Media: resumable uploads, processing jobs and signed, CDN-friendly media URLs."""

from flask import Blueprint

bp = Blueprint("media", __name__)

from app.media import views  # noqa: E402, F401
