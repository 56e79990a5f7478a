"""Rule packs are versioned data: administrators add versions and regional packs, which stay
out of force until activated, one version per code, and every change is on the audit log."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.auth.models import User
from app.credits.models import RulePack
from app.credits.services import (
    NewPackData,
    PackData,
    activate,
    create_pack,
    create_version,
    pack_problems,
    parse_share,
)
from app.errors import Conflict, DomainError, NotAllowed
from app.i18n import LOCALE_COOKIE
from app.permissions import Role

D = Decimal

NUMBERS = {
    "name": "上海市继续教育学时认定",
    "minutes_per_hour": 45,
    "annual_hours": D(90),
    "professional_share": D("0.6667"),
    "public_cap_hours": D(30),
    "daily_cap_hours": D(6),
}


def numbers(**overrides) -> PackData:
    return PackData(**{**NUMBERS, **overrides})


def new_pack(**overrides) -> NewPackData:
    values = {**NUMBERS, "code": "shanghai", "region": "31", "year": None, **overrides}
    return NewPackData(**values)


@pytest.fixture
def admin(session, make_user) -> User:
    return session.get(User, make_user(Role.ADMIN)["id"])


@pytest.fixture
def national(session, national_id) -> RulePack:
    return session.get(RulePack, national_id)


def actions(session, pack: RulePack) -> list[str]:
    return list(
        session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.target == f"rule_pack:{pack.id}")
            .order_by(AuditEvent.id)
        )
    )


class TestVersions:
    def test_a_new_version_numbers_on_and_stays_out_of_force(self, session, admin, national):
        second = create_version(session, admin, national, numbers(name="第二版"))
        third = create_version(session, admin, second, numbers(name="第三版"))
        assert (second.code, second.version, third.version) == ("national", 2, 3)
        assert not second.active
        assert not third.active
        assert national.active
        assert second.region is None
        assert second.year is None
        assert second.public_cap_hours == D("30.00")
        assert actions(session, second) == ["admin.rule_pack_version_created"]

    def test_numbering_follows_the_highest_version_whichever_is_the_base(
        self, session, admin, national
    ):
        create_version(session, admin, national, numbers())
        again = create_version(session, admin, national, numbers())
        assert again.version == 3

    def test_activation_puts_one_version_in_force_and_takes_the_others_out(
        self, session, admin, national
    ):
        second = create_version(session, admin, national, numbers())
        third = create_version(session, admin, national, numbers())
        activate(session, admin, second)
        assert (national.active, second.active, third.active) == (False, True, False)
        activate(session, admin, third)
        assert (national.active, second.active, third.active) == (False, False, True)
        activate(session, admin, national)
        assert (national.active, second.active, third.active) == (True, False, False)
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.target == f"rule_pack:{second.id}")
        ).all()[-1]
        assert event.action == "admin.rule_pack_activated"
        assert event.details["deactivated"] == [1]

    def test_activation_leaves_other_codes_alone(self, session, admin, national):
        shanghai = create_pack(session, admin, new_pack())
        activate(session, admin, shanghai)
        assert national.active
        assert shanghai.active

    def test_activating_the_version_in_force_changes_and_logs_nothing(
        self, session, admin, national
    ):
        activate(session, admin, national)
        assert national.active
        assert actions(session, national) == []

    def test_only_administrators_manage_packs(self, session, make_user, national):
        reviewer = session.get(User, make_user(Role.REVIEWER)["id"])
        with pytest.raises(NotAllowed):
            create_version(session, reviewer, national, numbers())
        with pytest.raises(NotAllowed):
            activate(session, reviewer, national)
        with pytest.raises(NotAllowed):
            create_pack(session, reviewer, new_pack())

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("name", "  "),
            ("name", "名" * 101),
            ("minutes_per_hour", 29),
            ("minutes_per_hour", 61),
            ("annual_hours", D(0)),
            ("annual_hours", D("300.01")),
            ("professional_share", D("-0.01")),
            ("professional_share", D("1.0001")),
            ("professional_share", D("NaN")),
            ("public_cap_hours", D(-1)),
            ("daily_cap_hours", D("0.5")),
            ("daily_cap_hours", D(25)),
        ],
    )
    def test_numbers_out_of_bounds_are_refused_with_their_field(
        self, session, admin, national, field, value
    ):
        with pytest.raises(DomainError) as caught:
            create_version(session, admin, national, numbers(**{field: value}))
        assert caught.value.field == field
        assert session.scalars(select(RulePack).filter_by(code="national")).all() == [national]

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("minutes_per_hour", 30),
            ("minutes_per_hour", 60),
            ("annual_hours", D(1)),
            ("annual_hours", D(300)),
            ("professional_share", D(0)),
            ("professional_share", D(1)),
            ("public_cap_hours", None),
            ("public_cap_hours", D(0)),
            ("daily_cap_hours", D(1)),
            ("daily_cap_hours", D(24)),
        ],
    )
    def test_the_bounds_themselves_are_allowed(self, field, value):
        assert pack_problems(numbers(**{field: value})) == {}

    def test_every_problem_is_reported_at_once(self):
        problems = pack_problems(numbers(minutes_per_hour=10, daily_cap_hours=D(0)))
        assert set(problems) == {"minutes_per_hour", "daily_cap_hours"}

    @pytest.mark.parametrize(
        ("text", "share"),
        [("2/3", "0.6667"), ("0.6667", "0.6667"), ("66.67%", "0.6667"), (" 3/4 ", "0.7500")],
    )
    def test_shares_are_entered_as_fractions_decimals_or_percentages(self, text, share):
        assert parse_share(text) == D(share)

    @pytest.mark.parametrize("text", ["", "abc", "1/0", "NaN", "Infinity", "2/x"])
    def test_other_share_texts_are_not_numbers(self, text):
        with pytest.raises(ValueError, match=r".*"):
            parse_share(text)


class TestRegionalPacks:
    def test_a_regional_pack_starts_as_version_one_out_of_force(self, session, admin):
        pack = create_pack(session, admin, new_pack(year=2027))
        assert (pack.code, pack.version, pack.region, pack.year) == ("shanghai", 1, "31", 2027)
        assert not pack.active
        assert pack.daily_cap_hours == D("6.00")
        assert actions(session, pack) == ["admin.rule_pack_created"]

    def test_codes_are_unique(self, session, admin):
        create_pack(session, admin, new_pack())
        with pytest.raises(Conflict) as caught:
            create_pack(session, admin, new_pack(region="32"))
        assert caught.value.field == "code"
        with pytest.raises(Conflict):
            create_pack(session, admin, new_pack(code="national", region="32"))

    def test_one_pack_per_province_and_year(self, session, admin):
        create_pack(session, admin, new_pack())
        with pytest.raises(Conflict) as caught:
            create_pack(session, admin, new_pack(code="shanghai-b"))
        assert caught.value.field == "region"
        assert "shanghai" in caught.value.message
        # Another year of the same province is another pack.
        assert create_pack(session, admin, new_pack(code="shanghai-2027", year=2027)).year == 2027

    @pytest.mark.parametrize(
        ("field", "overrides"),
        [
            ("code", {"code": "Shanghai"}),
            ("code", {"code": "s"}),
            ("code", {"code": "1st"}),
            ("code", {"code": "sh_2027"}),
            ("region", {"region": "83"}),  # an ID-number prefix, not a province
            ("region", {"region": "99"}),
            ("region", {"region": "310000"}),
            ("year", {"year": 1999}),
            ("year", {"year": 2101}),
        ],
    )
    def test_bad_codes_provinces_and_years_are_refused(self, session, admin, field, overrides):
        with pytest.raises(DomainError) as caught:
            create_pack(session, admin, new_pack(**overrides))
        assert caught.value.field == field

    def test_a_new_version_keeps_the_province_and_year(self, session, admin):
        pack = create_pack(session, admin, new_pack(year=2027))
        version = create_version(session, admin, pack, numbers(annual_hours=D(72)))
        assert (version.code, version.version, version.region, version.year) == (
            "shanghai",
            2,
            "31",
            2027,
        )


# -- pages ---------------------------------------------------------------------------------

FORM = {
    "name": "上海市继续教育学时认定（2027）",
    "minutes_per_hour": "45",
    "annual_hours": "90",
    "professional_share": "2/3",
    "public_cap_hours": "30",
    "daily_cap_hours": "6",
}


@pytest.fixture
def as_admin(client, login, make_user):
    login(make_user(Role.ADMIN))
    client.set_cookie(LOCALE_COOKIE, "en")


def page(response) -> str:
    return response.get_data(as_text=True)


def pack_row(app, **filters) -> RulePack | None:
    from app.extensions import db

    with app.app_context():
        pack = db.session.scalar(select(RulePack).filter_by(**filters))
        if pack is not None:
            db.session.expunge(pack)
        return pack


class TestPages:
    @pytest.mark.parametrize("role", [Role.LEARNER, Role.REVIEWER, Role.HR, Role.AUTHOR])
    def test_only_administrators_enter(self, client, login, make_user, national_id, role):
        login(make_user(role))
        assert client.get("/admin/rule-packs").status_code == 403
        assert client.get(f"/admin/rule-packs/{national_id}").status_code == 403
        assert client.get("/admin/rule-packs/new").status_code == 403
        assert client.post(f"/admin/rule-packs/{national_id}/activate").status_code == 403
        assert client.post(f"/admin/rule-packs/{national_id}/versions").status_code == 403

    def test_the_list_shows_the_national_default(self, client, as_admin, national_id):
        html = page(client.get("/admin/rule-packs"))
        assert "National default" in html
        assert f'href="/admin/rule-packs/{national_id}"' in html
        assert "2/3" in html
        assert "In force" in html

    def test_an_unknown_pack_is_not_found(self, client, as_admin):
        assert client.get("/admin/rule-packs/999999").status_code == 404

    def test_a_new_version_then_its_activation(self, app, client, as_admin, national_id):
        detail = page(client.get(f"/admin/rule-packs/{national_id}"))
        assert 'value="2/3"' in detail  # the form starts from this version's numbers
        assert "Least professional hours" in detail

        response = client.post(f"/admin/rule-packs/{national_id}/versions", data=FORM)
        assert response.status_code == 302
        version = pack_row(app, code="national", version=2)
        assert response.headers["Location"].endswith(f"/admin/rule-packs/{version.id}")
        assert not version.active
        assert version.professional_share == D("0.6667")
        assert version.public_cap_hours == D(30)
        assert "Activate it to put it in force" in page(client.get(response.headers["Location"]))

        response = client.post(f"/admin/rule-packs/{version.id}/activate")
        assert response.status_code == 302
        assert pack_row(app, code="national", version=2).active
        assert not pack_row(app, code="national", version=1).active
        assert "is now in force" in page(client.get(response.headers["Location"]))

    def test_errors_are_shown_next_to_their_fields(self, app, client, as_admin, national_id):
        response = client.post(
            f"/admin/rule-packs/{national_id}/versions",
            data={
                **FORM,
                "minutes_per_hour": "90",
                "professional_share": "3/2",
                "annual_hours": "x",
            },
        )
        assert response.status_code == 400
        html = page(response)
        assert 'id="field-minutes_per_hour"' in html
        assert "from 30 to 60" in html
        assert "Enter a number" in html
        assert "from 0 to 1" in html
        assert html.count('class="error"') == 3
        assert pack_row(app, code="national", version=2) is None

    def test_a_new_regional_pack(self, app, client, as_admin):
        form = page(client.get("/admin/rule-packs/new"))
        assert "31 上海市" in form
        response = client.post(
            "/admin/rule-packs/new",
            data={**FORM, "code": " Shanghai-2027 ", "region": "31", "year": "2027"},
        )
        assert response.status_code == 302
        pack = pack_row(app, code="shanghai-2027")
        assert (pack.version, pack.region, pack.year, pack.active) == (1, "31", 2027, False)

    def test_a_taken_code_is_shown_on_its_field(self, client, as_admin):
        response = client.post(
            "/admin/rule-packs/new", data={**FORM, "code": "national", "region": "31"}
        )
        assert response.status_code == 200
        html = page(response)
        assert "is already used" in html
        assert 'class="field  has-error" id="field-code"' in html

    def test_a_missing_province_is_refused(self, client, as_admin):
        response = client.post("/admin/rule-packs/new", data={**FORM, "code": "nowhere"})
        assert "Choose a province." in page(response)

    def test_activation_needs_a_valid_form(self, app, client, as_admin, national_id):
        app.config["WTF_CSRF_ENABLED"] = True
        try:
            assert client.post(f"/admin/rule-packs/{national_id}/activate").status_code == 400
        finally:
            app.config["WTF_CSRF_ENABLED"] = False
