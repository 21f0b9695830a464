"""Row helpers every repository shares: fetch one visible row, flush and reload."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from .errors import NotFound

R = TypeVar("R")


async def get_row(session: AsyncSession, model: type[R], row_id: uuid.UUID, field: str = "id", *, lock: bool = True) -> R:
    """The row in the caller's workspace (RLS), or NOT_FOUND: another workspace's row looks absent.

    ``lock`` takes ``FOR UPDATE`` so concurrent changes to one row queue; soft-deleted rows
    are absent.
    """
    row = await session.get(model, row_id, with_for_update=lock)
    if row is None or getattr(row, "deleted_at", None) is not None:
        name = getattr(model, "__tablename__", "row").rstrip("s").replace("_", " ")
        raise NotFound(message=f"No such {name}.", field=field)
    return row


async def refreshed(session: AsyncSession, row: R) -> R:
    """Flush and reload server-side values (updated_at, computed columns)."""
    await session.flush()
    await session.refresh(row)
    return row


async def delete_row(session: AsyncSession, row: Any) -> None:
    """Delete ``row`` and flush, so a refused delete (a foreign key) surfaces here."""
    await session.delete(row)
    await session.flush()


def is_unique_violation(exc: Exception, constraint: str) -> bool:
    """Whether an ``IntegrityError`` broke the named unique constraint (asyncpg names it on the cause)."""
    orig = getattr(exc, "orig", None)
    name = getattr(getattr(orig, "__cause__", None), "constraint_name", None) or ""
    return name == constraint or constraint in str(orig)
