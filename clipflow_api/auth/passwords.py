"""Password hashing (argon2id with argon2-cffi's defaults) and the strength rule."""

from __future__ import annotations

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ..errors import ErrorCode, ValidationError

MIN_LENGTH = 10
MAX_LENGTH = 256  # argon2 copes with more; a cap keeps a request from being a CPU bomb

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@functools.cache
def _dummy_hash() -> str:
    return _hasher.hash("clipflow-timing-equaliser")


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when it matches. With no hash, still spends the time a real check takes (no timing oracle)."""
    try:
        return _hasher.verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def check_strength(password: str, *, email: str | None = None, field: str = "password") -> None:
    """Raise WEAK_PASSWORD unless the password is 10-256 characters, mixes at least two of
    lower case, upper case, digits and symbols (or is a 16+ character passphrase), and does
    not contain the email's name part."""

    def weak(reason: str) -> ValidationError:
        return ValidationError(ErrorCode.WEAK_PASSWORD, reason, field)

    if len(password) < MIN_LENGTH:
        raise weak(f"Use at least {MIN_LENGTH} characters.")
    if len(password) > MAX_LENGTH:
        raise weak(f"Use at most {MAX_LENGTH} characters.")
    classes = sum(
        (
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )
    if classes < 2 and len(password) < 16:
        raise weak("Mix letters with digits or symbols, or use a passphrase of 16 characters or more.")
    if len(set(password)) < 4:
        raise weak("Use more different characters.")
    local = (email or "").partition("@")[0].lower()
    if len(local) >= 4 and local in password.lower():
        raise weak("Do not use your email address in your password.")
