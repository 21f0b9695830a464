"""Identity: users, their sessions, OAuth accounts, verification tokens and API keys.

These tables are global (a user belongs to many workspaces): their RLS policies follow the
user (``app.user_id``) rather than the workspace, except ``api_keys``, which a workspace owns. Secrets are never stored: sessions, API keys
and verification values keep a SHA-256 hash only.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import ARRAY, INET
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base
from ._columns import created_at, fk, flag, jsonb, ts, updated_at, uuid_pk, workspace_fk


class User(Base):
    __tablename__ = "users"

    id: Mapped[uuid.UUID] = uuid_pk()
    email: Mapped[str] = mapped_column(String(255), unique=True, nullable=False)
    # NULL for OAuth-only users. Not readable by the app role (column privileges, migration
    # 0006): never loaded with the row; sign-in reads it through clipflow_user_for_sign_in.
    password_hash: Mapped[str | None] = mapped_column(String(255), deferred=True, deferred_raiseload=True)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    avatar_url: Mapped[str | None] = mapped_column(Text)
    image: Mapped[str | None] = mapped_column(Text)  # OpenCut/Better Auth profile image
    email_verified: Mapped[bool] = flag(False)
    google_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    github_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    twitter_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    timezone: Mapped[str] = mapped_column(String(50), nullable=False, server_default=text("'UTC'"))
    language: Mapped[str] = mapped_column(String(10), nullable=False, server_default=text("'en'"))
    theme: Mapped[str] = mapped_column(String(20), nullable=False, server_default=text("'dark'"))
    last_login_at: Mapped[datetime | None] = ts()
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()
    deleted_at: Mapped[datetime | None] = ts()

    __table_args__ = (
        Index("idx_users_email", "email"),
        Index("idx_users_google_id", "google_id"),
    )


class UserSession(Base):
    """A signed-in device. ``token_hash`` is SHA-256 of the bearer token (the token itself is never stored)."""

    __tablename__ = "sessions"

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = fk("users.id", ondelete="CASCADE")
    token_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    device_info: Mapped[dict[str, Any] | None] = jsonb()
    ip_address: Mapped[str | None] = mapped_column(INET)
    user_agent: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime] = ts(nullable=False)
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()

    __table_args__ = (
        Index("idx_sessions_user_id", "user_id"),
        Index("idx_sessions_token", "token_hash"),
    )


class Account(Base):
    """A sign-in provider linked to a user (Better Auth's ``accounts``): google, github, credential."""

    __tablename__ = "accounts"

    id: Mapped[uuid.UUID] = uuid_pk()
    account_id: Mapped[str] = mapped_column(String(255), nullable=False)  # the provider's user id
    provider_id: Mapped[str] = mapped_column(String(50), nullable=False)
    user_id: Mapped[uuid.UUID] = fk("users.id", ondelete="CASCADE", index=True)
    access_token: Mapped[str | None] = mapped_column(Text)  # encrypted (AES-256-GCM)
    refresh_token: Mapped[str | None] = mapped_column(Text)  # encrypted
    id_token: Mapped[str | None] = mapped_column(Text)
    access_token_expires_at: Mapped[datetime | None] = ts()
    scope: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()

    __table_args__ = (Index("uq_accounts_provider_account", "provider_id", "account_id", unique=True),)


class Verification(Base):
    """Email verification and password reset tokens; ``value`` holds the token's SHA-256."""

    __tablename__ = "verifications"

    id: Mapped[uuid.UUID] = uuid_pk()
    identifier: Mapped[str] = mapped_column(Text, nullable=False)  # e.g. "email-verify:<user id>"
    value: Mapped[str] = mapped_column(Text, nullable=False)
    expires_at: Mapped[datetime] = ts(nullable=False)
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()

    __table_args__ = (
        Index("idx_verifications_identifier", "identifier"),
        Index("idx_verifications_value", "value", unique=True),
    )


class ApiKey(Base):
    """A developer key: ``cf_live_`` + secret + checksum; only its hash is stored."""

    __tablename__ = "api_keys"

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = fk("users.id", ondelete="CASCADE")
    workspace_id: Mapped[uuid.UUID | None] = workspace_fk(nullable=True)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    key_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    key_prefix: Mapped[str] = mapped_column(String(20), nullable=False)  # for display: "cf_live_12ab..."
    scopes: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, server_default=text("'{}'"))
    rate_limit: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("1000"))  # requests per day
    last_used_at: Mapped[datetime | None] = ts()
    expires_at: Mapped[datetime | None] = ts()
    created_at: Mapped[datetime] = created_at()
    revoked_at: Mapped[datetime | None] = ts()

    __table_args__ = (
        Index("idx_api_keys_key_prefix", "key_prefix"),
        Index("uq_api_keys_key_hash", "key_hash", unique=True),
    )
