"""Every route, every role: who gets in, who is sent to sign in, who is refused.

Adding a route without adding it here fails ``test_every_route_is_in_the_matrix``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from app.catalog.models import Lesson
from app.catalog.taxonomy import Category
from app.credits.models import CreditRecord, RulePack
from app.extensions import db
from app.learning.progress_models import PlaybackSession
from app.media.models import MediaAsset, MediaKind, MediaStatus
from app.media.signing import signed_path
from app.permissions import PUBLIC, Role, access, check_every_view_declares_access

#: "author" writes for another provider than the world's courses; "own_author" for theirs.
AUDIENCES = ("anonymous", "learner", "author", "own_author", "reviewer", "hr", "admin")
LOGIN = "login"  # 302 to the sign-in page


@dataclass(frozen=True)
class Case:
    endpoint: str
    method: str
    path: str  # formatted with the ids of the world fixture
    expect: dict[str, int | str]
    data: dict[str, str] = field(default_factory=dict)
    label: str = ""
    json: dict | None = None

    @property
    def id(self) -> str:
        return f"{self.endpoint}{'-' + self.label if self.label else ''}"


def everyone(code: int) -> dict[str, int | str]:
    return dict.fromkeys(AUDIENCES, code)


def signed_in(code: int) -> dict[str, int | str]:
    """Any signed-in user."""
    return {"anonymous": LOGIN, **dict.fromkeys(AUDIENCES[1:], code)}


def only(roles: set[str], code: int, **special: int) -> dict[str, int | str]:
    """Allowed audiences get ``code``, other signed-in users 403; ``special`` overrides."""
    expect = {"anonymous": LOGIN, **{a: code if a in roles else 403 for a in AUDIENCES[1:]}}
    return {**expect, **special}


def own_course(code: int) -> dict[str, int | str]:
    """Authoring routes: the provider's authors only; other authors don't see the course."""
    return only({"own_author"}, code, author=404)


def guests_only() -> dict[str, int | str]:
    return {"anonymous": 200, **dict.fromkeys(AUDIENCES[1:], 302)}


CASES = [
    Case("main.index", "GET", "/", everyone(200)),
    Case("main.healthz", "GET", "/healthz", everyone(200)),
    Case("main.ping", "GET", "/api/v1/ping", everyone(200)),
    Case("main.set_locale", "GET", "/locale/en?next=/courses", everyone(302)),
    Case("auth.register", "GET", "/register", guests_only()),
    Case("auth.login", "GET", "/login", guests_only()),
    Case("auth.logout", "POST", "/logout", signed_in(302)),
    Case("auth.account", "GET", "/account", signed_in(200)),
    Case("auth.change_password", "GET", "/account/password", signed_in(200)),
    Case("catalog.index", "GET", "/courses", everyone(200)),
    Case("catalog.course", "GET", "/courses/{published}", everyone(200), label="published"),
    Case(
        "catalog.course",
        "GET",
        "/courses/{draft}",
        {
            "anonymous": 404,
            "learner": 404,
            "author": 404,  # an author of another provider
            "own_author": 200,
            "reviewer": 200,
            "hr": 404,
            "admin": 200,
        },
        label="draft",
    ),
    Case("learning.dashboard", "GET", "/dashboard", signed_in(200)),
    Case("learning.enrol", "POST", "/courses/{published}/enrol", only({"learner"}, 302)),
    Case(
        "learning.lesson",
        "GET",
        "/courses/{published}/lessons/{published_lesson}",
        # Learners who have not enrolled are sent to the course page to enrol.
        {
            "anonymous": LOGIN,
            "learner": 302,
            "author": 302,
            "own_author": 200,
            "reviewer": 200,
            "hr": 302,
            "admin": 200,
        },
    ),
    # -- authoring --------------------------------------------------------------------
    Case("authoring.courses", "GET", "/author/courses", only({"author", "own_author"}, 200)),
    Case("authoring.new_course", "GET", "/author/courses/new", only({"author", "own_author"}, 200)),
    Case("authoring.course", "GET", "/author/courses/{draft}", own_course(200)),
    Case("authoring.edit_course", "GET", "/author/courses/{draft}/edit", own_course(200)),
    Case(
        "authoring.add_lesson",
        "POST",
        "/author/courses/{draft}/lessons",
        own_course(302),
        {"title": "新课时", "kind": "video"},
    ),
    Case(
        "authoring.edit_lesson",
        "GET",
        "/author/courses/{draft}/lessons/{draft_lesson}/edit",
        own_course(200),
    ),
    Case(
        "authoring.move_lesson",
        "POST",
        "/author/courses/{draft}/lessons/{draft_lesson}/move",
        own_course(302),
        {"direction": "down"},
    ),
    Case(
        "authoring.delete_lesson",
        "POST",
        "/author/courses/{draft}/lessons/{draft_lesson}/delete",
        own_course(302),
    ),
    # Submitting is refused (no processed media yet): the page comes back with the reason.
    Case("authoring.submit", "POST", "/author/courses/{draft}/submit", own_course(400)),
    Case("authoring.withdraw", "POST", "/author/courses/{in_review}/withdraw", own_course(302)),
    # -- review -------------------------------------------------------------------------
    Case("review.queue", "GET", "/review/", only({"reviewer", "admin"}, 200)),
    Case("review.decided", "GET", "/review/decided", only({"reviewer", "admin"}, 200)),
    Case("review.course", "GET", "/review/courses/{in_review}", only({"reviewer", "admin"}, 200)),
    Case(
        "review.approve",
        "POST",
        "/review/courses/{in_review}/approve",
        only({"reviewer", "admin"}, 400),  # refused with a reason: no processed media yet
    ),
    Case(
        "review.return_to_author",
        "POST",
        "/review/courses/{in_review}/return",
        only({"reviewer", "admin"}, 400),  # a return needs a comment
    ),
    # -- media --------------------------------------------------------------------------
    Case(
        "media.start_upload",
        "POST",
        "/api/v1/uploads",
        only({"author", "own_author"}, 201, author=404, anonymous=401),
        json={"lesson_id": "{draft_lesson}", "filename": "a.mp4", "size": 100},
    ),
    Case(
        "media.upload",
        "GET",
        "/api/v1/uploads/{upload}",
        only({"author", "own_author"}, 200, author=404, anonymous=401),
    ),
    Case(
        "media.asset_status",
        "GET",
        "/api/v1/media/{asset}",
        only({"author", "own_author", "reviewer", "admin"}, 200, author=404, anonymous=401),
    ),
    Case(
        "media.retry",
        "POST",
        "/media/{asset}/retry",
        only({"author", "own_author", "admin"}, 302, author=404),
    ),
    Case(
        "media.cancel",
        "POST",
        "/media/{asset}/cancel",
        only({"author", "own_author", "admin"}, 302, author=404),
    ),
    Case("media.serve", "GET", "{signed_master}", everyone(200)),
    # -- credit hours -------------------------------------------------------------------------
    Case("credits.my_hours", "GET", "/my/hours", signed_in(200)),
    Case("credits.transcript", "GET", "/my/hours/2026/transcript", signed_in(200)),
    Case(
        "credits.evidence",
        "GET",
        "/records/{record}/evidence",  # the world's learner owns the record; admins audit it
        {
            "anonymous": LOGIN,
            "learner": 200,
            "author": 404,
            "own_author": 404,
            "reviewer": 404,
            "hr": 404,
            "admin": 200,
        },
    ),
    Case("admin.rule_packs", "GET", "/admin/rule-packs", only({"admin"}, 200)),
    Case("admin.new_rule_pack", "GET", "/admin/rule-packs/new", only({"admin"}, 200)),
    Case("admin.rule_pack", "GET", "/admin/rule-packs/{rule_pack}", only({"admin"}, 200)),
    Case(
        "admin.new_rule_pack_version",
        "POST",
        "/admin/rule-packs/{rule_pack}/versions",
        only({"admin"}, 400),  # an empty form is refused with the reasons
    ),
    Case(
        "admin.activate_rule_pack",
        "POST",
        "/admin/rule-packs/{rule_pack}/activate",
        only({"admin"}, 302),
    ),
    # -- study API (the world's learner owns the playback session) ---------------------------
    Case(
        "learning.start_playback",
        "POST",
        "/api/v1/playback/sessions",
        only({"learner"}, 404, anonymous=401),  # 404: the learner is not enrolled
        json={"lesson_id": "{published_lesson}"},
    ),
    Case(
        "learning.heartbeat",
        "POST",
        "/api/v1/playback/sessions/{playback}/heartbeats",
        {"anonymous": 401, **dict.fromkeys(AUDIENCES[1:], 403), "learner": 200},
        json={"seq": 1, "position": 0, "playing": True, "rate": 1.0, "visible": True},
    ),
    Case(
        "learning.end_playback",
        "POST",
        "/api/v1/playback/sessions/{playback}/end",
        {"anonymous": 401, **dict.fromkeys(AUDIENCES[1:], 403), "learner": 204},
    ),
    Case("orgs.lookup", "GET", "/orgs/lookup?q=测试", everyone(200)),
    Case("admin.users", "GET", "/admin/users", only({"admin"}, 200)),
    Case("admin.users", "POST", "/admin/users", only({"admin"}, 200), {"q": "学员"}, "search"),
    Case("admin.user", "GET", "/admin/users/{target}", only({"admin"}, 200)),
    Case(
        "admin.reset_password", "POST", "/admin/users/{target}/reset-password", only({"admin"}, 200)
    ),
    Case("admin.unlock", "POST", "/admin/users/{target}/unlock", only({"admin"}, 302)),
    Case(
        "admin.set_roles",
        "POST",
        "/admin/users/{target}/roles",
        only({"admin"}, 302),
        data={"roles": "learner"},
    ),
]


@pytest.fixture
def world(app, client, make_user, make_course, make_provider, login):
    """One account per role (holding only that role), courses in each state, a target
    account, a processed video, an open upload and a signed media URL."""
    provider = make_provider()
    accounts = {role.value: make_user(role) for role in Role}
    accounts["author"] = make_user(Role.AUTHOR, provider_id=make_provider())
    accounts["own_author"] = make_user(Role.AUTHOR, provider_id=provider)
    ids = {
        "published": make_course(provider_id=provider),
        "draft": make_course(status="draft", provider_id=provider),
        "in_review": make_course(status="in_review", provider_id=provider),
        "target": make_user()["id"],
    }
    with app.test_request_context():
        lessons = {
            name: db.session.scalar(select(Lesson).filter_by(course_id=ids[name]))
            for name in ("published", "draft")
        }
        asset = MediaAsset(
            provider_id=provider,
            kind=MediaKind.VIDEO,
            status=MediaStatus.READY,
            original_name="a.mp4",
            size_bytes=1,
            sha256="0" * 64,
            original_key="originals/" + "0" * 32,
            output_prefix="media/" + "0" * 32,
        )
        db.session.add(asset)
        db.session.flush()
        lessons["published"].media_asset_id = asset.id
        playback = PlaybackSession(
            id="f" * 32,
            user_id=accounts["learner"]["id"],
            lesson_id=lessons["published"].id,
            course_id=ids["published"],
            day=date(2026, 11, 29),
            target_seconds=600.0,
            anchor_at=datetime.now(UTC),
        )
        db.session.add(playback)
        ids["playback"] = playback.id
        record = CreditRecord(
            user_id=accounts["learner"]["id"],
            course_id=ids["published"],
            year=2026,
            category=Category.PROFESSIONAL,
            hours=Decimal(6),
            study_seconds=0,
        )
        db.session.add(record)
        db.session.flush()
        ids["record"] = record.id
        ids["rule_pack"] = db.session.scalar(select(RulePack.id).filter_by(code="national"))
        ids.update(
            published_lesson=lessons["published"].id,
            draft_lesson=lessons["draft"].id,
            asset=asset.id,
            signed_master=signed_path(asset.output_prefix, "master.m3u8"),
        )
        prefix = asset.output_prefix
        db.session.commit()
    master = Path(app.config["MEDIA_ROOT"]) / prefix / "master.m3u8"
    master.parent.mkdir(parents=True, exist_ok=True)
    master.write_text("#EXTM3U\n")
    login(accounts["own_author"])
    started = client.post(
        "/api/v1/uploads", json={"lesson_id": ids["draft_lesson"], "filename": "b", "size": 9}
    )
    ids["upload"] = started.json["upload_id"]
    client.post("/logout")
    return accounts, ids


def test_every_route_is_in_the_matrix(app: Flask):
    routed = {endpoint for endpoint in app.view_functions if endpoint != "static"}
    assert {case.endpoint for case in CASES} == routed


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_route_access(app, client, world, login, case: Case):
    accounts, ids = world
    path = case.path.format(**ids)
    body = None
    if case.json is not None:
        body = {
            k: int(v.format(**ids)) if isinstance(v, str) and v.startswith("{") else v
            for k, v in case.json.items()
        }
    outcomes = {}
    for audience in AUDIENCES:
        client.post("/logout")
        if audience != "anonymous":
            login(accounts[audience])
        if body is not None:
            response = client.open(path, method=case.method, json=body)
        else:
            response = client.open(path, method=case.method, data=case.data)
        if response.status_code == 302 and "/login" in response.headers["Location"]:
            outcomes[audience] = LOGIN if audience == "anonymous" else "login-again?"
        else:
            outcomes[audience] = response.status_code
    assert outcomes == case.expect


def test_a_view_without_a_declaration_stops_the_app_from_starting():
    rogue = Flask("rogue")

    @rogue.route("/declared")
    @access(PUBLIC)
    def declared():
        return "ok"

    @rogue.route("/forgotten")
    def forgotten():
        return "oops"

    with pytest.raises(RuntimeError, match="forgotten"):
        check_every_view_declares_access(rogue)


def test_api_callers_get_401_json_instead_of_a_redirect(app):
    """JSON callers (the heartbeat API to come) must not be redirected to an HTML page."""
    from app.auth.session import unauthorized

    with app.test_request_context("/api/v1/anything"):
        response = unauthorized()
    assert response[1] == 401
