"""Engine, sessions and the declarative Base.

Tenancy: every transaction a session opens first runs ``set_config('app.workspace_id', ..,
true)`` and ``set_config('app.user_id', .., true)`` from ``session.info`` (see
``tenant_session``), so Row-Level Security sees the caller's workspace. A session that
names no tenant sets empty strings, and the policies then match no tenant rows.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import MetaData, event, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Session

from .config import Settings, get_settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def create_engine(url: str, settings: Settings | None = None, **kwargs: Any) -> AsyncEngine:
    settings = settings or get_settings()
    if "poolclass" not in kwargs:
        kwargs.setdefault("pool_size", settings.db_pool_size)
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


def create_app_engine(settings: Settings | None = None, **kwargs: Any) -> AsyncEngine:
    """The engine the API and workers use: the app role, subject to Row-Level Security."""
    settings = settings or get_settings()
    return create_engine(settings.app_database_url, settings, **kwargs)


def create_worker_engine(settings: Settings | None = None, **kwargs: Any) -> AsyncEngine:
    """The worker process's engine: the worker role, subject to RLS, allowed the job sweeper."""
    settings = settings or get_settings()
    return create_engine(settings.worker_database_url, settings, **kwargs)


async def as_platform_staff(session: AsyncSession) -> None:
    """Open the feature-flag write policy for the current transaction only (staff paths)."""
    await session.execute(text("SELECT set_config('app.platform_staff', 'on', true)"))


def create_owner_engine(settings: Settings | None = None, **kwargs: Any) -> AsyncEngine:
    """The owner's engine: migrations, setup and tests only. It bypasses RLS."""
    settings = settings or get_settings()
    return create_engine(settings.async_database_url, settings, **kwargs)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


_TENANT_SQL = text("SELECT set_config('app.workspace_id', :ws, true), set_config('app.user_id', :uid, true)")


def _tenant_params(info: dict[str, Any]) -> dict[str, str]:
    """The session's tenant as set_config values; empty strings match no tenant rows."""
    return {"ws": str(info.get("workspace_id") or ""), "uid": str(info.get("user_id") or "")}


@event.listens_for(Session, "after_begin")
def _set_tenant(session: Session, _transaction: Any, connection: Any) -> None:
    connection.execute(_TENANT_SQL, _tenant_params(session.info))


def set_tenant(session: AsyncSession, *, workspace_id: uuid.UUID | None = None, user_id: uuid.UUID | None = None) -> None:
    """Name the tenant for the session's next transactions (and the open one, if any)."""
    session.info["workspace_id"] = workspace_id
    session.info["user_id"] = user_id


async def apply_tenant(session: AsyncSession) -> None:
    """Re-apply ``session.info``'s tenant inside the already open transaction."""
    await session.execute(_TENANT_SQL, _tenant_params(session.info))


@asynccontextmanager
async def tenant_session(
    factory: async_sessionmaker[AsyncSession],
    *,
    workspace_id: uuid.UUID | None = None,
    user_id: uuid.UUID | None = None,
) -> AsyncIterator[AsyncSession]:
    """A session whose transactions see one workspace. The caller commits."""
    async with factory() as session:
        set_tenant(session, workspace_id=workspace_id, user_id=user_id)
        yield session
