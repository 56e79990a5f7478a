"""Authoring tests share their fixtures with the review tests (see fixtures.py)."""

from tests.authoring.fixtures import attach_media, make_author, make_ready_course

__all__ = ["attach_media", "make_author", "make_ready_course"]
