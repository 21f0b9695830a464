"""Loaders for plans, subscriptions and usage. No Row-Level Security here (billing is per
user): subscriptions and usage are visible to their own user only."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, false, select

from ...models import Subscription, SubscriptionPlan, UsageLog
from ..auth.loaders import own_rows
from ..loaders import ByIdLoader, ConnectionByKeyLoader, ListByKeyLoader, ListQuery
from ..relay import SortKey, ascending, descending


def _own_usage(ctx: Any) -> list[ColumnElement[bool]]:
    uid = ctx.principal.user_id
    if not uid:
        return [false()]
    return [UsageLog.subscription_id.in_(select(Subscription.id).where(Subscription.user_id == uid))]


class SubscriptionPlanByIdLoader(ByIdLoader):
    model = SubscriptionPlan


class SubscriptionPlansLoader(ConnectionByKeyLoader):
    model = SubscriptionPlan
    key = None

    def base(self, query: ListQuery) -> Select:
        return select(SubscriptionPlan).where(SubscriptionPlan.is_active)

    def order(self, query: ListQuery) -> tuple[SortKey, ...]:
        return (ascending(SubscriptionPlan.sort_order), ascending(SubscriptionPlan.price_monthly))


class SubscriptionByIdLoader(ByIdLoader):
    model = Subscription

    def visible(self) -> list[ColumnElement[bool]]:
        return own_rows(self.ctx, Subscription.user_id)


class SubscriptionsByUserIdLoader(ListByKeyLoader):
    model = Subscription
    key = Subscription.user_id
    order_by = (Subscription.created_at.desc(),)

    def visible(self) -> list[ColumnElement[bool]]:
        return own_rows(self.ctx, Subscription.user_id)


class UsageLogByIdLoader(ByIdLoader):
    model = UsageLog

    def visible(self) -> list[ColumnElement[bool]]:
        return _own_usage(self.ctx)


class UsageLogsBySubscriptionIdLoader(ConnectionByKeyLoader):
    model = UsageLog
    key = UsageLog.subscription_id

    def visible(self) -> list[ColumnElement[bool]]:
        return _own_usage(self.ctx)

    def order(self, query: ListQuery) -> tuple[SortKey, ...]:
        return (descending(UsageLog.date),)
