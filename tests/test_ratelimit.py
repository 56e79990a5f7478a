"""Rate limits are checked for the views that declare one, and only for those."""

from __future__ import annotations

import flask_limiter
import pytest
from flask import Blueprint, Flask

from app import create_app
from app.permissions import PUBLIC, access
from app.ratelimit import Limiter


@pytest.fixture
def limiter() -> Limiter:
    return Limiter(key_func=lambda: "caller", storage_uri="memory://")


def _app(limiter: Limiter) -> Flask:
    app = Flask(__name__)
    limiter.init_app(app)
    return app


def _app_with_views(limiter: Limiter, limit: str) -> Flask:
    """An app with a view limited to ``limit`` (/limited) and one with no limit (/free)."""
    app = _app(limiter)

    @app.get("/limited")
    @limiter.limit(limit)
    def limited():
        return "ok"

    @app.get("/free")
    def free():
        return "ok"

    return app


@pytest.fixture
def checks(monkeypatch) -> list[str | None]:
    """The endpoints for which Flask-Limiter's own check ran."""
    seen: list[str | None] = []
    original = flask_limiter.Limiter._check_request_limit

    def spy(self, callable_name=None, in_middleware=True):
        from flask import request

        seen.append(request.endpoint)
        return original(self, callable_name, in_middleware)

    monkeypatch.setattr(flask_limiter.Limiter, "_check_request_limit", spy)
    return seen


def test_only_views_with_a_limit_are_checked(limiter, checks):
    app = _app_with_views(limiter, "2 per minute")

    @app.get("/exempt")
    @limiter.exempt
    def exempt():
        return "ok"

    client = app.test_client()
    codes = [client.get(path).status_code for path in ("/free", "/exempt", "/free", "/missing")]
    assert codes == [200, 200, 200, 404]
    assert checks == []
    assert [client.get("/limited").status_code for _ in range(3)] == [200, 200, 429]
    assert checks[0] == "limited"


@pytest.mark.parametrize("limit_outside", [False, True])
def test_the_order_of_decorators_does_not_matter(limiter, limit_outside):
    app = _app(limiter)
    view = access(PUBLIC)(lambda: "ok")
    view.__name__ = view.__qualname__ = f"view_{limit_outside}"
    if limit_outside:
        app.add_url_rule("/v", view_func=limiter.limit("1 per minute")(view))
    else:
        inner = limiter.limit("1 per minute")(lambda: "ok")
        app.add_url_rule("/v", view_func=access(PUBLIC)(inner))
    client = app.test_client()
    assert [client.get("/v").status_code for _ in range(2)] == [200, 429]


def test_responses_of_limited_views_say_their_limit_and_others_are_left_alone(monkeypatch):
    """Flask-Limiter's after-request and teardown hooks run only after a check."""
    hooks: list[str] = []
    inject = flask_limiter.Limiter._Limiter__inject_headers
    release = flask_limiter.Limiter._Limiter__release_context

    def spy_inject(self, response):
        hooks.append("headers")
        return inject(self, response)

    def spy_release(self, error=None):
        hooks.append("release")
        return release(self, error)

    monkeypatch.setattr(flask_limiter.Limiter, "_Limiter__inject_headers", spy_inject)
    monkeypatch.setattr(flask_limiter.Limiter, "_Limiter__release_context", spy_release)
    limiter = Limiter(key_func=lambda: "caller", storage_uri="memory://", headers_enabled=True)
    client = _app_with_views(limiter, "1 per minute").test_client()
    response = client.get("/free")
    assert hooks == []
    assert "X-RateLimit-Limit" not in response.headers
    response = client.get("/limited")
    assert hooks == ["headers", "release"]
    assert response.headers["X-RateLimit-Limit"] == "1"
    assert response.headers["X-RateLimit-Remaining"] == "0"
    refused = client.get("/limited")
    assert refused.status_code == 429
    assert "Retry-After" in refused.headers


def test_limits_that_would_apply_to_every_view_are_refused(limiter):
    with pytest.raises(TypeError, match="blueprint"):
        limiter.limit("1 per minute")(Blueprint("bp", __name__))
    with pytest.raises(NotImplementedError):
        limiter.shared_limit("1 per minute", scope="all")
    with pytest.raises(ValueError, match="default_limits"):
        Limiter(key_func=lambda: "x", default_limits=["1 per day"])
    with pytest.raises(RuntimeError, match="RATELIMIT_DEFAULT"):
        create_app({"TESTING": True, "RATELIMIT_DEFAULT": "100 per day"})


def test_the_app_checks_its_limited_views(client, checks):
    client.get("/api/v1/ping")
    client.post("/api/v1/playback/sessions/nope/heartbeats", json={})
    assert checks == []
    client.post("/login", data={"identifier": "13800000009", "password": "wrong-password"})
    assert set(checks) == {"auth.login"}
