"""Signing in: by mobile or ID number, the same answer for every failure, and lockout."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.auth.models import User
from app.auth.services import LoginFailed, authenticate, change_password
from app.db import utcnow
from app.errors import DomainError


def sign_in(client, identifier: str, password: str, **extra):
    return client.post("/login", data={"identifier": identifier, "password": password, **extra})


def failure_text(response) -> str:
    page = response.get_data(as_text=True)
    start = page.index('class="alert alert-error"')
    return page[start : page.index("</div>", start)]


class TestSignIn:
    def test_by_mobile_or_by_id_number_in_any_case_or_legacy_form(self, client, make_user):
        account = make_user()
        for identifier in (account["mobile"], account["id_number"], account["id_number"].lower()):
            client.post("/logout")
            response = sign_in(client, identifier, account["password"])
            assert response.status_code == 302, identifier
            assert response.headers["Location"].endswith("/dashboard")

    def test_goes_back_to_the_page_that_asked_for_it_but_never_off_site(self, client, make_user):
        account = make_user()
        response = client.get("/account")
        assert response.status_code == 302
        assert "/login?next=/account" in response.headers["Location"]
        response = sign_in(client, account["mobile"], account["password"], next="/account")
        assert response.headers["Location"] == "/account"
        client.post("/logout")
        for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
            response = sign_in(client, account["mobile"], account["password"], next=target)
            assert response.headers["Location"] == "/dashboard", target
            client.post("/logout")

    def test_unknown_account_and_wrong_password_get_the_same_message(self, client, make_user):
        account = make_user()
        wrong_password = sign_in(client, account["mobile"], "Wrong12345")
        unknown = sign_in(client, "13000000000", "Wrong12345")
        assert wrong_password.status_code == unknown.status_code == 200
        assert failure_text(wrong_password) == failure_text(unknown)

    def test_sign_out_needs_post(self, client, make_user, login):
        login(make_user())
        assert client.get("/logout").status_code == 405
        assert client.post("/logout").status_code == 302
        assert client.get("/account").status_code == 302

    def test_session_cookie_is_http_only(self, client, make_user):
        account = make_user()
        response = sign_in(client, account["mobile"], account["password"])
        cookie = response.headers["Set-Cookie"]
        assert "HttpOnly" in cookie
        assert "SameSite=Lax" in cookie


class TestLockout:
    def test_five_failures_lock_the_account_even_for_the_right_password(
        self, app, client, make_user, get_row
    ):
        account = make_user()
        for _ in range(5):
            sign_in(client, account["mobile"], "Wrong12345")
        user = get_row(User, account["id"])
        assert user.locked_until is not None
        assert user.locked_until > utcnow() + timedelta(minutes=14)
        response = sign_in(client, account["mobile"], account["password"])
        assert response.status_code == 200
        assert "15" in failure_text(response)

    def test_the_lock_expires(self, session, make_user):
        account = make_user()
        now = utcnow()
        for _ in range(5):
            with pytest.raises(LoginFailed):
                authenticate(session, account["mobile"], "Wrong12345", now=now)
        with pytest.raises(LoginFailed):
            authenticate(session, account["mobile"], account["password"], now=now)
        later = now + timedelta(minutes=16)
        user = authenticate(session, account["mobile"], account["password"], now=later)
        assert (user.failed_logins, user.locked_until) == (0, None)

    def test_a_success_resets_the_count(self, session, make_user):
        account = make_user()
        for _ in range(4):
            with pytest.raises(LoginFailed):
                authenticate(session, account["mobile"], "Wrong12345")
        authenticate(session, account["mobile"], account["password"])
        with pytest.raises(LoginFailed):
            authenticate(session, account["mobile"], "Wrong12345")
        user = session.get(User, account["id"])
        assert user.locked_until is None
        assert user.failed_logins == 1

    def test_a_disabled_account_cannot_sign_in(self, app, client, make_user, in_app):
        account = make_user()

        def disable():
            from app.extensions import db

            db.session.get(User, account["id"]).active = False

        in_app(disable)
        response = sign_in(client, account["mobile"], account["password"])
        assert response.status_code == 200
        assert client.get("/account").status_code == 302


class TestRateLimit:
    def test_too_many_attempts_from_one_address_get_429(self, app, client, monkeypatch):
        monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT", "3 per minute")
        codes = [sign_in(client, f"1300000000{i}", "Wrong12345").status_code for i in range(4)]
        assert codes == [200, 200, 200, 429]
        assert client.get("/login").status_code == 200  # only attempts are limited

    def test_guesses_at_one_account_are_limited_across_addresses(self, app, client, monkeypatch):
        monkeypatch.setitem(app.config, "LOGIN_IDENTIFIER_RATE_LIMIT", "2 per hour")
        codes = [
            client.post(
                "/login",
                data={"identifier": "13000000001", "password": "x1234567"},
                environ_base={"REMOTE_ADDR": f"10.0.0.{i}"},
            ).status_code
            for i in range(3)
        ]
        assert codes == [200, 200, 429]


class TestPasswords:
    def test_changing_the_password_signs_out_other_sessions(self, app, make_user):
        account = make_user()
        laptop, phone = app.test_client(), app.test_client()
        for device in (laptop, phone):
            assert sign_in(device, account["mobile"], account["password"]).status_code == 302
        response = laptop.post(
            "/account/password",
            data={
                "current_password": account["password"],
                "password": "NewSecret456",
                "password_again": "NewSecret456",
            },
        )
        assert response.status_code == 302
        assert laptop.get("/account").status_code == 200
        assert phone.get("/account").status_code == 302
        assert sign_in(phone, account["mobile"], "NewSecret456").status_code == 302

    def test_the_current_password_must_be_right(self, session, make_user):
        account = make_user()
        user = session.get(User, account["id"])
        with pytest.raises(DomainError) as error:
            change_password(session, user, "Wrong12345", "NewSecret456")
        assert error.value.field == "current_password"

    def test_passwords_are_stored_as_argon2id_hashes(self, get_row, make_user):
        user = get_row(User, make_user()["id"])
        assert user.password_hash.startswith("$argon2id$")


class TestAdminReset:
    def test_reset_gives_a_one_time_password_that_must_be_changed(
        self, app, client, make_user, login
    ):
        from app.permissions import Role

        learner = make_user()
        admin = make_user(Role.ADMIN)
        for _ in range(5):
            sign_in(client, learner["mobile"], "Wrong12345")  # locked, too
        login(admin)
        page = client.post(f"/admin/users/{learner['id']}/reset-password").get_data(as_text=True)
        temporary = page.split('class="secret mono">')[1].split("<")[0]
        client.post("/logout")

        response = sign_in(client, learner["mobile"], temporary)
        assert response.headers["Location"].endswith("/account/password")
        assert client.get("/dashboard").headers["Location"].endswith("/account/password")
        client.post(
            "/account/password",
            data={
                "current_password": temporary,
                "password": "Mine2025abc",
                "password_again": "Mine2025abc",
            },
        )
        assert client.get("/dashboard").status_code == 200

    def test_an_admin_cannot_reset_their_own_password_this_way(self, client, make_user, login):
        from app.permissions import Role

        admin = make_user(Role.ADMIN)
        login(admin)
        assert client.post(f"/admin/users/{admin['id']}/reset-password").status_code == 403


def test_a_failed_sign_in_does_not_echo_an_id_number(client, make_user):
    account = make_user()
    page = sign_in(client, account["id_number"], "Wrong12345").get_data(as_text=True)
    assert account["id_number"] not in page


def test_password_changes_are_rate_limited_per_account(app, client, make_user, login, monkeypatch):
    monkeypatch.setitem(app.config, "CHANGE_PASSWORD_RATE_LIMIT", "2 per hour")
    login(make_user())
    wrong = {
        "current_password": "Nope12345",
        "password": "Other1234",
        "password_again": "Other1234",
    }
    codes = [client.post("/account/password", data=wrong).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
