"""Who is calling: a user (session token or API key) acting in one workspace, or nobody."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Principal:
    """The caller of one request.

    ``workspace_id`` is the workspace the request acts in (chosen by the client, checked
    against membership); ``role`` and ``permissions`` are the caller's there, after
    ``custom_permissions`` overrides. An API key narrows ``permissions`` to its ``scopes``.
    """

    user_id: uuid.UUID | None = None
    workspace_id: uuid.UUID | None = None
    role: str | None = None
    permissions: frozenset[str] = field(default_factory=frozenset)
    session_id: uuid.UUID | None = None
    api_key_id: uuid.UUID | None = None
    ip_address: str | None = None
    user_agent: str | None = None

    @property
    def is_authenticated(self) -> bool:
        return self.user_id is not None

    def can(self, permission: str) -> bool:
        return permission in self.permissions


ANONYMOUS = Principal()
