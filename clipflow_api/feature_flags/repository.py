"""All SQL for feature flags: a global table whose write policy opens only on the staff path."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ..db import as_platform_staff
from ..models import FeatureFlag
from ..rows import get_row, is_unique_violation, refreshed

NAME_CONSTRAINT = "uq_feature_flags_name"


async def open_staff_writes(session: AsyncSession) -> None:
    """RLS: let this transaction write flags (only the platform staff path calls it)."""
    await as_platform_staff(session)


async def add(session: AsyncSession, **values: Any) -> FeatureFlag:
    """Insert a flag in a savepoint: a taken name (IntegrityError) leaves the transaction usable."""
    row = FeatureFlag(**values)
    async with session.begin_nested():
        session.add(row)
        await session.flush()
    return await refreshed(session, row)


async def get_for_update(session: AsyncSession, flag_id: uuid.UUID) -> FeatureFlag:
    """The flag, locked; NOT_FOUND (field ``id``) when there is none."""
    return await get_row(session, FeatureFlag, flag_id)


async def update(session: AsyncSession, row: FeatureFlag, values: dict[str, Any]) -> FeatureFlag:
    """Set ``values`` in a savepoint (begin_nested flushes what is pending first, so the change happens inside)."""
    async with session.begin_nested():
        for name, value in values.items():
            setattr(row, name, value)
        await session.flush()
    return await refreshed(session, row)


def is_name_taken(exc: IntegrityError) -> bool:
    """Whether the flag's unique name is what the database refused."""
    return is_unique_violation(exc, NAME_CONSTRAINT)
