"""All SQL of the clip engine. Runs under the job's workspace (RLS), like every query."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import BrandKit, Caption, Clip, Video


async def get_video(session: AsyncSession, video_id: uuid.UUID) -> Video | None:
    return (await session.execute(select(Video).where(Video.id == video_id, Video.deleted_at.is_(None)))).scalar_one_or_none()


async def update_video(session: AsyncSession, video_id: uuid.UUID, **values: Any) -> None:
    await session.execute(update(Video).where(Video.id == video_id).values(**values))


async def default_brand_kit(session: AsyncSession, workspace_id: uuid.UUID) -> BrandKit | None:
    stmt = select(BrandKit).where(BrandKit.workspace_id == workspace_id).order_by(BrandKit.is_default.desc(), BrandKit.created_at)
    return (await session.execute(stmt.limit(1))).scalar_one_or_none()


async def clip_for_span(
    session: AsyncSession, *, video: Video, start: Decimal, end: Decimal, values: dict[str, Any]
) -> Clip:
    """The clip of this span, created if missing: a re-run finds the row the first run made."""
    stmt = (
        insert(Clip)
        .values(video_id=video.id, workspace_id=video.workspace_id, start_time=start, end_time=end, **values)
        .on_conflict_do_nothing(
            index_elements=["video_id", "start_time", "end_time"], index_where=Clip.deleted_at.is_(None)
        )
    )
    await session.execute(stmt)
    return (
        await session.execute(
            select(Clip).where(
                Clip.video_id == video.id, Clip.start_time == start, Clip.end_time == end, Clip.deleted_at.is_(None)
            )
        )
    ).scalar_one()


async def save_rendered_clip(
    session: AsyncSession, clip: Clip, *, file_urls: dict[str, str], thumbnail_url: str | None,
    caption: dict[str, Any],
) -> None:
    """Record a clip's files and (re)write its one generated caption track."""
    await session.execute(
        update(Clip).where(Clip.id == clip.id).values(file_urls=file_urls, thumbnail_url=thumbnail_url, has_captions=True)
    )
    existing = (await session.execute(select(Caption).where(Caption.clip_id == clip.id).limit(1))).scalar_one_or_none()
    if existing is None:
        session.add(Caption(workspace_id=clip.workspace_id, clip_id=clip.id, **caption))
    else:
        for key, value in caption.items():
            setattr(existing, key, value)
    await session.flush()

