"""Media: resumable uploads, processing jobs and signed, CDN-friendly media URLs."""

from flask import Blueprint

bp = Blueprint("media", __name__)

from app.media import views  # noqa: E402, F401
from app.media.messages import reason_message  # noqa: E402

bp.add_app_template_filter(reason_message, "media_error")
