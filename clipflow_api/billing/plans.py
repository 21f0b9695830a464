"""The plan of a workspace, written once: its owner's live subscription, else the free plan.

Every plan feature (``subscription_plans.features``: api_access, webhooks, brand_kit, ...)
and limit is checked here, so the API, the principal and the worker cannot disagree about
what a workspace has paid for.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from ..errors import Conflict, ErrorCode
from ..models import SubscriptionPlan
from . import repository

FEATURE_NAMES = {
    "api_access": "API access",
    "webhooks": "webhooks",
    "brand_kit": "the brand kit",
}


class PlanFeatureRequired(Conflict):
    """The workspace's plan does not include a feature; the message names a plan that does.

    A state the workspace can change (upgrade), so a payload error; a request made with an
    API key of such a workspace is refused as a permission failure by ``auth.principal``."""

    default_code = ErrorCode.PLAN_FEATURE_REQUIRED


async def plan_of_workspace(session: AsyncSession, workspace_id: uuid.UUID) -> SubscriptionPlan:
    """The plan paying for the workspace: its owner's newest live subscription, else free."""
    return await repository.live_plan_of_workspace(session, workspace_id) or await repository.plan_named(session, "free")


def has_feature(plan: SubscriptionPlan, feature: str) -> bool:
    return (plan.features or {}).get(feature) is True


async def require_feature(
    session: AsyncSession, workspace_id: uuid.UUID, feature: str, field: str | None = None
) -> SubscriptionPlan:
    """The workspace's plan, or PLAN_FEATURE_REQUIRED naming the plan to upgrade to."""
    plan = await plan_of_workspace(session, workspace_id)
    if has_feature(plan, feature):
        return plan
    upgrade = await repository.cheapest_plan_with(session, feature)
    what = FEATURE_NAMES.get(feature, feature.replace("_", " "))
    advice = f"; upgrade to {upgrade.display_name} or above" if upgrade is not None else ""
    raise PlanFeatureRequired(
        message=f"The {plan.display_name} plan does not include {what}{advice}.", field=field
    )
