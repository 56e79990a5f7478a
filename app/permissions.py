"""Who may use which route, and which object: the one place for access rules.

Every view declares its audience with ``@access(...)``; create_app refuses to start when a
view has no declaration, so a new route cannot be forgotten. Object-level rules are the
``can_*`` predicates below, used by the loader helpers of each area.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from enum import StrEnum
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

from flask import Flask, abort
from flask import session as flask_session
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.extensions import login_manager

if TYPE_CHECKING:
    from app.auth.models import User
    from app.catalog.models import Course
    from app.credits.models import CreditRecord

F = TypeVar("F", bound=Callable[..., Any])


class Role(StrEnum):
    LEARNER = "learner"
    AUTHOR = "author"
    REVIEWER = "reviewer"
    HR = "hr"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.LEARNER: _l("Learner"),
    Role.AUTHOR: _l("Course author"),
    Role.REVIEWER: _l("Reviewer"),
    Role.HR: _l("HR office"),
    Role.ADMIN: _l("Administrator"),
}

#: Audience markers besides the roles.
PUBLIC = "public"
SIGNED_IN = "signed_in"
#: Signed in, as proven by the signed session cookie alone: the view checks the user id from
#: the cookie against the object itself, without loading the user (heartbeat hot path).
SESSION_COOKIE = "session_cookie"

Audience = Role | str


def access(*audience: Audience) -> Callable[[F], F]:
    """Declare and enforce who may call a view.

    ``PUBLIC`` lets anyone in, ``SIGNED_IN`` any signed-in user, roles a user holding any
    of them. Anonymous callers of a protected view are sent to sign in; signed-in callers
    without the role get 403.
    """
    if not audience:
        raise ValueError("access() needs at least one audience")
    allowed = frozenset(audience)

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if PUBLIC not in allowed and SESSION_COOKIE not in allowed:
                if not current_user.is_authenticated:
                    return login_manager.unauthorized()
                if SIGNED_IN not in allowed and not current_user.has_any_role(allowed):
                    abort(403)
            return view(*args, **kwargs)

        wrapper.access = allowed  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator


def session_identity() -> tuple[int, int] | None:
    """The signed-in user's id and sign-in generation from the session cookie, no query.

    Flask-Login stores ``"<id>.<session_version>"``. The heartbeat checks only the id against
    its playback session's owner: a password change ends the learner's playback sessions
    (``end_all_sessions``), so a signed-out device's heartbeats stop earning at once.
    """
    return identity_in(flask_session)


def identity_in(session_content: Mapping[str, Any]) -> tuple[int, int] | None:
    """``session_identity`` of a given session content (no request needed)."""
    raw = session_content.get("_user_id") or ""
    user_id, _, version = str(raw).partition(".")
    if not user_id.isdigit() or not version.isdigit():
        return None
    return int(user_id), int(version)


def audience_of(view: Callable[..., Any]) -> frozenset[str] | None:
    """The declared audience of a view function, or None when it has none."""
    return getattr(view, "access", None)


def check_every_view_declares_access(app: Flask, exempt: Iterable[str] = ("static",)) -> None:
    """Fail fast at start-up when a registered view has no ``@access`` declaration."""
    missing = [
        endpoint
        for endpoint, view in app.view_functions.items()
        if endpoint not in exempt and audience_of(view) is None
    ]
    if missing:
        raise RuntimeError(f"views without an @access declaration: {', '.join(sorted(missing))}")


# -- object-level rules --------------------------------------------------------------------


def can_view_course(user: User | Any, course: Course) -> bool:
    """Published courses are public; others only for staff who review or author them."""
    if course.is_visible_in_catalog:
        return True
    if not getattr(user, "is_authenticated", False):
        return False
    if user.has_any_role({Role.ADMIN, Role.REVIEWER}):
        return True
    return user.has_role(Role.AUTHOR) and user.provider_id == course.provider_id


def can_enrol(user: User | Any, course: Course) -> bool:
    """Only learners enrol, and only in published courses."""
    return (
        getattr(user, "is_authenticated", False)
        and user.has_role(Role.LEARNER)
        and course.is_open_for_enrolment
    )


def can_study(user: User | Any, course: Course, enrolled: bool) -> bool:
    """Lessons are for enrolled learners of a published course, and for its staff."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.has_any_role({Role.ADMIN, Role.REVIEWER}):
        return True
    if user.has_role(Role.AUTHOR) and user.provider_id == course.provider_id:
        return True
    return enrolled and course.is_open_for_enrolment


def can_manage_user(actor: User | Any, target: User) -> bool:
    """Administrators manage accounts; nobody resets their own password this way."""
    return actor.has_role(Role.ADMIN) and actor.id != target.id


def can_author_course(user: User | Any, course: Course) -> bool:
    """Authors work on their own provider's courses only, whatever the course's status."""
    return (
        getattr(user, "is_authenticated", False)
        and user.has_role(Role.AUTHOR)
        and user.provider_id is not None
        and user.provider_id == course.provider_id
    )


def can_review_course(user: User | Any, course: Course) -> bool:
    """Reviewers and administrators decide, but never on their own provider's courses.

    Keeping authors out of the decision on their own work is the point of the review.
    """
    return (
        getattr(user, "is_authenticated", False)
        and user.has_any_role({Role.REVIEWER, Role.ADMIN})
        and not can_author_course(user, course)
    )


def can_view_record(user: User | Any, record: CreditRecord) -> bool:
    """A credit record and its evidence: its learner, and administrators (who audit; their
    views are logged). Callers answer 404 to anyone else, so a record's existence is not
    revealed. Reviewers approve courses; they do not read learners' records."""
    if not getattr(user, "is_authenticated", False):
        return False
    return user.id == record.user_id or user.has_role(Role.ADMIN)
