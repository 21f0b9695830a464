"""Root fields for feature flags (platform administrators)."""

from __future__ import annotations

import strawberry

from ..context import Info
from ..loaders import load_connection
from ..permissions import Require
from ..relay import AfterArg, BeforeArg, Connection, FirstArg, LastArg
from .loaders import FEATURE_FLAG_PERMISSION, FeatureFlagsLoader
from .types import FeatureFlag


@strawberry.type
class FeatureFlagQueries:
    @strawberry.field(description="Every feature flag.", permission_classes=[Require(FEATURE_FLAG_PERMISSION)])
    async def feature_flags(
        self, info: Info, first: FirstArg = None, after: AfterArg = None, last: LastArg = None, before: BeforeArg = None
    ) -> Connection[FeatureFlag]:
        return await load_connection(info, FeatureFlagsLoader, FeatureFlag, None, first=first, after=after, last=last, before=before)
