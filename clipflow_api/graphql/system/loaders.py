"""Loaders for jobs, webhooks and their deliveries, audit logs and feature flags."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, false

from ...models import AuditLog, FeatureFlag, Job, Webhook, WebhookLog
from ..loaders import ByIdLoader, ConnectionByKeyLoader, ListQuery
from ..relay import SortKey, ascending


@dataclass(frozen=True)
class JobFilterKey:
    status: tuple[str, ...] | None = None
    type: tuple[str, ...] | None = None

    @classmethod
    def of(cls, f: Any) -> JobFilterKey | None:
        if f is None:
            return None
        return cls(
            status=tuple(s.value for s in f.status) if f.status else None,
            type=tuple(f.type[:20]) if f.type else None,
        )

    def where(self) -> list[Any]:
        out: list[Any] = []
        if self.status:
            out.append(Job.status.in_(self.status))
        if self.type:
            out.append(Job.type.in_(self.type))
        return out


class JobByIdLoader(ByIdLoader):
    model = Job


class _JobList(ConnectionByKeyLoader):
    model = Job

    def base(self, query: ListQuery) -> Select:
        f: JobFilterKey | None = query.filter  # type: ignore[assignment]
        return super().base(query).where(*(f.where() if f else []))


class JobsByWorkspaceIdLoader(_JobList):
    key = Job.workspace_id


class JobsByVideoIdLoader(_JobList):
    key = Job.video_id


class WebhookByIdLoader(ByIdLoader):
    model = Webhook


class WebhooksByWorkspaceIdLoader(ConnectionByKeyLoader):
    model = Webhook
    key = Webhook.workspace_id


class WebhookLogByIdLoader(ByIdLoader):
    model = WebhookLog


class WebhookLogsByWebhookIdLoader(ConnectionByKeyLoader):
    model = WebhookLog
    key = WebhookLog.webhook_id


class AuditLogByIdLoader(ByIdLoader):
    model = AuditLog

    def visible(self) -> list[ColumnElement[bool]]:
        # RLS also shows a user's own workspace-less entries; node(id:) keeps to the workspace's log.
        wid = self.ctx.principal.workspace_id
        return [AuditLog.workspace_id == wid] if wid else [false()]


class AuditLogsByWorkspaceIdLoader(ConnectionByKeyLoader):
    model = AuditLog
    key = AuditLog.workspace_id


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


FEATURE_FLAG_PERMISSION = "feature_flag:admin"
