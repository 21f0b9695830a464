"""SQL rules of the media library, for every caller (GraphQL loaders today, jobs tomorrow).

Private media (the RLS policies unshared_folders / media_in_visible_folders say the same):
an unshared folder is seen by its creator and the workspace's owners and admins (who answer
for everything in it); a library file by its uploader and whoever sees its folder.
"""

from __future__ import annotations

import uuid
from typing import TypeVar

from sqlalchemy import ColumnElement, false, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..auth.principal import Principal
from ..models import BrandKit, Job, MediaFolder, UserMedia
from ..models.enums import ACTIVE_JOB_STATUSES

R = TypeVar("R")

FOLDER_OVERSEERS = ("owner", "admin")


def visible_folders(principal: Principal) -> list[ColumnElement[bool]]:
    """Conditions on media_folders: the folders ``principal`` may see."""
    if principal.role in FOLDER_OVERSEERS:
        return []
    return [or_(MediaFolder.is_shared, MediaFolder.user_id == principal.user_id)] if principal.user_id else [false()]


def visible_user_media(principal: Principal) -> list[ColumnElement[bool]]:
    """Conditions on user_media: the library files ``principal`` may see."""
    if principal.role in FOLDER_OVERSEERS:
        return []
    if not principal.user_id:
        return [false()]
    folders = select(MediaFolder.id).where(*visible_folders(principal))
    return [or_(UserMedia.user_id == principal.user_id, UserMedia.folder_id.is_(None), UserMedia.folder_id.in_(folders))]


# --- writes and the lookups the media services need ---------------------------------------


async def add(session: AsyncSession, row: R) -> R:
    """Insert ``row``, flush, and reload its server-side values."""
    session.add(row)
    await session.flush()
    await session.refresh(row)
    return row


async def active_job_of_video(session: AsyncSession, video_id: uuid.UUID) -> uuid.UUID | None:
    """A pending or running job of the video, if any (the caller holds the video's row lock)."""
    return await session.scalar(
        select(Job.id).where(Job.video_id == video_id, Job.status.in_(ACTIVE_JOB_STATUSES)).limit(1)
    )


async def clear_default_brand_kit(session: AsyncSession, workspace_id: uuid.UUID, keep: uuid.UUID | None = None) -> None:
    """Unmark the workspace's default brand kit(s), except ``keep``."""
    stmt = update(BrandKit).where(BrandKit.workspace_id == workspace_id, BrandKit.is_default)
    if keep is not None:
        stmt = stmt.where(BrandKit.id != keep)
    await session.execute(stmt.values(is_default=False).execution_options(synchronize_session="fetch"))


async def folder_ancestry(session: AsyncSession, folder_id: uuid.UUID, *, limit: int = 100) -> list[uuid.UUID]:
    """``folder_id`` and its ancestors up to the top (at most ``limit``), nearest first."""
    walk = select(MediaFolder.id, MediaFolder.parent_id, literal(0).label("depth")).where(
        MediaFolder.id == folder_id
    ).cte("ancestry", recursive=True)
    up = select(MediaFolder.id, MediaFolder.parent_id, (walk.c.depth + 1).label("depth")).join(
        walk, MediaFolder.id == walk.c.parent_id
    ).where(walk.c.depth < limit)
    walk = walk.union_all(up)
    return list((await session.execute(select(walk.c.id).order_by(walk.c.depth))).scalars())
