"""Inputs for feature flags."""

from __future__ import annotations

import strawberry

from ..base import JSON
from ..inputcheck import bounds


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
