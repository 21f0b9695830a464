"""Loaders for feature flags (a global table: no RLS, visibility is the permission)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, false

from ...feature_flags.service import PERMISSION as FEATURE_FLAG_PERMISSION
from ...models import FeatureFlag
from ..loaders import ConnectionByKeyLoader, ByIdLoader, ListQuery
from ..relay import SortKey, ascending

__all__ = ["FEATURE_FLAG_PERMISSION", "FeatureFlagByIdLoader", "FeatureFlagsLoader"]


class FeatureFlagByIdLoader(ByIdLoader):
    """Global table (no RLS): only callers who may manage flags see them."""

    model = FeatureFlag

    def visible(self) -> list[ColumnElement[bool]]:
        return [] if FEATURE_FLAG_PERMISSION in self.ctx.principal.permissions else [false()]


class FeatureFlagsLoader(ConnectionByKeyLoader):
    model = FeatureFlag
    key = None

    def order(self, query: ListQuery) -> tuple[SortKey, ...]:
        return (ascending(FeatureFlag.name),)
