"""Test harness: one database per run, migrated with Alembic; each test in a rolled-back transaction.

DATABASE_URL / REDIS_URL name the servers (``clipflow services run`` sets them; the
defaults are the local ones). A run uses its own database ``<name>_test_<pid>`` (dropped
at the end; ones left by killed runs are dropped at the next start) and a Redis database
of its own (1-15, claimed with a lock key), so two runs on one machine do not trample
each other.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import pytest

_base_url = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/clipflow")
_parts = urlsplit(_base_url)
_TEST_PREFIX = _parts.path.strip("/") + "_test_"
TEST_DATABASE_URL = urlunsplit(_parts._replace(path=f"/{_TEST_PREFIX}{os.getpid()}"))
_redis = urlsplit(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))


def _claim_redis_db() -> int:
    """A Redis database no other live test run holds (a lock key per database, in db 0)."""
    from redis import Redis

    client = Redis.from_url(urlunsplit(_redis._replace(path="/0")))
    try:
        for n in range(15, 0, -1):
            if client.set(f"clipflow:test-run-lock:{n}", os.getpid(), nx=True, ex=3 * 3600):
                return n
    finally:
        client.close()
    raise RuntimeError("all Redis test databases (1-15) are held by other test runs")


_REDIS_DB = _claim_redis_db()
TEST_REDIS_URL = urlunsplit(_redis._replace(path=f"/{_REDIS_DB}"))


def pytest_unconfigure(config) -> None:  # noqa: ANN001
    from redis import Redis

    client = Redis.from_url(urlunsplit(_redis._replace(path="/0")))
    if client.get(f"clipflow:test-run-lock:{_REDIS_DB}") == str(os.getpid()).encode():
        client.delete(f"clipflow:test-run-lock:{_REDIS_DB}")
    client.close()

os.environ["DATABASE_URL"] = TEST_DATABASE_URL
os.environ["REDIS_URL"] = TEST_REDIS_URL
os.environ.setdefault("ENVIRONMENT", "test")
os.environ["STORAGE_DIR"] = tempfile.mkdtemp(prefix="clipflow-test-storage-")
# TikTok is connectable (socialAccountConnect only builds the consent URL; tests/publishing
# points every platform at its fake)
os.environ.setdefault("TIKTOK_CLIENT_KEY", "test-tiktok-client-key")
os.environ.setdefault("TIKTOK_CLIENT_SECRET", "test-tiktok-client-secret")

from sqlalchemy import text  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, create_async_engine  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

from clipflow_api.config import get_settings  # noqa: E402

get_settings.cache_clear()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


async def _admin(*statements: str) -> list[str]:
    """Run statements on the maintenance database; returns the test databases that exist."""
    from clipflow_api.dbadmin import _admin_url

    admin, _name = _admin_url(get_settings().async_database_url)
    engine = create_async_engine(admin, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    async with engine.connect() as conn:
        for sql in statements:
            await conn.execute(text(sql))
        rows = await conn.execute(text("SELECT datname FROM pg_database WHERE datname LIKE :p"), {"p": _TEST_PREFIX + "%"})
        names = [r[0] for r in rows]
    await engine.dispose()
    return names


@pytest.fixture(scope="session")
def migrated_database():
    """A fresh database at ``head``, created once per run and dropped after it."""
    from clipflow_api.dbadmin import migrate

    name = urlsplit(TEST_DATABASE_URL).path.lstrip("/")  # (a socket URL has slashes in its query)
    existing = asyncio.run(_admin())
    stale = [n for n in existing if n.rsplit("_", 1)[1].isdigit() and not _pid_alive(int(n.rsplit("_", 1)[1]))]
    asyncio.run(_admin(*(f'DROP DATABASE IF EXISTS "{n}" WITH (FORCE)' for n in stale),
                       f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'))
    migrate("head")
    yield TEST_DATABASE_URL
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
async def owner_engine(migrated_database: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(get_settings().async_database_url, poolclass=NullPool)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
async def app_engine(migrated_database: str) -> AsyncIterator[AsyncEngine]:
    """Connections as the application role: no BYPASSRLS, owns nothing."""
    from clipflow_api.db import create_app_engine

    engine = create_app_engine(poolclass=NullPool)
    yield engine
    await engine.dispose()


@pytest.fixture
async def connection(owner_engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    async with owner_engine.connect() as conn:
        trans = await conn.begin()
        yield conn
        await trans.rollback()


@pytest.fixture
async def db(connection: AsyncConnection) -> AsyncIterator[AsyncSession]:
    """An owner session inside the test's transaction (rolled back at the end).

    Flushes and commits become savepoints, so code under test may commit freely.
    """
    session = AsyncSession(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    yield session
    await session.close()


@pytest.fixture
async def redis() -> AsyncIterator:
    from redis.asyncio import Redis

    client = Redis.from_url(TEST_REDIS_URL)
    await client.flushdb()
    yield client
    await client.flushdb()
    await client.aclose()


@pytest.fixture
async def committed(owner_engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """An owner session whose commits are real (for workers, the app and other connections).

    Afterwards every user and workspace it inserted is deleted, with the workspaces those
    users came to own through the API (cascades remove the rest). Ids are collected as rows
    are flushed: the identity map is weak and forgets objects the test no longer holds.
    """
    from sqlalchemy import event

    from clipflow_api.models import User, Workspace

    session = AsyncSession(owner_engine, expire_on_commit=False)
    users: set = set()
    workspaces: set = set()

    @event.listens_for(session.sync_session, "after_flush")
    def _collect(sync_session, _context) -> None:  # noqa: ANN001
        for obj in sync_session.new:
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


@pytest.fixture(scope="module")
def s3_endpoint():
    """moto's S3 server on a free port (the same protocol as S3, presigned URLs included): its URL."""
    import socket

    from moto.server import ThreadedMotoServer

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
async def arq_pool(redis) -> AsyncIterator:
    from arq import create_pool
    from arq.connections import RedisSettings

    pool = await create_pool(RedisSettings.from_dsn(TEST_REDIS_URL))
    yield pool
    await pool.aclose()


@pytest.fixture
async def app_db(connection: AsyncConnection, db: AsyncSession) -> AsyncIterator[AsyncSession]:
    """The test's rolled-back session acting as the app role (RLS applies), with no tenant yet.

    The role is set on the outer transaction, so savepoint rollbacks inside the test keep it.
    """
    from clipflow_api.db import set_tenant

    await connection.execute(text(f'SET LOCAL ROLE "{get_settings().db_app_role}"'))
    set_tenant(db, workspace_id=None, user_id=None)
    yield db


@pytest.fixture
def owner_sql(connection: AsyncConnection, db: AsyncSession):
    """``await owner_sql(sql, **params)``: a query seeing every row (RLS off), inside the test's
    transaction, for checking what the code under test wrote (flushed first)."""
    role = get_settings().db_app_role

    async def run(sql: str, **params: object) -> list:
        await db.flush()
        current = (await connection.execute(text("SELECT current_user"))).scalar()
        await connection.execute(text("RESET ROLE"))
        try:
            result = await connection.execute(text(sql), params)
            return list(result) if result.returns_rows else []
        finally:
            if current == role:
                await connection.execute(text(f'SET LOCAL ROLE "{role}"'))

    return run


@pytest.fixture
async def user_domain(owner_engine: AsyncEngine) -> AsyncIterator[str]:
    """A fresh email domain for users created with real commits; they, their workspaces and
    their audit entries are deleted afterwards."""
    import uuid

    domain = f"t{uuid.uuid4().hex[:10]}.example.com"
    yield domain
    async with owner_engine.begin() as conn:
        users = "SELECT id FROM users WHERE email LIKE :pattern"
        params = {"pattern": f"%@{domain}"}
        await conn.execute(text(f"DELETE FROM audit_logs WHERE user_id IN ({users})"), params)
        await conn.execute(text(f"DELETE FROM workspaces WHERE owner_id IN ({users})"), params)
        await conn.execute(text("DELETE FROM users WHERE email LIKE :pattern"), params)
