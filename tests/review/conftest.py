"""Review tests use the fixtures of the authoring tests (see ../authoring/fixtures.py)."""

from tests.authoring.fixtures import attach_media, make_author, make_ready_course

__all__ = ["attach_media", "make_author", "make_ready_course"]
