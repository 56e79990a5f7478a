"""Unified social credit codes (统一社会信用代码, GB 32100-2015): validation and normalisation."""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l

if TYPE_CHECKING:
    from flask_babel.speaklater import LazyString

# GB 32100-2015 leaves out I, O, Z, S and V, which are too easily read as 1, 0, 2, 5 and U.
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
# Weights are 3**i mod 31.
_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

# First character: the registration authority. GB 32100 names 1 机构编制, 5 民政, 9 工商 and
# Y 其他, but codes from other authorities (2–8, A, N) are issued too, and must not be refused.
REGISTRATION_AUTHORITIES = frozenset("123456789ANY")


class InvalidCreditCode(ValueError):
    """A credit code the user must correct; ``message`` tells them exactly what is wrong.

    ``reason`` is a stable machine-readable key: ``characters``, ``length``, ``authority`` or
    ``check_char``.
    """

    def __init__(self, message: LazyString | str, reason: str) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason

    def __str__(self) -> str:
        return str(self.message)


def credit_code_check_char(first17: str) -> str:
    """The 18th character of a credit code, computed from the first 17."""
    if len(first17) != 17 or any(c not in _VALUE for c in first17):
        raise ValueError(f"expected 17 characters of {ALPHABET}, got {first17!r}")
    total = sum(_VALUE[c] * w for c, w in zip(first17, _WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def normalise_credit_code(raw: str) -> str:
    """The canonical (upper-case, no spaces) form of a credit code, or InvalidCreditCode.

    The embedded GB 11714 organisation code (characters 9–17) has its own check digit, which is
    deliberately not verified: many genuinely issued credit codes fail it.
    """
    # NFKC folds full-width characters typed with a Chinese IME.
    code = "".join(unicodedata.normalize("NFKC", raw or "").split()).upper()
    bad = sorted({c for c in code if c not in _VALUE})
    if bad:
        raise InvalidCreditCode(
            _l(
                "The credit code contains characters that are not allowed: %(chars)s. "
                "It uses only digits and capital letters, never I, O, S, V or Z.",
                chars=", ".join(bad),
            ),
            "characters",
        )
    if len(code) != 18:
        raise InvalidCreditCode(
            _l(
                "The credit code must be 18 characters long; you entered %(count)d.",
                count=len(code),
            ),
            "length",
        )
    if code[0] not in REGISTRATION_AUTHORITIES:
        raise InvalidCreditCode(
            _l(
                "The credit code starts with %(char)s, which is not a registration authority code.",
                char=code[0],
            ),
            "authority",
        )
    if credit_code_check_char(code[:17]) != code[17]:
        raise InvalidCreditCode(
            _l("The check character does not match; please check the code for typos."),
            "check_char",
        )
    return code


def region_of(code: str) -> str:
    """The GB/T 2260 region code (characters 3–8) of a normalised credit code."""
    return code[2:8]


def make_credit_code(prefix17_without_check: str) -> str:
    """A valid credit code from its first 17 characters, for demo and test data."""
    return prefix17_without_check + credit_code_check_char(prefix17_without_check)
