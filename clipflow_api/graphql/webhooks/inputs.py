"""Inputs for webhooks."""

from __future__ import annotations

import strawberry


@strawberry.input(description="An outgoing webhook endpoint.")
class WebhookCreateInput:
    url: str = strawberry.field(description="HTTPS URL that receives events.")
    events: list[str] = strawberry.field(description="Event types to send, e.g. clip.generated (at most 50).")
    is_active: bool = strawberry.field(default=True, description="Whether events are sent.")


@strawberry.input(description="Changes to a webhook.")
class WebhookUpdateInput:
    url: str | None = strawberry.field(default=strawberry.UNSET, description="HTTPS URL that receives events.")
    events: list[str] | None = strawberry.field(default=strawberry.UNSET, description="Event types to send (at most 50).")
    is_active: bool | None = strawberry.field(default=strawberry.UNSET, description="Whether events are sent.")
    rotate_secret: bool = strawberry.field(default=False, description="Generate a new signing secret (returned once).")
