"""Workspace types: the workspace (the design's team), its members and invitations.

The workspace is the root of the tenant graph: every list below it is the workspace's
own, and Row-Level Security returns rows only for the workspace the caller acts in.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry
from strawberry import relay

from typing import Annotated
from ..media.inputs import ClipFilterInput, ClipSortingInput, VideoFilterInput
from ..social.inputs import CommentFilterInput, PostFilterInput
from ..jobs.inputs import JobFilterInput
from ..base import JSON, RowType, desc
from ..context import Info
from ..enums import MemberStatus, Role
from ..loaders import load_connection, load_one
from ..permissions import Require
from ..relay import AfterArg, BeforeArg, Connection, FirstArg, LastArg


@strawberry.type(description="A workspace: a team that owns videos, clips, posts and projects.")
class Workspace(relay.Node, RowType):
    id: relay.NodeID[uuid.UUID]
    owner_id: strawberry.Private[uuid.UUID]
    name: str = desc("Display name.")
    slug: str = desc("URL-safe unique name.")
    logo_url: str | None = desc("Logo shown in the app and client portal.")
    primary_color: str | None = desc("Brand color, #RRGGBB.")
    custom_domain: str | None = desc("Custom domain of the client portal.")
    settings: JSON = desc("Workspace preferences.")
    created_at: datetime = desc("When the workspace was created.")
    updated_at: datetime = desc("Last change.")

    @strawberry.field(description="The user who owns the workspace.")
    async def owner(self, info: Info) -> User | None:
        return await load_one(info, UserByIdLoader, User, self.owner_id)

    @strawberry.field(description="Members with their roles.", permission_classes=[Require("member:read")])
    async def members(
        self, info: Info, first: FirstArg = None, after: AfterArg = None, last: LastArg = None, before: BeforeArg = None
    ) -> Connection[TeamMember]:
        return await load_connection(
            info, TeamMembersByWorkspaceIdLoader, TeamMember, self.id, first=first, after=after, last=last, before=before
        )

    @strawberry.field(description="Pending and accepted invitations.", permission_classes=[Require("member:invite")])
    async def invitations(
        self, info: Info, first: FirstArg = None, after: AfterArg = None, last: LastArg = None, before: BeforeArg = None
    ) -> Connection[Invitation]:
        return await load_connection(
            info, InvitationsByWorkspaceIdLoader, Invitation, self.id, first=first, after=after, last=last, before=before
        )

    @strawberry.field(description="Source videos, newest first.", permission_classes=[Require("video:read")])
    async def videos(
        self,
        info: Info,
        filter: Annotated[VideoFilterInput | None, strawberry.argument(description="Narrow the list.")] = None,
        first: FirstArg = None,
        after: AfterArg = None,
        last: LastArg = None,
        before: BeforeArg = None,
    ) -> Connection[Video]:
        return await load_connection(
            info, VideosByWorkspaceIdLoader, Video, self.id, first=first, after=after, last=last, before=before,
            filter=VideoFilterKey.of(filter),
        )

    @strawberry.field(description="Clips of every video.", permission_classes=[Require("clip:read")])
    async def clips(
        self,
        info: Info,
        filter: Annotated[ClipFilterInput | None, strawberry.argument(description="Narrow the list.")] = None,
        sort_by: Annotated[ClipSortingInput | None, strawberry.argument(description="Order of the list (default: newest first).")] = None,
        first: FirstArg = None,
        after: AfterArg = None,
        last: LastArg = None,
        before: BeforeArg = None,
    ) -> Connection[Clip]:
        return await load_connection(
            info, ClipsByWorkspaceIdLoader, Clip, self.id, first=first, after=after, last=last, before=before,
            filter=ClipFilterKey.of(filter), sort=ClipSortKey.of(sort_by),
        )

    @strawberry.field(description="Posts, scheduled and published.", permission_classes=[Require("post:read")])
    async def posts(
        self,
        info: Info,
        filter: Annotated[PostFilterInput | None, strawberry.argument(description="Narrow the list.")] = None,
        first: FirstArg = None,
        after: AfterArg = None,
        last: LastArg = None,
        before: BeforeArg = None,
    ) -> Connection[Post]:
        return await load_connection(
            info, PostsByWorkspaceIdLoader, Post, self.id, first=first, after=after, last=last, before=before,
            filter=PostFilterKey.of(filter),
        )

    @strawberry.field(description="Comments on the workspace's posts (the inbox).", permission_classes=[Require("post:read")])
    async def comments(
        self,
        info: Info,
        filter: Annotated[CommentFilterInput | None, strawberry.argument(description="Narrow the list.")] = None,
        first: FirstArg = None,
        after: AfterArg = None,
        last: LastArg = None,
        before: BeforeArg = None,
    ) -> Connection[Comment]:
        return await load_connection(
            info, CommentsByWorkspaceIdLoader, Comment, self.id, first=first, after=after, last=last, before=before,
            filter=CommentFilterKey.of(filter),
        )

    @strawberry.field(description="Connected social accounts.", permission_classes=[Require("workspace:read")])
    async def social_accounts(
        self, info: Info, first: FirstArg = None, after: AfterArg = None, last: LastArg = None, before: BeforeArg = None
    ) -> Connection[SocialAccount]:
        return await load_connection(
            info, SocialAccountsByWorkspaceIdLoader, SocialAccount, self.id, first=first, after=after, last=last, before=before
        )

    @strawberry.field(description="Brand kits (colors, fonts, logos).", permission_classes=[Require("workspace:read")])
    async def brand_kits(
        self, info: Info, first: FirstArg = None, after: AfterArg = None, last: LastArg = None, before: BeforeArg = None
    ) -> Connection[BrandKit]:
        return await load_connection(
            info, BrandKitsByWorkspaceIdLoader, BrandKit, self.id, first=first, after=after, last=last, before=before
        )

    @strawberry.field(description="The workspace's own assets (music, logos, b-roll).", permission_classes=[Require("workspace:read")])
    async def assets(
        self, info: Info, first: FirstArg = None, after: AfterArg = None, last: LastArg = None, before: BeforeArg = None
    ) -> Connection[Asset]:
        return await load_connection(
            info, AssetsByWorkspaceIdLoader, Asset, self.id, first=first, after=after, last=last, before=before
        )

    @strawberry.field(description="The workspace's own templates (system and public ones: Query.templates).", permission_classes=[Require("workspace:read")])
    async def templates(
        self, info: Info, first: FirstArg = None, after: AfterArg = None, last: LastArg = None, before: BeforeArg = None
    ) -> Connection[Template]:
        return await load_connection(
            info, TemplatesByWorkspaceIdLoader, Template, self.id, first=first, after=after, last=last, before=before
        )

    @strawberry.field(description="Folders of the media library.", permission_classes=[Require("workspace:read")])
    async def media_folders(
        self, info: Info, first: FirstArg = None, after: AfterArg = None, last: LastArg = None, before: BeforeArg = None
    ) -> Connection[MediaFolder]:
        return await load_connection(
            info, MediaFoldersByWorkspaceIdLoader, MediaFolder, self.id, first=first, after=after, last=last, before=before
        )

    @strawberry.field(description="Uploaded media of the library.", permission_classes=[Require("workspace:read")])
    async def user_media(
        self, info: Info, first: FirstArg = None, after: AfterArg = None, last: LastArg = None, before: BeforeArg = None
    ) -> Connection[UserMedia]:
        return await load_connection(
            info, UserMediaByWorkspaceIdLoader, UserMedia, self.id, first=first, after=after, last=last, before=before
        )

    @strawberry.field(description="Studio projects.", permission_classes=[Require("project:read")])
    async def projects(
        self, info: Info, first: FirstArg = None, after: AfterArg = None, last: LastArg = None, before: BeforeArg = None
    ) -> Connection[Project]:
        return await load_connection(
            info, ProjectsByWorkspaceIdLoader, Project, self.id, first=first, after=after, last=last, before=before
        )

    @strawberry.field(description="Outgoing webhooks.", permission_classes=[Require("webhook:manage")])
    async def webhooks(
        self, info: Info, first: FirstArg = None, after: AfterArg = None, last: LastArg = None, before: BeforeArg = None
    ) -> Connection[Webhook]:
        return await load_connection(
            info, WebhooksByWorkspaceIdLoader, Webhook, self.id, first=first, after=after, last=last, before=before
        )

    @strawberry.field(description="Background jobs (processing, publishing).", permission_classes=[Require("video:read")])
    async def jobs(
        self,
        info: Info,
        filter: Annotated[JobFilterInput | None, strawberry.argument(description="Narrow the list.")] = None,
        first: FirstArg = None,
        after: AfterArg = None,
        last: LastArg = None,
        before: BeforeArg = None,
    ) -> Connection[Job]:
        return await load_connection(
            info, JobsByWorkspaceIdLoader, Job, self.id, first=first, after=after, last=last, before=before,
            filter=JobFilterKey.of(filter),
        )

    @strawberry.field(description="Who did what, newest first.", permission_classes=[Require("audit:read")])
    async def audit_logs(
        self, info: Info, first: FirstArg = None, after: AfterArg = None, last: LastArg = None, before: BeforeArg = None
    ) -> Connection[AuditLog]:
        return await load_connection(
            info, AuditLogsByWorkspaceIdLoader, AuditLog, self.id, first=first, after=after, last=last, before=before
        )


@strawberry.type(description="A person's membership of a workspace, with a role.")
class TeamMember(relay.Node, RowType):
    id: relay.NodeID[uuid.UUID]
    workspace_id: strawberry.Private[uuid.UUID]
    user_id: strawberry.Private[uuid.UUID]
    invited_by: strawberry.Private[uuid.UUID | None]
    role: Role = desc("The member's role: what they may do in the workspace.")
    custom_permissions: JSON | None = desc("Permissions granted or withdrawn on top of the role.")
    status: MemberStatus = desc("Whether the membership is current or was removed.")
    invited_at: datetime | None = desc("When the invitation was sent.")
    accepted_at: datetime | None = desc("When the member joined.")
    created_at: datetime = desc("When the membership was created.")

    @strawberry.field(description="The member.")
    async def user(self, info: Info) -> User | None:
        return await load_one(info, UserByIdLoader, User, self.user_id)

    @strawberry.field(description="The workspace.")
    async def workspace(self, info: Info) -> Workspace | None:
        return await load_one(info, WorkspaceByIdLoader, Workspace, self.workspace_id)

    @strawberry.field(description="Who invited the member.")
    async def invited_by_user(self, info: Info) -> User | None:
        return await load_one(info, UserByIdLoader, User, self.invited_by)


@strawberry.type(description="An emailed invitation to join a workspace (its token is never shown).")
class Invitation(relay.Node, RowType):
    id: relay.NodeID[uuid.UUID]
    workspace_id: strawberry.Private[uuid.UUID]
    invited_by: strawberry.Private[uuid.UUID]
    email: str = desc("Who was invited.")
    role: Role = desc("The role the invitee gets on accepting.")
    expires_at: datetime = desc("When the invitation stops working.")
    accepted_at: datetime | None = desc("When it was accepted (null: pending).")
    created_at: datetime = desc("When it was sent.")

    @strawberry.field(description="The workspace the invitation is for.")
    async def workspace(self, info: Info) -> Workspace | None:
        return await load_one(info, WorkspaceByIdLoader, Workspace, self.workspace_id)

    @strawberry.field(description="Who sent the invitation.")
    async def invited_by_user(self, info: Info) -> User | None:
        return await load_one(info, UserByIdLoader, User, self.invited_by)



from ..auth.loaders import UserByIdLoader  # noqa: E402
from ..auth.types import User  # noqa: E402
from ..media.loaders import (  # noqa: E402
    AssetsByWorkspaceIdLoader,
    BrandKitsByWorkspaceIdLoader,
    ClipFilterKey,
    ClipSortKey,
    ClipsByWorkspaceIdLoader,
    MediaFoldersByWorkspaceIdLoader,
    UserMediaByWorkspaceIdLoader,
    VideoFilterKey,
    VideosByWorkspaceIdLoader,
)
from ..media.types import Asset, BrandKit, Clip, MediaFolder, UserMedia, Video  # noqa: E402
from ..projects.loaders import ProjectsByWorkspaceIdLoader  # noqa: E402
from ..projects.types import Project  # noqa: E402
from ..social.loaders import (  # noqa: E402
    CommentFilterKey,
    CommentsByWorkspaceIdLoader,
    PostFilterKey,
    PostsByWorkspaceIdLoader,
    SocialAccountsByWorkspaceIdLoader,
)
from ..social.types import Comment, Post, SocialAccount  # noqa: E402
from ..audit.loaders import AuditLogsByWorkspaceIdLoader  # noqa: E402
from ..audit.types import AuditLog  # noqa: E402
from ..jobs.loaders import JobFilterKey, JobsByWorkspaceIdLoader  # noqa: E402
from ..jobs.types import Job  # noqa: E402
from ..webhooks.loaders import WebhooksByWorkspaceIdLoader  # noqa: E402
from ..webhooks.types import Webhook  # noqa: E402
from ..templates.loaders import TemplatesByWorkspaceIdLoader  # noqa: E402
from ..templates.types import Template  # noqa: E402
from .loaders import InvitationsByWorkspaceIdLoader, TeamMembersByWorkspaceIdLoader, WorkspaceByIdLoader  # noqa: E402
