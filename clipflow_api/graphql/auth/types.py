"""Identity types: users, their sessions, linked sign-in accounts, verifications, API keys.

Never exposed: password hashes, session token hashes, API key hashes, OAuth tokens,
verification values. They are not declared here, so ``from_row`` cannot copy them.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry
from strawberry import relay

from ..base import JSON, RowType, desc
from ..context import Info
from ..loaders import load_one


@strawberry.type(description="A person with a ClipFlow account.")
class User(relay.Node, RowType):
    id: relay.NodeID[uuid.UUID]
    email: str = desc("Email address (sign-in name).")
    name: str = desc("Display name.")
    avatar_url: str | None = desc("URL of the avatar picture.")
    image: str | None = desc("Profile image from the sign-in provider.")
    email_verified: bool = desc("Whether the email address was confirmed.")
    timezone: str = desc("IANA time zone, e.g. Europe/Paris.")
    language: str = desc("Interface language (ISO 639-1).")
    theme: str = desc("Interface theme: dark or light.")
    created_at: datetime = desc("When the account was created.")


@strawberry.type(description="A signed-in device of the viewer.")
class UserSession(relay.Node, RowType):
    id: relay.NodeID[uuid.UUID]
    device_info: JSON | None = desc("Device details reported at sign-in.")
    ip_address: str | None = desc("IP address the session signed in from.")
    user_agent: str | None = desc("Browser or client user agent.")
    expires_at: datetime = desc("When the session stops working.")
    created_at: datetime = desc("When the session was opened.")
    updated_at: datetime = desc("Last time the session was refreshed.")

    @strawberry.field(description="Whether this is the session making the request.")
    def is_current(self, info: Info) -> bool:
        return info.context.principal.session_id == self.id


@strawberry.type(description="A sign-in provider linked to the viewer (google, github, credential).")
class LinkedAccount(relay.Node, RowType):
    id: relay.NodeID[uuid.UUID]
    provider_id: str = desc("The provider: google, github, twitter or credential.")
    account_id: str = desc("The user's id at the provider.")
    scope: str | None = desc("OAuth scopes granted.")
    access_token_expires_at: datetime | None = desc("When the provider's access token expires.")
    created_at: datetime = desc("When the provider was linked.")


@strawberry.type(description="A pending email verification or password reset of the viewer (the token itself is never shown).")
class Verification(relay.Node, RowType):
    id: relay.NodeID[uuid.UUID]
    identifier: strawberry.Private[str]
    expires_at: datetime = desc("When the emailed token expires.")
    created_at: datetime = desc("When the token was sent.")

    @strawberry.field(description="What the token is for, e.g. email-verify or password-reset.")
    def purpose(self) -> str:
        return self.identifier.split(":", 1)[0]


@strawberry.type(description="A developer API key. Its secret is shown once, by apiKeyCreate; only a prefix is kept for display.")
class ApiKey(relay.Node, RowType):
    id: relay.NodeID[uuid.UUID]
    user_id: strawberry.Private[uuid.UUID]
    workspace_id: strawberry.Private[uuid.UUID | None]
    name: str = desc("A label chosen by the owner.")
    key_prefix: str = desc("The first characters of the key, to recognise it.")
    scopes: list[str] = desc("Permissions the key may use (a subset of its owner's).")
    rate_limit: int = desc("Requests allowed per day.")
    last_used_at: datetime | None = desc("Last time the key authenticated a request.")
    expires_at: datetime | None = desc("When the key stops working (null: never).")
    created_at: datetime = desc("When the key was created.")
    revoked_at: datetime | None = desc("When the key was revoked (null: active).")

    @strawberry.field(description="The person who owns the key.")
    async def user(self, info: Info) -> User | None:
        return await load_one(info, UserByIdLoader, User, self.user_id)

    @strawberry.field(description="The workspace the key acts in (null for a personal key).")
    async def workspace(self, info: Info) -> Workspace | None:
        return await load_one(info, WorkspaceByIdLoader, Workspace, self.workspace_id)




from ..workspaces.loaders import WorkspaceByIdLoader  # noqa: E402
from ..workspaces.types import Workspace  # noqa: E402
from .loaders import UserByIdLoader  # noqa: E402
