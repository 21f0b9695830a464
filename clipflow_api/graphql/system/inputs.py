"""Filters for jobs; inputs for webhooks and feature flags."""

from __future__ import annotations

import enum

import strawberry

from ..base import JSON
from ..enums import JobStatus
from ..inputcheck import bounds


@strawberry.input(description="Narrow a list of jobs.")
class JobFilterInput:
    status: list[JobStatus] | None = strawberry.field(default=None, description="Only jobs in one of these states.")
    type: list[str] | None = strawberry.field(default=None, description="Only jobs of these types, e.g. video_process.")


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


@strawberry.input(description="Changes to a feature flag: fields left out keep their value.")
class FeatureFlagInput:
    name: str | None = strawberry.field(default=strawberry.UNSET, description="Unique name.")
    description: str | None = strawberry.field(default=strawberry.UNSET, description="What the flag turns on.")
    is_enabled: bool | None = strawberry.field(default=strawberry.UNSET, description="Master switch.")
    rollout_percentage: int | None = strawberry.field(default=strawberry.UNSET, description="Share of users, 0-100.", metadata=bounds(0, 100))
    target_users: list[str] | None = strawberry.field(default=strawberry.UNSET, description="User ids that always get it.")
    target_teams: list[str] | None = strawberry.field(default=strawberry.UNSET, description="Workspace ids that always get it.")
    conditions: JSON | None = strawberry.field(default=strawberry.UNSET, description="Extra targeting rules.")
    environment: str | None = strawberry.field(default=strawberry.UNSET, description="production, staging or development.")


@strawberry.input(description="A new feature flag.")
class FeatureFlagCreateInput(FeatureFlagInput):
    name: str = strawberry.field(description="Unique name.")
