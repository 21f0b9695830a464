"""Input checks every service shares: each refuses with a ``ValidationError`` naming the field.

Services take typed inputs whose optional fields default to ``UNSET`` ("not given", as
opposed to ``None``, "clear it"); ``given`` tells them apart.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any, Final, TypeVar

from .errors import ErrorCode, ValidationError

E = TypeVar("E", bound=StrEnum)

MAX_LIST_INPUT = 50
MAX_TEXT = 10_000


class _Unset:
    """The value of an input field the caller did not send."""

    _instance: _Unset | None = None

    def __new__(cls) -> _Unset:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET: Final[Any] = _Unset()


def given(value: Any) -> bool:
    """True when the caller sent the field (``None`` included: it clears)."""
    return value is not UNSET


def check_text(value: str | None, field: str, *, max_length: int = MAX_TEXT, required: bool = False) -> str | None:
    """Trimmed text of at most ``max_length`` characters; REQUIRED when ``required`` and empty."""
    if value is None:
        if required:
            raise ValidationError(ErrorCode.REQUIRED, "This field is required.", field)
        return None
    value = value.strip()
    if required and not value:
        raise ValidationError(ErrorCode.REQUIRED, "This field is required.", field)
    if len(value) > max_length:
        raise ValidationError(ErrorCode.INVALID, f"At most {max_length} characters.", field)
    return value


def require_text(value: str | None, field: str, *, max_length: int = MAX_TEXT) -> str:
    """``check_text`` for a field that must hold text."""
    text = check_text(value, field, max_length=max_length, required=True)
    assert text is not None
    return text


def check_list(values: list | None, field: str, *, max_items: int = MAX_LIST_INPUT) -> list | None:
    """At most ``max_items`` items."""
    if values is not None and len(values) > max_items:
        raise ValidationError(ErrorCode.INVALID, f"At most {max_items} items.", field)
    return values


_COLOR = re.compile(r"#[0-9a-fA-F]{6}")
_COLOR_ALPHA = re.compile(r"#[0-9a-fA-F]{6}([0-9a-fA-F]{2})?")


def check_color(value: str | None, field: str, *, alpha: bool = False) -> str | None:
    """``#rrggbb`` (``#rrggbbaa`` with ``alpha``)."""
    if value is None:
        return None
    if not (_COLOR_ALPHA if alpha else _COLOR).fullmatch(value):
        raise ValidationError(ErrorCode.INVALID, "Use a color like #1a2b3c.", field)
    return value

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


def one_of(enum: type[E], value: Any, field: str, what: str) -> E:
    """``value`` as a member of ``enum`` (a str equal to the stored value); INVALID naming the choices otherwise."""
    try:
        return enum(value)
    except ValueError:
        *head, last = [m.value for m in enum]
        raise ValidationError(ErrorCode.INVALID, f"{what} is {', '.join(head)} or {last}.", field) from None
