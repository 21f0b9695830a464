"""arq WorkerSettings, one class per queue. ``clipflow worker`` runs them."""

from __future__ import annotations

from typing import Any

from arq import cron
from arq.connections import RedisSettings
from arq.worker import func

from clipflow_api.config import get_settings
from clipflow_api.jobs.service import CONFORM_POST_MEDIA, MEDIA_QUEUE, PROBE_VIDEO, PROCESS_VIDEO, PUBLISH_POST, PUBLISH_QUEUE, WEBHOOK_QUEUE

from .tasks.context import shutdown, startup
from .tasks.accounts import refresh_social_tokens
from .tasks.maintenance import sweep_jobs, sweep_uploads
from .tasks.conform import conform_post_media
from .tasks.media import probe_video, process_video
from .tasks.publish import publish_post, publish_shutdown, publish_startup, sweep_posts


def redis_settings() -> RedisSettings:
    return RedisSettings.from_dsn(get_settings().redis_url)


# arq reads a settings object's own attributes only (not inherited ones), so each queue's
# settings are a dict built from the shared part.
_COMMON: dict[str, Any] = {
    "on_startup": startup,
    "on_shutdown": shutdown,
    "keep_result": 3600,
    # arq's defaults (300 s, 5 tries) are wrong for media; each function sets its own too.
    "job_timeout": 600,
    "max_tries": 3,
    "health_check_interval": 30,
}

MediaWorker: dict[str, Any] = {
    **_COMMON,
    "queue_name": MEDIA_QUEUE,
    "functions": [
        func(probe_video, name=PROBE_VIDEO, timeout=120, max_tries=3),
        # A long video on a CPU: transcription plus three renders per clip. The job row's
        # progress keeps the sweeper from thinking it died.
        func(process_video, name=PROCESS_VIDEO, timeout=3 * 3600, max_tries=3),
        # one clip of at most 15 minutes (Instagram's longest) re-encoded once; ffmpeg's own
        # limit (pipeline.conform: 300 s + 6 x the duration) stays under this
        func(conform_post_media, name=CONFORM_POST_MEDIA, timeout=2 * 3600, max_tries=3),
    ],
    "cron_jobs": [
        cron(sweep_jobs, second={0}, run_at_startup=True, timeout=60),
        cron(sweep_uploads, minute=set(range(0, 60, 10)), second={30}, run_at_startup=True, timeout=120),
    ],
    "max_jobs": 2,  # media work is CPU-bound: one job per core
}

PublishWorker: dict[str, Any] = {
    **_COMMON, "queue_name": PUBLISH_QUEUE,
    # its own start/stop: the shared clients plus one publisher per platform and the slots
    "on_startup": publish_startup, "on_shutdown": publish_shutdown,
    "functions": [
        # Long uploads over slow links take a while; a killed run is picked up by sweep_posts
        # (its heartbeat goes stale), not by arq's retry after this timeout.
        func(publish_post, name=PUBLISH_POST, timeout=2 * 3600, max_tries=3),
    ],
    # Publishing waits on the network, not the CPU: many at once (per-platform slots bound
    # the uploads); deferred jobs are picked up within poll_delay of their time.
    "max_jobs": 50, "poll_delay": 0.1,
    "cron_jobs": [
        cron(sweep_posts, second=set(range(0, 60, 5)), run_at_startup=True, timeout=60),
        # social tokens expiring within 30 minutes, every 5 minutes
        cron(refresh_social_tokens, minute=set(range(0, 60, 5)), second={15}, run_at_startup=True, timeout=240),
    ],
}

WebhookWorker: dict[str, Any] = {**_COMMON, "queue_name": WEBHOOK_QUEUE, "functions": [], "max_jobs": 20}

WORKERS: dict[str, dict[str, Any]] = {"media": MediaWorker, "publish": PublishWorker, "webhooks": WebhookWorker}


async def run_workers(names: list[str], *, burst: bool = False) -> None:
    """Run the named queues' workers in this process until stopped (or drained, in burst mode)."""
    import asyncio
    import signal

    from arq.worker import create_worker

    workers = []
    for name in names:
        settings = WORKERS[name]
        if not settings.get("functions") and not settings.get("cron_jobs"):
            continue  # nothing registered on this queue yet
        workers.append(create_worker(settings, redis_settings=redis_settings(), burst=burst, handle_signals=False))
    if not workers:
        raise SystemExit(f"no jobs registered on queues {names}")
    loop = asyncio.get_running_loop()
    tasks = [asyncio.ensure_future(w.async_run()) for w in workers]
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, lambda: [t.cancel() for t in tasks])
    try:
        await asyncio.gather(*tasks)
    except asyncio.CancelledError:
        pass
    finally:
        for w in workers:
            await w.close()
