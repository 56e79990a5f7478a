"""The learner's pages: the year's ledger with its chart, the transcript, the evidence of a
record (its learner, administrators and reviewers only), and the dashboard shortcut."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from app.catalog.taxonomy import Category
from app.credits.rules import current_year
from app.credits.services import PackTerms, summarise
from app.credits.views import ledger_chart
from app.i18n import LOCALE_COOKIE
from app.permissions import Role

D = Decimal


@pytest.fixture
def english(client):
    client.set_cookie(LOCALE_COOKIE, "en")


@pytest.fixture
def learner(make_user, login, english):
    account = make_user(name="张学员")
    login(account)
    return account


def page(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def no_inline_styles(html: str) -> None:
    """The Content-Security-Policy forbids inline styles."""
    assert not re.search(r"\sstyle=", html)


NATIONAL = PackTerms(
    code="national",
    version=1,
    name="National default",
    minutes_per_hour=45,
    annual_hours=D(90),
    professional_share=D("0.6667"),
    public_cap_hours=None,
)


class TestChart:
    def test_segments_and_markers_on_the_requirements_scale(self):
        chart = ledger_chart(summarise(D(20), D(40), NATIONAL, year=2026))
        assert (chart.professional, chart.public) == (444.4, 222.2)
        assert chart.minimum == 666.7
        assert chart.target == 998.5  # at the end, kept inside the box
        assert (chart.target_anchor, chart.minimum_anchor) == ("end", "middle")

    def test_beyond_the_requirement_the_scale_grows(self):
        chart = ledger_chart(summarise(D(60), D(120), NATIONAL, year=2026))
        assert chart.professional + chart.public == 1000.0
        assert chart.target == 500.0
        assert chart.minimum == round(60 / 180 * 1000, 1)

    def test_an_empty_year_draws_no_segments(self):
        chart = ledger_chart(summarise(D(0), D(0), NATIONAL, year=2026))
        assert (chart.professional, chart.public) == (0.0, 0.0)


class TestLedgerPage:
    def test_anonymous_visitors_are_sent_to_sign_in(self, client):
        response = client.get("/my/hours")
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]

    def test_the_learner_sees_their_numbers_and_the_chart(
        self, client, learner, make_record, make_user
    ):
        make_record(learner["id"], "40", Category.PROFESSIONAL)
        make_record(learner["id"], "20", Category.PUBLIC)
        make_record(make_user()["id"], "30", Category.PUBLIC)  # someone else's
        html = page(client.get("/my/hours?year=2026"))
        assert "60 <small>/ 90" in html
        assert "Not yet met" in html
        assert "Still needed: 30 credit hours, at least 20 of them in professional subjects." in (
            html
        )
        assert "2 courses completed" in html
        assert "<svg" in html
        assert 'width="444.4"' in html
        assert 'x="444.4" y="44" width="222.2"' in html
        assert "Professional minimum 60" in html
        assert "National default" in html
        assert "45 minutes of effective study" in html
        assert "at least 2/3 of the requirement" in html
        assert 'href="/my/hours/2026/transcript"' in html
        no_inline_styles(html)

    def test_a_met_requirement(self, client, learner, make_record):
        make_record(learner["id"], "60", Category.PROFESSIONAL)
        make_record(learner["id"], "30", Category.PUBLIC)
        html = page(client.get("/my/hours?year=2026"))
        assert "Requirement met" in html
        assert "The requirement for 2026 is met." in html

    def test_the_current_year_by_default_and_years_with_records_to_choose(
        self, client, learner, make_record
    ):
        this_year = current_year()
        make_record(learner["id"], "12", Category.PROFESSIONAL, year=this_year)
        make_record(learner["id"], "3", Category.PUBLIC, year=2021)
        html = page(client.get("/my/hours"))
        assert f'<option selected value="{this_year}">' in html
        assert '<option value="2021">' in html
        assert "12 <small>/ 90" in html
        assert "3 <small>/ 90" in page(client.get("/my/hours?year=2021"))

    @pytest.mark.parametrize("path", ["/my/hours?year=1800", "/my/hours/3000/transcript"])
    def test_years_out_of_range_are_not_found(self, client, learner, path):
        assert client.get(path).status_code == 404

    def test_the_page_under_two_rule_packs(self, client, learner, make_record, make_pack):
        make_record(learner["id"], "45", Category.PUBLIC)
        make_record(learner["id"], "50", Category.PROFESSIONAL)
        html = page(client.get("/my/hours?year=2026"))
        assert "95 <small>/ 90" in html
        assert "Still needed: 10 credit hours in professional subjects." in html

        # The test learners are registered in Beijing (11): a Beijing pack now applies.
        make_pack(
            "beijing",
            name="北京市学时认定",
            region="11",
            annual_hours=D(96),
            professional_share=D("0.75"),
            public_cap_hours=D(24),
        )
        html = page(client.get("/my/hours?year=2026"))
        assert "北京市学时认定" in html
        assert "74 <small>/ 96" in html
        assert "Still needed: 22 credit hours in professional subjects." in html
        assert "21 credit hours of public subjects are above this year" in html
        assert "at least 3/4 of the requirement" in html


class TestTranscript:
    def test_lists_only_the_years_records_with_links_to_their_evidence(
        self, client, learner, make_record, make_user
    ):
        kept = make_record(learner["id"], "6", title="数字经济概论", study_seconds=16200)
        make_record(learner["id"], "3", Category.PUBLIC, year=2025, title="往年的课程")
        make_record(make_user()["id"], "6", title="别人的课程")
        html = page(client.get("/my/hours/2026/transcript"))
        assert "数字经济概论" in html
        assert "往年的课程" not in html
        assert "别人的课程" not in html
        assert f'href="/records/{kept}/evidence"' in html
        assert "270" in html  # minutes of study
        assert "张学员" in html
        no_inline_styles(html)

    def test_completion_times_are_china_time(self, client, learner, make_record):
        from datetime import UTC, datetime

        # 20:00 UTC on 31 December is 04:00 on 1 January in Shanghai, the year it counts in.
        make_record(learner["id"], completed_at=datetime(2025, 12, 31, 20, 0, tzinfo=UTC))
        html = page(client.get("/my/hours/2026/transcript"))
        assert "1/1/26, 4:00" in html

    def test_an_empty_year(self, client, learner):
        assert "No course completed in 2024 yet." in page(client.get("/my/hours/2024/transcript"))


class TestEvidencePage:
    @pytest.fixture
    def record_id(self, make_user, make_record, make_playback):
        owner = make_user(name="李学员")
        record_id = make_record(owner["id"], study_seconds=30)
        make_playback(record_id, [("ok", 15.0), ("hidden", 0.0), ("ok", 15.0)])
        return owner, record_id

    def test_the_learner_reads_the_evidence_of_their_record(
        self, client, login, english, record_id
    ):
        owner, record = record_id
        login(owner)
        html = page(client.get(f"/records/{record}/evidence"))
        assert "Page not visible" in html
        assert "Accepted" in html
        assert 'href="/my/hours/2026/transcript"' in html
        no_inline_styles(html)

    @pytest.mark.parametrize(
        ("role", "status"),
        [
            (Role.LEARNER, 404),
            (Role.HR, 404),
            (Role.AUTHOR, 404),
            (Role.REVIEWER, 404),
            (Role.ADMIN, 200),
        ],
    )
    def test_others_find_nothing_but_admins(
        self, client, login, make_user, record_id, role, status
    ):
        _owner, record = record_id
        login(make_user(role))
        response = client.get(f"/records/{record}/evidence")
        assert response.status_code == status
        if status == 200:
            assert "李学员" in response.get_data(as_text=True)

    def test_anonymous_visitors_are_sent_to_sign_in(self, client, record_id):
        response = client.get(f"/records/{record_id[1]}/evidence")
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]

    def test_an_unknown_record_is_not_found(self, client, learner):
        assert client.get("/records/999999/evidence").status_code == 404

    def test_the_heartbeat_log_of_one_session(
        self, client, login, make_user, english, record_id, make_record, make_playback
    ):
        owner, record = record_id
        login(make_user(Role.ADMIN))
        html = page(client.get(f"/records/{record}/evidence"))
        session_id = re.search(r"session=([0-9a-f]{32})", html).group(1)
        html = page(client.get(f"/records/{record}/evidence?session={session_id}"))
        assert f"Heartbeat log of session {session_id}" in html
        log = html[html.index('id="heartbeats"') :]
        assert log.count("<tr>") == 4  # header and three heartbeats
        assert "Page not visible" in log

        elsewhere = make_playback(make_record(owner["id"]), [("ok", 15.0)])
        assert client.get(f"/records/{record}/evidence?session={elsewhere}").status_code == 404
        assert client.get(f"/records/{record}/evidence?session=nope").status_code == 404


class TestShortcuts:
    def test_learners_get_the_nav_link_and_the_dashboard_card(self, client, learner, make_record):
        make_record(learner["id"], "30", Category.PROFESSIONAL, year=current_year())
        html = page(client.get("/dashboard"))
        assert 'href="/my/hours"' in html
        assert f"Credit hours {current_year()}" in html
        assert '<progress class="hours-progress" max="90" value="30">' in html
        assert "60 still needed" in html
        assert "My courses" in html  # the dashboard's own content is still there

    def test_staff_without_the_learner_role_get_neither(self, client, login, make_user, english):
        login(make_user(Role.ADMIN))
        html = page(client.get("/dashboard"))
        assert 'href="/my/hours"' not in html
        assert 'href="/admin/rule-packs"' in html
