"""All SQL for jobs. Queries run under the caller's tenant (RLS), so they see one workspace."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import Job


async def get(session: AsyncSession, job_id: uuid.UUID, *, for_update: bool = False) -> Job | None:
    stmt = select(Job).where(Job.id == job_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def add(session: AsyncSession, **values: Any) -> Job:
    job = Job(**values)
    session.add(job)
    await session.flush()
    await session.refresh(job)
    return job


async def set_fields(session: AsyncSession, job_id: uuid.UUID, **values: Any) -> None:
    await session.execute(update(Job).where(Job.id == job_id).values(**values))


async def due_jobs(
    session: AsyncSession, *, pending_after: int, processing_after: int, limit: int = 100
) -> list[tuple[uuid.UUID, uuid.UUID, str]]:
    """(id, workspace_id, type) of every workspace's jobs that need a (re-)enqueue.

    Crosses tenants through the ``clipflow_due_jobs`` SECURITY DEFINER function, which
    returns ids only; each job then runs under its own workspace's tenant.
    """
    rows = await session.execute(
        text("SELECT id, workspace_id, type FROM clipflow_due_jobs(:pending, :processing, :lim)"),
        {"pending": pending_after, "processing": processing_after, "lim": limit},
    )
    return [(r.id, r.workspace_id, r.type) for r in rows]

