"""Shared clients for every job, created once per worker process (arq ``on_startup``)."""

from __future__ import annotations

import os
import socket
from typing import Any

from redis.asyncio import Redis

from clipflow_api.config import get_settings
from clipflow_api.db import create_app_engine, session_factory
from clipflow_api.storage import get_storage


async def startup(ctx: dict[str, Any]) -> None:
    settings = get_settings()
    ctx["settings"] = settings
    ctx["engine"] = create_app_engine(settings)
    ctx["session_factory"] = session_factory(ctx["engine"])
    # Progress goes out on its own connection: arq's pool is busy with the queue.
    ctx["pubsub_redis"] = Redis.from_url(settings.redis_url)
    ctx["storage"] = get_storage(settings)
    if hasattr(ctx["storage"], "ensure_bucket"):  # S3: create the bucket on first start
        ctx["storage"].ensure_bucket()
    ctx["worker_id"] = f"{socket.gethostname()}:{os.getpid()}"


async def shutdown(ctx: dict[str, Any]) -> None:
    await ctx["pubsub_redis"].aclose()
    await ctx["engine"].dispose()
