"""Every route, every role: who gets in, who is sent to sign in, who is refused.

Adding a route without adding it here fails ``test_every_route_is_in_the_matrix``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from flask import Flask

from app.permissions import PUBLIC, Role, access, check_every_view_declares_access

AUDIENCES = ("anonymous", "learner", "author", "reviewer", "hr", "admin")
LOGIN = "login"  # 302 to the sign-in page


@dataclass(frozen=True)
class Case:
    endpoint: str
    method: str
    path: str  # formatted with the ids of the world fixture
    expect: dict[str, int | str]
    data: dict[str, str] = field(default_factory=dict)
    label: str = ""

    @property
    def id(self) -> str:
        return f"{self.endpoint}{'-' + self.label if self.label else ''}"


def everyone(code: int) -> dict[str, int | str]:
    return dict.fromkeys(AUDIENCES, code)


def signed_in(code: int) -> dict[str, int | str]:
    return {"anonymous": LOGIN, **dict.fromkeys(AUDIENCES[1:], code)}


def only(roles: set[str], code: int) -> dict[str, int | str]:
    return {"anonymous": LOGIN, **{a: code if a in roles else 403 for a in AUDIENCES[1:]}}


def guests_only() -> dict[str, int | str]:
    return {"anonymous": 200, **dict.fromkeys(AUDIENCES[1:], 302)}


CASES = [
    Case("main.index", "GET", "/", everyone(200)),
    Case("main.healthz", "GET", "/healthz", everyone(200)),
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
            "reviewer": 200,
            "hr": 404,
            "admin": 200,
        },
        label="draft",
    ),
    Case("learning.dashboard", "GET", "/dashboard", signed_in(200)),
    Case("learning.enrol", "POST", "/courses/{published}/enrol", only({"learner"}, 302)),
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
def world(make_user, make_course, make_provider):
    """One account per role (holding only that role), two courses and a target account."""
    accounts = {role.value: make_user(role) for role in Role}
    accounts["author"] = make_user(Role.AUTHOR, provider_id=make_provider())
    ids = {
        "published": make_course(),
        "draft": make_course(status="draft"),
        "target": make_user()["id"],
    }
    return accounts, ids


def test_every_route_is_in_the_matrix(app: Flask):
    routed = {endpoint for endpoint in app.view_functions if endpoint != "static"}
    assert {case.endpoint for case in CASES} == routed


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_route_access(app, client, world, login, case: Case):
    accounts, ids = world
    path = case.path.format(**ids)
    outcomes = {}
    for audience in AUDIENCES:
        client.post("/logout")
        if audience != "anonymous":
            login(accounts[audience])
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
