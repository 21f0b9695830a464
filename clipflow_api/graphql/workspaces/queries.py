"""Root fields of the workspace domain."""

from __future__ import annotations

import strawberry

from ..context import Info
from ..loaders import load_one
from .loaders import WorkspaceByIdLoader
from .types import Workspace


@strawberry.type
class WorkspaceQueries:
    @strawberry.field(description="The workspace you act in (chosen with the X-Workspace-Id header), or null.")
    async def workspace(self, info: Info) -> Workspace | None:
        return await load_one(info, WorkspaceByIdLoader, Workspace, info.context.principal.workspace_id)
