"""Billing types: plans (public), the viewer's subscription and daily usage.
Stripe identifiers stay internal."""

from __future__ import annotations

import datetime as dt
import uuid

import strawberry
from strawberry import relay

from ..base import JSON, RowType, desc
from ..context import Info
from ..enums import BillingCycle, SubscriptionStatus
from ..loaders import load_connection, load_one
from ..relay import AfterArg, BeforeArg, Connection, FirstArg, LastArg


@strawberry.type(description="A plan a user can subscribe to, with its limits.")
class SubscriptionPlan(relay.Node, RowType):
    id: relay.NodeID[uuid.UUID]
    name: str = desc("free, starter, pro, business or agency.")
    display_name: str = desc("Name shown to users.")
    description: str | None = desc("What the plan offers.")
    price_monthly: float = desc("Price per month.")
    price_yearly: float | None = desc("Price per year.")
    videos_per_month: int = desc("Videos processed per month.")
    clips_per_video: int | None = desc("Clips per video (null: unlimited).")
    max_video_duration: int = desc("Longest video in seconds.")
    export_quality: str = desc("720p, 1080p or 4k.")
    social_accounts: int = desc("Connected social accounts allowed.")
    team_members: int = desc("Team members allowed.")
    api_requests_daily: int | None = desc("API requests per day (null: unlimited).")
    storage_gb: int = desc("Storage in GB.")
    features: JSON = desc("Feature switches of the plan.")
    is_active: bool = desc("Whether the plan is offered.")
    sort_order: int = desc("Position in lists.")


@strawberry.type(name="PlanSubscription", description="The viewer's subscription to a plan.")
class Subscription(relay.Node, RowType):
    id: relay.NodeID[uuid.UUID]
    plan_id: strawberry.Private[uuid.UUID]
    status: SubscriptionStatus = desc("The state of the subscription (a lapsed one falls back to the free plan).")
    billing_cycle: BillingCycle = desc("How often the subscription is billed.")
    current_period_start: dt.datetime = desc("Start of the billing period.")
    current_period_end: dt.datetime = desc("End of the billing period.")
    cancel_at_period_end: bool = desc("Whether the subscription ends with the period.")
    videos_used: int = desc("Videos processed this period.")
    api_requests_today: int = desc("API requests today.")
    storage_used_bytes: float = desc("Storage used in bytes.")
    trial_ends_at: dt.datetime | None = desc("When the trial ends.")
    created_at: dt.datetime = desc("When the subscription started.")

    @strawberry.field(description="The plan subscribed to.")
    async def plan(self, info: Info) -> SubscriptionPlan | None:
        return await load_one(info, SubscriptionPlanByIdLoader, SubscriptionPlan, self.plan_id)

    @strawberry.field(description="Daily usage, newest first.")
    async def usage(
        self, info: Info, first: FirstArg = None, after: AfterArg = None, last: LastArg = None, before: BeforeArg = None
    ) -> Connection[UsageLog]:
        return await load_connection(
            info, UsageLogsBySubscriptionIdLoader, UsageLog, self.id, first=first, after=after, last=last, before=before
        )


@strawberry.type(description="One day of metered usage.")
class UsageLog(relay.Node, RowType):
    id: relay.NodeID[uuid.UUID]
    date: dt.date = desc("The day.")
    videos_processed: int = desc("Videos processed.")
    clips_generated: int = desc("Clips generated.")
    posts_scheduled: int = desc("Posts scheduled.")
    api_requests: int = desc("API requests.")
    storage_delta_bytes: float = desc("Change in storage, bytes.")
    processing_minutes: float = desc("Processing minutes used.")
    created_at: dt.datetime = desc("When the day was recorded.")


from .loaders import SubscriptionPlanByIdLoader, UsageLogsBySubscriptionIdLoader  # noqa: E402
