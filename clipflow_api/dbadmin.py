"""Database administration used by the CLI and the test suite: create, migrate, downgrade."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit, urlunsplit

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from .config import ROOT, get_settings


def alembic_config() -> Config:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    return cfg


def _admin_url(url: str) -> tuple[str, str]:
    """The maintenance-database URL for ``url`` and the database name it names."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    return urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, parts.fragment)), name


async def _create_if_missing(url: str) -> bool:
    admin, name = _admin_url(url)
    engine = create_async_engine(admin, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            exists = (await conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})).scalar()
            if not exists:
                await conn.execute(text(f'CREATE DATABASE "{name}"'))  # name comes from our own config
            return not exists
    finally:
        await engine.dispose()


async def run_on_server(*statements: str) -> None:
    """Run statements on the maintenance database (CREATE/DROP DATABASE: outside a transaction)."""
    admin, _ = _admin_url(get_settings().async_database_url)
    engine = create_async_engine(admin, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            for sql in statements:
                await conn.execute(text(sql))
    finally:
        await engine.dispose()


def create_database_if_missing() -> bool:
    """True when the database had to be created."""
    return asyncio.run(_create_if_missing(get_settings().async_database_url))


def migrate(revision: str = "head") -> None:
    command.upgrade(alembic_config(), revision)


def downgrade(revision: str = "base") -> None:
    command.downgrade(alembic_config(), revision)
