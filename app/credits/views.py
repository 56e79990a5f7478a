"""Routes of the credits area."""

from app.credits import bp  # noqa: F401
