"""Administrators set accounts' roles; every change, and only a change, is in the audit trail."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.auth.models import User
from app.auth.services import set_roles
from app.errors import DomainError
from app.permissions import Role


@pytest.fixture
def admin(session, make_user) -> User:
    return session.get(User, make_user(Role.ADMIN)["id"])


@pytest.fixture
def learner(session, make_user) -> User:
    return session.get(User, make_user()["id"])


def role_events(session, user: User) -> list[AuditEvent]:
    return list(
        session.scalars(
            select(AuditEvent).filter_by(action="admin.roles_changed", target=f"user:{user.id}")
        )
    )


def test_roles_are_replaced_and_the_change_is_recorded(session, admin, learner):
    assert set_roles(session, admin, learner, {Role.LEARNER, Role.REVIEWER}, None) is True
    session.flush()
    assert learner.roles == {Role.LEARNER, Role.REVIEWER}
    [event] = role_events(session, learner)
    assert (event.actor_id, event.details["roles"]) == (admin.id, ["learner", "reviewer"])

    set_roles(session, admin, learner, {Role.REVIEWER}, None)
    session.flush()
    assert learner.roles == {Role.REVIEWER}
    assert len(role_events(session, learner)) == 2


def test_saving_the_same_roles_records_nothing(session, admin, learner):
    assert set_roles(session, admin, learner, {Role.LEARNER}, None) is False
    session.flush()
    assert learner.roles == {Role.LEARNER}
    assert role_events(session, learner) == []


def test_an_author_needs_a_provider(session, admin, learner, make_provider):
    with pytest.raises(DomainError) as refused:
        set_roles(session, admin, learner, {Role.AUTHOR}, None)
    assert refused.value.field == "provider_id"
    provider_id = make_provider()
    set_roles(session, admin, learner, {Role.AUTHOR}, provider_id)
    session.flush()
    assert (learner.roles, learner.provider_id) == ({Role.AUTHOR}, provider_id)
    assert len(role_events(session, learner)) == 1


def test_administrators_cannot_remove_their_own_admin_role(session, admin):
    with pytest.raises(DomainError) as refused:
        set_roles(session, admin, admin, {Role.LEARNER}, None)
    assert refused.value.field == "roles"
    assert Role.ADMIN in admin.roles


class TestRolesPage:
    def test_a_change_is_confirmed_as_saved(self, client, login, make_user):
        login(make_user(Role.ADMIN))
        learner = make_user()
        response = client.post(
            f"/admin/users/{learner['id']}/roles",
            data={"roles": ["learner", "reviewer"]},
            follow_redirects=True,
        )
        assert "角色已保存" in response.get_data(as_text=True)

    def test_saving_unchanged_roles_says_nothing_changed(self, client, login, make_user):
        login(make_user(Role.ADMIN))
        learner = make_user()
        response = client.post(
            f"/admin/users/{learner['id']}/roles",
            data={"roles": ["learner"]},
            follow_redirects=True,
        )
        page = response.get_data(as_text=True)
        assert "未作改动" in page
        assert "角色已保存" not in page
