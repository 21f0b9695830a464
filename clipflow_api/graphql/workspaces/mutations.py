"""Workspace mutations over clipflow_api.workspaces.service."""

from __future__ import annotations

from typing import Annotated

import strawberry

from ...auth import revocations
from ...workspaces import service as workspaces
from ..errors import error_type
from ..mutations import node_id, payload, run, send_email
from ..permissions import InWorkspace, IsAuthenticated, NotApiKey, Require
from .inputs import InvitationCreateInput, Role, WorkspaceCreateInput
from .types import Invitation, TeamMember, Workspace

WorkspaceError = error_type("Workspace", "A refused workspace or membership action.")
WorkspaceCreatePayload = payload("WorkspaceCreate", "workspace", Workspace, WorkspaceError, "The result of workspaceCreate.")
InvitationCreatePayload = payload("InvitationCreate", "invitation", Invitation, WorkspaceError, "The result of invitationCreate.")
InvitationAcceptPayload = payload("InvitationAccept", "member", TeamMember, WorkspaceError, "The result of invitationAccept.")
MemberRoleUpdatePayload = payload("MemberRoleUpdate", "member", TeamMember, WorkspaceError, "The result of memberRoleUpdate.")
MemberRemovePayload = payload("MemberRemove", "member", TeamMember, WorkspaceError, "The result of memberRemove.")


@strawberry.type
class WorkspaceMutations:
    @strawberry.mutation(description="Create a workspace that you own (not with an API key).", permission_classes=[IsAuthenticated, NotApiKey])
    async def workspace_create(
        self, info: strawberry.Info, input: Annotated[WorkspaceCreateInput, strawberry.argument(description="The workspace.")]
    ) -> WorkspaceCreatePayload | None:  # type: ignore[valid-type]
        async def work(session):  # noqa: ANN001, ANN202
            ws = await workspaces.create_workspace(session, owner_id=info.context.principal.user_id, name=input.name, slug=input.slug)
            await session.refresh(ws)
            return Workspace.from_row(ws)

        return await run(info, WorkspaceCreatePayload, WorkspaceError, "workspace", work)

    @strawberry.mutation(description="Invite someone to the current workspace; the link is emailed.", permission_classes=[Require("member:invite")])
    async def invitation_create(
        self, info: strawberry.Info, input: Annotated[InvitationCreateInput, strawberry.argument(description="The invitation.")]
    ) -> InvitationCreatePayload | None:  # type: ignore[valid-type]
        sent: dict = {}

        async def work(session):  # noqa: ANN001, ANN202
            invitation, token = await workspaces.invite(session, info.context.principal, email=input.email, role=input.role.value)
            sent.update(to=invitation.email, token=token, workspace_id=str(invitation.workspace_id))
            return Invitation.from_row(invitation)

        result = await run(info, InvitationCreatePayload, WorkspaceError, "invitation", work)
        if sent:
            await send_email(info, kind="invitation", **sent)
        return result

    @strawberry.mutation(description="Join a workspace with an emailed invitation token (not with an API key).", permission_classes=[IsAuthenticated, NotApiKey])
    async def invitation_accept(
        self, info: strawberry.Info, token: Annotated[str, strawberry.argument(description="The token from the invitation email.")]
    ) -> InvitationAcceptPayload | None:  # type: ignore[valid-type]
        async def work(session):  # noqa: ANN001, ANN202
            member = await workspaces.accept_invitation(session, token=token, user_id=info.context.principal.user_id)
            return TeamMember.from_row(member)

        return await run(info, InvitationAcceptPayload, WorkspaceError, "member", work)

    @strawberry.mutation(description="Change a member's role.", permission_classes=[Require("member:manage")])
    async def member_role_update(
        self,
        info: strawberry.Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The member's id.")],
        role: Annotated[Role, strawberry.argument(description="The new role.")],  # type: ignore[valid-type]
    ) -> MemberRoleUpdatePayload | None:  # type: ignore[valid-type]
        async def work(session):  # noqa: ANN001, ANN202
            member = await workspaces.change_role(session, info.context.principal, member_id=node_id(id, TeamMember), role=role.value)
            await session.refresh(member)
            return TeamMember.from_row(member)

        result = await run(info, MemberRoleUpdatePayload, WorkspaceError, "member", work)
        if result.member is not None:  # the member's open sockets were admitted under the old role
            await revocations.announce(info.context.redis, user_id=result.member.user_id, workspace_id=result.member.workspace_id)
        return result

    @strawberry.mutation(
        description="Remove a member (member:manage), or leave the workspace yourself.", permission_classes=[InWorkspace]
    )
    async def member_remove(
        self, info: strawberry.Info, id: Annotated[strawberry.ID, strawberry.argument(description="The member's id.")]
    ) -> MemberRemovePayload | None:  # type: ignore[valid-type]
        async def work(session):  # noqa: ANN001, ANN202
            from ...models import TeamMember as TeamMemberRow

            member_id = node_id(id, TeamMember)
            await workspaces.remove_member(session, info.context.principal, member_id=member_id)
            row = await session.get(TeamMemberRow, member_id)
            await session.refresh(row)
            return TeamMember.from_row(row)

        result = await run(info, MemberRemovePayload, WorkspaceError, "member", work)
        if result.member is not None:  # the member's open sockets in this workspace close
            await revocations.announce(info.context.redis, user_id=result.member.user_id, workspace_id=result.member.workspace_id)
        return result
