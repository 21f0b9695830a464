"""The transactional outbox: an event row is written with the change that caused it.

A rollback drops both; a commit keeps both. The webhooks worker (issue 11) reads
undelivered rows (``delivered_at IS NULL``) in order and marks them delivered.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ..models import OutboxEvent
from ..models.enums import OutboxEventType


async def emit(session: AsyncSession, workspace_id: uuid.UUID, type: OutboxEventType, payload: dict[str, Any]) -> OutboxEvent:
    """Record ``type`` with ``payload`` (JSON-ready values) in the current transaction."""
    event = OutboxEvent(workspace_id=workspace_id, type=type.value, payload=payload)
    session.add(event)
    await session.flush()
    return event
