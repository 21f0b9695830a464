"""Webhook and feature flag mutations.

Webhook signing secrets (Standard Webhooks ``whsec_<base64>``) are generated here, shown
once in the payload, and stored encrypted (``crypto.encrypt_token`` with
``webhooks.secret:<id>`` as associated data) for the delivery worker to decrypt.
"""

from __future__ import annotations

import base64
import secrets
import uuid
from typing import Annotated, Any
from urllib.parse import urlsplit

import strawberry

from ...billing.plans import require_feature
from ...crypto import encrypt_token
from ...db import as_platform_staff
from ...models import FeatureFlag as FeatureFlagRow
from ...models import Webhook as WebhookRow
from ..base import desc
from ..errors import error_type
from ..mutations import delete_recorded, Refused, check_list, check_text, get_row, given, node_id, payload, record, refreshed, run
from ..permissions import Require
from .inputs import FeatureFlagCreateInput, FeatureFlagInput, WebhookCreateInput, WebhookUpdateInput
from .loaders import FEATURE_FLAG_PERMISSION
from .types import FeatureFlag, Webhook

WebhookError = error_type("Webhook", "A refused webhook change.")
FeatureFlagError = error_type("FeatureFlag", "A refused feature flag change.")
WebhookPayload = payload("Webhook", "webhook", Webhook, WebhookError, "The result of a webhook mutation.")
FeatureFlagPayload = payload("FeatureFlag", "feature_flag", FeatureFlag, FeatureFlagError, "The result of a feature flag mutation.")
IdArg = Annotated[strawberry.ID, strawberry.argument(description="The object's id.")]


@strawberry.type(description="The result of webhookCreate or webhookUpdate: a new secret is shown here once.")
class WebhookSecretPayload:
    webhook: Webhook | None = desc("The webhook after the change.", default=None)
    secret: str | None = desc("The signing secret (whsec_...), when one was generated. Store it now: it is never shown again.", default=None)
    errors: list[WebhookError] = desc("Why it was refused; empty on success.", default_factory=list)  # type: ignore[valid-type]


def new_webhook_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _check_url(url: str, info: Any) -> str:
    url = check_text(url, "url", max_length=2000, required=True) or ""
    parts = urlsplit(url)
    allowed = ("https",) if info.context.settings.is_production else ("https", "http")
    if parts.scheme not in allowed or not parts.hostname:
        raise Refused("INVALID", "Use an https:// URL.", "url")
    return url


def _check_events(events: list[str]) -> list[str]:
    check_list(events, "events")
    cleaned = [e.strip() for e in events if e.strip()]
    if not cleaned:
        raise Refused("REQUIRED", "Choose at least one event.", "events")
    if any(len(e) > 100 for e in cleaned):
        raise Refused("INVALID", "Event names are at most 100 characters.", "events")
    return list(dict.fromkeys(cleaned))


@strawberry.type
class SystemMutations:
    @strawberry.mutation(description="Add a webhook; its signing secret is returned once.", permission_classes=[Require("webhook:manage")])
    async def webhook_create(
        self, info: strawberry.Info, input: Annotated[WebhookCreateInput, strawberry.argument(description="The webhook.")]
    ) -> WebhookSecretPayload | None:
        out: dict = {}

        async def work(session):  # noqa: ANN001, ANN202
            await require_feature(session, info.context.principal.workspace_id, "webhooks")
            row_id = uuid.uuid4()
            secret = new_webhook_secret()
            row = WebhookRow(
                id=row_id, workspace_id=info.context.principal.workspace_id, url=_check_url(input.url, info),
                events=_check_events(input.events), is_active=input.is_active,
                secret=encrypt_token(secret, associated_data=f"webhooks.secret:{row_id}"),
            )
            session.add(row)
            await refreshed(session, row)
            await record(session, info, "webhook.create", "webhook", row.id, {"url": row.url, "events": row.events})
            out["secret"] = secret
            return Webhook.from_row(row)

        result = await run(info, WebhookPayload, WebhookError, "webhook", work)
        return WebhookSecretPayload(webhook=result.webhook, secret=out.get("secret") if result.webhook else None, errors=result.errors)

    @strawberry.mutation(description="Change a webhook, or rotate its secret.", permission_classes=[Require("webhook:manage")])
    async def webhook_update(
        self, info: strawberry.Info, id: IdArg, input: Annotated[WebhookUpdateInput, strawberry.argument(description="The changes.")]
    ) -> WebhookSecretPayload | None:
        out: dict = {}

        async def work(session):  # noqa: ANN001, ANN202
            row = await get_row(session, WebhookRow, node_id(id, Webhook))
            changes: dict[str, Any] = {}
            if given(input.url) and input.url is not None:
                changes["url"] = row.url = _check_url(input.url, info)
            if given(input.events) and input.events is not None:
                changes["events"] = row.events = _check_events(input.events)
            if given(input.is_active) and input.is_active is not None:
                changes["is_active"] = row.is_active = input.is_active
                if input.is_active:
                    row.failure_count = 0
            if input.rotate_secret:
                secret = new_webhook_secret()
                row.secret = encrypt_token(secret, associated_data=f"webhooks.secret:{row.id}")
                out["secret"] = secret
                changes["secret_rotated"] = True
            await refreshed(session, row)
            await record(session, info, "webhook.update", "webhook", row.id, changes)
            return Webhook.from_row(row)

        result = await run(info, WebhookPayload, WebhookError, "webhook", work)
        return WebhookSecretPayload(webhook=result.webhook, secret=out.get("secret") if result.webhook else None, errors=result.errors)

    @strawberry.mutation(description="Delete a webhook and its delivery log.", permission_classes=[Require("webhook:manage")])
    async def webhook_delete(self, info: strawberry.Info, id: IdArg) -> WebhookPayload | None:  # type: ignore[valid-type]
        async def work(session):  # noqa: ANN001, ANN202
            row = await get_row(session, WebhookRow, node_id(id, Webhook))
            return await delete_recorded(session, info, row, Webhook, "webhook", {"url": row.url})

        return await run(info, WebhookPayload, WebhookError, "webhook", work)

    @strawberry.mutation(description="Create a feature flag (platform administrators).", permission_classes=[Require(FEATURE_FLAG_PERMISSION)])
    async def feature_flag_create(
        self, info: strawberry.Info, input: Annotated[FeatureFlagCreateInput, strawberry.argument(description="The flag.")]
    ) -> FeatureFlagPayload | None:  # type: ignore[valid-type]
        async def work(session):  # noqa: ANN001, ANN202
            await as_platform_staff(session)  # RLS: only this staff-only path writes flags
            row = FeatureFlagRow(created_by=info.context.principal.user_id)
            changes = _apply_flag(row, input)
            session.add(row)
            try:
                async with session.begin_nested():
                    await session.flush()
            except Exception as exc:  # noqa: BLE001 - the unique name is the only constraint that can fail here
                if "unique" in str(exc).lower():
                    raise Refused("UNIQUE", "A flag with this name exists.", "name") from None
                raise
            await refreshed(session, row)
            await record(session, info, "feature_flag.create", "feature_flag", row.id, changes)
            return FeatureFlag.from_row(row)

        return await run(info, FeatureFlagPayload, FeatureFlagError, "feature_flag", work)

    @strawberry.mutation(description="Change a feature flag (platform administrators).", permission_classes=[Require(FEATURE_FLAG_PERMISSION)])
    async def feature_flag_update(
        self, info: strawberry.Info, id: IdArg, input: Annotated[FeatureFlagInput, strawberry.argument(description="The changes.")]
    ) -> FeatureFlagPayload | None:  # type: ignore[valid-type]
        async def work(session):  # noqa: ANN001, ANN202
            await as_platform_staff(session)
            row = await get_row(session, FeatureFlagRow, node_id(id, FeatureFlag))
            changes = _apply_flag(row, input)
            await refreshed(session, row)
            await record(session, info, "feature_flag.update", "feature_flag", row.id, changes)
            return FeatureFlag.from_row(row)

        return await run(info, FeatureFlagPayload, FeatureFlagError, "feature_flag", work)


def _apply_flag(row: Any, data: FeatureFlagInput) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if given(data.name) and data.name is not None:
        changes["name"] = row.name = check_text(data.name, "name", max_length=100, required=True)
    if given(data.description):
        changes["description"] = row.description = check_text(data.description, "description", max_length=2000)
    if given(data.is_enabled) and data.is_enabled is not None:
        changes["is_enabled"] = row.is_enabled = data.is_enabled
    if given(data.rollout_percentage) and data.rollout_percentage is not None:
        if not 0 <= data.rollout_percentage <= 100:
            raise Refused("INVALID", "Rollout is 0 to 100 percent.", "rolloutPercentage")
        changes["rollout_percentage"] = row.rollout_percentage = data.rollout_percentage
    for name, field in (("target_users", "targetUsers"), ("target_teams", "targetTeams")):
        value = getattr(data, name)
        if given(value) and value is not None:
            check_list(value, field, max_items=1000)
            setattr(row, name, value)
            changes[name] = len(value)
    if given(data.conditions):
        row.conditions = data.conditions
    if given(data.environment) and data.environment is not None:
        if data.environment not in ("production", "staging", "development"):
            raise Refused("INVALID", "Environment is production, staging or development.", "environment")
        changes["environment"] = row.environment = data.environment
    return changes
