"""Viewer: the signed-in user, their memberships, sessions, keys and subscription."""

from __future__ import annotations

import uuid

import strawberry

from ...auth import service as auth
from ...errors import PermissionDenied
from ..base import desc
from ..context import Info
from ..errors import PermissionDeniedError
from ..enums import MemberStatus, Role
from ..permissions import NotApiKey
from ..loaders import load_connection, load_list, load_one
from ..relay import AfterArg, BeforeArg, Connection, FirstArg, LastArg
from .loaders import AccountsByUserIdLoader, ApiKeysByUserIdLoader, UserByIdLoader, UserSessionsByUserIdLoader
from .types import ApiKey, LinkedAccount, User, UserSession, Verification


@strawberry.type(description="The caller: who they are and what they may do where.")
class Viewer:
    user_id: strawberry.Private[uuid.UUID]
    role: Role | None = desc("Your role in the workspace you act in (null: none chosen).")
    permissions: list[str] = desc("Your permissions in the workspace you act in (narrowed by an API key's scopes).")

    @strawberry.field(description="Your account.")
    async def user(self, info: Info) -> User | None:
        return await load_one(info, UserByIdLoader, User, self.user_id)

    @strawberry.field(description="The workspace you act in (chosen with the X-Workspace-Id header).")
    async def current_workspace(self, info: Info) -> Workspace | None:
        return await load_one(info, WorkspaceByIdLoader, Workspace, info.context.principal.workspace_id)

    @strawberry.field(description="Your memberships in every workspace (an API key: in its workspace only).")
    async def memberships(self, info: Info) -> list[TeamMember]:
        members = await load_list(info, TeamMembersByUserIdLoader, TeamMember, self.user_id)
        return [m for m in members if m.status == MemberStatus.ACTIVE]

    @strawberry.field(description="Every workspace you belong to (an API key: its workspace only).")
    async def workspaces(self, info: Info) -> list[Workspace]:
        members = await self.memberships(info)
        loaded = await info.context.loader(WorkspaceByIdLoader).load_many([m.workspace_id for m in members])
        return [Workspace.from_row(w) for w in loaded if w is not None]

    @strawberry.field(description="Your signed-in devices (not to API keys).", permission_classes=[NotApiKey])
    async def sessions(self, info: Info) -> list[UserSession]:
        return await load_list(info, UserSessionsByUserIdLoader, UserSession, self.user_id)

    @strawberry.field(description="Sign-in providers linked to your account (not to API keys).", permission_classes=[NotApiKey])
    async def linked_accounts(self, info: Info) -> list[LinkedAccount]:
        return await load_list(info, AccountsByUserIdLoader, LinkedAccount, self.user_id)

    @strawberry.field(description="Your API keys (personal ones and those of the workspace you act in; an API key needs api_key:manage and sees its workspace's).")
    async def api_keys(
        self, info: Info, first: FirstArg = None, after: AfterArg = None, last: LastArg = None, before: BeforeArg = None
    ) -> Connection[ApiKey]:
        try:
            auth.require_key_listing(info.context.principal)
        except PermissionDenied as exc:
            raise PermissionDeniedError(exc.message, exc.code.value) from None
        return await load_connection(info, ApiKeysByUserIdLoader, ApiKey, self.user_id, first=first, after=after, last=last, before=before)

    @strawberry.field(description="Your current subscription (billing is the account's: not to API keys).", permission_classes=[NotApiKey])
    async def subscription(self, info: Info) -> Subscription | None:
        subs = await load_list(info, SubscriptionsByUserIdLoader, Subscription, self.user_id)
        return subs[0] if subs else None

    @strawberry.field(description="Email verifications and password resets waiting for you (not to API keys).", permission_classes=[NotApiKey])
    async def pending_verifications(self, info: Info) -> list[Verification]:
        async with info.context.session() as session:
            rows = await auth.pending_verifications(session, user_id=self.user_id)
        return Verification.from_rows(rows)


@strawberry.type
class AccountQueries:
    @strawberry.field(description="The caller, or null when not signed in.")
    def viewer(self, info: Info) -> Viewer | None:
        p = info.context.principal
        if p.user_id is None:  # not signed in
            return None
        return Viewer(user_id=p.user_id, role=Role(p.role) if p.role else None, permissions=sorted(p.permissions))


from ..billing.loaders import SubscriptionsByUserIdLoader  # noqa: E402
from ..billing.types import Subscription  # noqa: E402
from ..workspaces.loaders import TeamMembersByUserIdLoader, WorkspaceByIdLoader  # noqa: E402
from ..workspaces.types import TeamMember, Workspace  # noqa: E402
