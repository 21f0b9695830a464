"""Template mutations over clipflow_api.templates.service (system templates are read-only)."""

from __future__ import annotations

from typing import Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from ...templates import service as templates
from ..base import IdArg
from ..context import Info
from ..errors import MutationError
from ..mutations import node_id, run, to_domain
from ..permissions import Require
from .inputs import TemplateCreateInput, TemplateInput
from .types import Template


@strawberry.type(description="A refused template change.")
class TemplateError(MutationError):
    pass


@strawberry.type(description="The result of a template mutation.")
class TemplatePayload:
    template: Template | None = strawberry.field(default=None, description="The template after the change (null when refused).")
    errors: list[TemplateError] = strawberry.field(default_factory=list, description="Why the change was refused; empty on success.")


@strawberry.type
class TemplateMutations:
    @strawberry.mutation(description="Create a template in the current workspace.", permission_classes=[Require("template:write")])
    async def template_create(
        self, info: Info, input: Annotated[TemplateCreateInput, strawberry.argument(description="The template.")]
    ) -> TemplatePayload | None:
        async def work(session: AsyncSession) -> Template:
            data = to_domain(input, templates.TemplateChanges)
            return Template.from_row(await templates.create_template(session, info.context.principal, data))

        return await run(info, TemplatePayload, TemplateError, "template", work)

    @strawberry.mutation(description="Change one of the workspace's templates.", permission_classes=[Require("template:write")])
    async def template_update(
        self, info: Info, id: IdArg, input: Annotated[TemplateInput, strawberry.argument(description="The changes.")]
    ) -> TemplatePayload | None:
        async def work(session: AsyncSession) -> Template:
            changes = to_domain(input, templates.TemplateChanges)
            row = await templates.update_template(session, info.context.principal, node_id(id, Template), changes)
            return Template.from_row(row)

        return await run(info, TemplatePayload, TemplateError, "template", work)

    @strawberry.mutation(description="Delete one of the workspace's templates.", permission_classes=[Require("template:write")])
    async def template_delete(self, info: Info, id: IdArg) -> TemplatePayload | None:
        async def work(session: AsyncSession) -> Template:
            row = await templates.delete_template(session, info.context.principal, node_id(id, Template))
            return Template.from_row(row)

        return await run(info, TemplatePayload, TemplateError, "template", work)
