"""The application shell: configuration safety, health, headers, CSRF, languages."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError

from app import create_app
from app.config import database_url
from app.permissions import PUBLIC, access


class TestConfiguration:
    def test_refuses_to_start_in_production_without_a_secret_key(self, monkeypatch):
        monkeypatch.delenv("SECRET_KEY", raising=False)
        monkeypatch.delenv("FLASK_DEBUG", raising=False)
        with pytest.raises(RuntimeError, match="SECRET_KEY"):
            create_app({"SECRET_KEY": None})

    def test_refuses_the_development_key_in_production(self, monkeypatch):
        from app.config import DEV_SECRET_KEY

        monkeypatch.delenv("FLASK_DEBUG", raising=False)
        with pytest.raises(RuntimeError, match="development key"):
            create_app({"SECRET_KEY": DEV_SECRET_KEY})

    def test_production_cookies_are_secure(self, monkeypatch, tmp_path):
        monkeypatch.delenv("FLASK_DEBUG", raising=False)
        app = create_app(
            {"SECRET_KEY": "x" * 64, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/p.db"}
        )
        assert app.config["SESSION_COOKIE_SECURE"] is True
        assert app.config["REMEMBER_COOKIE_SECURE"] is True

    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            (None, "sqlite:///zhixin.db"),
            ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
            ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
            ("sqlite:////var/zhixin.db", "sqlite:////var/zhixin.db"),
        ],
    )
    def test_database_urls_use_the_psycopg3_driver(self, raw, expected):
        assert database_url(raw) == expected

    def test_rate_limits_use_redis_when_redis_url_is_set(self, tmp_path):
        app = create_app(
            {
                "TESTING": True,
                "REDIS_URL": "redis://127.0.0.1:6379/0",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/r.db",
            }
        )
        assert app.config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/0"


class TestHealth:
    def test_reports_the_database(self, client):
        response = client.get("/healthz")
        assert response.status_code == 200
        assert response.json["status"] == "ok"
        assert response.json["database"] == "ok"

    def test_answers_503_when_the_database_is_down(self, app, client, monkeypatch):
        from app.extensions import db

        def broken(*args, **kwargs):
            raise OperationalError("SELECT 1", {}, Exception("connection refused"))

        with app.app_context():
            monkeypatch.setattr(db.session, "execute", broken, raising=False)
            response = client.get("/healthz")
        assert response.status_code == 503
        assert response.json["database"] == "unavailable"


class TestHeaders:
    def test_security_headers_on_every_page(self, client):
        headers = client.get("/").headers
        assert "default-src 'self'" in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "same-origin"
        assert "camera=()" in headers["Permissions-Policy"]
        assert "Strict-Transport-Security" not in headers  # plain http in tests

    def test_each_security_header_is_sent_once(self, client):
        headers = client.get("/api/v1/ping").headers
        for name in ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options"):
            assert len(headers.getlist(name)) == 1

    def test_a_header_the_view_sets_is_kept(self, tmp_path):
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/h.db"})

        @app.get("/_test/framed")
        @access(PUBLIC)
        def framed():
            return "", 204, {"x-frame-options": "SAMEORIGIN"}

        headers = app.test_client().get("/_test/framed").headers
        assert headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]
        assert headers["X-Content-Type-Options"] == "nosniff"

    def test_https_deployments_send_hsts(self, monkeypatch, tmp_path):
        monkeypatch.delenv("FLASK_DEBUG", raising=False)
        app = create_app(
            {"SECRET_KEY": "x" * 64, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/p.db"}
        )
        headers = app.test_client().get("/api/v1/ping").headers
        assert headers["Strict-Transport-Security"] == "max-age=31536000"

    def test_pages_use_no_third_party_assets(self, client):
        page = client.get("/").get_data(as_text=True)
        assert "http://" not in page.replace("http://localhost", "")
        assert "https://" not in page


class TestCsrf:
    @pytest.fixture
    def csrf_on(self, app, monkeypatch):
        monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)

    @pytest.mark.parametrize("path", ["/login", "/register", "/logout", "/courses/1/enrol"])
    def test_posts_without_a_token_are_refused(self, client, csrf_on, path):
        response = client.post(path, data={"identifier": "13800000001", "password": "x"})
        assert response.status_code == 400

    def test_a_form_with_its_token_is_accepted(self, client, csrf_on, make_user):
        account = make_user()
        page = client.get("/login").get_data(as_text=True)
        token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        response = client.post(
            "/login",
            data={
                "identifier": account["mobile"],
                "password": account["password"],
                "csrf_token": token,
            },
        )
        assert response.status_code == 302


class TestErrors:
    def test_unknown_pages_get_a_friendly_404(self, client):
        response = client.get("/no-such-page")
        assert response.status_code == 404
        assert "404" in response.get_data(as_text=True)

    def test_api_paths_get_json_errors(self, client):
        response = client.get("/api/v1/nothing")
        assert response.status_code == 404
        assert response.json["error"] == "Not Found"


class TestSyncFunctions:
    """The app remembers which views and hooks are plain functions, and only those."""

    @staticmethod
    def _app():
        from app import Zhixin

        return Zhixin(__name__)

    def test_a_plain_function_is_called_as_it_is_and_remembered(self):
        app = self._app()

        def view():
            return "ok"

        assert app.ensure_sync(view) is view
        assert view in app._sync_functions
        assert app.ensure_sync(view) is view

    def test_a_coroutine_function_is_not_remembered(self, monkeypatch):
        app = self._app()
        monkeypatch.setattr(app, "async_to_sync", lambda func: ("wrapped", func))

        async def view():
            return "ok"

        assert app.ensure_sync(view) == ("wrapped", view)
        assert view not in app._sync_functions

    def test_an_unhashable_callable_view_is_served(self):
        from dataclasses import dataclass

        @dataclass
        class Greeting:  # __eq__ without __hash__
            text: str

            def __call__(self):
                return self.text

        app = self._app()
        app.add_url_rule("/hello", "hello", view_func=Greeting("hello"))
        assert app.test_client().get("/hello").get_data(as_text=True) == "hello"

    def test_functions_made_for_one_request_are_not_kept_alive(self):
        import gc
        import weakref

        app = self._app()

        def made_for_a_request():
            return "ok"

        app.ensure_sync(made_for_a_request)
        alive = weakref.ref(made_for_a_request)
        del made_for_a_request
        gc.collect()
        assert alive() is None
        assert len(app._sync_functions) == 0

    def test_the_app_is_one(self, app, client):
        from app import Zhixin

        assert isinstance(app, Zhixin)
        response = client.get("/api/v1/ping")
        assert response.json == {"pong": True}
        assert "nosniff" in response.headers["X-Content-Type-Options"]  # its hooks ran too
        assert app.view_functions["main.ping"] in app._sync_functions
