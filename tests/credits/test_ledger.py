"""The annual ledger: hours by category against the rule pack, what counts and what is missing,
computed (never stored) so that another pack gives another answer from the same records."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
from sqlalchemy import select

from app.auth.identity import PROVINCE_CODES
from app.auth.models import User
from app.catalog.taxonomy import Category
from app.credits.models import CreditRecord, RulePack
from app.credits.rules import PROVINCE_NAMES, current_year, region_label
from app.credits.services import (
    PackTerms,
    format_share,
    ledger_for,
    ledger_with_pack,
    required_professional,
    share_fraction,
    summarise,
)

D = Decimal


def terms(**overrides) -> PackTerms:
    """The national numbers unless told otherwise."""
    values = {
        "code": "national",
        "version": 1,
        "name": "National default",
        "minutes_per_hour": 45,
        "annual_hours": D(90),
        "professional_share": D("0.6667"),
        "public_cap_hours": None,
        **overrides,
    }
    return PackTerms(**values)


class TestShares:
    @pytest.mark.parametrize(
        ("stored", "meant"),
        [
            ("0.6667", Fraction(2, 3)),
            ("0.3333", Fraction(1, 3)),
            ("0.7", Fraction(7, 10)),
            ("0.75", Fraction(3, 4)),
            ("0", Fraction(0)),
            ("1", Fraction(1)),
        ],
    )
    def test_a_stored_share_stands_for_the_simplest_fraction_that_rounds_to_it(self, stored, meant):
        assert share_fraction(D(stored)) == meant

    @pytest.mark.parametrize("stored", ["0.6543", "0.1234", "0.9999", "0.0001", "0.5001"])
    def test_any_share_rounds_back_to_what_was_stored(self, stored):
        fraction = share_fraction(D(stored))
        value = D(fraction.numerator) / D(fraction.denominator)
        assert value.quantize(D("0.0001"), rounding=ROUND_HALF_UP) == D(stored)

    def test_two_thirds_of_ninety_is_sixty_not_sixty_point_zero_one(self):
        # 90 × 0.6667 = 60.003, which a naive "round up" would turn into 60.01.
        assert required_professional(D(90), D("0.6667")) == D("60.00")

    @pytest.mark.parametrize(
        ("annual", "share", "required"),
        [
            ("90", "0.6667", "60.00"),
            ("100", "0.6667", "66.67"),
            ("50", "0.6667", "33.34"),  # 33.333… needs 33.34: 33.33 falls short of 2/3
            ("72", "0.75", "54.00"),
            ("90", "0", "0.00"),
            ("90", "1", "90.00"),
            ("1", "0.3333", "0.34"),
        ],
    )
    def test_the_professional_minimum_is_rounded_up_to_two_places(self, annual, share, required):
        result = required_professional(D(annual), D(share))
        assert result == D(required)
        assert result.as_tuple().exponent == -2

    @pytest.mark.parametrize(
        ("share", "text"), [("0.6667", "2/3"), ("0.5", "1/2"), ("1", "1"), ("0", "0")]
    )
    def test_shares_read_as_fractions(self, app, share, text):
        with app.test_request_context():
            assert format_share(D(share)) == text

    def test_other_shares_read_as_percentages(self, app):
        with app.test_request_context():
            assert format_share(D("0.6543")) == "65.43%"


class TestSummarise:
    def test_national_sixty_professional_and_thirty_public_meet_the_requirement(self):
        ledger = summarise(D(30), D(60), terms(), year=2026)
        assert ledger.total_counted == D("90.00")
        assert ledger.required_total == D("90.00")
        assert ledger.required_professional == D("60.00")
        assert ledger.missing_total == ledger.missing_professional == D(0)
        assert ledger.compliant
        assert ledger.still_needed == D(0)

    def test_public_hours_above_the_cap_do_not_count(self):
        ledger = summarise(D(70), D(20), terms(public_cap_hours=D(30)), year=2026)
        assert ledger.public_hours == D("70.00")
        assert ledger.public_counted == D("30.00")
        assert ledger.public_uncounted == D("40.00")
        assert ledger.total_counted == D("50.00")
        assert ledger.missing_total == D("40.00")
        assert ledger.missing_professional == D("40.00")
        assert not ledger.compliant
        # The cap is reached: all 40 further hours must be professional.
        assert ledger.still_needed == ledger.professional_needed == D("40.00")

    def test_without_a_cap_all_public_hours_count_but_the_professional_minimum_still_binds(
        self,
    ):
        ledger = summarise(D(70), D(20), terms(), year=2026)
        assert ledger.public_counted == D("70.00")
        assert ledger.total_counted == D("90.00")
        assert ledger.missing_total == D(0)
        assert ledger.missing_professional == D("40.00")
        assert not ledger.compliant
        assert ledger.still_needed == D("40.00")

    def test_nothing_missing_is_ever_negative(self):
        ledger = summarise(D(200), D(150), terms(public_cap_hours=D(30)), year=2026)
        assert ledger.missing_total == D(0)
        assert ledger.missing_professional == D(0)
        assert ledger.still_needed == ledger.professional_needed == D(0)
        assert ledger.compliant

    def test_an_empty_year_misses_everything(self):
        ledger = summarise(D(0), D(0), terms(), year=2026)
        assert ledger.missing_total == D("90.00")
        assert ledger.missing_professional == D("60.00")
        assert ledger.still_needed == D("90.00")
        assert ledger.professional_needed == D("60.00")  # 30 may be public

    def test_room_left_under_the_cap_lowers_what_must_be_professional(self):
        ledger = summarise(D(25), D(60), terms(public_cap_hours=D(30)), year=2026)
        assert ledger.missing_total == D("5.00")
        assert ledger.professional_needed == D(0)  # the 5 may be public: 25 + 5 ≤ 30

        ledger = summarise(D(28), D(50), terms(public_cap_hours=D(30)), year=2026)
        assert ledger.still_needed == D("12.00")
        assert ledger.professional_needed == D("10.00")  # 2 more public, 10 professional

    def test_fractional_hours_keep_two_places(self):
        ledger = summarise(D("0.5"), D("59.995"), terms(), year=2026)
        assert ledger.professional_hours == D("60.00")
        assert ledger.missing_professional == D(0)
        assert ledger.total_counted == D("60.50")
        assert ledger.missing_total == D("29.50")

    def test_a_pack_row_works_as_well_as_its_terms(self):
        row = RulePack(
            code="x",
            version=2,
            name="X",
            minutes_per_hour=60,
            annual_hours=D(72),
            professional_share=D("0.75"),
            public_cap_hours=D(18),
            daily_cap_hours=D(6),
        )
        ledger = summarise(D(18), D(54), row, year=2027)
        assert ledger.pack.version == 2
        assert ledger.required_professional == D("54.00")
        assert ledger.compliant


class TestRegions:
    def test_provinces_are_the_gb_t_2260_prefixes_of_id_numbers(self):
        assert set(PROVINCE_NAMES) == PROVINCE_CODES - {"83"}
        assert len(PROVINCE_NAMES) == 34

    def test_region_labels(self):
        assert region_label("31") == "31 上海市"
        assert region_label(None) is None

    def test_the_year_is_the_year_in_china(self):
        # 16:30 UTC on New Year's Eve is already 00:30 on 1 January in Shanghai.
        assert current_year(datetime(2025, 12, 31, 16, 30, tzinfo=UTC)) == 2026
        assert current_year(datetime(2025, 12, 31, 15, 30, tzinfo=UTC)) == 2025


def user_in(session, user_id: int, region: str | None) -> User:
    """A learner who lives and works in ``region`` (None: no region known at all)."""
    user = session.get(User, user_id)
    user.region_code = region
    if region is None:
        user.organisation_id = None
    else:
        user.organisation.region_code = region
    session.flush()
    session.refresh(user)
    return user


class TestLedgerFor:
    def test_sums_the_learners_records_of_the_year_by_category(
        self, session, make_user, make_record
    ):
        learner = make_user()["id"]
        make_record(learner, "40", Category.PROFESSIONAL)
        make_record(learner, "20.5", Category.PROFESSIONAL)
        make_record(learner, "30", Category.PUBLIC)
        make_record(learner, "12", Category.PUBLIC, year=2025)  # another year
        make_record(make_user()["id"], "50", Category.PROFESSIONAL)  # another learner
        ledger = ledger_for(session, session.get(User, learner), 2026)
        assert ledger.professional_hours == D("60.50")
        assert ledger.public_hours == D("30.00")
        assert ledger.records == 3
        assert ledger.pack.code == "national"
        assert ledger.compliant

    def test_a_year_without_records_misses_everything(self, session, make_user):
        ledger = ledger_for(session, session.get(User, make_user()["id"]), 2026)
        assert (ledger.records, ledger.total_counted, ledger.missing_total) == (0, 0, D(90))

    def test_the_provincial_pack_wins_over_the_national_one(self, session, make_user, make_pack):
        make_pack("shanghai", region="31", public_cap_hours=D(30))
        shanghai = user_in(session, make_user()["id"], "310104")
        beijing = user_in(session, make_user()["id"], "110105")
        assert ledger_for(session, shanghai, 2026).pack.code == "shanghai"
        assert ledger_for(session, beijing, 2026).pack.code == "national"

    def test_the_employers_province_decides_not_the_birthplace(self, session, make_user, make_pack):
        make_pack("shanghai", region="31")
        learner = user_in(session, make_user()["id"], "310104")  # works in Shanghai
        learner.region_code = "110105"  # born in Beijing
        assert ledger_for(session, learner, 2026).pack.code == "shanghai"

    def test_the_exact_years_pack_wins_over_the_every_year_one(self, session, make_user, make_pack):
        make_pack("shanghai", region="31")
        make_pack("shanghai-2027", region="31", year=2027, annual_hours=D(72))
        learner = user_in(session, make_user()["id"], "310104")
        assert ledger_for(session, learner, 2026).pack.code == "shanghai"
        ledger = ledger_for(session, learner, 2027)
        assert ledger.pack.code == "shanghai-2027"
        assert ledger.required_total == D("72.00")

    def test_learners_without_a_region_follow_the_national_pack(
        self, session, make_user, make_pack
    ):
        make_pack("shanghai", region="31")
        learner = user_in(session, make_user()["id"], None)
        assert ledger_for(session, learner, 2026).pack.code == "national"

    def test_inactive_packs_are_ignored(self, session, make_user, make_pack):
        make_pack("shanghai", region="31", active=False)
        learner = user_in(session, make_user()["id"], "310104")
        assert ledger_for(session, learner, 2026).pack.code == "national"


class TestTwoPacks:
    """The issue's done-when: the same records, shown correctly under two rule packs."""

    def test_the_same_records_under_two_packs(self, session, make_user, make_record, make_pack):
        learner = make_user()["id"]
        make_record(learner, "45", Category.PUBLIC)
        make_record(learner, "50", Category.PROFESSIONAL)
        national = session.scalar(select(RulePack).filter_by(code="national", version=1))
        strict = session.get(
            RulePack,
            make_pack(annual_hours=D(96), professional_share=D("0.75"), public_cap_hours=D(24)),
        )

        under_national = ledger_with_pack(session, learner, 2026, national)
        assert under_national.public_counted == D("45.00")
        assert under_national.total_counted == D("95.00")
        assert under_national.missing_total == D(0)
        assert under_national.missing_professional == D("10.00")
        assert not under_national.compliant

        under_strict = ledger_with_pack(session, learner, 2026, strict)
        assert under_strict.public_counted == D("24.00")
        assert under_strict.total_counted == D("74.00")
        assert under_strict.required_professional == D("72.00")
        assert under_strict.missing_total == D("22.00")
        assert under_strict.missing_professional == D("22.00")
        assert under_strict.still_needed == under_strict.professional_needed == D("22.00")

    def test_activating_a_new_version_recomputes_without_touching_the_records(
        self, session, make_user, make_record, national_id
    ):
        from app.credits.services import PackData, activate, create_version
        from app.permissions import Role

        learner = session.get(User, make_user()["id"])
        admin = session.get(User, make_user(Role.ADMIN)["id"])
        make_record(learner.id, "35", Category.PUBLIC)
        make_record(learner.id, "55", Category.PROFESSIONAL)

        def records():
            rows = session.scalars(
                select(CreditRecord).filter_by(user_id=learner.id).order_by(CreditRecord.id)
            )
            return [(r.id, r.year, r.category, r.hours, r.study_seconds) for r in rows]

        before_rows = records()
        before = ledger_for(session, learner, 2026)
        assert before.total_counted == D("90.00")
        assert before.missing_professional == D("5.00")

        national = session.get(RulePack, national_id)
        version = create_version(
            session,
            admin,
            national,
            PackData(
                name="National default, capped",
                minutes_per_hour=45,
                annual_hours=D(90),
                professional_share=D("0.5"),
                public_cap_hours=D(30),
                daily_cap_hours=D(8),
            ),
        )
        assert ledger_for(session, learner, 2026).pack.version == 1  # not yet in force
        activate(session, admin, version)

        after = ledger_for(session, learner, 2026)
        assert after.pack.version == version.version
        assert after.public_counted == D("30.00")
        assert after.total_counted == D("85.00")
        assert after.missing_total == D("5.00")
        assert after.missing_professional == D(0)
        assert records() == before_rows
