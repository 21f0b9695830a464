"""Plans, subscriptions (one per user, as the design says) and daily usage for metering."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Date, Index, Integer, Numeric, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base
from ._columns import count, created_at, fk, flag, jsonb, ts, updated_at, uuid_pk


class SubscriptionPlan(Base):
    __tablename__ = "subscription_plans"

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(String(50), nullable=False, unique=True)  # free, starter, pro, business, agency
    display_name: Mapped[str] = mapped_column(String(100), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    price_monthly: Mapped[Decimal] = mapped_column(Numeric(10, 2), nullable=False)
    price_yearly: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    stripe_price_id: Mapped[str | None] = mapped_column(String(255))
    videos_per_month: Mapped[int] = mapped_column(Integer, nullable=False)
    clips_per_video: Mapped[int | None] = mapped_column(Integer)  # NULL = unlimited
    max_video_duration: Mapped[int] = mapped_column(Integer, nullable=False)  # seconds
    export_quality: Mapped[str] = mapped_column(String(20), nullable=False)  # 720p, 1080p, 4k
    social_accounts: Mapped[int] = mapped_column(Integer, nullable=False)
    team_members: Mapped[int] = mapped_column(Integer, nullable=False)
    api_requests_daily: Mapped[int | None] = mapped_column(Integer)  # NULL = unlimited
    storage_gb: Mapped[int] = mapped_column(Integer, nullable=False)
    features: Mapped[dict[str, Any]] = jsonb("{}", nullable=False)
    is_active: Mapped[bool] = flag(True)
    sort_order: Mapped[int] = count(0)
    created_at: Mapped[dt.datetime] = created_at()


class Subscription(Base):
    __tablename__ = "subscriptions"

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = fk("users.id", ondelete="CASCADE")
    plan_id: Mapped[uuid.UUID] = fk("subscription_plans.id")
    stripe_customer_id: Mapped[str | None] = mapped_column(String(255))
    stripe_subscription_id: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(50), nullable=False, server_default=text("'active'"))
    billing_cycle: Mapped[str] = mapped_column(String(20), nullable=False, server_default=text("'monthly'"))
    current_period_start: Mapped[dt.datetime] = ts(nullable=False)
    current_period_end: Mapped[dt.datetime] = ts(nullable=False)
    cancel_at_period_end: Mapped[bool] = flag(False)
    videos_used: Mapped[int] = count(0)
    api_requests_today: Mapped[int] = count(0)
    storage_used_bytes: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default=text("0"))
    trial_ends_at: Mapped[dt.datetime | None] = ts()
    created_at: Mapped[dt.datetime] = created_at()
    updated_at: Mapped[dt.datetime] = updated_at()

    __table_args__ = (
        Index("idx_subscriptions_user_id", "user_id"),
        Index("idx_subscriptions_stripe_customer", "stripe_customer_id"),
    )


class UsageLog(Base):
    """Daily usage per subscription (metered billing), also attributable to a user."""

    __tablename__ = "usage_logs"

    id: Mapped[uuid.UUID] = uuid_pk()
    subscription_id: Mapped[uuid.UUID] = fk("subscriptions.id", ondelete="CASCADE")
    user_id: Mapped[uuid.UUID | None] = fk("users.id", ondelete="CASCADE", nullable=True)
    date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    videos_processed: Mapped[int] = count(0)
    clips_generated: Mapped[int] = count(0)
    posts_scheduled: Mapped[int] = count(0)
    api_requests: Mapped[int] = count(0)
    storage_delta_bytes: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default=text("0"))
    processing_minutes: Mapped[Decimal] = mapped_column(Numeric(10, 2), nullable=False, server_default=text("0"))
    created_at: Mapped[dt.datetime] = created_at()

    __table_args__ = (
        UniqueConstraint("subscription_id", "date"),
        Index("idx_usage_logs_date", "subscription_id", "date"),
        Index("idx_usage_logs_user_date", "user_id", text("created_at DESC")),
    )
