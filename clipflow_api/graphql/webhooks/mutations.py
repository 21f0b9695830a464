"""Webhook mutations over clipflow_api.webhooks.service: a new signing secret is shown once, in the payload."""

from __future__ import annotations

from typing import Annotated

import strawberry

from ...models import Webhook as WebhookRow
from ...webhooks import service as webhooks
from ..base import IdArg
from ..context import Info
from ..errors import MutationError
from ..mutations import node_id, run, to_domain
from ..permissions import Require
from .inputs import WebhookCreateInput, WebhookUpdateInput
from .types import Webhook


@strawberry.type(description="A refused webhook change.")
class WebhookError(MutationError):
    pass


@strawberry.type(description="The result of a webhook mutation.")
class WebhookPayload:
    webhook: Webhook | None = strawberry.field(default=None, description="The webhook after the change (null when refused).")
    errors: list[WebhookError] = strawberry.field(default_factory=list, description="Why the change was refused; empty on success.")


@strawberry.type(description="The result of webhookCreate or webhookUpdate: a new secret is shown here once.")
class WebhookSecretPayload:
    webhook: Webhook | None = strawberry.field(default=None, description="The webhook after the change.")
    secret: str | None = strawberry.field(
        default=None, description="The signing secret (whsec_...), when one was generated. Store it now: it is never shown again."
    )
    errors: list[WebhookError] = strawberry.field(default_factory=list, description="Why it was refused; empty on success.")


def _with_secret(row: WebhookRow, secret: str | None) -> tuple[Webhook, str | None]:
    return Webhook.from_row(row), secret


@strawberry.type
class WebhookMutations:
    @strawberry.mutation(description="Add a webhook; its signing secret is returned once.", permission_classes=[Require("webhook:manage")])
    async def webhook_create(
        self, info: Info, input: Annotated[WebhookCreateInput, strawberry.argument(description="The webhook.")]
    ) -> WebhookSecretPayload | None:
        async def work(session):  # noqa: ANN001, ANN202
            row, secret = await webhooks.create_webhook(
                session, info.context.principal, to_domain(input, webhooks.WebhookInput), settings=info.context.settings
            )
            return _with_secret(row, secret)

        return await run(info, WebhookSecretPayload, WebhookError, ("webhook", "secret"), work)

    @strawberry.mutation(description="Change a webhook, or rotate its secret.", permission_classes=[Require("webhook:manage")])
    async def webhook_update(
        self, info: Info, id: IdArg, input: Annotated[WebhookUpdateInput, strawberry.argument(description="The changes.")]
    ) -> WebhookSecretPayload | None:
        async def work(session):  # noqa: ANN001, ANN202
            row, secret = await webhooks.update_webhook(
                session, info.context.principal, node_id(id, Webhook), to_domain(input, webhooks.WebhookChanges),
                settings=info.context.settings,
            )
            return _with_secret(row, secret)

        return await run(info, WebhookSecretPayload, WebhookError, ("webhook", "secret"), work)

    @strawberry.mutation(description="Delete a webhook and its delivery log.", permission_classes=[Require("webhook:manage")])
    async def webhook_delete(self, info: Info, id: IdArg) -> WebhookPayload | None:
        async def work(session):  # noqa: ANN001, ANN202
            return Webhook.from_row(await webhooks.delete_webhook(session, info.context.principal, node_id(id, Webhook)))

        return await run(info, WebhookPayload, WebhookError, "webhook", work)
