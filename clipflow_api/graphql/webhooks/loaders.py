"""Loaders for webhooks and their deliveries."""

from __future__ import annotations

from ...models import Webhook, WebhookLog
from ..loaders import ByIdLoader, ConnectionByKeyLoader


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
