"""Feature flag mutations over clipflow_api.feature_flags.service (platform staff only)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from ...feature_flags import service as flags
from ..base import IdArg
from ..context import Info
from ..errors import MutationError
from ..mutations import node_id, run, to_domain
from ..permissions import Require
from .inputs import FeatureFlagCreateInput, FeatureFlagInput
from .loaders import FEATURE_FLAG_PERMISSION
from .types import FeatureFlag


@strawberry.type(description="A refused feature flag change.")
class FeatureFlagError(MutationError):
    pass


@strawberry.type(description="The result of a feature flag mutation.")
class FeatureFlagPayload:
    feature_flag: FeatureFlag | None = strawberry.field(
        default=None, description="The feature_flag after the change (null when refused)."
    )
    errors: list[FeatureFlagError] = strawberry.field(default_factory=list, description="Why the change was refused; empty on success.")


@strawberry.type
class FeatureFlagMutations:
    @strawberry.mutation(description="Create a feature flag (platform administrators).", permission_classes=[Require(FEATURE_FLAG_PERMISSION)])
    async def feature_flag_create(
        self, info: Info, input: Annotated[FeatureFlagCreateInput, strawberry.argument(description="The flag.")]
    ) -> FeatureFlagPayload | None:
        async def work(session):  # noqa: ANN001, ANN202
            row = await flags.create_flag(session, info.context.principal, to_domain(input, flags.FeatureFlagChanges))
            return FeatureFlag.from_row(row)

        return await run(info, FeatureFlagPayload, FeatureFlagError, "feature_flag", work)

    @strawberry.mutation(description="Change a feature flag (platform administrators).", permission_classes=[Require(FEATURE_FLAG_PERMISSION)])
    async def feature_flag_update(
        self, info: Info, id: IdArg, input: Annotated[FeatureFlagInput, strawberry.argument(description="The changes.")]
    ) -> FeatureFlagPayload | None:
        async def work(session):  # noqa: ANN001, ANN202
            row = await flags.update_flag(session, info.context.principal, node_id(id, FeatureFlag), to_domain(input, flags.FeatureFlagChanges))
            return FeatureFlag.from_row(row)

        return await run(info, FeatureFlagPayload, FeatureFlagError, "feature_flag", work)
