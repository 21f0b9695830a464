"""Test harness: one database per run, migrated with Alembic; each test in a rolled-back transaction.

DATABASE_URL / REDIS_URL name the servers (``clipflow services run`` sets them; the
defaults are the local ones). Tests use their own database ``<name>_test`` and Redis
database 15, both wiped at the start of the run.
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
TEST_DATABASE_URL = urlunsplit(_parts._replace(path=_parts.path.rstrip("/") + "_test"))
_redis = urlsplit(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
TEST_REDIS_URL = urlunsplit(_redis._replace(path="/15"))

os.environ["DATABASE_URL"] = TEST_DATABASE_URL
os.environ["REDIS_URL"] = TEST_REDIS_URL
os.environ.setdefault("ENVIRONMENT", "test")
os.environ["STORAGE_DIR"] = tempfile.mkdtemp(prefix="clipflow-test-storage-")

from sqlalchemy import text  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, create_async_engine  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

from clipflow_api.config import get_settings  # noqa: E402

get_settings.cache_clear()


async def _recreate_database() -> None:
    from clipflow_api.dbadmin import _admin_url

    admin, name = _admin_url(get_settings().async_database_url)
    engine = create_async_engine(admin, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    async with engine.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await engine.dispose()


@pytest.fixture(scope="session")
def migrated_database() -> str:
    """A fresh database at ``head``, created once per run."""
    from clipflow_api.dbadmin import migrate

    asyncio.run(_recreate_database())
    migrate("head")
    return TEST_DATABASE_URL


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
    """An owner session whose commits are real (for workers and other connections).

    Every workspace and user it created is deleted afterwards (cascades remove the rest).
    """
    from clipflow_api.models import User, Workspace

    session = AsyncSession(owner_engine, expire_on_commit=False)
    yield session
    await session.rollback()
    # identity keys, not attributes: after the rollback every instance is expired
    ws_ids = [key[1][0] for key in session.identity_map.keys() if key[0] is Workspace]
    user_ids = [key[1][0] for key in session.identity_map.keys() if key[0] is User]
    if ws_ids:
        await session.execute(text("DELETE FROM workspaces WHERE id = ANY(:ids)"), {"ids": ws_ids})
    if user_ids:
        await session.execute(text("DELETE FROM users WHERE id = ANY(:ids)"), {"ids": user_ids})
    await session.commit()
    await session.close()


@pytest.fixture
async def arq_pool(redis) -> AsyncIterator:
    from arq import create_pool
    from arq.connections import RedisSettings

    pool = await create_pool(RedisSettings.from_dsn(TEST_REDIS_URL))
    yield pool
    await pool.aclose()
