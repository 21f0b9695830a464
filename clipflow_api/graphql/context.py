"""The per-request GraphQL context: the caller, database access, loaders and clients.

Strawberry resolves sibling fields concurrently, and one AsyncSession must not run two
statements at once. So nothing shares a session: every resolver, loader and mutation
opens its own short-lived one with ``ctx.session()``, already scoped to the caller's
workspace for Row-Level Security.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar

from arq.connections import ArqRedis
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..auth.principal import ANONYMOUS, Principal
from ..config import Settings
from ..db import tenant_session

L = TypeVar("L")


@dataclass
class Context:
    settings: Settings
    session_factory: async_sessionmaker[AsyncSession]
    redis: Redis
    arq: ArqRedis | None
    storage: Any
    principal: Principal = ANONYMOUS
    request: Any = None
    response: Any = None
    loaders: dict[str, Any] = field(default_factory=dict)
    # graphql-ws / graphql-transport-ws put the connection_init payload here.
    connection_params: dict[str, Any] | None = None
    # Delivers emailed tokens (verification, password reset, invitations):
    # ``await mailer(kind=..., to=..., token=...)``. None: nothing is sent.
    mailer: Any = None
    # The process's shared Redis pub/sub (``clipflow_api.pubsub.PubSubHub``): subscriptions listen through it.
    pubsub: Any = None
    # Over a websocket: the socket (``graphql.sockets``), which re-checks the caller per operation.
    socket: Any = None

    def session(self) -> Any:
        """A new session scoped to the caller's workspace and user (the caller commits)."""
        return tenant_session(
            self.session_factory, workspace_id=self.principal.workspace_id, user_id=self.principal.user_id
        )

    def loader(self, cls: type[L]) -> L:
        """The request's instance of a dataloader class, created on first use."""
        name = cls.__name__
        found = self.loaders.get(name)
        if found is None:
            found = self.loaders[name] = cls(self)  # type: ignore[call-arg]
        return found
