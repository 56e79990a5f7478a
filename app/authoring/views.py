"""Routes of the authoring area."""

from app.authoring import bp  # noqa: F401
