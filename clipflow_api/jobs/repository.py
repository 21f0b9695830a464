"""All SQL for jobs. Queries run under the caller's tenant (RLS), so they see one workspace."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import Job, Video


async def get(session: AsyncSession, job_id: uuid.UUID, *, for_update: bool = False) -> Job | None:
    stmt = select(Job).where(Job.id == job_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def latest_of_video(session: AsyncSession, video_id: uuid.UUID) -> Any:
    """The video's newest job as (id, progress_message, updated_at), or None."""
    return (
        await session.execute(
            select(Job.id, Job.progress_message, Job.updated_at)
            .where(Job.video_id == video_id)
            .order_by(Job.created_at.desc())
            .limit(1)
        )
    ).first()


async def latest_of_post(session: AsyncSession, post_id: uuid.UUID, job_type: str) -> Job | None:
    """The post's newest job of ``job_type`` (e.g. its media conform), or None."""
    return (
        await session.execute(
            select(Job).where(Job.post_id == post_id, Job.type == job_type).order_by(Job.created_at.desc()).limit(1)
        )
    ).scalar_one_or_none()


async def video_state(session: AsyncSession, video_id: uuid.UUID) -> Any:
    """The video's (id, status, processing_progress, error_message) unless missing or deleted, else None."""
    return (
        await session.execute(
            select(Video.id, Video.status, Video.processing_progress, Video.error_message)
            .where(Video.id == video_id, Video.deleted_at.is_(None))
        )
    ).first()


async def add(session: AsyncSession, **values: Any) -> Job:
    job = Job(**values)
    session.add(job)
    await session.flush()
    await session.refresh(job)
    return job


async def set_fields(session: AsyncSession, job_id: uuid.UUID, **values: Any) -> None:
    await session.execute(update(Job).where(Job.id == job_id).values(**values))


@dataclass(frozen=True)
class DueJob:
    id: uuid.UUID
    workspace_id: uuid.UUID
    type: str
    status: str
    attempts: int
    max_attempts: int


async def due_jobs(session: AsyncSession, *, pending_after: int, processing_after: int, limit: int = 100) -> list[DueJob]:
    """Every workspace's jobs that need a (re-)enqueue or, out of attempts, a verdict.

    Crosses tenants through the ``clipflow_due_jobs`` SECURITY DEFINER function, which
    returns ids and counters only; each job is then handled under its own workspace.
    """
    rows = await session.execute(
        text("SELECT * FROM clipflow_due_jobs(:pending, :processing, :lim)"),
        {"pending": pending_after, "processing": processing_after, "lim": limit},
    )
    return [DueJob(r.id, r.workspace_id, r.type, r.status, r.attempts, r.max_attempts) for r in rows]
