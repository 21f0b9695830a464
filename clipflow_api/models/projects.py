"""Studio: multi-canvas projects, collaborators, the shared timeline, AI generations,
server-rendered exports and per-project analytics events."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, Numeric, Text, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base
from ._columns import count, created_at, fk, flag, jsonb, ts, updated_at, uuid_pk, workspace_fk


class Project(Base):
    __tablename__ = "projects"

    id: Mapped[uuid.UUID] = uuid_pk()
    workspace_id: Mapped[uuid.UUID] = workspace_fk()  # the design's team_id; every project lives in one
    name: Mapped[str] = mapped_column(Text, nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    template_id: Mapped[uuid.UUID | None] = fk("templates.id", ondelete="SET NULL", nullable=True)
    social_format_id: Mapped[uuid.UUID] = fk("social_formats.id")
    canvases: Mapped[list[dict[str, Any]]] = jsonb(nullable=False)
    active_canvas_id: Mapped[str | None] = mapped_column(Text)
    project_data: Mapped[dict[str, Any]] = jsonb(nullable=False)
    owner_id: Mapped[uuid.UUID] = fk("users.id", ondelete="CASCADE")
    status: Mapped[str] = mapped_column(Text, nullable=False, server_default=text("'draft'"))
    last_edited_by: Mapped[uuid.UUID | None] = fk("users.id", nullable=True)
    last_edited_at: Mapped[datetime | None] = ts(default_now=True)
    exports: Mapped[list[dict[str, Any]]] = jsonb("[]", nullable=False)
    share_settings: Mapped[dict[str, Any] | None] = jsonb()
    ai_generations_used: Mapped[int] = count(0)
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()

    __table_args__ = (
        Index("project_owner_idx", "owner_id"),
        Index("project_team_idx", "workspace_id"),
        Index("project_template_idx", "template_id"),
        Index("project_format_idx", "social_format_id"),
        Index("idx_projects_owner_created", "owner_id", text("created_at DESC")),
    )


class ProjectCollaborator(Base):
    __tablename__ = "project_collaborators"

    id: Mapped[uuid.UUID] = uuid_pk()
    workspace_id: Mapped[uuid.UUID] = workspace_fk()
    project_id: Mapped[uuid.UUID] = fk("projects.id", ondelete="CASCADE")
    user_id: Mapped[uuid.UUID] = fk("users.id", ondelete="CASCADE")
    role: Mapped[str] = mapped_column(Text, nullable=False)  # viewer, editor, admin
    permissions: Mapped[dict[str, Any]] = jsonb(nullable=False)
    status: Mapped[str] = mapped_column(Text, nullable=False, server_default=text("'active'"))
    invited_by: Mapped[uuid.UUID | None] = fk("users.id", nullable=True)
    invited_at: Mapped[datetime | None] = ts()
    joined_at: Mapped[datetime | None] = ts()
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()

    __table_args__ = (Index("project_user_idx", "project_id", "user_id", unique=True),)


class TimelineElement(Base):
    __tablename__ = "timeline_elements"

    id: Mapped[uuid.UUID] = uuid_pk()
    workspace_id: Mapped[uuid.UUID] = workspace_fk()
    project_id: Mapped[uuid.UUID] = fk("projects.id", ondelete="CASCADE")
    canvas_id: Mapped[str] = mapped_column(Text, nullable=False)
    type: Mapped[str] = mapped_column(Text, nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    track_index: Mapped[int] = mapped_column(Integer, nullable=False)
    start_time: Mapped[Decimal] = mapped_column(Numeric(10, 3), nullable=False)
    duration: Mapped[Decimal] = mapped_column(Numeric(10, 3), nullable=False)
    x: Mapped[Decimal] = mapped_column(Numeric(10, 2), nullable=False, server_default=text("0"))
    y: Mapped[Decimal] = mapped_column(Numeric(10, 2), nullable=False, server_default=text("0"))
    width: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    height: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    rotation: Mapped[Decimal] = mapped_column(Numeric(6, 2), nullable=False, server_default=text("0"))
    opacity: Mapped[Decimal] = mapped_column(Numeric(4, 3), nullable=False, server_default=text("1"))
    properties: Mapped[dict[str, Any]] = jsonb(nullable=False)
    ai_generated: Mapped[bool] = flag(False)
    # Points at ai_text_generations or ai_image_generations (by ai_provider/type), so no FK.
    ai_generation_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    ai_provider: Mapped[str | None] = mapped_column(Text)
    is_synced: Mapped[bool] = flag(False)
    sync_group: Mapped[str | None] = mapped_column(Text)
    z_index: Mapped[int] = count(1)
    is_locked: Mapped[bool] = flag(False)
    is_hidden: Mapped[bool] = flag(False)
    created_by: Mapped[uuid.UUID | None] = fk("users.id", nullable=True)
    last_edited_by: Mapped[uuid.UUID | None] = fk("users.id", nullable=True)
    last_edited_at: Mapped[datetime | None] = ts(default_now=True)
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()

    __table_args__ = (
        Index("timeline_element_project_idx", "project_id"),
        Index("timeline_element_canvas_idx", "canvas_id"),
        Index("timeline_element_track_time_idx", "track_index", "start_time"),
        Index("timeline_element_sync_idx", "sync_group"),
        Index("idx_timeline_elements_project_track", "project_id", "track_index", "start_time"),
    )


class AiTextGeneration(Base):
    __tablename__ = "ai_text_generations"

    id: Mapped[uuid.UUID] = uuid_pk()
    workspace_id: Mapped[uuid.UUID] = workspace_fk()
    project_id: Mapped[uuid.UUID] = fk("projects.id", ondelete="CASCADE")
    user_id: Mapped[uuid.UUID] = fk("users.id", ondelete="CASCADE")
    prompt: Mapped[str] = mapped_column(Text, nullable=False)
    context: Mapped[dict[str, Any] | None] = jsonb()
    provider: Mapped[str] = mapped_column(Text, nullable=False)
    model: Mapped[str] = mapped_column(Text, nullable=False)
    generated_text: Mapped[str] = mapped_column(Text, nullable=False)
    alternatives: Mapped[list[str]] = jsonb("[]", nullable=False)
    tokens_used: Mapped[int | None] = mapped_column(Integer)
    cost: Mapped[Decimal | None] = mapped_column(Numeric(10, 6))
    response_time: Mapped[int | None] = mapped_column(Integer)  # milliseconds
    applied_to_element: Mapped[str | None] = mapped_column(Text)
    is_used: Mapped[bool] = flag(False)
    user_rating: Mapped[int | None] = mapped_column(Integer)
    user_feedback: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at()

    __table_args__ = (
        Index("ai_text_project_idx", "project_id"),
        Index("ai_text_user_idx", "user_id"),
        Index("ai_text_provider_idx", "provider"),
        Index("idx_ai_generations_user_date", "user_id", text("created_at DESC")),
    )


class AiImageGeneration(Base):
    __tablename__ = "ai_image_generations"

    id: Mapped[uuid.UUID] = uuid_pk()
    workspace_id: Mapped[uuid.UUID] = workspace_fk()
    project_id: Mapped[uuid.UUID] = fk("projects.id", ondelete="CASCADE")
    user_id: Mapped[uuid.UUID] = fk("users.id", ondelete="CASCADE")
    prompt: Mapped[str] = mapped_column(Text, nullable=False)
    negative_prompt: Mapped[str | None] = mapped_column(Text)
    style: Mapped[str | None] = mapped_column(Text)
    provider: Mapped[str] = mapped_column(Text, nullable=False)
    width: Mapped[int] = mapped_column(Integer, nullable=False)
    height: Mapped[int] = mapped_column(Integer, nullable=False)
    seed: Mapped[int | None] = mapped_column(BigInteger)
    steps: Mapped[int | None] = mapped_column(Integer)
    guidance: Mapped[Decimal | None] = mapped_column(Numeric(4, 2))
    image_url: Mapped[str] = mapped_column(Text, nullable=False)
    thumbnail_url: Mapped[str | None] = mapped_column(Text)
    alternatives: Mapped[list[str]] = jsonb("[]", nullable=False)
    generation_time: Mapped[int | None] = mapped_column(Integer)  # milliseconds
    cost: Mapped[Decimal | None] = mapped_column(Numeric(10, 6))
    applied_to_element: Mapped[str | None] = mapped_column(Text)
    is_used: Mapped[bool] = flag(False)
    user_rating: Mapped[int | None] = mapped_column(Integer)
    user_feedback: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at()

    __table_args__ = (
        Index("ai_image_project_idx", "project_id"),
        Index("ai_image_user_idx", "user_id"),
        Index("ai_image_provider_idx", "provider"),
    )


class ProjectExport(Base):
    __tablename__ = "project_exports"

    id: Mapped[uuid.UUID] = uuid_pk()
    workspace_id: Mapped[uuid.UUID] = workspace_fk()
    project_id: Mapped[uuid.UUID] = fk("projects.id", ondelete="CASCADE")
    user_id: Mapped[uuid.UUID] = fk("users.id", ondelete="CASCADE")
    canvas_id: Mapped[str] = mapped_column(Text, nullable=False)
    social_format_id: Mapped[uuid.UUID] = fk("social_formats.id")
    export_settings: Mapped[dict[str, Any]] = jsonb(nullable=False)
    status: Mapped[str] = mapped_column(Text, nullable=False, server_default=text("'pending'"))
    output_url: Mapped[str | None] = mapped_column(Text)
    thumbnail_url: Mapped[str | None] = mapped_column(Text)
    file_size: Mapped[int | None] = mapped_column(BigInteger)
    duration: Mapped[Decimal | None] = mapped_column(Numeric(10, 3))
    processing_started_at: Mapped[datetime | None] = ts()
    processing_completed_at: Mapped[datetime | None] = ts()
    processing_time: Mapped[int | None] = mapped_column(Integer)  # milliseconds
    error_message: Mapped[str | None] = mapped_column(Text)
    download_count: Mapped[int] = count(0)
    last_downloaded_at: Mapped[datetime | None] = ts()
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()

    __table_args__ = (
        Index("export_project_idx", "project_id"),
        Index("export_user_idx", "user_id"),
        Index("export_status_idx", "status"),
    )


class ProjectAnalytics(Base):
    __tablename__ = "project_analytics"

    id: Mapped[uuid.UUID] = uuid_pk()
    workspace_id: Mapped[uuid.UUID] = workspace_fk()
    project_id: Mapped[uuid.UUID] = fk("projects.id", ondelete="CASCADE")
    user_id: Mapped[uuid.UUID] = fk("users.id", ondelete="CASCADE")
    event_type: Mapped[str] = mapped_column(Text, nullable=False)
    event_data: Mapped[dict[str, Any] | None] = jsonb()
    canvas_id: Mapped[str | None] = mapped_column(Text)
    element_id: Mapped[str | None] = mapped_column(Text)
    session_id: Mapped[str | None] = mapped_column(Text)
    user_agent: Mapped[str | None] = mapped_column(Text)
    ip_address: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at()

    __table_args__ = (
        Index("analytics_project_idx", "project_id"),
        Index("analytics_user_idx", "user_id"),
        Index("analytics_event_idx", "event_type"),
        Index("analytics_date_idx", "created_at"),
        Index("idx_project_analytics_user_event_date", "user_id", "event_type", "created_at"),
    )
