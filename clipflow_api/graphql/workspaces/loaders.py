"""Loaders for workspaces, members and invitations (Row-Level Security scopes them)."""

from __future__ import annotations

from ...models import Invitation, TeamMember, Workspace
from ..auth.loaders import in_key_workspace
from ..loaders import ByIdLoader, ConnectionByKeyLoader, ListByKeyLoader
from ..relay import ascending


class WorkspaceByIdLoader(ByIdLoader):
    model = Workspace

    def visible(self):  # noqa: ANN201
        return in_key_workspace(self.ctx, Workspace.id)


class TeamMemberByIdLoader(ByIdLoader):
    model = TeamMember

    def visible(self):  # noqa: ANN201
        return in_key_workspace(self.ctx, TeamMember.workspace_id)


class TeamMembersByWorkspaceIdLoader(ConnectionByKeyLoader):
    model = TeamMember
    key = TeamMember.workspace_id

    def order(self, query):  # noqa: ANN001, ANN201
        return (ascending(TeamMember.created_at),)


class TeamMembersByUserIdLoader(ListByKeyLoader):
    """A user's memberships (the own_memberships policy shows them across workspaces)."""

    model = TeamMember
    key = TeamMember.user_id
    order_by = (TeamMember.created_at,)

    def visible(self):  # noqa: ANN201
        return in_key_workspace(self.ctx, TeamMember.workspace_id)


class InvitationByIdLoader(ByIdLoader):
    model = Invitation


class InvitationsByWorkspaceIdLoader(ConnectionByKeyLoader):
    model = Invitation
    key = Invitation.workspace_id
