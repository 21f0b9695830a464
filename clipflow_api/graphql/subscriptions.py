"""Subscriptions: live progress of a job or a video, from the Redis channels the worker
publishes on (``clipflow_api.jobs.progress``).

The job or video is looked up under the caller's workspace first (RLS): another
workspace's id gets the same "not found" error as a missing one. The stream ends after a
``completed``, ``failed`` or ``cancelled`` event. The subscription listens before it
reads the current state, so an event published in between is not lost: the current
state goes out first, then everything newer. All subscriptions of a process share one
Redis pub/sub connection (``clipflow_api.pubsub.PubSubHub``).
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from typing import Annotated, Any

import strawberry
from graphql import GraphQLError
from sqlalchemy import select

from ..jobs.progress import job_channel, video_channel
from ..models import Job as JobRow
from ..models import Video as VideoRow
from .base import desc
from .media.types import Video
from .permissions import Require
from .relay import global_id, parse_global_id
from .system.types import Job

TERMINAL = frozenset({"completed", "failed", "cancelled"})


@strawberry.type(description="A progress event of a background job.")
class ProgressEvent:
    job_id: strawberry.ID = desc("The job's global id (for a finished video: its last job's; empty when it never had one).")
    video_id: strawberry.ID | None = desc("The video's global id, for video work.")
    status: str = desc("pending, processing, completed, failed or cancelled.")
    step: str | None = desc("The pipeline step, e.g. transcribe.")
    progress: int = desc("Progress, 0-100.")
    message: str | None = desc("What is happening, for people.")
    error: str | None = desc("Why it failed.")
    at: str | None = desc("When the event was published (ISO 8601).")

    @classmethod
    def from_event(cls, event: dict[str, Any]) -> ProgressEvent:
        return cls(
            job_id=global_id(Job, event["jobId"]) if event.get("jobId") else "",
            video_id=global_id(Video, event["videoId"]) if event.get("videoId") else None,
            status=str(event.get("status") or ""),
            step=event.get("step"),
            progress=int(event.get("progress") or 0),
            message=event.get("message"),
            error=event.get("error"),
            at=event.get("at"),
        )


async def _stream(info: Any, channel: str, current: Any) -> AsyncGenerator[ProgressEvent, None]:
    # The process's one shared pub/sub connection (clipflow_api.pubsub), not one per subscription.
    async with info.context.pubsub.listen(channel) as events:
        initial = await current()  # after subscribing: nothing published meanwhile is missed
        if initial is not None:
            yield initial
            if initial.status in TERMINAL:
                return
        while True:
            data = await events.get()
            try:
                event = json.loads(data)
            except (TypeError, ValueError):
                continue
            if not isinstance(event, dict):
                continue
            out = ProgressEvent.from_event(event)
            yield out
            if out.status in TERMINAL:
                return


async def _visible(info: Any, model: Any, row_id: Any, message: str) -> Any:
    """The row under the caller's workspace (RLS), or a NOT_FOUND error."""
    async with info.context.session() as session:
        row = await session.get(model, row_id)
    if row is None or getattr(row, "deleted_at", None) is not None:
        raise GraphQLError(message, extensions={"code": "NOT_FOUND"})
    return row


@strawberry.type(description="Live updates.")
class Subscription:
    @strawberry.subscription(description="Progress of one job until it completes or fails.", permission_classes=[Require("video:read")])
    async def job_progress(
        self, info: strawberry.Info, job_id: Annotated[strawberry.ID, strawberry.argument(description="The job's id.")]
    ) -> AsyncGenerator[ProgressEvent, None]:
        _, jid = parse_global_id(job_id, expected=Job)
        await _visible(info, JobRow, jid, "No such job.")

        async def current() -> ProgressEvent | None:
            row = await _visible(info, JobRow, jid, "No such job.")
            return ProgressEvent(
                job_id=global_id(Job, row.id), video_id=global_id(Video, row.video_id) if row.video_id else None,
                status=row.status, step=None, progress=row.progress, message=row.progress_message, error=row.error,
                at=row.updated_at.isoformat() if row.updated_at else None,
            )

        async for event in _stream(info, job_channel(jid), current):
            yield event

    @strawberry.subscription(description="Processing progress of one video until it completes or fails.", permission_classes=[Require("video:read")])
    async def video_progress(
        self, info: strawberry.Info, video_id: Annotated[strawberry.ID, strawberry.argument(description="The video's id.")]
    ) -> AsyncGenerator[ProgressEvent, None]:
        _, vid = parse_global_id(video_id, expected=Video)
        await _visible(info, VideoRow, vid, "No such video.")

        async def current() -> ProgressEvent | None:
            async with info.context.session() as session:
                row = await session.get(VideoRow, vid)
                if row is None or row.deleted_at is not None:
                    raise GraphQLError("No such video.", extensions={"code": "NOT_FOUND"})
                if row.status not in ("completed", "failed"):
                    return None  # still running: the next event says where it is
                last_job = await session.scalar(
                    select(JobRow.id).where(JobRow.video_id == vid).order_by(JobRow.created_at.desc()).limit(1)
                )
            return ProgressEvent(
                job_id=global_id(Job, last_job) if last_job else "", video_id=global_id(Video, row.id), status=row.status,
                step=None, progress=row.processing_progress, message=None, error=row.error_message, at=None,
            )

        async for event in _stream(info, video_channel(vid), current):
            yield event
