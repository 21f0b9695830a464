"""The clip engine's data: source videos, generated clips, caption tracks; plus the media
library (assets, user media, folders) and brand kits that rendering draws on."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Computed, Index, Integer, Numeric, String, Text, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base
from ._columns import count, created_at, fk, flag, jsonb, ts, updated_at, uuid_pk, workspace_fk

from .enums import ClipStatus, VideoStatus

VIDEO_STATUSES = tuple(VideoStatus)
CLIP_STATUSES = tuple(ClipStatus)


class MediaFolder(Base):
    __tablename__ = "media_folders"

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = fk("users.id", ondelete="CASCADE")
    workspace_id: Mapped[uuid.UUID] = workspace_fk()  # the design's team_id
    name: Mapped[str] = mapped_column(Text, nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    color: Mapped[str] = mapped_column(Text, nullable=False, server_default=text("'#3b82f6'"))
    parent_id: Mapped[uuid.UUID | None] = fk("media_folders.id", ondelete="CASCADE", nullable=True)
    is_shared: Mapped[bool] = flag(False)
    sort_order: Mapped[int] = count(0)
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()

    __table_args__ = (
        Index("media_folder_user_idx", "user_id"),
        Index("media_folder_team_idx", "workspace_id"),
        Index("media_folder_parent_idx", "parent_id"),
    )


class Video(Base):
    __tablename__ = "videos"

    id: Mapped[uuid.UUID] = uuid_pk()
    workspace_id: Mapped[uuid.UUID] = workspace_fk()
    uploaded_by: Mapped[uuid.UUID] = fk("users.id")
    title: Mapped[str | None] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    source_type: Mapped[str] = mapped_column(String(50), nullable=False)  # upload, url, youtube, drive, dropbox
    source_url: Mapped[str | None] = mapped_column(Text)
    file_url: Mapped[str] = mapped_column(Text, nullable=False)  # storage key
    file_size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    fps: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    codec: Mapped[str | None] = mapped_column(String(50))
    thumbnail_url: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(50), nullable=False, server_default=text("'pending'"))
    processing_progress: Mapped[int] = count(0)  # 0-100
    processing_started_at: Mapped[datetime | None] = ts()
    processing_completed_at: Mapped[datetime | None] = ts()
    error_message: Mapped[str | None] = mapped_column(Text)
    transcript: Mapped[dict[str, Any] | None] = jsonb()  # word-level timestamps
    language_detected: Mapped[str | None] = mapped_column(String(10))
    topics: Mapped[list[str] | None] = mapped_column(ARRAY(Text))
    key_moments: Mapped[list[dict[str, Any]] | None] = jsonb()
    tags: Mapped[list[str] | None] = mapped_column(ARRAY(Text))
    folder_id: Mapped[uuid.UUID | None] = fk("media_folders.id", ondelete="SET NULL", nullable=True)
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()
    deleted_at: Mapped[datetime | None] = ts()

    __table_args__ = (
        Index("idx_videos_workspace", "workspace_id"),
        Index("idx_videos_status", "status"),
        Index("idx_videos_created", text("created_at DESC")),
    )


class Clip(Base):
    __tablename__ = "clips"

    id: Mapped[uuid.UUID] = uuid_pk()
    video_id: Mapped[uuid.UUID] = fk("videos.id", ondelete="CASCADE")
    workspace_id: Mapped[uuid.UUID] = workspace_fk()
    title: Mapped[str | None] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    start_time: Mapped[Decimal] = mapped_column(Numeric(10, 3), nullable=False)
    end_time: Mapped[Decimal] = mapped_column(Numeric(10, 3), nullable=False)
    duration_seconds: Mapped[Decimal] = mapped_column(Numeric(10, 3), Computed("end_time - start_time", persisted=True))
    file_urls: Mapped[dict[str, str]] = jsonb("{}", nullable=False)  # {"9:16": key, "1:1": key, "16:9": key}
    thumbnail_url: Mapped[str | None] = mapped_column(Text)
    virality_score: Mapped[int | None] = mapped_column(Integer)
    hook_score: Mapped[int | None] = mapped_column(Integer)
    engagement_score: Mapped[int | None] = mapped_column(Integer)
    topics: Mapped[list[str] | None] = mapped_column(ARRAY(Text))
    emotions: Mapped[list[str] | None] = mapped_column(ARRAY(Text))
    transcript_segment: Mapped[str | None] = mapped_column(Text)
    has_captions: Mapped[bool] = flag(False)
    caption_style: Mapped[str | None] = mapped_column(String(50))
    has_music: Mapped[bool] = flag(False)
    music_track_id: Mapped[uuid.UUID | None] = fk("assets.id", ondelete="SET NULL", nullable=True)
    edits_json: Mapped[dict[str, Any] | None] = jsonb()
    status: Mapped[str] = mapped_column(String(50), nullable=False, server_default=text("'generated'"))
    approved_by: Mapped[uuid.UUID | None] = fk("users.id", nullable=True)
    approved_at: Mapped[datetime | None] = ts()
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    times_published: Mapped[int] = count(0)
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()
    deleted_at: Mapped[datetime | None] = ts()

    __table_args__ = (
        Index("idx_clips_video", "video_id"),
        Index("idx_clips_workspace", "workspace_id"),
        Index("idx_clips_virality", text("virality_score DESC")),
        Index("idx_clips_created", text("created_at DESC")),
        # A re-run of the pipeline (a worker killed mid-job) must not make the same clip twice.
        Index("uq_clips_video_span", "video_id", "start_time", "end_time", unique=True, postgresql_where=text("deleted_at IS NULL")),
    )


class Caption(Base):
    __tablename__ = "captions"

    id: Mapped[uuid.UUID] = uuid_pk()
    workspace_id: Mapped[uuid.UUID] = workspace_fk()
    clip_id: Mapped[uuid.UUID] = fk("clips.id", ondelete="CASCADE")
    style: Mapped[str] = mapped_column(String(50), nullable=False)  # hormozi, minimal, bold, karaoke
    font_family: Mapped[str | None] = mapped_column(String(100))
    font_size: Mapped[int | None] = mapped_column(Integer)
    font_color: Mapped[str | None] = mapped_column(String(7))
    background_color: Mapped[str | None] = mapped_column(String(9))  # #RRGGBBAA
    position: Mapped[str] = mapped_column(String(20), nullable=False, server_default=text("'bottom'"))
    words: Mapped[list[dict[str, Any]]] = jsonb(nullable=False)
    srt_url: Mapped[str | None] = mapped_column(Text)
    vtt_url: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(10), nullable=False, server_default=text("'en'"))
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()

    __table_args__ = (Index("idx_captions_clip", "clip_id"),)


class Asset(Base):
    __tablename__ = "assets"

    id: Mapped[uuid.UUID] = uuid_pk()
    workspace_id: Mapped[uuid.UUID | None] = workspace_fk(nullable=True)  # NULL for system assets
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    type: Mapped[str] = mapped_column(String(50), nullable=False)  # image, video, audio, font
    category: Mapped[str | None] = mapped_column(String(50))  # logo, b-roll, music, sfx, thumbnail
    file_url: Mapped[str] = mapped_column(Text, nullable=False)
    file_size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    mime_type: Mapped[str | None] = mapped_column(String(100))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    duration_seconds: Mapped[Decimal | None] = mapped_column(Numeric(10, 3))
    license_type: Mapped[str] = mapped_column(String(50), nullable=False, server_default=text("'user_uploaded'"))
    attribution: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list[str] | None] = mapped_column(ARRAY(Text))
    created_at: Mapped[datetime] = created_at()

    __table_args__ = (
        Index("idx_assets_workspace", "workspace_id"),
        Index("idx_assets_type", "type"),
    )


class UserMedia(Base):
    __tablename__ = "user_media"

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = fk("users.id", ondelete="CASCADE")
    workspace_id: Mapped[uuid.UUID] = workspace_fk()  # the design's team_id
    filename: Mapped[str] = mapped_column(Text, nullable=False)
    original_name: Mapped[str] = mapped_column(Text, nullable=False)
    mime_type: Mapped[str] = mapped_column(Text, nullable=False)
    file_size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    storage_provider: Mapped[str] = mapped_column(Text, nullable=False)  # s3, cloudinary, uploadthing, local
    storage_key: Mapped[str] = mapped_column(Text, nullable=False)
    public_url: Mapped[str] = mapped_column(Text, nullable=False)
    media_type: Mapped[str] = mapped_column(Text, nullable=False)  # image, video, audio, document
    dimensions: Mapped[dict[str, Any] | None] = jsonb()
    duration: Mapped[Decimal | None] = mapped_column(Numeric(10, 3))
    thumbnail_url: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list[str]] = jsonb("[]", nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    folder_id: Mapped[uuid.UUID | None] = fk("media_folders.id", ondelete="SET NULL", nullable=True)
    usage_count: Mapped[int] = count(0)
    last_used_at: Mapped[datetime | None] = ts()
    ai_analysis: Mapped[dict[str, Any] | None] = jsonb()
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()

    __table_args__ = (
        Index("user_media_user_idx", "user_id"),
        Index("user_media_team_idx", "workspace_id"),
        Index("user_media_type_idx", "media_type"),
        Index("user_media_folder_idx", "folder_id"),
    )


class BrandKit(Base):
    __tablename__ = "brand_kits"

    id: Mapped[uuid.UUID] = uuid_pk()
    workspace_id: Mapped[uuid.UUID] = workspace_fk()
    name: Mapped[str] = mapped_column(String(255), nullable=False, server_default=text("'Default'"))
    primary_color: Mapped[str | None] = mapped_column(String(7))
    secondary_color: Mapped[str | None] = mapped_column(String(7))
    accent_color: Mapped[str | None] = mapped_column(String(7))
    background_color: Mapped[str | None] = mapped_column(String(7))
    text_color: Mapped[str | None] = mapped_column(String(7))
    heading_font: Mapped[str | None] = mapped_column(String(100))
    body_font: Mapped[str | None] = mapped_column(String(100))
    logo_url: Mapped[str | None] = mapped_column(Text)
    logo_dark_url: Mapped[str | None] = mapped_column(Text)
    icon_url: Mapped[str | None] = mapped_column(Text)
    watermark_url: Mapped[str | None] = mapped_column(Text)
    watermark_position: Mapped[str | None] = mapped_column(String(20))
    watermark_opacity: Mapped[Decimal | None] = mapped_column(Numeric(3, 2))
    voice_guidelines: Mapped[str | None] = mapped_column(Text)
    default_hashtags: Mapped[list[str] | None] = mapped_column(ARRAY(Text))
    default_mentions: Mapped[list[str] | None] = mapped_column(ARRAY(Text))
    is_default: Mapped[bool] = flag(False)
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()

    __table_args__ = (
        Index("idx_brand_kits_workspace", "workspace_id"),
        Index("uq_brand_kits_default", "workspace_id", unique=True, postgresql_where=text("is_default")),
    )
