"""Loaders for identity rows. These tables have no Row-Level Security (a user spans
workspaces), so each loader states who may see what: a user is visible to themself and
to members of the workspace the caller acts in; sessions, linked accounts and
verifications only to their own user."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, false, or_, select

from ...models import Account, ApiKey, TeamMember, User, UserSession, Verification
from ..loaders import ByIdLoader, ConnectionByKeyLoader, ListByKeyLoader


def _own(ctx: Any, column: Any) -> list[ColumnElement[bool]]:
    uid = ctx.principal.user_id
    return [column == uid] if uid else [false()]


class UserByIdLoader(ByIdLoader):
    model = User

    def visible(self) -> list[ColumnElement[bool]]:
        p = self.ctx.principal
        if not p.is_authenticated:
            return [false()]
        members = select(TeamMember.user_id).where(TeamMember.workspace_id == p.workspace_id)
        return [or_(User.id == p.user_id, User.id.in_(members))]


class UserSessionByIdLoader(ByIdLoader):
    model = UserSession

    def visible(self) -> list[ColumnElement[bool]]:
        return _own(self.ctx, UserSession.user_id)


class UserSessionsByUserIdLoader(ListByKeyLoader):
    model = UserSession
    key = UserSession.user_id
    order_by = (UserSession.created_at.desc(),)

    def visible(self) -> list[ColumnElement[bool]]:
        return _own(self.ctx, UserSession.user_id)


class AccountByIdLoader(ByIdLoader):
    model = Account

    def visible(self) -> list[ColumnElement[bool]]:
        return _own(self.ctx, Account.user_id)


class AccountsByUserIdLoader(ListByKeyLoader):
    model = Account
    key = Account.user_id
    order_by = (Account.created_at,)

    def visible(self) -> list[ColumnElement[bool]]:
        return _own(self.ctx, Account.user_id)


def _own_verification(ctx: Any) -> list[ColumnElement[bool]]:
    uid = ctx.principal.user_id
    return [Verification.identifier.like(f"%:{uid}:%")] if uid else [false()]


class VerificationByIdLoader(ByIdLoader):
    model = Verification

    def visible(self) -> list[ColumnElement[bool]]:
        return _own_verification(self.ctx)


class ApiKeyByIdLoader(ByIdLoader):
    model = ApiKey


class ApiKeysByUserIdLoader(ConnectionByKeyLoader):
    """The caller's own keys (RLS shows personal keys and keys of the current workspace)."""

    model = ApiKey
    key = ApiKey.user_id

    def visible(self) -> list[ColumnElement[bool]]:
        return _own(self.ctx, ApiKey.user_id)
