"""Root fields of billing."""

from __future__ import annotations

import strawberry

from ..context import Info
from ..loaders import load_connection
from ..relay import AfterArg, BeforeArg, Connection, FirstArg, LastArg
from .loaders import SubscriptionPlansLoader
from .types import SubscriptionPlan


@strawberry.type
class BillingQueries:
    @strawberry.field(description="Plans on offer.")
    async def subscription_plans(
        self, info: Info, first: FirstArg = None, after: AfterArg = None, last: LastArg = None, before: BeforeArg = None
    ) -> Connection[SubscriptionPlan]:
        return await load_connection(
            info, SubscriptionPlansLoader, SubscriptionPlan, None, first=first, after=after, last=last, before=before
        )
