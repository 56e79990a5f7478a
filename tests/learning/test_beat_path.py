"""The heartbeat's short path answers exactly as the Flask view does, or lets the view answer.

Each test sends a request with the short path on and the same request with it off
(``HEARTBEAT_SHORT_PATH``) and compares status, headers and body; ``short_path`` records
whether the short path answered or handed the request to Flask.
"""

from __future__ import annotations

import re

import pytest

import app.learning.beat_path as beat_path_module
from app.i18n import LOCALE_COOKIE
from app.learning.beat_path import BeatPath
from tests.learning.test_study_api import INTERVAL, beat, start

BEAT = {"seq": 1, "position": 0, "playing": True, "rate": 1.0, "visible": True}


@pytest.fixture
def short_path(app, monkeypatch) -> list[str]:
    """For each heartbeat request, who answered: "short", "flask", or "error" (the short
    path raised, and Flask's error handling answered)."""
    layer = app.wsgi_app
    assert isinstance(layer, BeatPath)  # nothing (no ProxyFix in tests) is wrapped around it
    answered: list[str] = []
    serve = layer.serve

    def spy(environ, session_id):
        try:
            body = serve(environ, session_id)
        except Exception:
            answered.append("error")
            raise
        answered.append("flask" if body is None else "short")
        return body

    monkeypatch.setattr(layer, "serve", spy)
    return answered


@pytest.fixture
def flask_only(app, monkeypatch):
    """Run a request with the short path turned off."""

    def run(send):
        monkeypatch.setitem(app.config, "HEARTBEAT_SHORT_PATH", False)
        try:
            return send()
        finally:
            monkeypatch.setitem(app.config, "HEARTBEAT_SHORT_PATH", True)

    return run


def answer(response) -> tuple:
    return response.status_code, list(response.headers.items()), response.get_data()


def url(session_id: str) -> str:
    return f"/api/v1/playback/sessions/{session_id}/heartbeats"


def sign_in(client, account) -> None:
    response = client.post(
        "/login", data={"identifier": account["mobile"], "password": account["password"]}
    )
    assert response.status_code == 302


class TestPlainHeartbeats:
    def test_a_lesson_studied_through_it_earns_what_the_view_gives(
        self, app, client, studying, make_user, short_path, flask_only, clock
    ):
        twin = app.test_client()
        other = make_user()
        sign_in(twin, other)
        assert twin.post(f"/courses/{studying['course']}/enrol").status_code == 302
        mine = start(client, studying["lesson"])["session_id"]
        theirs = start(twin, studying["lesson"])["session_id"]
        # honest beats, one too soon, the beat that completes the 60 s lesson, beats after it
        script = [(INTERVAL, 15), (INTERVAL, 30), (1, 31), (INTERVAL, 45), (INTERVAL, 60)]
        script += [(INTERVAL, 5), (INTERVAL, 20)]
        reasons = []
        for seq, (seconds, position) in enumerate(script, start=1):
            clock.advance(seconds)
            fast = beat(client, mine, seq, position)
            slow = flask_only(lambda s=seq, p=position: beat(twin, theirs, s, p))
            assert answer(fast) == answer(slow), f"beat {seq}"
            reasons.append((fast.json["reason"], fast.json["course_complete"]))
        assert short_path == ["short", "flask"] * len(script)
        assert reasons == [
            ("ok", False),
            ("ok", False),
            ("too_frequent", False),
            ("ok", False),
            ("ok", True),  # the completing beat (the rare path, folding credit) went short too
            ("complete", True),
            ("complete", True),
        ]
        hours = client.get("/my/hours").get_data(as_text=True)
        assert hours.count("6.0") == twin.get("/my/hours").get_data(as_text=True).count("6.0")

    def test_a_replayed_seq_earns_nothing_on_either_path(
        self, client, studying, short_path, flask_only, clock
    ):
        session_id = start(client, studying["lesson"])["session_id"]
        clock.advance(INTERVAL)
        assert beat(client, session_id, 1, 15).json["reason"] == "ok"
        clock.advance(INTERVAL)
        fast = beat(client, session_id, 1, 30)
        slow = flask_only(lambda: beat(client, session_id, 1, 30))
        assert answer(fast) == answer(slow)
        assert (fast.json["reason"], fast.json["credited_seconds"]) == ("replay", 0)
        assert short_path == ["short", "short", "flask"]


def refused_alike(flask_only, short_path, send, status: int):
    """Send it both ways: the short path hands it over, and the answers are the same."""
    fast = send()
    slow = flask_only(send)
    assert short_path == ["flask", "flask"]
    assert answer(fast) == answer(slow)
    assert fast.status_code == status, fast.get_data(as_text=True)
    return fast


class TestHandedToFlask:
    @pytest.mark.parametrize(
        ("body", "content_type", "status"),
        [
            (b'{"seq": 1', "application/json", 422),
            (b'{"seq": "1", "position": 0, "rate": 1, "playing": true, "visible": true}',
             "application/json", 422),
            (b'{"seq": 1, "position": 0, "rate": 1, "playing": 1, "visible": true}',
             "application/json", 422),
            (b"seq=1&position=0", "application/x-www-form-urlencoded", 422),
            (b'{"seq": 1}' + b" " * 1100, "application/json", 413),
        ],
        ids=["not-json", "seq-a-string", "playing-a-number", "a-form", "too-large"],
    )  # fmt: skip
    @pytest.mark.parametrize("language", ["zh_CN", "en"])
    def test_malformed_beats_get_the_views_error_in_the_users_language(
        self, client, studying, short_path, flask_only, body, content_type, status, language
    ):
        session_id = start(client, studying["lesson"])["session_id"]
        client.set_cookie(LOCALE_COOKIE, language)

        def send():
            return client.post(url(session_id), data=body, content_type=content_type)

        refused = refused_alike(flask_only, short_path, send, status)
        if status == 422:
            english = re.fullmatch(r"[ -~]+", refused.json["error"]) is not None
            assert english is (language == "en")

    @pytest.mark.parametrize(
        "environ",
        [
            {"CONTENT_LENGTH": "²"},  # a digit to str.isdigit, not to int
            {"CONTENT_LENGTH": "1" * 5000},  # more digits than int reads
            {"CONTENT_TYPE": "application/json\xa0"},  # str.strip would take the \xa0 off
            {"HTTP_CONNECTION": "Upgrade", "HTTP_UPGRADE": "websocket"},
            {"wsgi.url_scheme": "wss"},
        ],
        ids=["superscript-length", "huge-length", "odd-content-type", "upgrade", "websocket"],
    )
    def test_what_werkzeug_reads_its_own_way(
        self, client, studying, short_path, flask_only, environ
    ):
        session_id = start(client, studying["lesson"])["session_id"]

        def send():
            return client.post(url(session_id), json=BEAT, environ_overrides=environ)

        fast = send()
        slow = flask_only(send)
        assert short_path == ["flask", "flask"]
        assert answer(fast) == answer(slow)
        assert fast.status_code in {400, 422}

    def test_without_a_session_cookie(self, app, studying, client, short_path, flask_only):
        session_id = start(client, studying["lesson"])["session_id"]
        stranger = app.test_client()
        send = lambda: stranger.post(url(session_id), json=BEAT)  # noqa: E731
        refused_alike(flask_only, short_path, send, 401)

    def test_with_an_altered_session_cookie(self, client, studying, short_path, flask_only):
        session_id = start(client, studying["lesson"])["session_id"]
        cookie = client.get_cookie("session")
        client.set_cookie(
            "session", cookie.value[:-2] + ("BB" if cookie.value.endswith("AA") else "AA")
        )
        send = lambda: client.post(url(session_id), json=BEAT)  # noqa: E731
        refused_alike(flask_only, short_path, send, 401)

    def test_for_another_learners_session(
        self, app, client, studying, make_user, short_path, flask_only
    ):
        victim = start(client, studying["lesson"])["session_id"]
        mallory = app.test_client()
        sign_in(mallory, make_user())
        send = lambda: mallory.post(url(victim), json=BEAT)  # noqa: E731
        refused_alike(flask_only, short_path, send, 403)  # the body was put back

    def test_for_a_superseded_session(self, client, studying, short_path, flask_only):
        first = start(client, studying["lesson"])["session_id"]
        start(client, studying["lesson"])
        send = lambda: client.post(url(first), json=BEAT)  # noqa: E731
        refused = refused_alike(flask_only, short_path, send, 409)
        assert refused.json["reason"] == "superseded"

    def test_for_an_untrusted_host(self, client, studying, short_path, flask_only, monkeypatch):
        session_id = start(client, studying["lesson"])["session_id"]
        monkeypatch.setitem(client.application.config, "TRUSTED_HOSTS", ["zhixin.example"])
        send = lambda: client.post(url(session_id), json=BEAT)  # noqa: E731
        refused_alike(flask_only, short_path, send, 400)

    def test_a_permanent_session_is_refreshed_by_flask(
        self, client, studying, short_path, flask_only
    ):
        session_id = start(client, studying["lesson"])["session_id"]
        with client.session_transaction() as session:
            session.permanent = True
        fast = client.post(url(session_id), json=BEAT)
        slow = flask_only(lambda: client.post(url(session_id), json=dict(BEAT, seq=2)))
        assert short_path == ["flask", "flask"]
        assert fast.status_code == slow.status_code == 200
        assert "Set-Cookie" in fast.headers
        assert "Set-Cookie" in slow.headers

    def test_a_remember_cookie_refreshed_on_every_request(
        self, client, studying, short_path, monkeypatch
    ):
        session_id = start(client, studying["lesson"])["session_id"]
        monkeypatch.setitem(client.application.config, "REMEMBER_COOKIE_REFRESH_EACH_REQUEST", True)
        response = client.post(url(session_id), json=BEAT)
        assert (response.status_code, short_path) == (200, ["flask"])
        assert "remember_token=" in response.headers["Set-Cookie"]

    def test_a_pending_remember_cookie_change_is_made_by_flask(self, client, studying, short_path):
        session_id = start(client, studying["lesson"])["session_id"]
        with client.session_transaction() as session:
            session["_remember"] = "clear"  # as a sign-out whose answer never arrived leaves it
        response = client.post(url(session_id), json=BEAT)
        assert (response.status_code, short_path) == (200, ["flask"])
        assert "remember_token=;" in response.headers["Set-Cookie"]

    def test_an_unexpected_error_gets_the_apps_json_500(
        self, app, client, studying, short_path, flask_only, monkeypatch
    ):
        session_id = start(client, studying["lesson"])["session_id"]

        def broken(*args, **kwargs):
            raise RuntimeError("the disk is on fire")

        monkeypatch.setattr(beat_path_module, "record_heartbeat", broken)
        monkeypatch.setattr("app.learning.api.record_heartbeat", broken)
        with pytest.raises(RuntimeError):  # testing: raised, as Flask raises a view's
            client.post(url(session_id), json=BEAT)
        monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
        fast = client.post(url(session_id), json=BEAT)
        slow = flask_only(lambda: client.post(url(session_id), json=BEAT))
        assert short_path == ["error", "error", "flask"]
        assert answer(fast) == answer(slow)
        assert fast.status_code == 500
        assert fast.json["error"]


class TestCsrf:
    @pytest.fixture
    def token(self, app, client, studying, monkeypatch) -> str:
        monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
        page = client.get("/").get_data(as_text=True)
        return re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)

    def test_a_beat_with_the_pages_token_takes_the_short_path(
        self, client, studying, token, short_path
    ):
        session_id = start_with(client, studying, token)
        response = client.post(url(session_id), json=BEAT, headers={"X-CSRFToken": token})
        assert (response.status_code, short_path) == (200, ["short"])

    @pytest.mark.parametrize("forge", [lambda t: None, lambda t: t[:-4] + "AAAA"])
    def test_a_missing_or_forged_token_is_refused_by_flask(
        self, client, studying, token, short_path, flask_only, forge
    ):
        session_id = start_with(client, studying, token)
        headers = {"X-CSRFToken": forged} if (forged := forge(token)) else {}
        send = lambda: client.post(url(session_id), json=BEAT, headers=headers)  # noqa: E731
        refused_alike(flask_only, short_path, send, 400)

    def test_over_https_the_referrer_is_checked(self, client, studying, token, short_path):
        session_id = start_with(client, studying, token)

        def send(**headers: str):
            return client.post(
                url(session_id),
                json=dict(BEAT, seq=len(short_path) + 1),
                headers={"X-CSRFToken": token, **headers},
                base_url="https://localhost",
            )

        assert send().json["reason"] == "referrer"
        assert send(Referer="https://evil.example/").json["reason"] == "referrer"
        assert send(Referer="https://localhost/courses/1").status_code == 200
        assert short_path == ["flask", "flask", "short"]


def start_with(client, studying, token: str) -> str:
    response = client.post(
        "/api/v1/playback/sessions",
        json={"lesson_id": studying["lesson"]},
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 201, response.json
    return response.json["session_id"]


def test_flask_runs_no_hook_the_short_path_does_not_mirror(app):
    """The short path skips Flask's hooks, mirroring each one's effect on a heartbeat (see
    app/learning/beat_path.py). A new hook must be mirrored there, or handed over, and added
    here."""

    def names(functions) -> list[str]:
        return [f"{f.__module__}.{f.__qualname__}" for f in functions]

    assert names(app.before_request_funcs[None]) == [
        "flask_wtf.csrf.CSRFProtect.init_app.<locals>.csrf_protect",  # CSRFProtect.lets_through
        "app.ratelimit.Limiter._check_request_limit",  # the route is exempt
        "app.auth.session.init_app.<locals>.require_password_change",  # skips /api/
        "app.jobs.init_app.<locals>.start_jobs",  # start_in_this_process
    ]
    assert names(app.after_request_funcs[None]) == [
        "app.ratelimit._run_hooks_only_after_a_check.<locals>.inject_headers",  # no check ran
        "flask_login.login_manager.LoginManager._update_remember_cookie",  # _sets_a_cookie
        "app.http.init_app.<locals>.security_headers",  # security_headers_for
    ]
    assert names(app.teardown_request_funcs[None]) == [
        "app.ratelimit._run_hooks_only_after_a_check.<locals>.release_context"
    ]
    assert set(app.before_request_funcs) == {None}  # no blueprint's own hooks
    assert set(app.after_request_funcs) == {None}
    assert not app.url_value_preprocessors
