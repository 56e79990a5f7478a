"""Session cookies and CSRF tokens: verified once and remembered, yet never trusted more.

The caches in app/cookies.py and app/csrf.py key on the exact signed string, so these
tests check that everything Flask and Flask-WTF would refuse is still refused after the same
browser was accepted before: altered cookies and tokens, expired ones, rotated keys, and
tokens of another session.
"""

from __future__ import annotations

import re
import time
from types import SimpleNamespace

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

import app.cookies as session_module
import app.csrf as csrf_module

HOURS = "/my/hours"  # a page for signed-in learners only
JSON_POST = "/api/v1/playback/sessions/no-such-session/end"  # 401 once past the CSRF check


@pytest.fixture
def csrf_on(app, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)


def signed_in(client, make_user) -> None:
    account = make_user()
    page = client.get("/login").get_data(as_text=True)
    form = {"identifier": account["mobile"], "password": account["password"]}
    if token := re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page):
        form["csrf_token"] = token.group(1)
    response = client.post("/login", data=form)
    assert response.status_code == 302


def page_token(client) -> str:
    page = client.get("/").get_data(as_text=True)
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)


def later(monkeypatch, module, seconds: float) -> None:
    """Move the clock that ``module`` reads forward (nothing else's)."""
    now = time.time()
    monkeypatch.setattr(module, "time", SimpleNamespace(time=lambda: now + seconds))


class TestSessionCookie:
    def test_a_signed_in_browser_stays_signed_in(self, client, make_user):
        signed_in(client, make_user)
        assert client.get(HOURS).status_code == 200
        assert client.get(HOURS).status_code == 200

    def test_an_altered_cookie_is_an_anonymous_session(self, client, make_user):
        signed_in(client, make_user)
        assert client.get(HOURS).status_code == 200  # the genuine cookie is now remembered
        cookie = client.get_cookie("session").value
        payload, _, signature = cookie.rpartition(".")
        forged = payload + "." + ("A" if signature[0] != "A" else "B") + signature[1:]
        client.set_cookie("session", forged)
        assert client.get(HOURS).status_code == 302

    def test_an_expired_cookie_is_refused_though_it_was_accepted_before(
        self, app, client, make_user, monkeypatch
    ):
        signed_in(client, make_user)
        assert client.get(HOURS).status_code == 200
        lifetime = app.permanent_session_lifetime.total_seconds()
        later(monkeypatch, session_module, lifetime + 60)
        assert client.get(HOURS).status_code == 302

    def test_a_rotated_key_forgets_what_the_old_one_signed(
        self, app, client, make_user, monkeypatch
    ):
        signed_in(client, make_user)
        assert client.get(HOURS).status_code == 200
        old_key, old_cookie = app.secret_key, client.get_cookie("session").value
        monkeypatch.setattr(app, "secret_key", "a-new-key-" + "x" * 40)
        assert client.get(HOURS).status_code == 302
        monkeypatch.setitem(app.config, "SECRET_KEY_FALLBACKS", [old_key])
        client.set_cookie("session", old_cookie)  # the 302 replaced it
        assert client.get(HOURS).status_code == 200  # the old key is accepted as a fallback

    def test_each_request_gets_its_own_copy(self, app):
        interface = app.session_interface
        serializer = interface.get_signing_serializer(app)
        cookie = serializer.dumps({"_flashes": [("info", "一")], "_user_id": "1.0"})

        def opened():
            environ = EnvironBuilder(headers={"Cookie": f"session={cookie}"}).get_environ()
            return interface.open_session(app, Request(environ))

        first = opened()
        first["_flashes"].append(("info", "二"))
        assert opened()["_flashes"] == [("info", "一")]

    def test_the_cookie_header_is_parsed_as_werkzeug_would(self):
        from app.cookies import Request as CachingRequest

        header = 'session=abc.def; lang=en; quoted="a b"; lang=zh'
        environ = EnvironBuilder(headers={"Cookie": header}).get_environ()
        assert CachingRequest(environ).cookies == Request(environ).cookies
        assert CachingRequest(environ).cookies.getlist("lang") == ["en", "zh"]
        assert not CachingRequest(EnvironBuilder().get_environ()).cookies


class TestCsrfToken:
    def test_the_header_token_is_accepted_on_every_request(self, client, csrf_on, make_user):
        signed_in(client, make_user)
        token = page_token(client)
        for _ in range(3):
            response = client.post(JSON_POST, headers={"X-CSRFToken": token})
            assert response.status_code == 403  # past the CSRF check: no such session

    @pytest.mark.parametrize(
        "alter",
        [lambda t: None, lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"), str.upper],
        ids=["missing", "bad-signature", "garbled"],
    )
    def test_missing_or_altered_tokens_are_refused(self, client, csrf_on, make_user, alter):
        signed_in(client, make_user)
        token = page_token(client)
        assert client.post(JSON_POST, headers={"X-CSRFToken": token}).status_code == 403
        forged = alter(token)
        headers = {"X-CSRFToken": forged} if forged else {}
        assert client.post(JSON_POST, headers=headers).status_code == 400

    def test_a_token_from_another_session_is_refused(self, app, csrf_on, make_user):
        alice, mallory = app.test_client(), app.test_client()
        signed_in(alice, make_user)
        signed_in(mallory, make_user)
        stolen = page_token(mallory)
        assert mallory.post(JSON_POST, headers={"X-CSRFToken": stolen}).status_code == 403
        response = alice.post(JSON_POST, headers={"X-CSRFToken": stolen})
        assert (response.status_code, response.json["reason"]) == (400, "mismatch")

    def test_an_expired_token_is_refused_though_it_was_accepted_before(
        self, app, client, csrf_on, make_user, monkeypatch
    ):
        signed_in(client, make_user)
        token = page_token(client)
        assert client.post(JSON_POST, headers={"X-CSRFToken": token}).status_code == 403
        later(monkeypatch, csrf_module, app.config.get("WTF_CSRF_TIME_LIMIT", 3600) + 60)
        response = client.post(JSON_POST, headers={"X-CSRFToken": token})
        assert (response.status_code, response.json["reason"]) == (400, "expired")

    def test_over_https_the_referrer_must_be_this_site(self, client, csrf_on, make_user):
        signed_in(client, make_user)
        token = page_token(client)

        def post(**headers: str):
            return client.post(
                JSON_POST, headers={"X-CSRFToken": token, **headers}, base_url="https://localhost"
            )

        assert (post().status_code, post().json["reason"]) == (400, "referrer")
        foreign = post(Referer="https://evil.example/courses")
        assert (foreign.status_code, foreign.json["reason"]) == (400, "referrer")
        assert post(Referer="https://localhost/courses/1").status_code == 403  # past the check

    def test_a_json_body_is_not_read_as_a_form(self, client, csrf_on, make_user):
        signed_in(client, make_user)
        response = client.post(JSON_POST, json={"csrf_token": page_token(client)})
        assert response.status_code == 400  # JSON clients send the header

    def test_json_clients_get_the_reason_in_the_users_language(self, client, csrf_on):
        refused = client.post(JSON_POST)
        assert refused.json == {"error": "安全令牌缺失，请刷新页面后重试。", "reason": "missing"}
        client.get("/locale/en")
        refused = client.post(JSON_POST)
        assert refused.json["error"] == (
            "The security token is missing. Reload the page and try again."
        )


class TestCsrfExemptions:
    """Exemptions are decided once per view, and still by Flask-WTF's rules."""

    @staticmethod
    def _app():
        from flask import Blueprint, Flask
        from flask_wtf.csrf import CSRFError

        from app.csrf import CSRFProtect

        app = Flask(__name__)
        app.config.update(SECRET_KEY="test", WTF_CSRF_ENABLED=True)
        csrf = CSRFProtect(app)
        app.register_error_handler(CSRFError, lambda error: (error.reason, 400))
        app.add_url_rule("/guarded", "guarded", lambda: "ok", methods=["GET", "POST"])
        bp = Blueprint("hooks", __name__)
        bp.add_url_rule("/in", "incoming", lambda: "ok", methods=["POST"])
        return app, csrf, bp

    def test_exempt_views_and_blueprints_are_not_checked_and_others_are(self):
        app, csrf, bp = self._app()
        csrf.exempt(bp)

        def webhook():
            return "ok"

        app.add_url_rule("/webhook", view_func=csrf.exempt(webhook), methods=["POST"])
        app.register_blueprint(bp)
        client = app.test_client()
        for _ in range(2):  # the second time from what was remembered
            assert client.post("/webhook").status_code == 200
            assert client.post("/in").status_code == 200
            assert client.post("/guarded").status_code == 400
            assert client.get("/guarded").status_code == 200

    def test_a_view_exempted_later_is_exempt_from_then_on(self):
        app, csrf, _ = self._app()
        client = app.test_client()
        assert client.post("/guarded").status_code == 400
        csrf.exempt(app.view_functions["guarded"])
        assert client.post("/guarded").status_code == 200
