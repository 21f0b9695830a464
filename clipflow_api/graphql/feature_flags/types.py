"""The FeatureFlag type (platform-wide)."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry
from strawberry import relay

from ..base import JSON, RowType, desc


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
