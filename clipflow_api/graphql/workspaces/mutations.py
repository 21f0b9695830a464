"""Workspace mutations over clipflow_api.workspaces.service."""

from __future__ import annotations

from typing import Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from ...auth import revocations
from ...workspaces import service as workspaces
from ..base import desc
from ..context import Info
from ..enums import Role
from ..errors import MutationError
from ..mutations import node_id, run, send_email
from ..permissions import InWorkspace, IsAuthenticated, NotApiKey, Require
from .inputs import InvitationCreateInput, WorkspaceCreateInput
from .types import Invitation, TeamMember, Workspace

_ERRORS = "Why the change was refused; empty on success."


@strawberry.type(description="A refused workspace or membership action.")
class WorkspaceError(MutationError):
    pass


@strawberry.type(description="The result of workspaceCreate.")
class WorkspaceCreatePayload:
    workspace: Workspace | None = desc("The workspace after the change (null when refused).", default=None)
    errors: list[WorkspaceError] = desc(_ERRORS, default_factory=list)


@strawberry.type(description="The result of invitationCreate.")
class InvitationCreatePayload:
    invitation: Invitation | None = desc("The invitation after the change (null when refused).", default=None)
    errors: list[WorkspaceError] = desc(_ERRORS, default_factory=list)


@strawberry.type(description="The result of invitationAccept.")
class InvitationAcceptPayload:
    member: TeamMember | None = desc("The member after the change (null when refused).", default=None)
    errors: list[WorkspaceError] = desc(_ERRORS, default_factory=list)


@strawberry.type(description="The result of memberRoleUpdate.")
class MemberRoleUpdatePayload:
    member: TeamMember | None = desc("The member after the change (null when refused).", default=None)
    errors: list[WorkspaceError] = desc(_ERRORS, default_factory=list)


@strawberry.type(description="The result of memberRemove.")
class MemberRemovePayload:
    member: TeamMember | None = desc("The member after the change (null when refused).", default=None)
    errors: list[WorkspaceError] = desc(_ERRORS, default_factory=list)


@strawberry.type
class WorkspaceMutations:
    @strawberry.mutation(description="Create a workspace that you own (not with an API key).", permission_classes=[IsAuthenticated, NotApiKey])
    async def workspace_create(
        self, info: Info, input: Annotated[WorkspaceCreateInput, strawberry.argument(description="The workspace.")]
    ) -> WorkspaceCreatePayload | None:
        async def work(session: AsyncSession) -> Workspace:
            ws = await workspaces.create_workspace(session, owner_id=info.context.principal.user_id, name=input.name, slug=input.slug)
            return Workspace.from_row(ws)

        result: WorkspaceCreatePayload = await run(info, WorkspaceCreatePayload, WorkspaceError, "workspace", work)
        return result

    @strawberry.mutation(description="Invite someone to the current workspace; the link is emailed.", permission_classes=[Require("member:invite")])
    async def invitation_create(
        self, info: Info, input: Annotated[InvitationCreateInput, strawberry.argument(description="The invitation.")]
    ) -> InvitationCreatePayload | None:
        sent: dict[str, str] = {}

        async def work(session: AsyncSession) -> Invitation:
            invitation, token = await workspaces.invite(session, info.context.principal, email=input.email, role=input.role)
            sent.update(to=invitation.email, token=token, workspace_id=str(invitation.workspace_id))
            return Invitation.from_row(invitation)

        result: InvitationCreatePayload = await run(info, InvitationCreatePayload, WorkspaceError, "invitation", work)
        if sent:  # after the commit: the emailed token works
            await send_email(info, kind="invitation", **sent)
        return result

    @strawberry.mutation(description="Join a workspace with an emailed invitation token (not with an API key).", permission_classes=[IsAuthenticated, NotApiKey])
    async def invitation_accept(
        self, info: Info, token: Annotated[str, strawberry.argument(description="The token from the invitation email.")]
    ) -> InvitationAcceptPayload | None:
        async def work(session: AsyncSession) -> TeamMember:
            member = await workspaces.accept_invitation(session, token=token, user_id=info.context.principal.user_id)
            return TeamMember.from_row(member)

        result: InvitationAcceptPayload = await run(info, InvitationAcceptPayload, WorkspaceError, "member", work)
        return result

    @strawberry.mutation(description="Change a member's role.", permission_classes=[Require("member:manage")])
    async def member_role_update(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The member's id.")],
        role: Annotated[Role, strawberry.argument(description="The new role.")],
    ) -> MemberRoleUpdatePayload | None:
        async def work(session: AsyncSession) -> TeamMember:
            member = await workspaces.change_role(session, info.context.principal, member_id=node_id(id, TeamMember), role=role)
            return TeamMember.from_row(member)

        result: MemberRoleUpdatePayload = await run(info, MemberRoleUpdatePayload, WorkspaceError, "member", work)
        if result.member is not None:  # the member's open sockets were admitted under the old role
            await revocations.announce(info.context.redis, user_id=result.member.user_id, workspace_id=result.member.workspace_id)
        return result

    @strawberry.mutation(
        description="Remove a member (member:manage), or leave the workspace yourself.", permission_classes=[InWorkspace]
    )
    async def member_remove(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The member's id.")]
    ) -> MemberRemovePayload | None:
        async def work(session: AsyncSession) -> TeamMember:
            member = await workspaces.remove_member(session, info.context.principal, member_id=node_id(id, TeamMember))
            return TeamMember.from_row(member)

        result: MemberRemovePayload = await run(info, MemberRemovePayload, WorkspaceError, "member", work)
        if result.member is not None:  # the member's open sockets in this workspace close
            await revocations.announce(info.context.redis, user_id=result.member.user_id, workspace_id=result.member.workspace_id)
        return result
