"""The Starlette application: lifespan owns the engine, Redis and the arq pool."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from arq import create_pool
from arq.connections import RedisSettings
from redis.asyncio import Redis
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .config import Settings, get_settings
from .db import create_app_engine, session_factory
from .processing.uploads import routes as upload_routes
from .storage import get_storage
from .storage.routes import routes as file_routes


async def healthz(_request: Request) -> JSONResponse:
    """Liveness: the process answers."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    """Readiness: the database and Redis answer."""
    state = request.app.state
    checks: dict[str, str] = {}
    try:
        async with state.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        await state.redis.ping()
        checks["redis"] = "ok"
    except Exception as exc:  # noqa: BLE001
        checks["redis"] = f"error: {type(exc).__name__}"
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse({"status": "ready" if ready else "not ready", "checks": checks}, status_code=200 if ready else 503)


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or get_settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.engine = create_app_engine(settings)
        app.state.session_factory = session_factory(app.state.engine)
        app.state.redis = Redis.from_url(settings.redis_url)
        app.state.arq = await create_pool(RedisSettings.from_dsn(settings.redis_url))
        app.state.storage = get_storage(settings)
        if hasattr(app.state.storage, "ensure_bucket"):  # S3: create the bucket on first start
            app.state.storage.ensure_bucket()
        try:
            yield
        finally:
            await app.state.arq.aclose()
            await app.state.redis.aclose()
            await app.state.engine.dispose()

    routes: list[Any] = [
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        *upload_routes,  # resumable (tus) uploads
        *file_routes,  # signed downloads from local storage
    ]
    return Starlette(debug=not settings.is_production, routes=routes, lifespan=lifespan)
