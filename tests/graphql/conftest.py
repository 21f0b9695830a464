"""GraphQL tests: the real app in-process (httpx.ASGITransport), the app role's engine
(Row-Level Security applies), real sessions and API keys. Data is committed through the
``committed`` owner session and deleted afterwards."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from clipflow_api.auth.tokens import hash_token, new_token
from clipflow_api.config import get_settings
from clipflow_api.db import create_app_engine
from clipflow_api.graphql.relay import global_id
from clipflow_api.models import (
    Caption,
    Clip,
    Post,
    PostMetric,
    SocialAccount,
    TeamMember,
    User,
    UserSession,
    Video,
    Workspace,
)


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
async def committed(owner_engine: Any) -> AsyncIterator[AsyncSession]:
    """An owner session whose commits are real; afterwards every user and workspace it
    created is deleted, with the workspaces those users came to own through the API.

    (Overrides the shared fixture, which finds its rows in the identity map: a weak map,
    where an instance the test no longer holds may be gone by teardown.)"""
    from sqlalchemy import text

    session = AsyncSession(owner_engine, expire_on_commit=False)
    users: set[Any] = set()
    workspaces: set[Any] = set()

    @event.listens_for(session.sync_session, "after_flush")
    def track(sess: Any, _ctx: Any) -> None:
        for obj in sess.new:
            if isinstance(obj, User):
                users.add(obj.id)
            elif isinstance(obj, Workspace):
                workspaces.add(obj.id)

    yield session
    await session.rollback()
    if workspaces or users:
        await session.execute(text("DELETE FROM workspaces WHERE id = ANY(:w) OR owner_id = ANY(:u)"),
                              {"w": list(workspaces), "u": list(users)})
    if users:
        await session.execute(text("DELETE FROM users WHERE id = ANY(:u)"), {"u": list(users)})
    await session.commit()
    await session.close()


@pytest.fixture
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 with minimal cost, for tests that sign up many accounts (the hash format is the same)."""
    from argon2 import PasswordHasher

    from clipflow_api.auth import passwords

    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


# --- builders (committed through the owner session) -------------------------------------

async def make_user(db: AsyncSession, **kw: Any) -> User:
    n = uuid.uuid4().hex[:8]
    row = User(email=kw.pop("email", f"u{n}@example.com"), name=kw.pop("name", f"User {n}"), **kw)
    db.add(row)
    await db.flush()
    return row


async def make_token(db: AsyncSession, user: User) -> str:
    token = new_token()
    db.add(UserSession(user_id=user.id, token_hash=hash_token(token), expires_at=datetime.now(UTC) + timedelta(days=7)))
    await db.flush()
    return token


async def make_workspace(db: AsyncSession, owner: User | None = None) -> Workspace:
    owner = owner or await make_user(db)
    n = uuid.uuid4().hex[:8]
    ws = Workspace(name=f"WS {n}", slug=f"ws-{n}", owner_id=owner.id)
    db.add(ws)
    await db.flush()
    db.add(TeamMember(workspace_id=ws.id, user_id=owner.id, role="owner", accepted_at=datetime.now(UTC)))
    await db.flush()
    return ws


async def add_member(db: AsyncSession, ws: Workspace, role: str) -> tuple[User, str]:
    user = await make_user(db)
    db.add(TeamMember(workspace_id=ws.id, user_id=user.id, role=role, accepted_at=datetime.now(UTC)))
    await db.flush()
    return user, await make_token(db, user)


async def make_video(db: AsyncSession, ws: Workspace, **kw: Any) -> Video:
    video_id = kw.pop("id", None) or uuid.uuid4()
    row = Video(id=video_id, workspace_id=ws.id, uploaded_by=ws.owner_id, source_type=kw.pop("source_type", "upload"),
                file_url=kw.pop("file_url", f"videos/{video_id}/source.mp4"), title=kw.pop("title", "A talk"), **kw)
    db.add(row)
    await db.flush()
    return row


async def make_clip(db: AsyncSession, video: Video, i: int = 0, **kw: Any) -> Clip:
    row = Clip(video_id=video.id, workspace_id=video.workspace_id, start_time=Decimal(i * 10), end_time=Decimal(i * 10 + 8),
               virality_score=kw.pop("virality_score", 50 + i), **kw)
    db.add(row)
    await db.flush()
    return row


async def make_caption(db: AsyncSession, clip: Clip) -> Caption:
    row = Caption(workspace_id=clip.workspace_id, clip_id=clip.id, style="bold",
                  words=[{"word": "hello", "start": 0.0, "end": 0.4}, {"word": "world", "start": 0.4, "end": 0.9}])
    db.add(row)
    await db.flush()
    return row


async def make_social_account(db: AsyncSession, ws: Workspace) -> SocialAccount:
    row = SocialAccount(workspace_id=ws.id, platform="tiktok", platform_user_id=uuid.uuid4().hex, access_token="v1:enc")
    db.add(row)
    await db.flush()
    return row


async def make_post(db: AsyncSession, account: SocialAccount, clip: Clip | None = None, **kw: Any) -> Post:
    row = Post(workspace_id=account.workspace_id, social_account_id=account.id, clip_id=clip.id if clip else None,
               media_urls=["x.mp4"], media_type="video", created_by=kw.pop("created_by"), **kw)
    db.add(row)
    await db.flush()
    return row


async def make_metric(db: AsyncSession, post: Post, hours_ago: int, views: int) -> PostMetric:
    row = PostMetric(workspace_id=post.workspace_id, post_id=post.id, recorded_at=datetime.now(UTC) - timedelta(hours=hours_ago), views=views)
    db.add(row)
    await db.flush()
    return row


def gid(type_name: str, value: Any) -> str:
    from clipflow_api.graphql.relay import NODE_TYPES

    return global_id(NODE_TYPES[type_name].type_, value)


def errors_of(body: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") or e["message"] for e in body.get("errors") or []]
