"""Personal ID numbers never appear in full on any page, whoever looks."""

from __future__ import annotations

import pytest

from app.auth.identity import mask_id_number
from app.permissions import Role


@pytest.mark.parametrize(
    ("number", "masked"),
    [("11010519491231002X", "110105********002X"), ("E12345678", "E1*****78"), (None, "")],
)
def test_mask_shapes(number, masked):
    assert mask_id_number(number) == masked


def test_no_page_shows_a_full_id_number(client, make_user, login):
    learner = make_user()
    admin = make_user(Role.ADMIN)
    login(learner)
    pages = [client.get(url).get_data(as_text=True) for url in ("/account", "/dashboard")]
    login(admin)
    pages += [
        client.get(url).get_data(as_text=True)
        for url in ("/admin/users", f"/admin/users/{learner['id']}")
    ]
    # Searching by the full number finds the person without echoing the number back.
    pages.append(
        client.post("/admin/users", data={"q": learner["id_number"]}).get_data(as_text=True)
    )
    for page in pages:
        assert learner["id_number"] not in page
    assert mask_id_number(learner["id_number"]) in pages[-1]
