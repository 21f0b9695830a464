"""All SQL for accounts: users, sessions, verification tokens, OAuth accounts, API keys.

Every table here sits behind Row-Level Security: a user sees their own user row, sessions,
linked accounts and verification tokens once ``app.user_id`` names them (``as_user``), and
the members of the current workspace. Before the user is known (sign-in by email, a
session or verification token, an OAuth account, an API key) the lookup goes through a
narrow SECURITY DEFINER function (migrations 0005, 0006) that returns ids, never rows.
``password_hash`` cannot be read by the app role at all except through
``clipflow_user_for_sign_in``, so ``User.password_hash`` is never loaded.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import delete, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..db import apply_tenant
from ..models import Account, ApiKey, User, UserSession, Verification


async def as_user(session: AsyncSession, user_id: uuid.UUID) -> None:
    """Make ``user_id`` the session's user (RLS), keeping its workspace: their identity rows become visible."""
    session.info["user_id"] = user_id
    if session.in_transaction():
        await apply_tenant(session)

# -- users -----------------------------------------------------------------------------------


async def get_user(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    return (
        await session.execute(select(User).where(User.id == user_id, User.deleted_at.is_(None)))
    ).scalar_one_or_none()


class SignInUser(NamedTuple):
    id: uuid.UUID
    password_hash: str | None


async def find_user_for_sign_in(session: AsyncSession, email: str) -> SignInUser | None:
    """The id and password hash of the live user with this (normalised) address, before anyone is signed in."""
    row = (
        await session.execute(text("SELECT id, password_hash FROM clipflow_user_for_sign_in(:email)"), {"email": email})
    ).first()
    return SignInUser(*row) if row is not None else None


async def get_user_by_email(session: AsyncSession, email: str) -> User | None:
    """``email`` is already normalised (lower case); so is every stored address. Under RLS this
    finds only the session's user or a member of its workspace (``find_user_for_sign_in``
    finds anyone)."""
    return (
        await session.execute(select(User).where(User.email == email, User.deleted_at.is_(None)))
    ).scalar_one_or_none()


async def email_exists(session: AsyncSession, email: str) -> bool:
    """Deleted users still hold their address (the column is unique)."""
    return bool((await session.execute(text("SELECT clipflow_email_taken(:email)"), {"email": email})).scalar())


async def find_user_id_by_provider(session: AsyncSession, provider: str, provider_user_id: str) -> uuid.UUID | None:
    """The live user linked to this provider id (google_id / github_id), before anyone is signed in."""
    return (
        await session.execute(
            text("SELECT clipflow_user_by_provider(:provider, :pid)"), {"provider": provider, "pid": provider_user_id}
        )
    ).scalar()


async def add_user(session: AsyncSession, **values: Any) -> User:
    """Insert a user; the session becomes theirs (RLS lets a user write only their own row)."""
    values.setdefault("id", uuid.uuid4())
    await as_user(session, values["id"])
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
    """The session with this token hash and its user; the session's user becomes the tenant's."""
    found = await find_session_by_token_hash(session, token_hash)
    if found is None:
        return None
    await as_user(session, found.user_id)
    row = (
        await session.execute(
            select(UserSession, User)
            .join(User, User.id == UserSession.user_id)
            .where(UserSession.token_hash == token_hash)
        )
    ).first()
    return (row[0], row[1]) if row is not None else None


class SessionRef(NamedTuple):
    id: uuid.UUID
    user_id: uuid.UUID
    expires_at: datetime


async def find_session_by_token_hash(session: AsyncSession, token_hash: str) -> SessionRef | None:
    row = (
        await session.execute(
            text("SELECT id, user_id, expires_at FROM clipflow_session_by_token(:hash)"), {"hash": token_hash}
        )
    ).first()
    return SessionRef(*row) if row is not None else None


async def extend_session(session: AsyncSession, session_id: uuid.UUID, expires_at: datetime) -> None:
    await session.execute(update(UserSession).where(UserSession.id == session_id).values(expires_at=expires_at))


async def delete_session_by_hash(session: AsyncSession, token_hash: str) -> UserSession | None:
    """End the session with this token hash (its user becomes the tenant's)."""
    found = await find_session_by_token_hash(session, token_hash)
    if found is None:
        return None
    await as_user(session, found.user_id)
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
    """The token with this hash; the user it was issued to (``<purpose>:<user id>:``) becomes the tenant's."""
    found = (
        await session.execute(text("SELECT id, identifier FROM clipflow_verification_by_token(:hash)"), {"hash": value})
    ).first()
    if found is None:
        return None
    try:
        await as_user(session, uuid.UUID(found.identifier.split(":")[1]))
    except (IndexError, ValueError):
        return None
    stmt = select(Verification).where(Verification.id == found.id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def list_live_verifications(
    session: AsyncSession, user_id: uuid.UUID, now: datetime, *, limit: int
) -> list[Verification]:
    """The user's tokens (identifiers ``<purpose>:<user id>:...``) that have not expired, newest first."""
    rows = await session.execute(
        select(Verification)
        .where(Verification.identifier.like(f"%:{user_id}:%"), Verification.expires_at > now)
        .order_by(Verification.created_at.desc())
        .limit(limit)
    )
    return list(rows.scalars().all())


async def delete_verification(session: AsyncSession, verification_id: uuid.UUID) -> None:
    await session.execute(delete(Verification).where(Verification.id == verification_id))


# -- OAuth accounts --------------------------------------------------------------------------


async def get_account(session: AsyncSession, provider: str, provider_user_id: str) -> Account | None:
    """The linked provider account; its user becomes the tenant's."""
    found = (
        await session.execute(
            text("SELECT id, user_id FROM clipflow_account_by_provider(:provider, :pid)"),
            {"provider": provider, "pid": provider_user_id},
        )
    ).first()
    if found is None:
        return None
    await as_user(session, found.user_id)
    return (await session.execute(select(Account).where(Account.id == found.id))).scalar_one_or_none()


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
