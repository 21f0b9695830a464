"""The social formats catalogue, template categories and templates (video, caption, post, canvas)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, Numeric, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base
from ._columns import count, created_at, fk, flag, jsonb, updated_at, uuid_pk, workspace_fk


class SocialFormat(Base):
    """One publishable format (e.g. Instagram Reel 1080x1920); editable rows, seeded by a migration."""

    __tablename__ = "social_formats"

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(Text, nullable=False)
    slug: Mapped[str] = mapped_column(Text, nullable=False, unique=True)
    platform: Mapped[str] = mapped_column(Text, nullable=False)
    width: Mapped[int] = mapped_column(Integer, nullable=False)
    height: Mapped[int] = mapped_column(Integer, nullable=False)
    aspect_ratio: Mapped[str] = mapped_column(Text, nullable=False)
    max_duration: Mapped[int | None] = mapped_column(Integer)  # seconds; NULL for static formats
    recommended_formats: Mapped[list[str]] = jsonb("[]", nullable=False)
    max_file_size: Mapped[int | None] = mapped_column(BigInteger)  # bytes
    supported_features: Mapped[dict[str, Any]] = jsonb(nullable=False)
    safe_zones: Mapped[list[dict[str, Any]]] = jsonb("[]", nullable=False)
    branding_guidelines: Mapped[dict[str, Any] | None] = jsonb()
    is_active: Mapped[bool] = flag(True)
    sort_order: Mapped[int] = count(0)
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()


class TemplateCategory(Base):
    __tablename__ = "template_categories"

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(Text, nullable=False)
    slug: Mapped[str] = mapped_column(Text, nullable=False, unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    icon: Mapped[str | None] = mapped_column(Text)
    parent_id: Mapped[uuid.UUID | None] = fk("template_categories.id", nullable=True)
    is_active: Mapped[bool] = flag(True)
    sort_order: Mapped[int] = count(0)
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()


class Template(Base):
    """Both designs' templates in one table. ``workspace_id`` (the design's team_id) is NULL
    for system templates; a caption or post template has no format or category, so those
    two references are nullable here although the canvas design requires them."""

    __tablename__ = "templates"

    id: Mapped[uuid.UUID] = uuid_pk()
    workspace_id: Mapped[uuid.UUID | None] = workspace_fk(nullable=True)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    type: Mapped[str] = mapped_column(String(50), nullable=False, server_default=text("'video'"))  # video, caption, post, canvas
    category: Mapped[str | None] = mapped_column(String(100))  # free-form: marketing, education, ...
    category_id: Mapped[uuid.UUID | None] = fk("template_categories.id", nullable=True)
    tags: Mapped[list[str]] = jsonb("[]", nullable=False)
    social_format_id: Mapped[uuid.UUID | None] = fk("social_formats.id", nullable=True)
    thumbnail_url: Mapped[str | None] = mapped_column(Text)
    preview_url: Mapped[str | None] = mapped_column(Text)
    template_data: Mapped[dict[str, Any]] = jsonb(nullable=False)
    ai_prompts: Mapped[dict[str, Any] | None] = jsonb()
    placeholders: Mapped[list[dict[str, Any]]] = jsonb("[]", nullable=False)
    usage_count: Mapped[int] = count(0)
    rating: Mapped[Decimal] = mapped_column(Numeric(3, 2), nullable=False, server_default=text("0"))
    rating_count: Mapped[int] = count(0)
    is_public: Mapped[bool] = flag(False)  # shared with every workspace (RLS lets them read it)
    is_premium: Mapped[bool] = flag(False)
    visibility: Mapped[str] = mapped_column(Text, nullable=False, server_default=text("'public'"))  # public, private, team, premium
    is_active: Mapped[bool] = flag(True)
    is_featured: Mapped[bool] = flag(False)
    created_by: Mapped[uuid.UUID | None] = fk("users.id", nullable=True)
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()

    __table_args__ = (
        Index("idx_templates_workspace", "workspace_id"),
        Index("idx_templates_category", "category"),
        Index("template_format_category_idx", "social_format_id", "category_id"),
        Index("template_created_by_idx", "created_by"),
        Index("idx_templates_category_active", "category_id", "is_active", "is_featured"),
        Index("idx_templates_format_rating", "social_format_id", text("rating DESC")),
    )
