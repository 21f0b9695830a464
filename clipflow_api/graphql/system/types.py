"""Operations types: background jobs, webhooks (the signing secret is never shown after
creation) and their deliveries, the audit trail, feature flags."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry
from strawberry import relay

from ..base import JSON, RowType, desc
from ..loaders import load_connection, load_one
from ..relay import AfterArg, BeforeArg, Connection, FirstArg, LastArg


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
    status: str = desc("pending, processing, completed, failed or cancelled.")
    progress: int = desc("Progress, 0-100.")
    progress_message: str | None = desc("What the job is doing now.")
    started_at: datetime | None = desc("When the last attempt started.")
    completed_at: datetime | None = desc("When it finished.")
    output_data: JSON | None = desc("What the job produced.")
    error: str | None = desc("Why it failed, in words a user understands.")
    created_at: datetime = desc("When it was queued.")
    updated_at: datetime = desc("Last change.")

    @strawberry.field(description="The video the job works on.")
    async def video(self, info: strawberry.Info) -> Video | None:
        return await load_one(info, VideoByIdLoader, Video, self.video_id)

    @strawberry.field(description="The clip the job works on.")
    async def clip(self, info: strawberry.Info) -> Clip | None:
        return await load_one(info, ClipByIdLoader, Clip, self.clip_id)

    @strawberry.field(description="The post the job publishes.")
    async def post(self, info: strawberry.Info) -> Post | None:
        return await load_one(info, PostByIdLoader, Post, self.post_id)


@strawberry.type(description="An endpoint that receives signed event notifications (Standard Webhooks).")
class Webhook(relay.Node, RowType):
    id: relay.NodeID[uuid.UUID]
    url: str = desc("Where events are sent.")
    events: list[str] = desc("Event types sent.")
    is_active: bool = desc("Whether events are sent.")
    last_triggered_at: datetime | None = desc("Last delivery attempt.")
    last_response_code: int | None = desc("HTTP status of the last delivery.")
    failure_count: int = desc("Consecutive failed deliveries.")
    created_at: datetime = desc("When the webhook was added.")
    updated_at: datetime = desc("Last change.")

    @strawberry.field(description="Delivery attempts, newest first.")
    async def deliveries(
        self, info: strawberry.Info, first: FirstArg = None, after: AfterArg = None, last: LastArg = None, before: BeforeArg = None
    ) -> Connection[WebhookDelivery]:
        return await load_connection(
            info, WebhookLogsByWebhookIdLoader, WebhookDelivery, self.id, first=first, after=after, last=last, before=before
        )


@strawberry.type(description="One attempt to deliver an event to a webhook.")
class WebhookDelivery(relay.Node, RowType):
    id: relay.NodeID[uuid.UUID]
    webhook_id: strawberry.Private[uuid.UUID]
    event_type: str = desc("The event, e.g. clip.generated.")
    event_id: uuid.UUID = desc("The event's id (webhook-id header).")
    request_body: JSON = desc("The payload sent.")
    response_code: int | None = desc("HTTP status received.")
    response_body: str | None = desc("Start of the response body.")
    response_time_ms: int | None = desc("Time to answer in milliseconds.")
    success: bool = desc("Whether the endpoint answered 2xx.")
    error: str | None = desc("Why the delivery failed.")
    created_at: datetime = desc("When the attempt was made.")

    @strawberry.field(description="The webhook delivered to.")
    async def webhook(self, info: strawberry.Info) -> Webhook | None:
        return await load_one(info, WebhookByIdLoader, Webhook, self.webhook_id)


@strawberry.type(description="One entry of the audit trail: who did what to which object.")
class AuditLog(relay.Node, RowType):
    id: relay.NodeID[uuid.UUID]
    user_id: strawberry.Private[uuid.UUID | None]
    action: str = desc("What happened, e.g. clip.approve.")
    resource_type: str | None = desc("Type of the object acted on.")
    resource_id: uuid.UUID | None = desc("Database id of the object acted on.")
    details: JSON | None = desc("What changed.")
    ip_address: str | None = desc("Where the request came from.")
    user_agent: str | None = desc("Client user agent.")
    created_at: datetime = desc("When it happened.")

    @strawberry.field(description="Who did it (null for the system or a removed user).")
    async def user(self, info: strawberry.Info) -> User | None:
        return await load_one(info, UserByIdLoader, User, self.user_id)


@strawberry.type(description="A feature flag (platform-wide).")
class FeatureFlag(relay.Node, RowType):
    id: relay.NodeID[uuid.UUID]
    name: str = desc("Unique name.")
    description: str | None = desc("What the flag turns on.")
    is_enabled: bool = desc("Master switch.")
    rollout_percentage: int = desc("Share of users, 0-100.")
    target_users: JSON = desc("User ids that always get it.")
    target_teams: JSON = desc("Workspace ids that always get it.")
    conditions: JSON | None = desc("Extra targeting rules.")
    environment: str = desc("production, staging or development.")
    created_at: datetime = desc("When the flag was created.")
    updated_at: datetime = desc("Last change.")


from ..auth.loaders import UserByIdLoader  # noqa: E402
from ..auth.types import User  # noqa: E402
from ..media.loaders import ClipByIdLoader, VideoByIdLoader  # noqa: E402
from ..media.types import Clip, Video  # noqa: E402
from ..social.loaders import PostByIdLoader  # noqa: E402
from ..social.types import Post  # noqa: E402
from .loaders import WebhookByIdLoader, WebhookLogsByWebhookIdLoader  # noqa: E402
