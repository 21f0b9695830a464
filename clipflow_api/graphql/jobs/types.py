"""The Job type: a unit of background work and its progress."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry
from strawberry import relay

from ..base import JSON, RowType, desc
from ..context import Info
from ..enums import JobStatus
from ..loaders import load_one


@strawberry.type(description="A unit of background work (processing, rendering, publishing) and its progress.")
class Job(relay.Node, RowType):
    id: relay.NodeID[uuid.UUID]
    video_id: strawberry.Private[uuid.UUID | None]
    clip_id: strawberry.Private[uuid.UUID | None]
    post_id: strawberry.Private[uuid.UUID | None]
    type: str = desc("What the job does, e.g. video_process.")
    priority: int = desc("Higher runs first.")
    attempts: int = desc("How many times it ran.")
    max_attempts: int = desc("How many times it may run.")
    status: JobStatus = desc("Where the job is: pending, processing, completed, failed or cancelled.")
    progress: int = desc("Progress, 0-100.")
    progress_message: str | None = desc("What the job is doing now.")
    started_at: datetime | None = desc("When the last attempt started.")
    completed_at: datetime | None = desc("When it finished.")
    output_data: JSON | None = desc("What the job produced.")
    error: str | None = desc("Why it failed, in words a user understands.")
    created_at: datetime = desc("When it was queued.")
    updated_at: datetime = desc("Last change.")

    @strawberry.field(description="The video the job works on.")
    async def video(self, info: Info) -> Video | None:
        return await load_one(info, VideoByIdLoader, Video, self.video_id)

    @strawberry.field(description="The clip the job works on.")
    async def clip(self, info: Info) -> Clip | None:
        return await load_one(info, ClipByIdLoader, Clip, self.clip_id)

    @strawberry.field(description="The post the job publishes.")
    async def post(self, info: Info) -> Post | None:
        return await load_one(info, PostByIdLoader, Post, self.post_id)


from ..media.loaders import ClipByIdLoader, VideoByIdLoader  # noqa: E402
from ..media.types import Clip, Video  # noqa: E402
from ..social.loaders import PostByIdLoader  # noqa: E402
from ..social.types import Post  # noqa: E402
