"""Loaders for the audit trail."""

from __future__ import annotations

from sqlalchemy import ColumnElement, false

from ...models import AuditLog
from ..loaders import ByIdLoader, ConnectionByKeyLoader


class AuditLogByIdLoader(ByIdLoader):
    model = AuditLog

    def visible(self) -> list[ColumnElement[bool]]:
        # RLS also shows a user's own workspace-less entries; node(id:) keeps to the workspace's log.
        wid = self.ctx.principal.workspace_id
        return [AuditLog.workspace_id == wid] if wid else [false()]


class AuditLogsByWorkspaceIdLoader(ConnectionByKeyLoader):
    model = AuditLog
    key = AuditLog.workspace_id
