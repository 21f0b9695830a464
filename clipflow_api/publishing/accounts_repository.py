"""SQL for connected social accounts (the posts' SQL lives in repository.py).

Every query is scoped to a workspace, except ``due_token_refreshes`` (the refresh cron's
window across tenants; see its docstring).
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any, NamedTuple

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import SocialAccount
from ..models.enums import SocialAccountStatus
from ..rows import refreshed


async def get_account(
    session: AsyncSession, workspace_id: uuid.UUID, account_id: uuid.UUID, *, lock: bool = False
) -> SocialAccount | None:
    """The workspace's account (reloaded from the row; ``lock``: SELECT ... FOR UPDATE)."""
    query = (
        select(SocialAccount)
        .where(SocialAccount.id == account_id, SocialAccount.workspace_id == workspace_id)
        .execution_options(populate_existing=True)
    )
    if lock:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def find_by_platform_user(
    session: AsyncSession, workspace_id: uuid.UUID, platform: str, platform_user_id: str, *, lock: bool = False
) -> SocialAccount | None:
    query = (
        select(SocialAccount)
        .where(
            SocialAccount.workspace_id == workspace_id,
            SocialAccount.platform == platform,
            SocialAccount.platform_user_id == platform_user_id,
        )
        .execution_options(populate_existing=True)
    )
    if lock:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def insert_account(session: AsyncSession, values: dict[str, Any]) -> uuid.UUID | None:
    """Insert a new account row; None when (workspace, platform, platform_user_id) already exists
    (a concurrent connect of the same account won: the caller locks and updates that row)."""
    stmt = (
        insert(SocialAccount)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["workspace_id", "platform", "platform_user_id"])
        .returning(SocialAccount.id)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def count_connected(session: AsyncSession, workspace_id: uuid.UUID) -> int:
    """Accounts that hold a plan slot: every one not disconnected."""
    return (
        await session.execute(
            select(func.count())
            .select_from(SocialAccount)
            .where(
                SocialAccount.workspace_id == workspace_id,
                SocialAccount.status != SocialAccountStatus.DISCONNECTED,
            )
        )
    ).scalar_one()


async def has_account_to_reconnect(session: AsyncSession, workspace_id: uuid.UUID, platform: str) -> bool:
    return (
        await session.execute(
            select(func.count())
            .select_from(SocialAccount)
            .where(
                SocialAccount.workspace_id == workspace_id,
                SocialAccount.platform == platform,
                SocialAccount.status == SocialAccountStatus.RECONNECT_REQUIRED,
            )
        )
    ).scalar_one() > 0


async def update_account(session: AsyncSession, account: SocialAccount, **values: Any) -> SocialAccount:
    """Set ``values`` on the (locked or freshly inserted) row in one UPDATE; reload server-set columns."""
    for key, value in values.items():
        setattr(account, key, value)
    return await refreshed(session, account)


class DueRefresh(NamedTuple):
    id: uuid.UUID
    workspace_id: uuid.UUID


async def due_token_refreshes(session: AsyncSession, within_s: int, limit: int) -> list[DueRefresh]:
    """Active accounts of every workspace whose access token expires within ``within_s`` seconds.

    Crosses tenants: RLS shows a plain query nothing without a tenant, so this reads through
    ``clipflow_due_token_refreshes`` (SECURITY DEFINER, worker role) when the database has it,
    and directly otherwise (an owner session: tests, or a deployment before that migration).
    """
    has_function = (
        await session.execute(text("SELECT to_regprocedure('clipflow_due_token_refreshes(integer, integer)') IS NOT NULL"))
    ).scalar_one()
    if has_function:
        rows = await session.execute(
            text("SELECT id, workspace_id FROM clipflow_due_token_refreshes(:within, :lim)"),
            {"within": within_s, "lim": limit},
        )
        return [DueRefresh(r.id, r.workspace_id) for r in rows]
    horizon = func.now() + timedelta(seconds=within_s)
    rows = await session.execute(
        select(SocialAccount.id, SocialAccount.workspace_id)
        .where(
            SocialAccount.status == SocialAccountStatus.ACTIVE,
            SocialAccount.token_expires_at.is_not(None),
            SocialAccount.token_expires_at <= horizon,
        )
        .order_by(SocialAccount.token_expires_at)
        .limit(limit)
    )
    return [DueRefresh(r.id, r.workspace_id) for r in rows]

