"""Password hashing with Argon2id, and the password policy."""

from __future__ import annotations

import secrets
import string

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.profiles import CHEAPEST, RFC_9106_LOW_MEMORY
from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l

from app.errors import DomainError

_HASHERS = {
    "default": PasswordHasher.from_parameters(RFC_9106_LOW_MEMORY),
    # Tests create hundreds of accounts; the cheapest profile keeps them fast.
    "cheapest": PasswordHasher.from_parameters(CHEAPEST),
}
_dummy_hash: dict[str, str] = {}


def _hasher() -> PasswordHasher:
    name = current_app.config.get("PASSWORD_HASHER", "default") if has_app_context() else "default"
    return _HASHERS[name]


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher().check_needs_rehash(password_hash)


def burn_verification_time(password: str) -> None:
    """Spend as long as a real check, so timing does not reveal unknown accounts."""
    hasher = _hasher()
    key = repr(hasher)
    if key not in _dummy_hash:
        _dummy_hash[key] = hasher.hash(secrets.token_hex(16))
    verify_password(_dummy_hash[key], password)


class WeakPassword(DomainError):
    field = "password"


def check_password_policy(
    password: str, *, min_length: int, forbidden: tuple[str, ...] = ()
) -> None:
    """Refuse short passwords, ones without both letters and digits, and personal numbers."""
    if len(password) < min_length:
        raise WeakPassword(_l("Use at least %(n)d characters.", n=min_length))
    if not any(c.isdigit() for c in password) or not any(c.isalpha() for c in password):
        raise WeakPassword(_l("Use both letters and digits."))
    lowered = password.lower()
    if any(item and item.lower() in lowered for item in forbidden):
        raise WeakPassword(_l("Do not use your mobile or ID number in the password."))


def generate_temporary_password(length: int = 12) -> str:
    """A random password that meets the policy, for administrator resets."""
    alphabet = string.ascii_letters.replace("l", "").replace("I", "").replace("O", "") + "23456789"
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(length))
        if any(c.isdigit() for c in candidate) and any(c.isalpha() for c in candidate):
            return candidate
