"""Template mutations: a workspace edits its own templates (system ones are read-only)."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from ...errors import PermissionDenied
from ...models import Template as TemplateRow
from ..errors import error_type
from ..mutations import delete_recorded, Refused, check_list, check_text, get_row, given, node_id, payload, record, refreshed, run
from ..permissions import Require
from .inputs import TemplateCreateInput, TemplateInput
from .types import Template

TemplateError = error_type("Template", "A refused template change.")
TemplatePayload = payload("Template", "template", Template, TemplateError, "The result of a template mutation.")
IdArg = Annotated[strawberry.ID, strawberry.argument(description="The template's id.")]
TEMPLATE_TYPES = ("video", "caption", "post", "canvas")


# Sharing a template with every workspace on the platform is publishing, not editing.
PUBLISH_PERMISSION = "workspace:update"


def _apply(row: Any, data: TemplateInput, principal: Any) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if given(data.name):
        changes["name"] = row.name = check_text(data.name, "name", max_length=255, required=True)
    if given(data.description):
        changes["description"] = row.description = check_text(data.description, "description", max_length=5000)
    if given(data.type) and data.type is not None:
        if data.type not in TEMPLATE_TYPES:
            raise Refused("INVALID", "Type is video, caption, post or canvas.", "type")
        changes["type"] = row.type = data.type
    if given(data.category):
        changes["category"] = row.category = check_text(data.category, "category", max_length=100)
    if given(data.tags):
        changes["tags"] = row.tags = check_list(data.tags or [], "tags")
    if given(data.template_data):
        if not isinstance(data.template_data, dict):
            raise Refused("INVALID", "Template data is a JSON object.", "templateData")
        row.template_data = data.template_data
        changes["template_data"] = True
    if given(data.placeholders):
        if not isinstance(data.placeholders, list):
            raise Refused("INVALID", "Placeholders are a JSON list.", "placeholders")
        row.placeholders = data.placeholders
    if given(data.thumbnail_url):
        row.thumbnail_url = check_text(data.thumbnail_url, "thumbnailUrl", max_length=2000)
    if given(data.is_public) and data.is_public is not None:
        if data.is_public != bool(row.is_public) and not principal.can(PUBLISH_PERMISSION):
            raise PermissionDenied(message="Only workspace owners and admins can share a template with everyone.", field="isPublic")
        changes["is_public"] = row.is_public = data.is_public
    return changes


async def _own_template(session: Any, info: Any, id: str) -> Any:
    row = await get_row(session, TemplateRow, node_id(id, Template), lock=False)
    if row.workspace_id != info.context.principal.workspace_id:
        raise Refused("PERMISSION_DENIED", "System and shared templates cannot be changed; duplicate it instead.", "id")
    return row


@strawberry.type
class TemplateMutations:
    @strawberry.mutation(description="Create a template in the current workspace.", permission_classes=[Require("template:write")])
    async def template_create(
        self, info: strawberry.Info, input: Annotated[TemplateCreateInput, strawberry.argument(description="The template.")]
    ) -> TemplatePayload | None:  # type: ignore[valid-type]
        async def work(session):  # noqa: ANN001, ANN202
            row = TemplateRow(workspace_id=info.context.principal.workspace_id, created_by=info.context.principal.user_id,
                              visibility="team")
            changes = _apply(row, input, info.context.principal)
            session.add(row)
            await refreshed(session, row)
            await record(session, info, "template.create", "template", row.id, changes)
            return Template.from_row(row)

        return await run(info, TemplatePayload, TemplateError, "template", work)

    @strawberry.mutation(description="Change one of the workspace's templates.", permission_classes=[Require("template:write")])
    async def template_update(
        self, info: strawberry.Info, id: IdArg, input: Annotated[TemplateInput, strawberry.argument(description="The changes.")]
    ) -> TemplatePayload | None:  # type: ignore[valid-type]
        async def work(session):  # noqa: ANN001, ANN202
            row = await _own_template(session, info, id)
            changes = _apply(row, input, info.context.principal)
            await refreshed(session, row)
            await record(session, info, "template.update", "template", row.id, changes)
            return Template.from_row(row)

        return await run(info, TemplatePayload, TemplateError, "template", work)

    @strawberry.mutation(description="Delete one of the workspace's templates.", permission_classes=[Require("template:write")])
    async def template_delete(self, info: strawberry.Info, id: IdArg) -> TemplatePayload | None:  # type: ignore[valid-type]
        async def work(session):  # noqa: ANN001, ANN202
            row = await _own_template(session, info, id)
            return await delete_recorded(session, info, row, Template, "template", {"name": row.name})

        return await run(info, TemplatePayload, TemplateError, "template", work)
