"""All SQL for webhooks. Queries run under the caller's tenant (RLS), so they see one workspace."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ..models import Webhook
from ..rows import delete_row, get_row, refreshed


async def add(session: AsyncSession, **values: Any) -> Webhook:
    row = Webhook(**values)
    session.add(row)
    return await refreshed(session, row)


async def get_for_update(session: AsyncSession, webhook_id: uuid.UUID) -> Webhook:
    """The workspace's webhook, locked; NOT_FOUND (field ``id``) when absent or another workspace's."""
    return await get_row(session, Webhook, webhook_id)


async def save(session: AsyncSession, row: Webhook) -> Webhook:
    return await refreshed(session, row)


async def delete(session: AsyncSession, row: Webhook) -> None:
    """Delete the webhook; its delivery log goes with it (ON DELETE CASCADE)."""
    await delete_row(session, row)
