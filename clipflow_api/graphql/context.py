"""The per-request GraphQL context: the caller, database access, loaders and clients.

Strawberry resolves sibling fields concurrently, and one AsyncSession must not run two
statements at once. Reads (loader batches, resolvers) share one request-scoped session with
``ctx.session()``: they take it in turn behind a lock, and its read transaction (tenant set
once, at BEGIN) stays open across batches until the operation ends (``RequestSessionScope``
opens and closes the scope). Opening a session per batch cost a BEGIN, a ``set_config``, a
pre-ping and a ROLLBACK each: 4 round trips around every useful statement. Mutations change
rows in a session of their own (``ctx.write_session()``), committed or rolled back as one
unit: a writer holding the shared lock while it awaited a loader would deadlock.
Subscriptions run outside a scope and get a short-lived session per call, so no long-lived
socket keeps a transaction open.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar
import strawberry

from arq.connections import ArqRedis
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from ..auth.principal import ANONYMOUS, Principal
from ..config import Settings
from ..db import set_tenant, tenant_session

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

    # The request-scoped read session (see the module docstring): open scopes, the session, its lock.
    _scopes: int = field(default=0, repr=False)
    _shared: AsyncSession | None = field(default=None, repr=False)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)

    def session(self) -> Any:
        """A session for reads, scoped to the caller's workspace and user: the request's, taken in turn."""
        if self._scopes == 0:
            return self.write_session()
        return self._take_shared()

    def write_session(self) -> Any:
        """A new session of its own, scoped to the caller's workspace and user (the caller commits)."""
        return tenant_session(
            self.session_factory, workspace_id=self.principal.workspace_id, user_id=self.principal.user_id
        )

    @asynccontextmanager
    async def _take_shared(self) -> AsyncIterator[AsyncSession]:
        async with self._lock:
            session = self._shared
            tenant = (self.principal.workspace_id, self.principal.user_id)
            if session is not None and (session.info.get("workspace_id"), session.info.get("user_id")) != tenant:
                await session.rollback()  # the caller changed (signed in, switched): a new transaction
            if session is None:
                session = self._shared = self.session_factory()
            set_tenant(session, workspace_id=tenant[0], user_id=tenant[1])
            try:
                yield session
            except BaseException:
                await self._discard()
                raise
            # Reads only: writers use write_session(). Changes left pending are undone, as closing a
            # session of its own would have done. (Per-session event listeners that would also
            # catch flushed writes cost 10-20% of a dashboard request's CPU in ORM loading: measured.)
            pending = bool(session.new or session.dirty or session.deleted)
            # a fresh identity map per user, as with a session of its own: no stale object outlives
            # a write elsewhere, and the rows handed out stay loaded (a rollback would expire them)
            session.expunge_all()
            if pending:
                await session.rollback()

    async def _discard(self) -> None:
        session, self._shared = self._shared, None
        if session is not None:
            await session.close()

    def open_scope(self) -> None:
        """Start sharing one read session among this operation's resolvers and loaders."""
        self._scopes += 1

    async def close_scope(self) -> None:
        """End an operation's scope; the last one ends the shared transaction and returns its connection."""
        self._scopes -= 1
        if self._scopes == 0:
            async with self._lock:
                await self._discard()
            # The loaders refer back to this context (a cycle): dropped here, their caches, pages and
            # rows are freed as the operation ends rather than by the cyclic garbage collector, which
            # measured a quarter of a dashboard request's CPU under load. A later operation of the
            # same request (an HTTP batch) gets fresh loaders, as it would in a request of its own.
            self.loaders.clear()

    def loader(self, cls: type[L]) -> L:
        """The request's instance of a dataloader class, created on first use."""
        name = cls.__name__
        found = self.loaders.get(name)
        if found is None:
            found = self.loaders[name] = cls(self)  # type: ignore[call-arg]
        return found


class RequestSessionScope(SchemaExtension):
    """Queries and mutations share one read session per operation (``Context.session``)."""

    async def on_execute(self) -> AsyncIterator[None]:
        ctx = self.execution_context.context
        scoped = isinstance(ctx, Context) and self.execution_context.operation_type != OperationType.SUBSCRIPTION
        if scoped:
            ctx.open_scope()
        try:
            yield
        finally:
            if scoped:
                await ctx.close_scope()


# What every resolver takes as ``info``: typed, so mypy checks ``info.context.<x>``.
Info = strawberry.Info[Context, Any]
