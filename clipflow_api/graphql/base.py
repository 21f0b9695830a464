"""Shared pieces of every object type: building a GraphQL object from an ORM row.

Types copy only the fields they declare (plus ``strawberry.Private`` keys used to load
relations), so a column such as ``key_hash`` or ``access_token`` can never leak by
accident: it is simply not declared.
"""

from __future__ import annotations

import dataclasses
import re
import datetime as dt
import typing
from decimal import Decimal
from typing import Annotated, Any

import strawberry
from sqlalchemy.engine import Row
from strawberry.scalars import JSON

__all__ = ["JSON", "IdArg", "RowType", "desc", "info_ctx"]

IdArg = Annotated[strawberry.ID, strawberry.argument(description="The object's id.")]


def desc(text: str, **kw: Any) -> Any:
    """A plain field with a description (every field has one)."""
    return strawberry.field(description=text, **kw)


def info_ctx(info: Any) -> Any:
    return info.context


_SCALARS = {"str": str, "float": float, "int": int}


def _kind(annotation: Any) -> type | None:
    """str/float/int for ``X`` or ``X | None`` annotations (strings under postponed evaluation)."""
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", str(annotation))
    match = re.fullmatch(r"(str|float|int)(\s*\|\s*None)?", text.strip())
    return _SCALARS[match.group(1)] if match else None


class RowType:
    """Mixin: ``from_row`` builds the type from a row (plain or ORM) by declared field names."""

    _row_fields: typing.ClassVar[list[tuple[str, type | None]] | None] = None
    # GraphQL-side private name -> ORM attribute, where a resolver takes the column's name.
    _row_aliases: typing.ClassVar[dict[str, str]] = {}

    @classmethod
    def from_row(cls, row: Any) -> Any:
        """The type from a row: a loader's plain row (read by key) or any object with the attributes."""
        fields = cls.__dict__.get("_row_fields")
        if fields is None:
            fields = cls._row_fields = [(f.name, _kind(f.type)) for f in dataclasses.fields(cls) if f.init]  # type: ignore[arg-type]
        aliases = cls._row_aliases
        # a Row's attribute lookup is a slow fallback; its mapping reads the same keys several times faster
        source = row._mapping if isinstance(row, Row) else None
        values: dict[str, Any] = {}
        for name, kind in fields:
            attr = aliases.get(name, name)
            value = source[attr] if source is not None else getattr(row, attr)
            if value is not None and kind is not None:
                if kind is float and isinstance(value, Decimal):
                    value = float(value)
                elif kind is str and not isinstance(value, str):
                    value = str(value)
            values[name] = value
        return cls(**values)

    @classmethod
    def from_rows(cls, rows: list[Any]) -> list[Any]:
        return [cls.from_row(r) for r in rows]


Date = dt.date
DateTime = dt.datetime


import enum  # noqa: E402


@strawberry.enum(description="Sort direction.")
class OrderDirection(enum.Enum):
    ASC = strawberry.enum_value("asc", description="Smallest first.")
    DESC = strawberry.enum_value("desc", description="Largest first.")
