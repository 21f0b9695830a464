"""Cron: refresh social tokens ahead of their expiry, one account per transaction.

Each account is refreshed under its own workspace (tenant) and committed on its own, so a
rotated TikTok refresh token is durable at once and one account's trouble stops no other.
A dead grant is committed as ``reconnect_required`` (with its outbox event); the network, a
5xx or a 429 leave the account as it was, for the next run.
"""

from __future__ import annotations

import logging
from typing import Any

from clipflow_api.db import tenant_session
from clipflow_api.errors import DomainError
from clipflow_api.publishing import accounts
from clipflow_api.publishing import accounts_repository as repository

log = logging.getLogger(__name__)

# Refresh what expires within this window: several cron periods, so one failed run (the
# platform down for a while) still leaves time for the next ones.
REFRESH_WINDOW_S = 30 * 60
BATCH = 200


async def refresh_social_tokens(ctx: dict[str, Any], *, within_s: int = REFRESH_WINDOW_S, limit: int = BATCH) -> int:
    """Refresh every active account whose token expires within ``within_s``; returns how many were refreshed."""
    settings = ctx["settings"]
    factory = ctx["session_factory"]
    async with factory() as s:
        due = await repository.due_token_refreshes(s, within_s, limit)
        await s.commit()
    refreshed = 0
    for item in due:
        async with tenant_session(factory, workspace_id=item.workspace_id, user_id=None) as session:
            try:
                account = await accounts.refresh_account(session, item.id, item.workspace_id, ahead_s=within_s,
                                                         settings=settings)
                await session.commit()
                refreshed += account is not None
            except accounts.ReconnectRequired:
                await session.commit()  # keep the mark, its event and audit entry
                log.info("social account %s needs reconnecting", item.id)
            except DomainError as exc:  # PlatformUnavailable, OAuthFailed: nothing changed, try next run
                await session.rollback()
                log.warning("refreshing social account %s failed: %s", item.id, exc.message)
    if refreshed:
        log.info("refreshed %d social account token(s)", refreshed)
    return refreshed
