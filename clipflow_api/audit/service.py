"""The audit trail: who did what to which resource, from where.

Rows land in the principal's workspace (or, with none, in the user's own trail), so the
session's tenant must be that workspace / user: RLS refuses anything else. Reading the
trail goes through ``Workspace.auditLogs`` (its loader pages the rows).
"""

from __future__ import annotations

import ipaddress
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ..auth.principal import Principal
from . import repository

MAX_USER_AGENT = 1000


def valid_ip(value: str | None) -> str | None:
    """The address if it parses (the column is INET); None for junk like a test client's name."""
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


async def record(
    session: AsyncSession,
    principal: Principal,
    action: str,
    *,
    resource_type: str | None,
    resource_id: uuid.UUID | None,
    details: dict[str, Any] | None = None,
) -> None:
    """Append one audit entry for ``principal`` (flushed with the caller's transaction)."""
    await repository.add(
        session,
        workspace_id=principal.workspace_id,
        user_id=principal.user_id,
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        details=details,
        ip_address=valid_ip(principal.ip_address),
        user_agent=(principal.user_agent or None) and principal.user_agent[:MAX_USER_AGENT],
    )
