"""Routes of the media area."""

from app.media import bp  # noqa: F401
