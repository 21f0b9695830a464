"""Shared clients for every job, created once per worker process (arq ``on_startup``)."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from typing import Any

from redis.asyncio import Redis

from clipflow_api.config import get_settings
from clipflow_api.db import create_worker_engine, session_factory
from clipflow_api.storage import get_storage
from clipflow_worker.pipeline.ffmpeg import ffmpeg_choice

log = logging.getLogger(__name__)


async def startup(ctx: dict[str, Any]) -> None:
    settings = get_settings()
    ctx["settings"] = settings
    # The worker role: the app's rights plus the cross-tenant job sweeper the API may not run.
    ctx["engine"] = create_worker_engine(settings)
    ctx["session_factory"] = session_factory(ctx["engine"])
    # Progress goes out on its own connection: arq's pool is busy with the queue.
    ctx["pubsub_redis"] = Redis.from_url(settings.redis_url)
    ctx["storage"] = get_storage(settings)
    if hasattr(ctx["storage"], "ensure_bucket"):  # S3: create the bucket on first start
        ctx["storage"].ensure_bucket()
    ctx["worker_id"] = f"{socket.gethostname()}:{os.getpid()}"
    # An unfit ffmpeg (FFMPEG_BINARY set to an old build) stops the worker here, not at the first job.
    choice = await asyncio.to_thread(ffmpeg_choice)
    log.info("ffmpeg %s (%s): %s", choice.path, choice.version, choice.reason)


async def shutdown(ctx: dict[str, Any]) -> None:
    await ctx["pubsub_redis"].aclose()
    await ctx["engine"].dispose()
