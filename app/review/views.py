"""Routes of the review area."""

from app.review import bp  # noqa: F401
