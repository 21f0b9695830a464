"""Webhook types: an endpoint (its signing secret is never shown after creation or
rotation) and its delivery attempts."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry
from strawberry import relay

from ..base import JSON, RowType, desc
from ..context import Info
from ..loaders import load_connection, load_one
from ..relay import AfterArg, BeforeArg, Connection, FirstArg, LastArg
from .loaders import WebhookByIdLoader, WebhookLogsByWebhookIdLoader


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
        self, info: Info, first: FirstArg = None, after: AfterArg = None, last: LastArg = None, before: BeforeArg = None
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
    async def webhook(self, info: Info) -> Webhook | None:
        return await load_one(info, WebhookByIdLoader, Webhook, self.webhook_id)
