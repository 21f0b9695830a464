"""Inputs of the workspace mutations."""

from __future__ import annotations

import strawberry

from ..enums import Role


@strawberry.input(description="A new workspace.")
class WorkspaceCreateInput:
    name: str = strawberry.field(description="Display name.")
    slug: str | None = strawberry.field(default=None, description="URL-safe name (3-50 of a-z, 0-9, -); derived from the name when omitted.")


@strawberry.input(description="An invitation to the current workspace.")
class InvitationCreateInput:
    email: str = strawberry.field(description="Who to invite.")
    role: Role = strawberry.field(description="The role they get (not owner).")
