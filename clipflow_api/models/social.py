"""Publishing: connected social accounts, posts, their metrics and comments, account analytics."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Date, Index, Integer, Numeric, String, Text, UniqueConstraint, text
from sqlalchemy import text as sql_text  # Comment has a column named "text"
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base
from ._columns import count, created_at, fk, flag, jsonb, ts, updated_at, uuid_pk, workspace_fk
from .enums import Platform

PLATFORMS = tuple(Platform)


class SocialAccount(Base):
    __tablename__ = "social_accounts"

    id: Mapped[uuid.UUID] = uuid_pk()
    workspace_id: Mapped[uuid.UUID] = workspace_fk()
    platform: Mapped[str] = mapped_column(String(50), nullable=False)
    platform_user_id: Mapped[str] = mapped_column(String(255), nullable=False)
    username: Mapped[str | None] = mapped_column(String(255))
    display_name: Mapped[str | None] = mapped_column(String(255))
    profile_image_url: Mapped[str | None] = mapped_column(Text)
    access_token: Mapped[str] = mapped_column(Text, nullable=False)  # AES-256-GCM, never plaintext
    refresh_token: Mapped[str | None] = mapped_column(Text)
    token_expires_at: Mapped[dt.datetime | None] = ts()
    account_type: Mapped[str | None] = mapped_column(String(50))  # personal, business, creator
    follower_count: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(50), nullable=False, server_default=text("'active'"))  # SocialAccountStatus
    last_error: Mapped[str | None] = mapped_column(Text)  # why reconnect_required, in words a user understands
    # what the platform granted, and what publishing needs to know of the account (channel and
    # uploads playlist, Instagram user id, TikTok creator limits), never a secret
    scopes: Mapped[list[str] | None] = mapped_column(ARRAY(Text))
    platform_data: Mapped[dict[str, Any]] = jsonb("{}", nullable=False)
    last_sync_at: Mapped[dt.datetime | None] = ts()
    created_at: Mapped[dt.datetime] = created_at()
    updated_at: Mapped[dt.datetime] = updated_at()

    __table_args__ = (
        UniqueConstraint("workspace_id", "platform", "platform_user_id"),
        Index("idx_social_accounts_workspace", "workspace_id"),
        Index("idx_social_accounts_platform", "platform"),
        Index("idx_social_accounts_token_expiry", "token_expires_at", postgresql_where=text("status = 'active'")),
    )


class Post(Base):
    __tablename__ = "posts"

    id: Mapped[uuid.UUID] = uuid_pk()
    workspace_id: Mapped[uuid.UUID] = workspace_fk()
    social_account_id: Mapped[uuid.UUID] = fk("social_accounts.id", ondelete="CASCADE")
    clip_id: Mapped[uuid.UUID | None] = fk("clips.id", ondelete="SET NULL", nullable=True)
    caption: Mapped[str | None] = mapped_column(Text)
    hashtags: Mapped[list[str] | None] = mapped_column(ARRAY(Text))
    mentions: Mapped[list[str] | None] = mapped_column(ARRAY(Text))
    media_urls: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    media_type: Mapped[str] = mapped_column(String(50), nullable=False)  # video, image, carousel
    thumbnail_url: Mapped[str | None] = mapped_column(Text)
    platform_options: Mapped[dict[str, Any]] = jsonb("{}", nullable=False)
    status: Mapped[str] = mapped_column(String(50), nullable=False, server_default=text("'draft'"))  # PostStatus
    # posts made together for several accounts: a client shows them as one
    group_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    scheduled_at: Mapped[dt.datetime | None] = ts()
    # a retry after 429/5xx waits until then (Retry-After); the sweeper respects it
    next_attempt_at: Mapped[dt.datetime | None] = ts()
    # exactly once: set, and committed, right before the call that creates the post on the
    # platform; a publish that finds it set (a crash, a kill, a timeout) reconciles first
    publish_started_at: Mapped[dt.datetime | None] = ts()
    # the platform's handle of an upload in flight (upload session, publish id, container id)
    publish_ref: Mapped[str | None] = mapped_column(Text)
    publish_attempts: Mapped[int] = count(0)
    upload_progress: Mapped[int] = count(0)  # percent of the file the platform has
    approval_comment: Mapped[str | None] = mapped_column(Text)  # why a reviewer rejected it
    published_at: Mapped[dt.datetime | None] = ts()
    platform_post_id: Mapped[str | None] = mapped_column(String(255))
    platform_url: Mapped[str | None] = mapped_column(Text)
    publish_error: Mapped[str | None] = mapped_column(Text)
    needs_approval: Mapped[bool] = flag(False)
    approved_by: Mapped[uuid.UUID | None] = fk("users.id", nullable=True)
    approved_at: Mapped[dt.datetime | None] = ts()
    last_metrics_sync: Mapped[dt.datetime | None] = ts()
    created_by: Mapped[uuid.UUID] = fk("users.id")
    created_at: Mapped[dt.datetime] = created_at()
    updated_at: Mapped[dt.datetime] = updated_at()
    deleted_at: Mapped[dt.datetime | None] = ts()

    __table_args__ = (
        Index("idx_posts_workspace", "workspace_id"),
        Index("idx_posts_social_account", "social_account_id"),
        Index("idx_posts_clip", "clip_id"),
        Index("idx_posts_scheduled", "scheduled_at", postgresql_where=text("status = 'scheduled'")),
        Index("idx_posts_status", "status"),
        Index("idx_posts_group", "group_id", postgresql_where=text("group_id IS NOT NULL")),
    )


class PostMetric(Base):
    __tablename__ = "post_metrics"

    id: Mapped[uuid.UUID] = uuid_pk()
    workspace_id: Mapped[uuid.UUID] = workspace_fk()
    post_id: Mapped[uuid.UUID] = fk("posts.id", ondelete="CASCADE")
    recorded_at: Mapped[dt.datetime] = ts(nullable=False)
    views: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default=text("0"))
    likes: Mapped[int] = count(0)
    comments: Mapped[int] = count(0)
    shares: Mapped[int] = count(0)
    saves: Mapped[int] = count(0)
    watch_time_seconds: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default=text("0"))
    avg_watch_percent: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    impressions: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default=text("0"))
    reach: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default=text("0"))
    profile_visits: Mapped[int] = count(0)
    follows: Mapped[int] = count(0)
    link_clicks: Mapped[int] = count(0)
    raw_data: Mapped[dict[str, Any] | None] = jsonb()
    created_at: Mapped[dt.datetime] = created_at()

    __table_args__ = (
        Index("idx_post_metrics_post", "post_id"),
        Index("idx_post_metrics_recorded", "post_id", text("recorded_at DESC")),
    )


class Comment(Base):
    __tablename__ = "comments"

    id: Mapped[uuid.UUID] = uuid_pk()
    workspace_id: Mapped[uuid.UUID] = workspace_fk()
    post_id: Mapped[uuid.UUID] = fk("posts.id", ondelete="CASCADE")
    social_account_id: Mapped[uuid.UUID] = fk("social_accounts.id", ondelete="CASCADE")
    platform_comment_id: Mapped[str] = mapped_column(String(255), nullable=False)
    parent_comment_id: Mapped[uuid.UUID | None] = fk("comments.id", nullable=True)
    author_id: Mapped[str | None] = mapped_column(String(255))
    author_username: Mapped[str | None] = mapped_column(String(255))
    author_display_name: Mapped[str | None] = mapped_column(String(255))
    author_avatar_url: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    sentiment: Mapped[str | None] = mapped_column(String(20))
    sentiment_score: Mapped[Decimal | None] = mapped_column(Numeric(4, 3))
    is_read: Mapped[bool] = flag(False)
    is_archived: Mapped[bool] = flag(False)
    is_spam: Mapped[bool] = flag(False)
    replied: Mapped[bool] = flag(False)
    replied_by: Mapped[uuid.UUID | None] = fk("users.id", nullable=True)
    replied_at: Mapped[dt.datetime | None] = ts()
    reply_text: Mapped[str | None] = mapped_column(Text)
    posted_at: Mapped[dt.datetime] = ts(nullable=False)
    created_at: Mapped[dt.datetime] = created_at()
    updated_at: Mapped[dt.datetime] = updated_at()

    __table_args__ = (
        Index("idx_comments_post", "post_id"),
        Index("idx_comments_unread", "social_account_id", "is_read", postgresql_where=sql_text("NOT is_read")),
        Index("idx_comments_posted", sql_text("posted_at DESC")),
    )


class AccountAnalytics(Base):
    __tablename__ = "account_analytics"

    id: Mapped[uuid.UUID] = uuid_pk()
    workspace_id: Mapped[uuid.UUID] = workspace_fk()
    social_account_id: Mapped[uuid.UUID] = fk("social_accounts.id", ondelete="CASCADE")
    date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    followers: Mapped[int | None] = mapped_column(Integer)
    followers_gained: Mapped[int | None] = mapped_column(Integer)
    followers_lost: Mapped[int | None] = mapped_column(Integer)
    total_views: Mapped[int | None] = mapped_column(BigInteger)
    total_likes: Mapped[int | None] = mapped_column(Integer)
    total_comments: Mapped[int | None] = mapped_column(Integer)
    total_shares: Mapped[int | None] = mapped_column(Integer)
    posts_published: Mapped[int | None] = mapped_column(Integer)
    engagement_rate: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    demographics: Mapped[dict[str, Any] | None] = jsonb()
    created_at: Mapped[dt.datetime] = created_at()

    __table_args__ = (
        UniqueConstraint("social_account_id", "date"),
        Index("idx_account_analytics_account_date", "social_account_id", text("date DESC")),
    )


class OutboxEvent(Base):
    """An event written in the transaction that caused it (``events/outbox.py``); delivered later."""

    __tablename__ = "outbox_events"

    id: Mapped[uuid.UUID] = uuid_pk()
    workspace_id: Mapped[uuid.UUID] = workspace_fk()
    type: Mapped[str] = mapped_column(String(100), nullable=False)  # OutboxEventType
    payload: Mapped[dict[str, Any]] = jsonb("{}", nullable=False)
    created_at: Mapped[dt.datetime] = created_at()
    delivered_at: Mapped[dt.datetime | None] = ts()

    __table_args__ = (
        Index("idx_outbox_events_undelivered", "created_at", postgresql_where=text("delivered_at IS NULL")),
        Index("idx_outbox_events_workspace", "workspace_id", "created_at"),
    )
