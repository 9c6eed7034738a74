"""Password hashing (argon2id, argon2-cffi's defaults) and the minimum password policy."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()

MIN_LENGTH = 10


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(hash: str, password: str) -> bool:
    try:
        return _hasher.verify(hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(hash: str) -> bool:
    try:
        return _hasher.check_needs_rehash(hash)
    except (InvalidHashError, ValueError):
        return True


def check_password_policy(password: str) -> str | None:
    """None when acceptable, else a reason key: 'too_short' (< 10 characters), 'all_digits', 'blank'."""
    if not password or not password.strip():
        return "blank"
    if len(password) < MIN_LENGTH:
        return "too_short"
    if password.isdigit():
        return "all_digits"
    return None


POLICY_MESSAGES = {
    "blank": "the password is empty",
    "too_short": f"the password must have at least {MIN_LENGTH} characters",
    "all_digits": "the password must not be digits only",
}
