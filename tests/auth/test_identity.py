"""Tests of personal identity document numbers: resident IDs, other documents, masking."""

from __future__ import annotations

import random
from datetime import date

import pytest

from app.auth.identity import (
    Gender,
    IdType,
    InvalidIdNumber,
    ResidentId,
    make_resident_id,
    mask_id_number,
    normalise_document_number,
    parse_resident_id,
    resident_id_check_char,
)

TODAY = date(2024, 6, 1)


def with_check(first17: str) -> str:
    """A full number whose check character is right, so only the part under test is wrong."""
    return first17 + resident_id_check_char(first17)


def mod11_2_valid(number: str) -> bool:
    """Independent ISO 7064 MOD 11-2 validation: weights 2**(17-i) mod 11, X = 10, sum ≡ 1."""
    values = [10 if c == "X" else int(c) for c in number]
    return sum(v * pow(2, 17 - i, 11) for i, v in enumerate(values)) % 11 == 1


# --- valid numbers --------------------------------------------------------------------------


def test_public_example_parses():
    assert parse_resident_id("11010519491231002X", today=TODAY) == ResidentId(
        number="11010519491231002X",
        region_code="110105",
        birth_date=date(1949, 12, 31),
        gender=Gender.FEMALE,
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("11010519491231002x", "11010519491231002X", id="lowercase-x"),
        pytest.param("  11010519491231002X\n", "11010519491231002X", id="surrounding-space"),
        pytest.param("110105 19491231 002x", "11010519491231002X", id="internal-spaces"),
        pytest.param("１１０１０５１９４９１２３１００２ｘ", "11010519491231002X", id="full-width"),
        # 130503 + 19 + 670401 + 001; weighted sum 182, 182 mod 11 = 6 → "10X98765432"[6] = "6".
        pytest.param("130503670401001", "130503196704010016", id="legacy-15-upgraded"),
        pytest.param(" 130503 670401 001 ", "130503196704010016", id="legacy-15-with-spaces"),
    ],
)
def test_normalises(raw, expected):
    assert parse_resident_id(raw, today=TODAY).number == expected


def test_legacy_upgrade_agrees_with_independent_check():
    parsed = parse_resident_id("130503670401001", today=TODAY)
    assert mod11_2_valid(parsed.number)
    assert parsed.birth_date == date(1967, 4, 1)
    assert parsed.region_code == "130503"
    assert parsed.gender is Gender.MALE


@pytest.mark.parametrize(
    ("sequence", "gender"),
    [
        pytest.param(1, Gender.MALE, id="1-male"),
        pytest.param(2, Gender.FEMALE, id="2-female"),
        pytest.param(999, Gender.MALE, id="999-male"),
        pytest.param(0, Gender.FEMALE, id="0-female"),
        pytest.param(310, Gender.FEMALE, id="310-female"),
    ],
)
def test_gender_from_17th_digit(sequence, gender):
    number = make_resident_id("110105", date(1980, 5, 17), sequence)
    assert parse_resident_id(number, today=TODAY).gender is gender


@pytest.mark.parametrize(
    "region",
    [
        pytest.param("110103", id="abolished-chongwen-district"),
        pytest.param("710000", id="taiwan"),
        pytest.param("810000", id="hong-kong"),
        pytest.param("820000", id="macao"),
        pytest.param("830000", id="taiwan-residence-permit"),
        pytest.param("659999", id="unknown-county-in-known-province"),
    ],
)
def test_accepts_any_region_in_a_known_province(region):
    number = make_resident_id(region, date(1990, 1, 1), 123)
    assert parse_resident_id(number, today=TODAY).region_code == region


@pytest.mark.parametrize(
    "birth",
    [
        pytest.param(date(2000, 2, 29), id="feb-29-leap-year"),
        pytest.param(date(1900, 1, 1), id="earliest-allowed"),
        pytest.param(TODAY, id="born-today"),
    ],
)
def test_accepts_edge_birth_dates(birth):
    number = make_resident_id("110105", birth, 7)
    assert parse_resident_id(number, today=TODAY).birth_date == birth


def test_default_today_rejects_far_future():
    with pytest.raises(InvalidIdNumber, match="in the future"):
        parse_resident_id(make_resident_id("110105", date(2999, 1, 1), 1))


# --- invalid numbers: each says exactly what is wrong ----------------------------------------


@pytest.mark.parametrize(
    ("raw", "reason", "fragment"),
    [
        pytest.param("", "length", "must have 18 digits", id="empty"),
        pytest.param("1101051949123100", "length", "you entered 16", id="16-digits"),
        pytest.param("110105194912310021X", "length", "or 15 digits", id="19-chars"),
        pytest.param("13050367040100X", "length", "must have 18 digits", id="15-ending-in-x"),
        pytest.param("11010519491231002Y", "characters", "only digits", id="letter-y"),
        pytest.param("1101051949123100X2", "characters", "X allowed only as the last", id="x-mid"),
        pytest.param("110105-19491231-002X", "characters", "only digits", id="hyphens"),
        pytest.param(with_check("99010519491231002"), "region", "starts with 99", id="prov-99"),
        pytest.param(with_check("10010519491231002"), "region", "not a province", id="prov-10"),
        pytest.param(with_check("11010519491331002"), "birth_date", "(19491331)", id="month-13"),
        pytest.param(with_check("11010519490230002"), "birth_date", "not a real", id="feb-30"),
        pytest.param(with_check("11010519010229002"), "birth_date", "(19010229)", id="feb-29-1901"),
        pytest.param(with_check("11010519490000002"), "birth_date", "not a real", id="zeros"),
        pytest.param("130503671301001", "birth_date", "(19671301)", id="legacy-month-13"),
        pytest.param(
            make_resident_id("110105", date(2024, 6, 2), 1),
            "birth_date_future",
            "(2024-06-02) is in the future",
            id="born-tomorrow",
        ),
        pytest.param(
            with_check("11010518991231002"),
            "birth_date_too_early",
            "(1899-12-31) is before 1900",
            id="born-1899",
        ),
        pytest.param(
            "110105194912310021",
            "check_digit",
            "check digit does not match; please check the number for typos",
            id="wrong-check-digit",
        ),
        pytest.param(
            "11010519491231003X",
            "check_digit",
            "check digit does not match",
            id="transposed-sequence",
        ),
    ],
)
def test_rejects_with_precise_message(raw, reason, fragment):
    with pytest.raises(InvalidIdNumber) as excinfo:
        parse_resident_id(raw, today=TODAY)
    assert excinfo.value.reason == reason
    assert fragment in str(excinfo.value)
    assert str(excinfo.value) == str(excinfo.value.message)


def test_wrong_check_digit_does_not_reveal_the_right_one():
    with pytest.raises(InvalidIdNumber) as excinfo:
        parse_resident_id("110105194912310021", today=TODAY)
    assert str(excinfo.value) == (
        "The check digit does not match; please check the number for typos."
    )


def test_error_is_a_value_error():
    assert issubclass(InvalidIdNumber, ValueError)


# --- check character --------------------------------------------------------------------------


def test_check_char_of_public_example():
    assert resident_id_check_char("11010519491231002") == "X"


def test_check_char_matches_independent_brute_force():
    rng = random.Random(20240601)
    for _ in range(2000):
        first17 = "".join(rng.choice("0123456789") for _ in range(17))
        valid = [c for c in "0123456789X" if mod11_2_valid(first17 + c)]
        assert valid == [resident_id_check_char(first17)], first17


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param("1101051949123100", id="too-short"),
        pytest.param("1101051949123100X", id="letter"),
        pytest.param("１１０１０５１９４９１２３１００２", id="non-ascii-digits"),
    ],
)
def test_check_char_rejects_malformed_input(bad):
    with pytest.raises(ValueError, match="17 ASCII digits"):
        resident_id_check_char(bad)


# --- make_resident_id -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("region", "birth", "sequence"),
    [
        pytest.param("110105", date(1949, 12, 31), 2, id="beijing-1949"),
        pytest.param("440305", date(2001, 9, 9), 0, id="sequence-000"),
        pytest.param("650102", date(1975, 1, 31), 999, id="sequence-999"),
        pytest.param("830000", date(1900, 1, 1), 57, id="taiwan-permit-1900"),
    ],
)
def test_make_resident_id_round_trip(region, birth, sequence):
    number = make_resident_id(region, birth, sequence)
    assert len(number) == 18
    assert mod11_2_valid(number)
    parsed = parse_resident_id(number, today=TODAY)
    assert parsed.number == number
    assert parsed.region_code == region
    assert parsed.birth_date == birth
    assert parsed.gender is (Gender.MALE if sequence % 2 else Gender.FEMALE)


def test_make_resident_id_reproduces_public_example():
    assert make_resident_id("110105", date(1949, 12, 31), 2) == "11010519491231002X"


@pytest.mark.parametrize(
    ("region", "sequence", "fragment"),
    [
        pytest.param("11010", 1, "region", id="short-region"),
        pytest.param("11010A", 1, "region", id="letter-in-region"),
        pytest.param("110105", 1000, "sequence", id="sequence-too-big"),
        pytest.param("110105", -1, "sequence", id="negative-sequence"),
    ],
)
def test_make_resident_id_rejects_bad_arguments(region, sequence, fragment):
    with pytest.raises(ValueError, match=fragment):
        make_resident_id(region, date(1990, 1, 1), sequence)


# --- other documents --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("id_type", "raw", "expected"),
    [
        pytest.param(IdType.RESIDENT_ID, " 11010519491231002x", "11010519491231002X", id="id"),
        pytest.param(IdType.RESIDENT_ID, "130503670401001", "130503196704010016", id="id-15"),
        pytest.param(IdType.PASSPORT, "E12345678", "E12345678", id="passport"),
        pytest.param(IdType.PASSPORT, " e1234 5678 ", "E12345678", id="passport-lower-spaces"),
        pytest.param(IdType.PASSPORT, "AB123", "AB123", id="passport-5"),
        pytest.param(IdType.PASSPORT, "A" * 17, "A" * 17, id="passport-17"),
        pytest.param(IdType.HK_MACAO_PERMIT, "H12345678", "H12345678", id="hk-8"),
        pytest.param(IdType.HK_MACAO_PERMIT, "m1234567890", "M1234567890", id="macao-10-lower"),
        pytest.param(IdType.TAIWAN_PERMIT, "12345678", "12345678", id="taiwan-8"),
        pytest.param(IdType.TAIWAN_PERMIT, " 12345 67890 ", "1234567890", id="taiwan-10"),
        pytest.param("414", "g1234567", "G1234567", id="type-given-as-code"),
    ],
)
def test_normalise_document_number(id_type, raw, expected):
    assert normalise_document_number(id_type, raw) == expected


@pytest.mark.parametrize(
    ("id_type", "raw", "fragment"),
    [
        pytest.param(IdType.RESIDENT_ID, "110105194912310021", "check digit", id="id-check"),
        pytest.param(IdType.PASSPORT, "E123", "5 to 17 letters", id="passport-4"),
        pytest.param(IdType.PASSPORT, "A" * 18, "5 to 17 letters", id="passport-18"),
        pytest.param(IdType.PASSPORT, "E1234-5678", "5 to 17 letters", id="passport-hyphen"),
        pytest.param(IdType.PASSPORT, "", "5 to 17 letters", id="passport-empty"),
        pytest.param(IdType.HK_MACAO_PERMIT, "H1234567", "H or M", id="hk-7"),
        pytest.param(IdType.HK_MACAO_PERMIT, "H123456789", "8 or 10 digits", id="hk-9"),
        pytest.param(IdType.HK_MACAO_PERMIT, "C12345678", "H or M", id="hk-wrong-letter"),
        pytest.param(IdType.HK_MACAO_PERMIT, "12345678", "H or M", id="hk-no-letter"),
        pytest.param(IdType.TAIWAN_PERMIT, "123456789", "8 or 10 digits", id="taiwan-9"),
        pytest.param(IdType.TAIWAN_PERMIT, "T12345678", "8 or 10 digits", id="taiwan-letter"),
    ],
)
def test_normalise_document_number_rejects(id_type, raw, fragment):
    with pytest.raises(InvalidIdNumber, match=fragment):
        normalise_document_number(id_type, raw)


def test_id_type_codes_and_labels():
    assert [(t.value, str(t.label)) for t in IdType] == [
        ("111", "Resident ID card"),
        ("414", "Passport"),
        ("516", "Mainland travel permit for Hong Kong and Macao residents"),
        ("511", "Mainland travel permit for Taiwan residents"),
    ]


def test_gender_codes_and_labels():
    assert [(g.value, str(g.label)) for g in Gender] == [("1", "Male"), ("2", "Female")]


# --- masking ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        pytest.param("11010519491231002X", "110105********002X", id="resident-id"),
        pytest.param("E12345678", "E1*****78", id="passport"),
        pytest.param("M1234567890", "M1*******90", id="hk-macao-permit"),
        pytest.param("123456", "12**56", id="six"),
        pytest.param("12345", "12**45", id="five-at-least-two-asterisks"),
        pytest.param("ABCD", "***D", id="four"),
        pytest.param("AB", "*B", id="two"),
        pytest.param("A", "A", id="one"),
        pytest.param("", "", id="empty"),
        pytest.param(None, "", id="none"),
    ],
)
def test_mask_id_number(number, masked):
    assert mask_id_number(number) == masked
