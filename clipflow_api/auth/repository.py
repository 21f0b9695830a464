"""All SQL for accounts: users, sessions, verification tokens, OAuth accounts, API keys.

``users``, ``sessions``, ``verifications`` and ``accounts`` are global (no RLS). API keys
belong to a workspace (RLS), so finding one by hash before the tenant is known goes
through the ``clipflow_api_key_by_hash`` SECURITY DEFINER function.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import delete, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import Account, ApiKey, User, UserSession, Verification

# -- users -----------------------------------------------------------------------------------


async def get_user(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    return (
        await session.execute(select(User).where(User.id == user_id, User.deleted_at.is_(None)))
    ).scalar_one_or_none()


async def get_user_by_email(session: AsyncSession, email: str) -> User | None:
    """``email`` is already normalised (lower case); so is every stored address."""
    return (
        await session.execute(select(User).where(User.email == email, User.deleted_at.is_(None)))
    ).scalar_one_or_none()


async def email_exists(session: AsyncSession, email: str) -> bool:
    """Deleted users still hold their address (the column is unique)."""
    return (await session.execute(select(User.id).where(User.email == email))).first() is not None


async def get_user_by_provider_id(session: AsyncSession, provider: str, provider_user_id: str) -> User | None:
    column = {"google": User.google_id, "github": User.github_id}[provider]
    return (
        await session.execute(select(User).where(column == provider_user_id, User.deleted_at.is_(None)))
    ).scalar_one_or_none()


async def add_user(session: AsyncSession, **values: Any) -> User:
    user = User(**values)
    session.add(user)
    await session.flush()
    return user


async def set_user_fields(session: AsyncSession, user: User, **values: Any) -> None:
    for key, value in values.items():
        setattr(user, key, value)
    await session.flush()


# -- sessions --------------------------------------------------------------------------------


async def add_session(session: AsyncSession, **values: Any) -> UserSession:
    row = UserSession(**values)
    session.add(row)
    await session.flush()
    return row


async def get_session_with_user(session: AsyncSession, token_hash: str) -> tuple[UserSession, User] | None:
    row = (
        await session.execute(
            select(UserSession, User)
            .join(User, User.id == UserSession.user_id)
            .where(UserSession.token_hash == token_hash)
        )
    ).first()
    return (row[0], row[1]) if row is not None else None


async def extend_session(session: AsyncSession, session_id: uuid.UUID, expires_at: datetime) -> None:
    await session.execute(update(UserSession).where(UserSession.id == session_id).values(expires_at=expires_at))


async def delete_session_by_hash(session: AsyncSession, token_hash: str) -> UserSession | None:
    row = (
        await session.execute(delete(UserSession).where(UserSession.token_hash == token_hash).returning(UserSession))
    ).scalar_one_or_none()
    return row


async def delete_session(session: AsyncSession, session_id: uuid.UUID) -> None:
    await session.execute(delete(UserSession).where(UserSession.id == session_id))


async def delete_user_sessions(session: AsyncSession, user_id: uuid.UUID) -> int:
    result = await session.execute(delete(UserSession).where(UserSession.user_id == user_id))
    return result.rowcount or 0


# -- verification tokens ---------------------------------------------------------------------


async def add_verification(session: AsyncSession, *, identifier: str, value: str, expires_at: datetime) -> Verification:
    row = Verification(identifier=identifier, value=value, expires_at=expires_at)
    session.add(row)
    await session.flush()
    return row


async def delete_verifications(session: AsyncSession, *, identifier_prefix: str) -> None:
    """Every token for one purpose and user (identifiers start ``<purpose>:<user id>``)."""
    escaped = identifier_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    await session.execute(delete(Verification).where(Verification.identifier.like(escaped + "%", escape="\\")))


async def get_verification_by_value(
    session: AsyncSession, value: str, *, for_update: bool = True
) -> Verification | None:
    stmt = select(Verification).where(Verification.value == value)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def delete_verification(session: AsyncSession, verification_id: uuid.UUID) -> None:
    await session.execute(delete(Verification).where(Verification.id == verification_id))


# -- OAuth accounts --------------------------------------------------------------------------


async def get_account(session: AsyncSession, provider: str, provider_user_id: str) -> Account | None:
    return (
        await session.execute(
            select(Account).where(Account.provider_id == provider, Account.account_id == provider_user_id)
        )
    ).scalar_one_or_none()


async def add_account(session: AsyncSession, **values: Any) -> Account:
    account = Account(**values)
    session.add(account)
    await session.flush()
    return account


# -- API keys --------------------------------------------------------------------------------


class ApiKeyRow(NamedTuple):
    id: uuid.UUID
    user_id: uuid.UUID
    workspace_id: uuid.UUID | None
    scopes: list[str]
    rate_limit: int
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


async def find_api_key_by_hash(session: AsyncSession, key_hash: str) -> ApiKeyRow | None:
    row = (
        await session.execute(
            text(
                "SELECT id, user_id, workspace_id, scopes, rate_limit, expires_at, revoked_at, last_used_at "
                "FROM clipflow_api_key_by_hash(:hash)"
            ),
            {"hash": key_hash},
        )
    ).first()
    return ApiKeyRow(*row) if row is not None else None


async def add_api_key(session: AsyncSession, **values: Any) -> ApiKey:
    key = ApiKey(**values)
    session.add(key)
    await session.flush()
    return key


async def get_api_key(session: AsyncSession, key_id: uuid.UUID, *, for_update: bool = False) -> ApiKey | None:
    stmt = select(ApiKey).where(ApiKey.id == key_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def touch_api_key(session: AsyncSession, key_id: uuid.UUID, now: datetime) -> None:
    await session.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=now))
