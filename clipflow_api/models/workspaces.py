"""Workspaces (the design's "teams"), their members with roles, and pending invitations."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base
from ._columns import created_at, fk, jsonb, ts, updated_at, uuid_pk, workspace_fk
from .enums import Role

ROLES = tuple(Role)


class Workspace(Base):
    __tablename__ = "workspaces"

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    slug: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    owner_id: Mapped[uuid.UUID] = fk("users.id")
    logo_url: Mapped[str | None] = mapped_column(Text)
    primary_color: Mapped[str | None] = mapped_column(String(7))  # #RRGGBB
    custom_domain: Mapped[str | None] = mapped_column(String(255))
    settings: Mapped[dict[str, Any]] = jsonb("{}", nullable=False)
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()
    deleted_at: Mapped[datetime | None] = ts()

    __table_args__ = (
        Index("idx_workspaces_owner", "owner_id"),
        Index("idx_workspaces_slug", "slug"),
    )


class TeamMember(Base):
    __tablename__ = "team_members"

    id: Mapped[uuid.UUID] = uuid_pk()
    workspace_id: Mapped[uuid.UUID] = workspace_fk()
    user_id: Mapped[uuid.UUID] = fk("users.id", ondelete="CASCADE")
    role: Mapped[str] = mapped_column(String(50), nullable=False, server_default=text("'viewer'"))
    custom_permissions: Mapped[dict[str, Any] | None] = jsonb()
    status: Mapped[str] = mapped_column(String(20), nullable=False, server_default=text("'active'"))  # active, removed
    invited_by: Mapped[uuid.UUID | None] = fk("users.id", nullable=True)
    invited_at: Mapped[datetime | None] = ts()
    accepted_at: Mapped[datetime | None] = ts()
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()

    __table_args__ = (
        UniqueConstraint("workspace_id", "user_id"),
        Index("idx_team_members_workspace", "workspace_id"),
        Index("idx_team_members_user", "user_id"),
    )


class Invitation(Base):
    """An emailed invitation; ``token`` holds the SHA-256 of the token sent by email."""

    __tablename__ = "invitations"

    id: Mapped[uuid.UUID] = uuid_pk()
    workspace_id: Mapped[uuid.UUID] = workspace_fk()
    email: Mapped[str] = mapped_column(String(255), nullable=False)
    role: Mapped[str] = mapped_column(String(50), nullable=False, server_default=text("'viewer'"))
    token: Mapped[str] = mapped_column(String(255), unique=True, nullable=False)
    invited_by: Mapped[uuid.UUID] = fk("users.id")
    expires_at: Mapped[datetime] = ts(nullable=False)
    accepted_at: Mapped[datetime | None] = ts()
    created_at: Mapped[datetime] = created_at()

    __table_args__ = (
        Index("idx_invitations_token", "token"),
        Index("idx_invitations_email", "email"),
    )
