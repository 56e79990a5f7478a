"""Registration: real-name accounts, one per ID number, with precise errors."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import delete, func, select

from app.audit.models import AuditEvent
from app.auth.identity import Gender, IdType
from app.auth.models import User
from app.auth.services import Registration, register_learner
from app.errors import Conflict, DomainError
from app.extensions import db
from app.orgs.models import Organisation
from tests.concurrency import run_concurrently

ORG_CODE = "91110000600037341L"


def form(**overrides: str) -> dict[str, str]:
    data = {
        "name": "张三",
        "id_type": "111",
        "id_number": "11010519491231002X",
        "mobile": "13912345678",
        "org_name": "北京测试有限公司",
        "org_code": ORG_CODE,
        "title": "工程师",
        "title_level": "intermediate",
        "password": "Study2025",
        "password_again": "Study2025",
    }
    data.update(overrides)
    return data


def registration(**overrides) -> Registration:
    values = {
        "name": "张三",
        "id_type": IdType.RESIDENT_ID,
        "id_number": "11010519491231002X",
        "mobile": "13912345678",
        "password": "Study2025",
        "org_code": ORG_CODE,
        "org_name": "北京测试有限公司",
    }
    values.update(overrides)
    return Registration(**values)


def count_users(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(User.id)))


class TestRegisterLearner:
    def test_derives_gender_birth_date_and_region_from_the_resident_id(self, session):
        user = register_learner(session, registration())
        assert user.gender == Gender.FEMALE
        assert user.birth_date == date(1949, 12, 31)
        assert user.region_code == "110105"
        assert user.roles == {"learner"}

    def test_normalises_lowercase_x_and_upgrades_15_digit_numbers(self, session):
        user = register_learner(session, registration(id_number=" 11010519491231002x "))
        assert user.id_number == "11010519491231002X"
        legacy = register_learner(
            session, registration(id_number="130503670401001", mobile="13912345679")
        )
        assert legacy.id_number == "130503196704010016"
        assert legacy.gender == Gender.MALE

    def test_creates_an_unknown_employer_from_its_code_and_name(self, session):
        user = register_learner(session, registration())
        org = session.get(Organisation, user.organisation_id)
        assert (org.credit_code, org.name, org.region_code) == (
            ORG_CODE,
            "北京测试有限公司",
            "110000",
        )

    def test_finds_an_existing_employer_by_exact_name(self, session):
        first = register_learner(session, registration())
        second = register_learner(
            session,
            registration(
                id_number=_valid_id(2),
                mobile="13900000002",
                org_code="",
                org_name="北京测试有限公司",
            ),
        )
        assert second.organisation_id == first.organisation_id

    def test_refuses_a_second_account_for_the_same_id_number(self, session):
        register_learner(session, registration())
        with pytest.raises(Conflict) as error:
            register_learner(session, registration(mobile="13900000009"))
        assert error.value.field == "id_number"

    def test_refuses_a_mobile_number_already_in_use(self, session):
        register_learner(session, registration())
        with pytest.raises(Conflict) as error:
            register_learner(session, registration(id_number=_valid_id(3)))
        assert error.value.field == "mobile"

    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"id_number": "11010519491231002"}, "id_number"),
            ({"id_number": "110105194912310021"}, "id_number"),
            ({"id_number": "110105194902300021"}, "id_number"),
            ({"mobile": "12345"}, "mobile"),
            ({"password": "short1"}, "password"),
            ({"password": "onlyletters"}, "password"),
            ({"password": "11010519491231002X"}, "password"),
            ({"org_code": "91110000600037341A"}, "org_code"),
            ({"org_code": "", "org_name": "不存在的单位"}, "org_code"),
            ({"org_code": "", "org_name": ""}, "org_code"),
            ({"org_code": "91440300715267260N", "org_name": ""}, "org_name"),
            ({"name": "   "}, "name"),
        ],
        ids=[
            "id-too-short",
            "id-check-digit",
            "id-impossible-date",
            "mobile",
            "password-short",
            "password-no-digit",
            "password-is-id-number",
            "org-check-char",
            "org-unknown-name",
            "org-missing",
            "org-new-code-without-name",
            "blank-name",
        ],
    )
    def test_bad_input_is_refused_on_the_right_field(self, session, overrides, field):
        with pytest.raises(DomainError) as error:
            register_learner(session, registration(**overrides))
        assert error.value.field == field

    def test_passport_holders_give_gender_and_birth_date(self, session):
        with pytest.raises(DomainError) as error:
            register_learner(session, registration(id_type=IdType.PASSPORT, id_number="E12345678"))
        assert error.value.field == "gender"
        user = register_learner(
            session,
            registration(
                id_type=IdType.PASSPORT,
                id_number="e12345678",
                gender=Gender.MALE,
                birth_date=date(1990, 1, 2),
            ),
        )
        assert (user.id_number, user.region_code) == ("E12345678", None)

    def test_registration_is_audited(self, session):
        user = register_learner(session, registration())
        actions = session.scalars(select(AuditEvent.action).filter_by(actor_id=user.id)).all()
        assert actions == ["auth.registered"]


def _valid_id(sequence: int) -> str:
    from app.auth.identity import make_resident_id

    return make_resident_id("320102", date(1980, 1, 1), sequence)


class TestRegistrationPage:
    def test_a_learner_registers_and_is_signed_in(self, app, client):
        response = client.post("/register", data=form())
        assert response.status_code == 302
        assert response.headers["Location"].endswith("/dashboard")
        page = client.get("/dashboard").get_data(as_text=True)
        assert "张三" in page

    @pytest.mark.parametrize(
        ("overrides", "message"),
        [
            ({"id_number": "1101051949123100"}, "18"),
            ({"id_number": "11010519491231002A"}, "X"),
            ({"id_number": "110105194913310021"}, "birth date"),
            ({"id_number": "110105194912310021"}, "check digit"),
            ({"mobile": "2391234567"}, "mobile"),
            ({"password_again": "Different1"}, "differ"),
            ({"org_code": "91110000600037341A"}, "check character"),
        ],
        ids=["length", "characters", "date", "check-digit", "mobile", "mismatch", "org-check"],
    )
    def test_errors_are_shown_next_to_the_field_in_english(self, app, client, overrides, message):
        client.get("/locale/en")
        response = client.post("/register", data=form(**overrides))
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert 'class="error"' in page
        assert message.lower() in page.lower()
        assert count_users(app) == 0

    def test_a_forged_id_type_is_a_form_error_not_a_crash(self, app, client):
        response = client.post("/register", data=form(id_type="999"))
        assert response.status_code == 200
        assert 'class="error"' in response.get_data(as_text=True)
        assert count_users(app) == 0

    def test_all_field_errors_show_at_once(self, app, client):
        client.get("/locale/en")
        page = client.post(
            "/register", data=form(id_number="123", mobile="123", password_again="x")
        ).get_data(as_text=True)
        assert page.count('class="error"') == 3

    def test_errors_are_in_chinese_by_default(self, app, client):
        response = client.post("/register", data=form(id_number="110105194912310021"))
        page = response.get_data(as_text=True)
        assert "校验" in page  # 校验码/校验位: the check digit does not match

    def test_a_double_submitted_form_creates_one_account_and_explains(self, app, client):
        assert client.post("/register", data=form()).status_code == 302
        client.post("/logout")
        again = client.post("/register", data=form())
        assert again.status_code == 200
        assert count_users(app) == 1

    def test_the_page_never_echoes_the_id_number_unmasked_after_registration(self, app, client):
        client.post("/register", data=form())
        for url in ("/dashboard", "/account"):
            page = client.get(url).get_data(as_text=True)
            assert "11010519491231002X" not in page
        assert "110105********002X" in client.get("/account").get_data(as_text=True)


class TestConcurrentRegistration:
    """Real commits from parallel threads: the database constraint decides."""

    @pytest.fixture
    def committed(self, app):
        yield
        with app.app_context():
            db.session.execute(delete(AuditEvent))
            db.session.execute(delete(User))
            db.session.execute(delete(Organisation))
            db.session.commit()

    def test_parallel_registrations_with_one_id_number_make_one_account(self, app, committed):
        outcomes: list[str] = []
        barrier = threading.Barrier(6)

        def attempt(index: int) -> None:
            with app.test_request_context():
                barrier.wait()
                try:
                    register_learner(db.session, registration(mobile=f"1390000000{index}"))
                    db.session.commit()
                    outcomes.append("created")
                except DomainError as exc:
                    db.session.rollback()
                    outcomes.append(type(exc).__name__)

        assert run_concurrently(attempt, [(i,) for i in range(6)]) == []
        assert outcomes.count("created") == 1
        assert sorted(set(outcomes)) == ["Conflict", "created"]
        assert count_users(app) == 1
