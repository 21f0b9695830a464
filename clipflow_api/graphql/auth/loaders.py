"""Loaders for identity rows. These tables have no Row-Level Security (a user spans
workspaces), so each loader states who may see what: a user is visible to themself and
to members of the workspace the caller acts in; sessions, linked accounts and
verifications only to their own user."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, false, or_, select

from ...models import Account, ApiKey, TeamMember, User, UserSession, Verification
from ..loaders import ByIdLoader, ConnectionByKeyLoader, ListByKeyLoader


def own_rows(ctx: Any, column: Any) -> list[ColumnElement[bool]]:
    """Rows of the signed-in user only (none for an anonymous caller)."""
    uid = ctx.principal.user_id
    return [column == uid] if uid else [false()]


def _own_account_data(ctx: Any, column: Any) -> list[ColumnElement[bool]]:
    """Sign-in data (devices, addresses, providers) is the person's, not a workspace's: no API key sees it."""
    return [false()] if ctx.principal.api_key_id is not None else own_rows(ctx, column)


def in_key_workspace(ctx: Any, column: Any) -> list[ColumnElement[bool]]:
    """An API key sees only the workspace it acts in, whatever else its user belongs to."""
    p = ctx.principal
    return [column == p.workspace_id] if p.api_key_id is not None else []


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
        return _own_account_data(self.ctx, UserSession.user_id)


class UserSessionsByUserIdLoader(ListByKeyLoader):
    model = UserSession
    key = UserSession.user_id
    order_by = (UserSession.created_at.desc(),)

    def visible(self) -> list[ColumnElement[bool]]:
        return _own_account_data(self.ctx, UserSession.user_id)


class AccountByIdLoader(ByIdLoader):
    model = Account

    def visible(self) -> list[ColumnElement[bool]]:
        return _own_account_data(self.ctx, Account.user_id)


class AccountsByUserIdLoader(ListByKeyLoader):
    model = Account
    key = Account.user_id
    order_by = (Account.created_at,)

    def visible(self) -> list[ColumnElement[bool]]:
        return _own_account_data(self.ctx, Account.user_id)


def _own_verification(ctx: Any) -> list[ColumnElement[bool]]:
    uid = ctx.principal.user_id
    if uid is None or ctx.principal.api_key_id is not None:
        return [false()]
    return [Verification.identifier.like(f"%:{uid}:%")]


class VerificationByIdLoader(ByIdLoader):
    model = Verification

    def visible(self) -> list[ColumnElement[bool]]:
        return _own_verification(self.ctx)


def _visible_keys(ctx: Any) -> list[ColumnElement[bool]]:
    """A calling key lists keys only with api_key:manage, and only its workspace's."""
    p = ctx.principal
    if p.api_key_id is not None and not p.can("api_key:manage"):
        return [false()]
    return in_key_workspace(ctx, ApiKey.workspace_id)


class ApiKeyByIdLoader(ByIdLoader):
    model = ApiKey

    def visible(self) -> list[ColumnElement[bool]]:
        return _visible_keys(self.ctx)


class ApiKeysByUserIdLoader(ConnectionByKeyLoader):
    """The caller's own keys (RLS shows personal keys and keys of the current workspace)."""

    model = ApiKey
    key = ApiKey.user_id

    def visible(self) -> list[ColumnElement[bool]]:
        return own_rows(self.ctx, ApiKey.user_id) + _visible_keys(self.ctx)
