"""Alembic environment: async engine on DATABASE_URL (the owner role).

The app and worker roles' names and passwords travel to migrations as session settings
(``clipflow.app_role`` / ``clipflow.app_password``, ``clipflow.worker_role`` /
``clipflow.worker_password``) so no migration hard-codes a secret.
"""

import asyncio
from logging.config import fileConfig

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

import clipflow_api.models  # noqa: F401  (registers every table)
from clipflow_api.config import get_settings
from clipflow_api.db import Base, create_owner_engine

config = context.config
if config.config_file_name is not None and not config.attributes.get("skip_logging"):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def _include_object(obj, name, type_, reflected, compare_to):  # noqa: ANN001
    # Roles, policies and functions live in migrations only; alembic compares tables.
    return True


def run_offline() -> None:
    context.configure(
        url=get_settings().async_database_url,
        target_metadata=target_metadata,
        literal_binds=True,
        compare_server_default=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run(connection: Connection) -> None:
    settings = get_settings()
    connection.execute(
        text(
            "SELECT set_config('clipflow.app_role', :r, false), set_config('clipflow.app_password', :p, false), "
            "set_config('clipflow.worker_role', :wr, false), set_config('clipflow.worker_password', :wp, false)"
        ),
        {"r": settings.db_app_role, "p": settings.db_app_password,
         "wr": settings.db_worker_role, "wp": settings.db_worker_password},
    )
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        include_object=_include_object,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        _run(connectable)
        return
    engine = create_owner_engine(poolclass=NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    asyncio.run(run_online())
