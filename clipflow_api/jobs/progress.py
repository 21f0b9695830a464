"""Progress events on Redis pub/sub, one channel per job and one per video.

The worker publishes; GraphQL subscriptions listen. Events are JSON objects with the
same keys as the ``jobs`` row (camelCase), so a client can render them directly.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis


def job_channel(job_id: uuid.UUID | str) -> str:
    return f"clipflow:progress:job:{job_id}"


def video_channel(video_id: uuid.UUID | str) -> str:
    return f"clipflow:progress:video:{video_id}"


def progress_event(
    *,
    job_id: uuid.UUID,
    workspace_id: uuid.UUID,
    status: str,
    progress: int,
    message: str | None,
    step: str | None = None,
    video_id: uuid.UUID | None = None,
    error: str | None = None,
) -> dict[str, Any]:
    return {
        "jobId": str(job_id),
        "workspaceId": str(workspace_id),
        "videoId": str(video_id) if video_id else None,
        "status": status,
        "step": step,
        "progress": progress,
        "message": message,
        "error": error,
        "at": datetime.now(UTC).isoformat(),
    }


async def publish_progress(redis: Redis, event: dict[str, Any]) -> None:
    payload = json.dumps(event)
    await redis.publish(job_channel(event["jobId"]), payload)
    if event.get("videoId"):
        await redis.publish(video_channel(event["videoId"]), payload)
