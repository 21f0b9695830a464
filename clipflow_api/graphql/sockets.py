"""Websockets whose identity stays current: every operation re-checks the caller.

A socket authenticates at ``connection_init`` and may then live for hours, so its identity
is never taken as settled:

- every operation (``subscribe`` / ``start``) re-resolves the principal from the
  credentials given at connect, pinned to the workspace chosen then, and counts one
  operation against an API key's daily limit (``auth.principal.count_operations``);
- a revocation announced by any process (``auth.revocations``) makes this process
  re-check the matching sockets at once, without waiting for their next operation;
- a credential that no longer resolves closes the socket: 4401 (not authenticated any
  more) or 4403 (no longer allowed here), with the reason in words; a principal whose
  workspace, role or permissions changed is closed with 4403 too (its running
  subscriptions were admitted under the old rights);
- per user and process: at most ``ws_max_sockets_per_user`` sockets (4429 at connect) and
  ``ws_max_subscriptions_per_user`` operations in flight across them (an operation
  error); a socket with no operation for ``ws_idle_timeout_s`` is closed (4408).

Both protocols (graphql-transport-ws and the legacy graphql-ws) go through the same
``SocketRegistry``; the two handler classes only adapt their message shapes. An operation
refused here is answered like any subscription that cannot start (the rule in
``graphql.subscriptions``): one ``error`` message for its id, nothing after it. A refused
socket is closed with its reason in the close frame, which the stock clients report
(graphql-ws: the ``CloseEvent`` given to ``sink.error``; gql: the cause of
``TransportConnectionFailed``); the legacy protocol also sends ``connection_error`` first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from graphql import GraphQLFormattedError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.subscriptions.protocols.graphql_transport_ws.types import ErrorMessage as TransportErrorMessage
from strawberry.subscriptions.protocols.graphql_ws.types import ConnectionErrorMessage
from strawberry.subscriptions.protocols.graphql_ws.types import ErrorMessage as LegacyErrorMessage

from ..auth.principal import Principal, count_operations
from ..auth.revocations import CHANNEL, Revocation
from ..config import Settings
from ..errors import AuthError, DomainError, PermissionDenied, RateLimited
from .errors import domain_error, graphql_error

log = logging.getLogger(__name__)

CLOSE_INVALID = 4400
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_IDLE = 4408
CLOSE_TOO_MANY = 4429

Resolver = Callable[[dict[str, str], Any], Awaitable[Principal]]


def close_code(exc: DomainError) -> int:
    """The close code a refused credential gets."""
    if isinstance(exc, AuthError):
        return CLOSE_UNAUTHENTICATED
    if isinstance(exc, PermissionDenied):
        return CLOSE_FORBIDDEN
    if isinstance(exc, RateLimited):
        return CLOSE_TOO_MANY
    return CLOSE_INVALID


def _reason(text: str) -> str:
    """A close reason fits in 123 bytes of UTF-8."""
    encoded = text.encode()
    return text if len(encoded) <= 123 else encoded[:120].decode(errors="ignore") + "..."


class SocketRefused(Exception):
    """A connection_init refused: closed with ``code`` and ``reason``; ``error`` for the legacy protocol's connection_error."""

    def __init__(self, code: int, reason: str, error: GraphQLFormattedError) -> None:
        super().__init__(reason)
        self.code, self.reason, self.error = code, _reason(reason), error

    @classmethod
    def from_domain_error(cls, exc: DomainError) -> SocketRefused:
        return cls(close_code(exc), exc.message, domain_error(exc))


class _Refused:
    """An operation refused: sent as its error, the socket stays open."""

    def __init__(self, error: GraphQLFormattedError) -> None:
        self.error = error


class SocketRegistry:
    """This process's open sockets: caps, per-operation checks, revocations and idle timeouts."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.sockets: set[GuardedSocket] = set()
        self._resolve: Resolver | None = None
        self._redis: Any = None
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self, *, hub: Any, redis: Any, resolve: Resolver) -> None:
        """Listen for revocations (returns once subscribed) and sweep idle sockets."""
        self._resolve, self._redis = resolve, redis
        listening = asyncio.Event()
        self._tasks = [
            asyncio.create_task(self._listen(hub, listening), name="ws-revocations"),
            asyncio.create_task(self._sweep_idle(), name="ws-idle"),
        ]
        waiter = asyncio.create_task(listening.wait())
        await asyncio.wait([waiter, self._tasks[0]], return_when=asyncio.FIRST_COMPLETED)
        if not listening.is_set():
            waiter.cancel()
            await self.stop()
            raise RuntimeError("the revocation listener did not start")

    async def stop(self) -> None:
        """Stop listening; close what is still open."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        for socket in list(self.sockets):
            await socket.shut(1001, "The server is shutting down.")

    def of_user(self, user_id: Any) -> list[GuardedSocket]:
        return [s for s in self.sockets if s.principal is not None and s.principal.user_id == user_id]

    def admit(self, socket: GuardedSocket, principal: Principal, headers: dict[str, str]) -> None:
        """Register a socket that passed connection_init; SocketRefused over the per-user cap."""
        if principal.user_id is not None:
            cap = self.settings.ws_max_sockets_per_user
            if len(self.of_user(principal.user_id)) >= cap:
                message = f"Too many open connections: at most {cap} per user. Close one and try again."
                raise SocketRefused(CLOSE_TOO_MANY, message, graphql_error(message, "TOO_MANY_CONNECTIONS"))
        # Re-checks act in the workspace chosen now, never in whatever becomes the default later.
        if principal.workspace_id is not None:
            headers = {**headers, "x-workspace-id": str(principal.workspace_id)}
        socket.headers, socket.principal = headers, principal
        socket.touch()
        self.sockets.add(socket)

    def discard(self, socket: GuardedSocket) -> None:
        self.sockets.discard(socket)

    async def admit_operation(self, socket: GuardedSocket) -> _Refused | None:
        """Before an operation: re-check the caller, the per-user cap and the daily limit.

        None: run it. ``_Refused``: answer it with that error. The socket may have been
        closed meanwhile (``socket.closed``): then nothing more is sent.
        """
        principal = await self.recheck(socket)
        if principal is None:
            return _Refused(graphql_error("The connection was closed.", "UNAUTHENTICATED"))
        if principal.user_id is not None:
            cap = self.settings.ws_max_subscriptions_per_user
            if sum(s.active_operations() for s in self.of_user(principal.user_id)) >= cap:
                return _Refused(graphql_error(
                    f"Too many subscriptions: at most {cap} at once per user, across connections.",
                    "TOO_MANY_SUBSCRIPTIONS",
                ))
        try:
            await count_operations(self._redis, principal)
        except RateLimited as exc:
            return _Refused(domain_error(exc))
        socket.touch()
        return None

    async def recheck(self, socket: GuardedSocket) -> Principal | None:
        """The socket's caller now; closes the socket (and returns None) when it is no longer the one admitted."""
        assert self._resolve is not None and socket.principal is not None
        try:
            principal = await self._resolve(socket.headers, socket.context.request)
        except DomainError as exc:
            await socket.shut(close_code(exc), exc.message)
            return None
        before = socket.principal
        if (principal.user_id, principal.workspace_id, principal.role, principal.permissions) != (
            before.user_id, before.workspace_id, before.role, before.permissions
        ):
            await socket.shut(CLOSE_FORBIDDEN, "Your access to this workspace changed; reconnect.")
            return None
        socket.principal = socket.context.principal = principal
        return principal

    async def _listen(self, hub: Any, listening: asyncio.Event) -> None:
        async with hub.listen(CHANNEL) as queue:
            listening.set()
            while True:
                revocation = Revocation.decode(await queue.get())
                if revocation is None:
                    continue
                concerned = [s for s in self.sockets if s.principal is not None and revocation.matches(s.principal)]
                results = await asyncio.gather(*(self.recheck(s) for s in concerned), return_exceptions=True)
                for result in results:
                    if isinstance(result, Exception):
                        log.warning("re-checking a socket failed", exc_info=result)

    async def _sweep_idle(self) -> None:
        timeout = self.settings.ws_idle_timeout_s
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(max(0.05, min(5.0, timeout / 4)))
            now = loop.time()
            for socket in list(self.sockets):
                if socket.active_operations():
                    socket.touch()
                elif now - socket.last_active >= timeout:
                    await socket.shut(CLOSE_IDLE, f"Closed after {timeout:g} s without an operation.")


class GuardedSocket:
    """What both protocol handlers share: registration, per-operation admission, closing."""

    view: Any
    context: Any
    websocket: Any

    def _guard_init(self) -> None:
        self.registry: SocketRegistry = self.view.sockets
        self.principal: Principal | None = None
        self.headers: dict[str, str] = {}
        self.closed = False
        self.last_active = asyncio.get_running_loop().time()
        self.context.socket = self

    def touch(self) -> None:
        self.last_active = asyncio.get_running_loop().time()

    def active_operations(self) -> int:
        raise NotImplementedError

    async def cancel_operations(self) -> None:
        raise NotImplementedError

    async def shut(self, code: int, reason: str) -> None:
        """Stop every operation and close the socket with ``code`` and ``reason`` (once)."""
        if self.closed:
            return
        self.closed = True
        self.registry.discard(self)
        await self.cancel_operations()
        with contextlib.suppress(Exception):  # the client may be gone already
            await self.websocket.close(code=code, reason=_reason(reason))


class TransportWSHandler(GuardedSocket, BaseGraphQLTransportWSHandler):
    """graphql-transport-ws with the checks of ``SocketRegistry``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._guard_init()

    def active_operations(self) -> int:
        return len(self.operations)

    async def cancel_operations(self) -> None:
        for operation_id in list(self.operations):
            await self.cleanup_operation(operation_id)

    async def handle_connection_init(self, message: Any) -> None:
        try:
            await super().handle_connection_init(message)
        except SocketRefused as exc:
            await self.shut(exc.code, exc.reason)

    async def handle_subscribe(self, message: Any) -> None:
        # what strawberry refuses itself (not acknowledged, duplicate id, its per-socket cap) costs nothing
        if (
            self.connection_acknowledged
            and message["id"] not in self.operations
            and len(self.operations) < (self.max_subscriptions_per_connection or 1 << 30)
        ):
            refused = await self.registry.admit_operation(self)
            if self.closed:
                return
            if refused is not None:
                await self.send_message(TransportErrorMessage(id=message["id"], type="error", payload=[refused.error]))
                return
        await super().handle_subscribe(message)

    async def shutdown(self) -> None:
        self.registry.discard(self)
        await super().shutdown()


class LegacyWSHandler(GuardedSocket, BaseGraphQLWSHandler):
    """The legacy graphql-ws protocol with the checks of ``SocketRegistry``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._guard_init()

    def active_operations(self) -> int:
        return len(self.tasks)

    async def cancel_operations(self) -> None:
        await self.cleanup()

    async def handle_connection_init(self, message: Any) -> None:
        try:
            await super().handle_connection_init(message)
        except SocketRefused as exc:
            with contextlib.suppress(Exception):
                await self.send_message(ConnectionErrorMessage(type="connection_error", payload=dict(exc.error)))
            await self.shut(exc.code, exc.reason)

    async def handle_start(self, message: Any) -> None:
        if self.connection_acknowledged and len(self.tasks) < (self.max_subscriptions_per_connection or 1 << 30):
            refused = await self.registry.admit_operation(self)
            if self.closed:
                return
            if refused is not None:
                await self.send_message(LegacyErrorMessage(type="error", id=message["id"], payload=refused.error))
                return
        await super().handle_start(message)

    async def cleanup(self) -> None:
        self.registry.discard(self)
        await super().cleanup()
