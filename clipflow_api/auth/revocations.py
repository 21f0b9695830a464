"""Revocations announced to every API process, so open websockets learn of them.

A websocket authenticates once, at ``connection_init``, and then lives for hours. When a
credential or a membership ends (logOut, apiKeyRevoke, memberRemove, memberRoleUpdate,
passwordReset), the resolver announces it here after its transaction committed; each
process's socket registry (``graphql.sockets``) re-checks the matching sockets and closes
those whose credential no longer resolves. Every field set in an announcement must match a
socket's principal; unset fields match anything (``user_id`` alone: all the user's sockets).

The announcement is the fast path: each operation on a socket re-resolves its principal
anyway, so a lost message delays nothing but the close of an idle socket.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

CHANNEL = "clipflow:revocations"


@dataclass(frozen=True)
class Revocation:
    """What ended: any combination of a user, a session, an API key and a workspace."""

    user_id: uuid.UUID | None = None
    session_id: uuid.UUID | None = None
    api_key_id: uuid.UUID | None = None
    workspace_id: uuid.UUID | None = None

    def matches(self, principal: Any) -> bool:
        """Whether a socket acting as ``principal`` is concerned."""
        return all(
            wanted is None or getattr(principal, name) == wanted
            for name, wanted in (
                ("user_id", self.user_id), ("session_id", self.session_id),
                ("api_key_id", self.api_key_id), ("workspace_id", self.workspace_id),
            )
        )

    def encode(self) -> str:
        return json.dumps({k: str(v) for k, v in self.__dict__.items() if v is not None})

    @classmethod
    def decode(cls, data: bytes | str) -> Revocation | None:
        """The announcement, or None for a malformed one."""
        try:
            raw = json.loads(data)
            fields = {k: uuid.UUID(raw[k]) for k in ("user_id", "session_id", "api_key_id", "workspace_id") if raw.get(k)}
        except (TypeError, ValueError, AttributeError):
            return None
        return cls(**fields) if fields else None


async def announce(
    redis: Any,
    *,
    user_id: uuid.UUID | None = None,
    session_id: uuid.UUID | None = None,
    api_key_id: uuid.UUID | None = None,
    workspace_id: uuid.UUID | None = None,
) -> None:
    """Tell every API process that this credential or membership changed (call after the commit)."""
    revocation = Revocation(user_id=user_id, session_id=session_id, api_key_id=api_key_id, workspace_id=workspace_id)
    if revocation == Revocation():
        raise ValueError("an announcement names at least one user, session, API key or workspace")
    try:
        await redis.publish(CHANNEL, revocation.encode())
    except Exception:  # noqa: BLE001 - committed already; sockets re-check on their next operation
        log.warning("revocation not announced: %s", revocation, exc_info=True)
