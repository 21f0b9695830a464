"""GraphQL tests: the real app in-process (httpx.ASGITransport), the app role's engine
(Row-Level Security applies), real sessions and API keys. Data is built with
``tests.fixtures.builders`` through the ``committed`` owner session and deleted afterwards."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from clipflow_api.config import get_settings
from clipflow_api.db import create_app_engine
from clipflow_api.graphql.relay import global_id

@dataclass
class Api:
    client: httpx.AsyncClient
    app: Any
    statements: list[str] = field(default_factory=list)
    mailbox: list[dict[str, Any]] = field(default_factory=list)
    counting: bool = False

    async def gql(
        self, query: str, variables: dict | None = None, *, token: str | None = None, workspace: Any = None,
        headers: dict | None = None,
    ) -> dict[str, Any]:
        h = dict(headers or {})
        if token:
            h["authorization"] = f"Bearer {token}"
        if workspace is not None:
            h["x-workspace-id"] = str(getattr(workspace, "id", workspace))
        response = await self.client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=h)
        body = response.json()
        body["_status"] = response.status_code
        return body

    async def upload(
        self, query: str, variables: dict, files: dict[str, tuple[str, bytes, str]], *, token: str | None = None,
        workspace: Any = None, headers: dict | None = None, preflight: bool = True,
    ) -> dict[str, Any]:
        """A GraphQL multipart request: ``files`` maps a variable path (``variables.file``) to (name, bytes, type)."""
        import json

        h = dict(headers or {})
        if preflight:
            h.setdefault("apollo-require-preflight", "true")
        if token:
            h["authorization"] = f"Bearer {token}"
        if workspace is not None:
            h["x-workspace-id"] = str(getattr(workspace, "id", workspace))
        mapping = {str(i): [path] for i, path in enumerate(files)}
        parts = {str(i): spec for i, spec in enumerate(files.values())}
        response = await self.client.post(
            "/graphql", headers=h, files=parts,
            data={"operations": json.dumps({"query": query, "variables": variables}), "map": json.dumps(mapping)},
        )
        try:
            body = response.json()
        except ValueError:
            body = {"text": response.text}
        body["_status"] = response.status_code
        return body

    async def count(self, query: str, variables: dict | None = None, **kw: Any) -> tuple[dict[str, Any], int]:
        """Run a query and count the SQL statements it executed (authentication excluded)."""
        # authenticate once outside the count: the principal lookup is per request, not per field
        self.statements.clear()
        self.counting = True
        try:
            body = await self.gql(query, variables, **kw)
        finally:
            self.counting = False
        return body, len(self.statements)


@asynccontextmanager
async def open_api(settings: Any = None, *, grant: Callable[[Any], Any] | None = None) -> AsyncIterator[Api]:
    """The app in-process with ``settings`` (default: the test settings); ``grant(principal)``
    may adjust each request's principal (platform staff, for instance)."""
    from clipflow_api.app import create_app
    from clipflow_api.auth.principal import resolve_principal

    # A pool of its own per test (the engine lives and dies with the test's event loop):
    # reusing connections keeps a request from paying a connection setup per session.
    engine = create_app_engine(pool_size=4, max_overflow=8)
    api_obj: Api | None = None

    def before_cursor_execute(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001, ANN202
        if api_obj is not None and api_obj.counting:
            api_obj.statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", before_cursor_execute)
    mailbox: list[dict[str, Any]] = []

    async def mailer(**kw: Any) -> None:
        mailbox.append(kw)

    async def resolver(**kw: Any) -> Any:
        # authentication is not part of a query's cost: keep its statements out of the count
        counting = api_obj.counting if api_obj else False
        if api_obj:
            api_obj.counting = False
        try:
            principal = await resolve_principal(**kw)
            return grant(principal) if grant is not None else principal
        finally:
            if api_obj:
                api_obj.counting = counting

    app = create_app(settings or get_settings(), engine=engine, principal_resolver=resolver, mailer=mailer)
    try:
        async with app.router.lifespan_context(app):
            await app.state.redis.flushdb()
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                api_obj = Api(client=client, app=app, mailbox=mailbox)
                yield api_obj
    finally:
        await engine.dispose()


@pytest.fixture
async def api(migrated_database: str) -> AsyncIterator[Api]:
    async with open_api() as api_obj:
        yield api_obj


@asynccontextmanager
async def serve_app(**overrides: Any) -> AsyncIterator[str]:
    """The app on uvicorn on a free port, with some settings changed: its ws:// URL."""
    import asyncio
    import socket

    import uvicorn

    from clipflow_api.app import create_app

    engine = create_app_engine(pool_size=4, max_overflow=8)
    settings = get_settings().model_copy(update=overrides) if overrides else get_settings()
    app = create_app(settings, engine=engine)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    task = asyncio.create_task(srv.serve())
    while not srv.started:
        await asyncio.sleep(0.05)
    try:
        yield f"ws://127.0.0.1:{port}/graphql"
    finally:
        srv.should_exit = True
        await task
        await engine.dispose()


@pytest.fixture
async def server(migrated_database: str) -> AsyncIterator[str]:
    """The app served by uvicorn on a free port, for websockets: its ws:// URL."""
    async with serve_app() as url:
        yield url


async def until_subscribed(redis: Any, channel: str, timeout: float = 10.0) -> None:
    """Wait until someone listens on ``channel`` (a subscription has started)."""
    import asyncio

    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        [(_, listeners)] = await redis.pubsub_numsub(channel)
        if listeners:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"nobody subscribed to {channel}")
        await asyncio.sleep(0.02)


@pytest.fixture
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 with minimal cost, for tests that sign up many accounts (the hash format is the same)."""
    from argon2 import PasswordHasher

    from clipflow_api.auth import passwords

    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


def gid(type_name: str, value: Any) -> str:
    from clipflow_api.graphql.relay import NODE_TYPES

    return global_id(NODE_TYPES[type_name].type_, value)


def errors_of(body: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") or e["message"] for e in body.get("errors") or []]
