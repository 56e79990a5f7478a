"""Personal identity documents: types, validation, normalisation and masking of their numbers."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from enum import StrEnum
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l

if TYPE_CHECKING:
    from flask_babel.speaklater import LazyString

# China has a single time zone and no daylight saving, so a fixed offset is exact; a birth date
# is a date in China, and "today" must be too, not the server's UTC date.
CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")

EARLIEST_BIRTH_DATE = date(1900, 1, 1)

# GB 11643-1999: weights 2**(17 - i) mod 11, and the character for each sum mod 11.
_RESIDENT_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_RESIDENT_ID_CHECK_CHARS = "10X98765432"

# Only the two-digit province prefix is checked: the full six-digit GB/T 2260 code of a
# person's first registration may have been abolished long since, yet the number stays valid.
_PROVINCES_BY_AREA = (
    "11 12 13 14 15",  # North
    "21 22 23",  # Northeast
    "31 32 33 34 35 36 37",  # East
    "41 42 43 44 45 46",  # Central south
    "50 51 52 53 54",  # Southwest
    "61 62 63 64 65",  # Northwest
    "71 81 82 83",  # Taiwan, Hong Kong, Macao; 83: residence permits for Taiwan residents
)
PROVINCE_CODES = frozenset(" ".join(_PROVINCES_BY_AREA).split())

_RESIDENT_ID_SHAPE = re.compile(r"[0-9]*X?")
_PASSPORT_RE = re.compile(r"[A-Z0-9]{5,17}")
_HK_MACAO_PERMIT_RE = re.compile(r"[HM](?:[0-9]{8}|[0-9]{10})")
_TAIWAN_PERMIT_RE = re.compile(r"[0-9]{8}|[0-9]{10}")


class IdType(StrEnum):
    """Kinds of personal identity document; values are GA/T 517 codes, as other systems expect."""

    RESIDENT_ID = "111"
    PASSPORT = "414"
    HK_MACAO_PERMIT = "516"
    TAIWAN_PERMIT = "511"

    @property
    def label(self) -> LazyString:
        return _ID_TYPE_LABELS[self]


_ID_TYPE_LABELS = {
    IdType.RESIDENT_ID: _l("Resident ID card"),
    IdType.PASSPORT: _l("Passport"),
    IdType.HK_MACAO_PERMIT: _l("Mainland travel permit for Hong Kong and Macao residents"),
    IdType.TAIWAN_PERMIT: _l("Mainland travel permit for Taiwan residents"),
}


class Gender(StrEnum):
    """Sex as GB/T 2261.1 codes it, the only values a resident ID number can tell us."""

    MALE = "1"
    FEMALE = "2"

    @property
    def label(self) -> LazyString:
        return _l("Male") if self is Gender.MALE else _l("Female")


class InvalidIdNumber(ValueError):
    """A document number the user must correct; ``message`` tells them exactly what is wrong.

    ``reason`` is a stable machine-readable key (``length``, ``characters``, ``region``,
    ``birth_date``, ``birth_date_future``, ``birth_date_too_early``, ``check_digit``,
    ``format``) for code that must branch on the kind of error.
    """

    def __init__(self, message: LazyString | str, reason: str) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason

    def __str__(self) -> str:
        return str(self.message)


@dataclass(frozen=True)
class ResidentId:
    """A validated resident ID number and what it encodes."""

    number: str  # 18 characters, upper-case X
    region_code: str  # GB/T 2260 code of the first registration; may since have been abolished
    birth_date: date
    gender: Gender


def _compact(raw: str) -> str:
    """Fold full-width characters typed with a Chinese IME, drop all whitespace, upper-case."""
    return "".join(unicodedata.normalize("NFKC", raw or "").split()).upper()


def resident_id_check_char(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character of GB 11643-1999 for the first 17 digits."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError(f"expected 17 ASCII digits, got {first17!r}")
    total = sum(int(d) * w for d, w in zip(first17, _RESIDENT_ID_WEIGHTS, strict=True))
    return _RESIDENT_ID_CHECK_CHARS[total % 11]


def parse_resident_id(raw: str, today: date | None = None) -> ResidentId:
    """Validate a resident ID number (18 characters, or 15 digits from a legacy card).

    Legacy numbers are upgraded to 18 characters so each person has one canonical number.
    Raises InvalidIdNumber saying precisely what is wrong.
    """
    number = _compact(raw)
    if not _RESIDENT_ID_SHAPE.fullmatch(number):
        raise InvalidIdNumber(
            _l(
                "The ID number may contain only digits, "
                "with an X allowed only as the last character."
            ),
            "characters",
        )
    # A 15-character number ending in X is neither a legacy (all digits) nor a current number.
    if len(number) != 18 and not (len(number) == 15 and number.isdigit()):
        raise InvalidIdNumber(
            _l(
                "The ID number must have 18 digits (or 15 digits for an old "
                "first-generation card); you entered %(count)d.",
                count=len(number),
            ),
            "length",
        )
    legacy = len(number) == 15
    if legacy:
        number = number[:6] + "19" + number[6:]  # 17 digits; the check character comes last

    province = number[:2]
    if province not in PROVINCE_CODES:
        raise InvalidIdNumber(
            _l(
                "The ID number starts with %(prefix)s, which is not a province or region code.",
                prefix=province,
            ),
            "region",
        )

    birth_digits = number[6:14]
    try:
        birth_date = date(int(birth_digits[:4]), int(birth_digits[4:6]), int(birth_digits[6:]))
    except ValueError:
        raise InvalidIdNumber(
            _l(
                "The birth date in the ID number (%(digits)s) is not a real date.",
                digits=birth_digits,
            ),
            "birth_date",
        ) from None
    if today is None:
        today = datetime.now(CHINA_TZ).date()
    if birth_date > today:
        raise InvalidIdNumber(
            _l(
                "The birth date in the ID number (%(date)s) is in the future.",
                date=birth_date.isoformat(),
            ),
            "birth_date_future",
        )
    if birth_date < EARLIEST_BIRTH_DATE:
        raise InvalidIdNumber(
            _l(
                "The birth date in the ID number (%(date)s) is before 1900; "
                "please check the number.",
                date=birth_date.isoformat(),
            ),
            "birth_date_too_early",
        )

    if legacy:
        number += resident_id_check_char(number)
    elif resident_id_check_char(number[:17]) != number[17]:
        # Deliberately not revealing the expected character: that would invite "fixing" a
        # mistyped number by changing its last character instead of finding the typo.
        raise InvalidIdNumber(
            _l("The check digit does not match; please check the number for typos."),
            "check_digit",
        )

    gender = Gender.MALE if int(number[16]) % 2 else Gender.FEMALE
    return ResidentId(number=number, region_code=number[:6], birth_date=birth_date, gender=gender)


def normalise_document_number(id_type: IdType, raw: str) -> str:
    """The canonical form of a document number of the given type, for storage and comparison.

    Raises InvalidIdNumber when the number cannot be of that type.
    """
    id_type = IdType(id_type)
    if id_type is IdType.RESIDENT_ID:
        return parse_resident_id(raw).number
    number = _compact(raw)
    if id_type is IdType.PASSPORT:
        if not _PASSPORT_RE.fullmatch(number):
            raise InvalidIdNumber(
                _l("A passport number must be 5 to 17 letters (A–Z) or digits."), "format"
            )
    elif id_type is IdType.HK_MACAO_PERMIT:
        if not _HK_MACAO_PERMIT_RE.fullmatch(number):
            raise InvalidIdNumber(
                _l(
                    "A Hong Kong or Macao permit number must be the letter H or M "
                    "followed by 8 or 10 digits."
                ),
                "format",
            )
    elif id_type is IdType.TAIWAN_PERMIT and not _TAIWAN_PERMIT_RE.fullmatch(number):
        raise InvalidIdNumber(_l("A Taiwan permit number must be 8 or 10 digits."), "format")
    return number


def mask_id_number(number: str | None) -> str:
    """A document number fit to show on screen or in logs: enough to recognise, not to reuse."""
    if not number:
        return ""
    if len(number) == 18:
        return number[:6] + "*" * 8 + number[-4:]
    if len(number) <= 4:
        return "*" * (len(number) - 1) + number[-1]
    return number[:2] + "*" * max(len(number) - 4, 2) + number[-2:]


def make_resident_id(region: str, birth: date, sequence: int) -> str:
    """A valid 18-character number, for demo and test data."""
    if len(region) != 6 or not region.isascii() or not region.isdigit():
        raise ValueError(f"region must be 6 ASCII digits, got {region!r}")
    if not 0 <= sequence <= 999:
        raise ValueError(f"sequence must be 0–999, got {sequence}")
    if not 1000 <= birth.year <= 9999:
        raise ValueError(f"birth year must have 4 digits, got {birth.year}")
    first17 = f"{region}{birth:%Y%m%d}{sequence:03d}"
    return first17 + resident_id_check_char(first17)
