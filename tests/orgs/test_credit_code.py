"""Tests of unified social credit codes (GB 32100-2015)."""

from __future__ import annotations

import random

import pytest

from app.orgs.credit_code import (
    InvalidCreditCode,
    credit_code_check_char,
    make_credit_code,
    normalise_credit_code,
    region_of,
)

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def mod31_valid(code: str) -> bool:
    """Independent check: weights 3**i mod 31, the check character weighted 1, sum ≡ 0 mod 31."""
    values = [ALPHABET.index(c) for c in code]
    total = sum(v * pow(3, i, 31) for i, v in enumerate(values[:17])) + values[17]
    return total % 31 == 0


# Published codes of real organisations; a random code passes the check only 1 time in 31.
REAL_CODES = [
    pytest.param("91110000600037341L", id="brief-example"),
    pytest.param("9144030071526726XG", id="shenzhen-letters-x-g"),
    pytest.param("914403001922038216", id="shenzhen-all-digits"),
    pytest.param("91350100M000100Y43", id="fuzhou-letters-inside"),
    pytest.param("12100000400000624D", id="authority-1-public-institution"),
]


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_codes_are_valid(code):
    assert normalise_credit_code(code) == code
    assert mod31_valid(code)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("91350100m000100y43", "91350100M000100Y43", id="lowercase"),
        pytest.param(" 9144030071526726xg\n", "9144030071526726XG", id="surrounding-space"),
        pytest.param("9111 0000 6000 3734 1L", "91110000600037341L", id="internal-spaces"),
        pytest.param("９１１１００００６０００３７３４１Ｌ", "91110000600037341L", id="full-width"),
    ],
)
def test_normalises(raw, expected):
    assert normalise_credit_code(raw) == expected


@pytest.mark.parametrize(
    ("code", "region"),
    [
        pytest.param("91110000600037341L", "110000", id="beijing"),
        pytest.param("91350100M000100Y43", "350100", id="fuzhou"),
    ],
)
def test_region_of(code, region):
    assert region_of(code) == region


@pytest.mark.parametrize(
    ("raw", "reason", "fragment"),
    [
        pytest.param("", "length", "must be 18 characters long; you entered 0", id="empty"),
        pytest.param("91110000600037341", "length", "you entered 17", id="17-chars"),
        pytest.param("91110000600037341L0", "length", "you entered 19", id="19-chars"),
        pytest.param("91110000600037341O", "characters", "not allowed: O.", id="letter-o"),
        pytest.param("9111000060003734IO", "characters", "not allowed: I, O.", id="i-and-o"),
        pytest.param("91110000S00037341Z", "characters", "not allowed: S, Z.", id="s-and-z"),
        pytest.param("91110000V0003734", "characters", "never I, O, S, V or Z", id="v-short"),
        pytest.param("9111-0000-6000-3734", "characters", "not allowed: -.", id="hyphens"),
        pytest.param(
            make_credit_code("B1110000600037341"), "authority", "starts with B", id="authority-b"
        ),
        pytest.param(
            make_credit_code("01110000600037341"), "authority", "starts with 0", id="authority-0"
        ),
        pytest.param(
            "91110000600037341M",
            "check_char",
            "check character does not match; please check the code for typos",
            id="wrong-check-char",
        ),
        pytest.param("91110000600073341L", "check_char", "does not match", id="transposed-digits"),
    ],
)
def test_rejects_with_precise_message(raw, reason, fragment):
    with pytest.raises(InvalidCreditCode) as excinfo:
        normalise_credit_code(raw)
    assert excinfo.value.reason == reason
    assert fragment in str(excinfo.value)
    assert str(excinfo.value) == str(excinfo.value.message)


def test_wrong_check_char_does_not_reveal_the_right_one():
    with pytest.raises(InvalidCreditCode) as excinfo:
        normalise_credit_code("91110000600037341M")
    assert str(excinfo.value) == (
        "The check character does not match; please check the code for typos."
    )


@pytest.mark.parametrize("authority", list("123456789ANY"))
def test_accepts_every_registration_authority(authority):
    code = make_credit_code(authority + "1110000600037341")
    assert normalise_credit_code(code) == code


def test_embedded_organisation_code_check_digit_is_not_verified():
    # The GB 11714 check digit of 60003734 is 1; real credit codes sometimes get it wrong.
    code = make_credit_code("91110000600037342")
    assert normalise_credit_code(code) == code


def test_error_is_a_value_error():
    assert issubclass(InvalidCreditCode, ValueError)


# --- check character --------------------------------------------------------------------------


def test_check_char_of_brief_example():
    assert credit_code_check_char("91110000600037341") == "L"


def test_check_char_matches_independent_brute_force():
    rng = random.Random(32100)
    seen = set()
    for _ in range(3000):
        first17 = "".join(rng.choice(ALPHABET) for _ in range(17))
        valid = [c for c in ALPHABET if mod31_valid(first17 + c)]
        assert valid == [credit_code_check_char(first17)], first17
        seen.update(valid)
    assert seen == set(ALPHABET)  # including "0", where (31 - 0) mod 31 wraps around


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param("9111000060003734", id="too-short"),
        pytest.param("9111000060003734I", id="letter-i"),
        pytest.param("91110000600037341L", id="too-long"),
    ],
)
def test_check_char_rejects_malformed_input(bad):
    with pytest.raises(ValueError, match="expected 17 characters"):
        credit_code_check_char(bad)


@pytest.mark.parametrize(
    "prefix",
    [
        pytest.param("91110000600037341", id="brief-example"),
        pytest.param("Y1310000MA1FL4CK2", id="authority-y-with-letters"),
        pytest.param("52440300000000000", id="zeros"),
    ],
)
def test_make_credit_code_round_trip(prefix):
    code = make_credit_code(prefix)
    assert code.startswith(prefix)
    assert len(code) == 18
    assert mod31_valid(code)
    assert normalise_credit_code(code) == code
