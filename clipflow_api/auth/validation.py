"""Input checks shared by the account and workspace services."""

from __future__ import annotations

import re

from ..errors import ErrorCode, ValidationError

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+$")


def normalize_email(email: str, *, field: str = "email") -> str:
    """Trimmed and lower-cased; ValidationError(INVALID_EMAIL) unless it looks like an address."""
    value = (email or "").strip().lower()
    if len(value) > 255 or not _EMAIL.match(value):
        raise ValidationError(ErrorCode.INVALID_EMAIL, "Enter a valid email address.", field)
    return value


def clean_name(name: str, *, field: str = "name", max_length: int = 255) -> str:
    value = " ".join((name or "").split())
    if not value:
        raise ValidationError(ErrorCode.REQUIRED, "A name is required.", field)
    if len(value) > max_length:
        raise ValidationError(ErrorCode.INVALID, f"Use at most {max_length} characters.", field)
    return value
