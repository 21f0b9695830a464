"""All SQL for posts: the rows a post is made from, the quota windows, the calendar.

Every query names the workspace as well as running under its Row-Level Security tenant.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import Clip, Post, SocialAccount
from ..models.enums import PostStatus

# the posts that take (or took) a place in an account's publishing quota
QUOTA_STATUSES = (PostStatus.SCHEDULED, PostStatus.PUBLISHING, PostStatus.UNCONFIRMED, PostStatus.PUBLISHED)

# when a post counts in a quota window: when it went out, else when it is due
_QUOTA_TIME = func.coalesce(Post.published_at, Post.scheduled_at)


async def get_clip(session: AsyncSession, workspace_id: uuid.UUID, clip_id: uuid.UUID) -> Clip | None:
    """The workspace's clip (not deleted), or None."""
    stmt = select(Clip).where(Clip.id == clip_id, Clip.workspace_id == workspace_id, Clip.deleted_at.is_(None))
    return (await session.execute(stmt)).scalar_one_or_none()


async def get_accounts(session: AsyncSession, workspace_id: uuid.UUID, account_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, SocialAccount]:
    """The workspace's social accounts among ``account_ids``, by id."""
    stmt = select(SocialAccount).where(SocialAccount.id.in_(list(account_ids)), SocialAccount.workspace_id == workspace_id)
    return {a.id: a for a in (await session.execute(stmt)).scalars()}


async def get_account(session: AsyncSession, workspace_id: uuid.UUID, account_id: uuid.UUID) -> SocialAccount | None:
    return (await get_accounts(session, workspace_id, [account_id])).get(account_id)


async def get_post(session: AsyncSession, workspace_id: uuid.UUID, post_id: uuid.UUID, *, lock: bool = True) -> Post | None:
    """The workspace's post (not deleted), locked for the change unless ``lock`` is false."""
    stmt = select(Post).where(Post.id == post_id, Post.workspace_id == workspace_id, Post.deleted_at.is_(None))
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def add_posts(session: AsyncSession, posts: Sequence[Post]) -> None:
    session.add_all(posts)
    await session.flush()
    for post in posts:
        await session.refresh(post)  # server defaults (status, counters, timestamps)


async def lock_account_quota(session: AsyncSession, account_id: uuid.UUID) -> None:
    """Serialise quota checks of one account until the transaction ends (two schedulings never
    both take the last place). An advisory lock, not the row: token refreshes lock that one."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended('clipflow:post-quota:' || :account, 0))"),
        {"account": str(account_id)},
    )


async def count_scheduled_in_window(
    session: AsyncSession, account_id: uuid.UUID, start: datetime, end: datetime, *, exclude_post_id: uuid.UUID | None = None
) -> int:
    """Posts of the account that are scheduled, going out or out with their time in [start, end)."""
    stmt = select(func.count()).select_from(Post).where(*_quota_window(account_id, start, end, exclude_post_id))
    return int((await session.execute(stmt)).scalar_one())


async def quota_times_in_window(
    session: AsyncSession, account_id: uuid.UUID, start: datetime, end: datetime, *, exclude_post_id: uuid.UUID | None = None
) -> list[datetime]:
    """The times (as ``count_scheduled_in_window`` counts them) of those posts, earliest first."""
    stmt = select(_QUOTA_TIME).where(*_quota_window(account_id, start, end, exclude_post_id)).order_by(_QUOTA_TIME)
    return list((await session.execute(stmt)).scalars())


def _quota_window(account_id: uuid.UUID, start: datetime, end: datetime, exclude: uuid.UUID | None) -> list[ColumnElement[bool]]:
    where = [
        Post.social_account_id == account_id,
        Post.deleted_at.is_(None),
        Post.status.in_([s.value for s in QUOTA_STATUSES]),
        _QUOTA_TIME >= start,
        _QUOTA_TIME < end,
    ]
    if exclude is not None:
        where.append(Post.id != exclude)
    return where


# -- the calendar -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CalendarWindow:
    """Posts due in [start, end) of one workspace, optionally narrowed (hashable: a loader key)."""

    workspace_id: uuid.UUID
    start: datetime
    end: datetime
    account_ids: tuple[uuid.UUID, ...] | None = None
    statuses: tuple[str, ...] | None = None
    platforms: tuple[str, ...] | None = None

    def where(self) -> list[ColumnElement[bool]]:
        """The window as conditions on ``posts`` (the calendar loader pages over them)."""
        out: list[ColumnElement[bool]] = [
            Post.workspace_id == self.workspace_id,
            Post.deleted_at.is_(None),
            Post.scheduled_at >= self.start,
            Post.scheduled_at < self.end,
        ]
        if self.account_ids is not None:
            out.append(Post.social_account_id.in_(self.account_ids))
        if self.statuses is not None:
            out.append(Post.status.in_(self.statuses))
        if self.platforms is not None:
            accounts = select(SocialAccount.id).where(
                SocialAccount.workspace_id == self.workspace_id, SocialAccount.platform.in_(self.platforms)
            )
            out.append(Post.social_account_id.in_(accounts))
        return out


async def posts_between(session: AsyncSession, window: CalendarWindow, *, limit: int = 1000) -> list[Post]:
    """The window's posts, earliest first (at most ``limit``)."""
    stmt = select(Post).where(*window.where()).order_by(Post.scheduled_at, Post.id).limit(limit)
    return list((await session.execute(stmt)).scalars())



# -- the publish queue (publishing.delivery, publishing.limits) ------------------------------


async def set_publish_ref(session: AsyncSession, workspace_id: uuid.UUID, post_id: uuid.UUID, ref: str | None) -> None:
    """Keep (or forget) the platform's handle of a publishing post's upload."""
    await session.execute(
        update(Post).where(Post.id == post_id, Post.workspace_id == workspace_id,
                           Post.status == PostStatus.PUBLISHING.value).values(publish_ref=ref)
    )


async def post_state(session: AsyncSession, workspace_id: uuid.UUID, post_id: uuid.UUID) -> tuple[str, str | None] | None:
    """The post's (status, publish_error), or None when it is gone."""
    row = (await session.execute(
        select(Post.status, Post.publish_error).where(Post.id == post_id, Post.workspace_id == workspace_id)
    )).first()
    return (row.status, row.publish_error) if row is not None else None


async def touch_publishing(session: AsyncSession, workspace_id: uuid.UUID, post_id: uuid.UUID, upload_progress: int) -> bool:
    """A publishing post's heartbeat (updated_at) and upload progress; False when it is no longer publishing."""
    result = await session.execute(
        update(Post).where(Post.id == post_id, Post.workspace_id == workspace_id,
                           Post.status == PostStatus.PUBLISHING.value)
        .values(upload_progress=upload_progress, updated_at=func.now())
    )
    return bool(getattr(result, "rowcount", 0))


async def count_clip_published(session: AsyncSession, workspace_id: uuid.UUID, clip_id: uuid.UUID) -> None:
    """One more post of the clip went out."""
    await session.execute(
        update(Clip).where(Clip.id == clip_id, Clip.workspace_id == workspace_id)
        # the count is not an edit of the clip: updated_at stays (it tells re-renders apart)
        .values(times_published=Clip.times_published + 1, updated_at=Clip.updated_at)
    )


async def platform_ids_of_other_posts(session: AsyncSession, post: Post) -> set[str]:
    """Platform ids already taken by the account's other posts (two posts never claim one media)."""
    rows = await session.execute(
        select(Post.platform_post_id).where(
            Post.workspace_id == post.workspace_id, Post.social_account_id == post.social_account_id,
            Post.id != post.id, Post.platform_post_id.is_not(None))
    )
    return {r for r in rows.scalars() if r}


@dataclass(frozen=True)
class DuePost:
    id: uuid.UUID
    workspace_id: uuid.UUID
    status: str
    due_at: datetime | None


async def due_posts(session: AsyncSession, *, horizon_s: int, stale_s: int, limit: int) -> list[DuePost]:
    """Every workspace's posts due within ``horizon_s`` and those ``publishing`` with no heartbeat for ``stale_s``.

    Crosses tenants through the ``clipflow_due_posts`` SECURITY DEFINER function (the worker
    role only), which returns ids and times; each post is then handled under its workspace."""
    rows = await session.execute(text("SELECT * FROM clipflow_due_posts(:horizon, :stale, :lim)"),
                                 {"horizon": horizon_s, "stale": stale_s, "lim": limit})
    return [DuePost(r.id, r.workspace_id, r.status, r.due_at) for r in rows]


async def attempts_of(session: AsyncSession, workspace_id: uuid.UUID, post_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
    """The publish attempt count of each of the workspace's posts (the sweeper derives job ids from it)."""
    rows = await session.execute(
        select(Post.id, Post.publish_attempts).where(Post.workspace_id == workspace_id, Post.id.in_(list(post_ids)))
    )
    return {r.id: r.publish_attempts for r in rows}


async def recent_publish_times(session: AsyncSession, workspace_id: uuid.UUID, account_id: uuid.UUID,
                                post_id: uuid.UUID, *, since: datetime) -> list[datetime]:
    """When the account's other posts went out (or started to) since ``since``, earliest first."""
    went_out = func.coalesce(Post.published_at, Post.publish_started_at, Post.updated_at)
    rows = await session.execute(
        select(went_out).where(
            Post.workspace_id == workspace_id, Post.social_account_id == account_id, Post.id != post_id,
            Post.deleted_at.is_(None),
            Post.status.in_([PostStatus.PUBLISHED.value, PostStatus.PUBLISHING.value, PostStatus.UNCONFIRMED.value]),
            went_out >= since,
        ).order_by(went_out)
    )
    return list(rows.scalars())
