"""All SQL for the audit trail."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import AuditLog


async def add(session: AsyncSession, **values: Any) -> None:
    """Insert one entry (RLS: its workspace / user must be the session's tenant)."""
    await session.execute(insert(AuditLog).values(**values))
