"""A post's live state on Redis pub/sub: the worker publishes, ``postProgress`` listens.

One channel per post. An event is a JSON object: ``postId``, ``workspaceId``, ``status``
(a PostStatus value), ``uploadProgress`` (0-100: how much of the file the platform has),
``message`` (what is happening, for people), ``error`` (why it failed) and ``at`` (ISO 8601).
The subscription ends after a ``published``, ``failed`` or ``cancelled`` event.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from redis.asyncio import Redis

from .. import clock
from ..models.enums import PostStatus

# after these the stream ends (a failed post can be retried: the client subscribes again)
FINAL_STATUSES = frozenset({PostStatus.PUBLISHED, PostStatus.FAILED, PostStatus.CANCELLED})


def post_channel(post_id: uuid.UUID | str) -> str:
    return f"clipflow:progress:post:{post_id}"


def post_progress_event(
    *,
    post_id: uuid.UUID | str,
    workspace_id: uuid.UUID | str,
    status: str,
    upload_progress: int = 0,
    message: str | None = None,
    error: str | None = None,
) -> dict[str, Any]:
    """The event for one moment of a post's way to the platform."""
    return {
        "postId": str(post_id),
        "workspaceId": str(workspace_id),
        "status": PostStatus(status).value,
        "uploadProgress": max(0, min(100, int(upload_progress))),
        "message": message,
        "error": error,
        "at": clock.now().isoformat(),
    }


async def publish_post_progress(
    redis: Redis,
    *,
    post_id: uuid.UUID | str,
    workspace_id: uuid.UUID | str,
    status: str,
    upload_progress: int = 0,
    message: str | None = None,
    error: str | None = None,
) -> None:
    """Tell the post's subscribers where it is (best effort: the post row stays the truth)."""
    event = post_progress_event(
        post_id=post_id, workspace_id=workspace_id, status=status, upload_progress=upload_progress, message=message, error=error
    )
    await redis.publish(post_channel(post_id), json.dumps(event))
