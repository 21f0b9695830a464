"""Billing SQL: plans and the subscriptions that pay for workspaces."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import Subscription, SubscriptionPlan, Workspace
from ..models.enums import LIVE_SUBSCRIPTION_STATUSES


async def live_plan_of_workspace(session: AsyncSession, workspace_id: uuid.UUID) -> SubscriptionPlan | None:
    """The plan of the workspace owner's newest live subscription (the higher of two started together)."""
    live = (
        select(SubscriptionPlan)
        .join(Subscription, Subscription.plan_id == SubscriptionPlan.id)
        .join(Workspace, Workspace.owner_id == Subscription.user_id)
        .where(Workspace.id == workspace_id, Subscription.status.in_(LIVE_SUBSCRIPTION_STATUSES))
        .order_by(Subscription.created_at.desc(), SubscriptionPlan.sort_order.desc())
        .limit(1)
    )
    return (await session.execute(live)).scalar_one_or_none()


async def plan_named(session: AsyncSession, name: str) -> SubscriptionPlan:
    return (await session.execute(select(SubscriptionPlan).where(SubscriptionPlan.name == name))).scalar_one()


async def cheapest_plan_with(session: AsyncSession, feature: str) -> SubscriptionPlan | None:
    """The cheapest active plan whose features include ``feature``."""
    return (
        await session.execute(
            select(SubscriptionPlan)
            .where(SubscriptionPlan.is_active, SubscriptionPlan.features[feature].as_boolean().is_(True))
            .order_by(SubscriptionPlan.sort_order, SubscriptionPlan.price_monthly)
            .limit(1)
        )
    ).scalar_one_or_none()
