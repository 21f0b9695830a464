"""The ``clipflow`` command: serve, worker, db, services, process, export-schema, demo."""

from __future__ import annotations

import asyncio
import sys

import typer

app = typer.Typer(help="ClipFlow: long videos in, captioned clips out.", no_args_is_help=True)
db_app = typer.Typer(help="Database: create, migrate, check.")
services_app = typer.Typer(help="PostgreSQL and Redis for local runs (embedded when none is running).")
app.add_typer(db_app, name="db")
app.add_typer(services_app, name="services")


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Create the database if it is missing, then migrate it to REVISION."""
    from .dbadmin import create_database_if_missing, migrate

    create_database_if_missing()
    migrate(revision)


@db_app.command("downgrade")
def db_downgrade(revision: str = typer.Argument("base")) -> None:
    """Migrate the database down to REVISION (``base`` removes every table)."""
    from .dbadmin import downgrade

    downgrade(revision)


@services_app.command(
    "run", context_settings={"allow_extra_args": True, "ignore_unknown_options": True}
)
def services_run(ctx: typer.Context) -> None:
    """Run a command with DATABASE_URL and REDIS_URL set, starting embedded servers if needed."""
    from .devservices import run_with_services

    raise typer.Exit(run_with_services(list(ctx.args)))


@app.command()
def worker(
    queue: list[str] = typer.Option(["media", "publish", "webhooks"], "--queue", "-q", help="Queues to serve."),
    burst: bool = typer.Option(False, help="Exit when the queues are empty."),
) -> None:
    """Run arq workers for the given queues (all by default) in this process."""
    import logging

    from clipflow_worker.settings import WORKERS, run_workers

    unknown = [q for q in queue if q not in WORKERS]
    if unknown:
        raise typer.BadParameter(f"unknown queue(s) {unknown}; choose from {sorted(WORKERS)}")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(run_workers(queue, burst=burst))


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to bind."),
    port: int = typer.Option(8000, help="Port to listen on."),
    reload: bool = typer.Option(False, help="Reload on code changes (development)."),
) -> None:
    """Run the API (Starlette + uvicorn)."""
    import uvicorn

    uvicorn.run("clipflow_api.app:create_app", factory=True, host=host, port=port, reload=reload)


def main() -> None:  # pragma: no cover
    app(prog_name="clipflow")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

