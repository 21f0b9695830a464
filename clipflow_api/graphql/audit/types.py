"""The AuditLog type: one entry of the audit trail (entries are written by services: clipflow_api.audit)."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry
from strawberry import relay

from ..base import JSON, RowType, desc
from ..context import Info
from ..loaders import load_one


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
    async def user(self, info: Info) -> User | None:
        return await load_one(info, UserByIdLoader, User, self.user_id)


from ..auth.loaders import UserByIdLoader  # noqa: E402
from ..auth.types import User  # noqa: E402
