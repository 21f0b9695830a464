"""Operations: background jobs, outgoing webhooks and their delivery log, the audit trail,
and feature flags."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import ARRAY, INET, UUID
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base
from ._columns import count, created_at, fk, flag, jsonb, ts, updated_at, uuid_pk, workspace_fk
from .enums import JobStatus

JOB_STATUSES = tuple(JobStatus)


class Job(Base):
    """The source of truth for background work; arq only carries the job id."""

    __tablename__ = "jobs"

    id: Mapped[uuid.UUID] = uuid_pk()
    workspace_id: Mapped[uuid.UUID] = workspace_fk()
    type: Mapped[str] = mapped_column(String(50), nullable=False)  # video_process, clip_generate, post_publish, ...
    video_id: Mapped[uuid.UUID | None] = fk("videos.id", ondelete="CASCADE", nullable=True)
    clip_id: Mapped[uuid.UUID | None] = fk("clips.id", ondelete="CASCADE", nullable=True)
    post_id: Mapped[uuid.UUID | None] = fk("posts.id", ondelete="CASCADE", nullable=True)
    priority: Mapped[int] = count(0)
    attempts: Mapped[int] = count(0)
    max_attempts: Mapped[int] = count(3)
    status: Mapped[str] = mapped_column(String(50), nullable=False, server_default=text("'pending'"))
    progress: Mapped[int] = count(0)
    progress_message: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None] = ts()
    completed_at: Mapped[datetime | None] = ts()
    input_data: Mapped[dict[str, Any] | None] = jsonb()
    output_data: Mapped[dict[str, Any] | None] = jsonb()
    error: Mapped[str | None] = mapped_column(Text)
    worker_id: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()

    __table_args__ = (
        Index("idx_jobs_status", "status", text("priority DESC"), "created_at"),
        Index("idx_jobs_workspace", "workspace_id"),
        Index("idx_jobs_video", "video_id"),
    )


class Webhook(Base):
    __tablename__ = "webhooks"

    id: Mapped[uuid.UUID] = uuid_pk()
    workspace_id: Mapped[uuid.UUID] = workspace_fk()
    url: Mapped[str] = mapped_column(Text, nullable=False)
    secret: Mapped[str] = mapped_column(String(255), nullable=False)  # signing secret (Standard Webhooks)
    events: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    is_active: Mapped[bool] = flag(True)
    last_triggered_at: Mapped[datetime | None] = ts()
    last_response_code: Mapped[int | None] = mapped_column(Integer)
    failure_count: Mapped[int] = count(0)
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()

    __table_args__ = (Index("idx_webhooks_workspace", "workspace_id"),)


class WebhookLog(Base):
    __tablename__ = "webhook_logs"

    id: Mapped[uuid.UUID] = uuid_pk()
    workspace_id: Mapped[uuid.UUID] = workspace_fk()
    webhook_id: Mapped[uuid.UUID] = fk("webhooks.id", ondelete="CASCADE")
    event_type: Mapped[str] = mapped_column(String(100), nullable=False)
    event_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    request_body: Mapped[dict[str, Any]] = jsonb(nullable=False)
    response_code: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)
    response_time_ms: Mapped[int | None] = mapped_column(Integer)
    success: Mapped[bool] = mapped_column(Boolean, nullable=False)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at()

    __table_args__ = (Index("idx_webhook_logs_webhook", "webhook_id", text("created_at DESC")),)


class AuditLog(Base):
    __tablename__ = "audit_logs"

    id: Mapped[uuid.UUID] = uuid_pk()
    workspace_id: Mapped[uuid.UUID | None] = fk("workspaces.id", ondelete="SET NULL", nullable=True)
    user_id: Mapped[uuid.UUID | None] = fk("users.id", ondelete="SET NULL", nullable=True)
    action: Mapped[str] = mapped_column(String(100), nullable=False)  # user.login, video.upload, clip.delete, ...
    resource_type: Mapped[str | None] = mapped_column(String(50))
    resource_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    details: Mapped[dict[str, Any] | None] = jsonb()
    ip_address: Mapped[str | None] = mapped_column(INET)
    user_agent: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at()

    __table_args__ = (
        Index("idx_audit_logs_workspace", "workspace_id", text("created_at DESC")),
        Index("idx_audit_logs_user", "user_id", text("created_at DESC")),
        Index("idx_audit_logs_action", "action", text("created_at DESC")),
    )


class FeatureFlag(Base):
    __tablename__ = "feature_flags"

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(Text, nullable=False, unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    is_enabled: Mapped[bool] = flag(False)
    rollout_percentage: Mapped[int] = count(0)
    target_users: Mapped[list[str]] = jsonb("[]", nullable=False)
    target_teams: Mapped[list[str]] = jsonb("[]", nullable=False)
    conditions: Mapped[dict[str, Any] | None] = jsonb()
    created_by: Mapped[uuid.UUID | None] = fk("users.id", nullable=True)
    environment: Mapped[str] = mapped_column(Text, nullable=False, server_default=text("'production'"))
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()
