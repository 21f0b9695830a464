"""Studio mutations: projects, their canvases, and timeline elements with sync groups.

Sync groups: updating an element that ``isSynced`` copies the changed content fields
(not its position on its own canvas) to every other synced element of its ``syncGroup``
in the same project, across canvases, in the same transaction.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

import strawberry
from sqlalchemy import select
from sqlalchemy.orm.attributes import flag_modified

from ...models import Project as ProjectRow
from ...models import SocialFormat as SocialFormatRow
from ...models import Template as TemplateRow
from ...models import TimelineElement as TimelineElementRow
from ..errors import error_type
from ..mutations import delete_recorded, Refused, check_text, get_row, given, node_id, payload, record, refreshed, run
from ..permissions import Require
from ..templates.types import SocialFormat, Template
from .inputs import CanvasInput, ProjectCreateInput, ProjectInput, TimelineElementCreateInput, TimelineElementInput
from .types import Project, TimelineElement

ProjectError = error_type("Project", "A refused project change.")
TimelineElementError = error_type("TimelineElement", "A refused timeline change.")
ProjectPayload = payload("Project", "project", Project, ProjectError, "The result of a project or canvas mutation.")
TimelineElementPayload = payload(
    "TimelineElement", "timeline_element", TimelineElement, TimelineElementError, "The result of a timeline mutation."
)
IdArg = Annotated[strawberry.ID, strawberry.argument(description="The object's id.")]
ELEMENT_TYPES = ("text", "image", "video", "shape", "audio")
MAX_CANVASES = 20
# What a sync group shares; geometry stays per canvas (formats differ in size).
SYNCED_FIELDS = ("name", "type", "start_time", "duration", "properties", "is_hidden", "opacity", "rotation")


def _now() -> datetime:
    return datetime.now(UTC)


async def _format_id(session: Any, value: Any, field: str) -> Any:
    fid = node_id(value, SocialFormat, field)
    if await session.get(SocialFormatRow, fid) is None:
        raise Refused("NOT_FOUND", "No such format.", field)
    return fid


async def _apply_project(session: Any, row: Any, data: ProjectInput) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if given(data.name):
        changes["name"] = row.name = check_text(data.name, "name", max_length=200, required=True)
    if given(data.description):
        changes["description"] = row.description = check_text(data.description, "description", max_length=5000)
    if given(data.status) and data.status is not None:
        if data.status not in ("draft", "in_review", "final"):
            raise Refused("INVALID", "Status is draft, in_review or final.", "status")
        changes["status"] = row.status = data.status
    if given(data.social_format_id) and data.social_format_id is not None:
        row.social_format_id = await _format_id(session, data.social_format_id, "socialFormatId")
        changes["social_format_id"] = str(row.social_format_id)
    if given(data.template_id):
        if data.template_id is None:
            row.template_id = None
        else:
            tid = node_id(data.template_id, Template, "templateId")
            if await session.get(TemplateRow, tid) is None:  # RLS: own, system or public
                raise Refused("NOT_FOUND", "No such template.", "templateId")
            row.template_id = tid
        changes["template_id"] = str(row.template_id) if row.template_id else None
    if given(data.project_data) and data.project_data is not None:
        if not isinstance(data.project_data, dict):
            raise Refused("INVALID", "Project data is a JSON object.", "projectData")
        row.project_data = data.project_data
    if given(data.active_canvas_id):
        if data.active_canvas_id is not None and data.active_canvas_id not in {c.get("id") for c in row.canvases or []}:
            raise Refused("NOT_FOUND", "No such canvas in this project.", "activeCanvasId")
        row.active_canvas_id = data.active_canvas_id
    return changes


def _touch(row: Any, info: Any) -> None:
    row.last_edited_by = info.context.principal.user_id
    row.last_edited_at = _now()


def _canvas_json(data: CanvasInput, base: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    if given(data.data) and data.data is not None:
        if not isinstance(data.data, dict):
            raise Refused("INVALID", "Canvas data is a JSON object.", "data")
        out.update({k: v for k, v in data.data.items() if k not in ("id", "name", "socialFormatId")})
    if given(data.name):
        out["name"] = check_text(data.name, "name", max_length=200)
    return out


def _decimal(value: float, places: int) -> Decimal:
    return Decimal(str(round(value, places)))


def _apply_element(row: Any, data: TimelineElementInput) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if given(data.type) and data.type is not None:
        if data.type not in ELEMENT_TYPES:
            raise Refused("INVALID", "Type is text, image, video, shape or audio.", "type")
        changes["type"] = row.type = data.type
    if given(data.name) and data.name is not None:
        changes["name"] = row.name = check_text(data.name, "name", max_length=200, required=True)
    if given(data.track_index) and data.track_index is not None:
        if not 0 <= data.track_index <= 100:
            raise Refused("INVALID", "Track is 0 to 100.", "trackIndex")
        changes["track_index"] = row.track_index = data.track_index
    for name, places, low in (("start_time", 3, 0), ("duration", 3, 0), ("x", 2, None), ("y", 2, None), ("width", 2, 0),
                              ("height", 2, 0), ("rotation", 2, None), ("opacity", 3, 0)):
        value = getattr(data, name)
        if not given(value) or (value is None and name not in ("width", "height")):
            continue
        if value is not None:
            if low is not None and value < low:
                raise Refused("INVALID", "Must not be negative.", _camel(name))
            if name == "opacity" and value > 1:
                raise Refused("INVALID", "Opacity is 0 to 1.", "opacity")
            value = _decimal(value, places)
        setattr(row, name, value)
        changes[name] = str(value) if value is not None else None
    if given(data.properties) and data.properties is not None:
        if not isinstance(data.properties, dict):
            raise Refused("INVALID", "Properties are a JSON object.", "properties")
        row.properties = data.properties
        changes["properties"] = True
    for name in ("z_index", "is_locked", "is_hidden", "is_synced"):
        value = getattr(data, name)
        if given(value) and value is not None:
            setattr(row, name, value)
            changes[name] = value
    if given(data.sync_group):
        changes["sync_group"] = row.sync_group = check_text(data.sync_group, "syncGroup", max_length=100)
    return changes


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


async def _project_of(session: Any, project_id: Any) -> Any:
    return await get_row(session, ProjectRow, project_id, "projectId")


@strawberry.type
class ProjectMutations:
    @strawberry.mutation(description="Create a project with one canvas in its format.", permission_classes=[Require("project:write")])
    async def project_create(
        self, info: strawberry.Info, input: Annotated[ProjectCreateInput, strawberry.argument(description="The project.")]
    ) -> ProjectPayload | None:  # type: ignore[valid-type]
        p = info.context.principal

        async def work(session):  # noqa: ANN001, ANN202
            row = ProjectRow(workspace_id=p.workspace_id, owner_id=p.user_id, project_data={}, canvases=[])
            changes = await _apply_project(session, row, input)
            canvas_id = secrets.token_hex(6)
            row.canvases = [{"id": canvas_id, "name": "Canvas 1", "socialFormatId": str(row.social_format_id)}]
            row.active_canvas_id = canvas_id
            _touch(row, info)
            session.add(row)
            await refreshed(session, row)
            await record(session, info, "project.create", "project", row.id, changes)
            return Project.from_row(row)

        return await run(info, ProjectPayload, ProjectError, "project", work)

    @strawberry.mutation(description="Change a project.", permission_classes=[Require("project:write")])
    async def project_update(
        self, info: strawberry.Info, id: IdArg, input: Annotated[ProjectInput, strawberry.argument(description="The changes.")]
    ) -> ProjectPayload | None:  # type: ignore[valid-type]
        async def work(session):  # noqa: ANN001, ANN202
            row = await get_row(session, ProjectRow, node_id(id, Project))
            changes = await _apply_project(session, row, input)
            _touch(row, info)
            await refreshed(session, row)
            await record(session, info, "project.update", "project", row.id, changes)
            return Project.from_row(row)

        return await run(info, ProjectPayload, ProjectError, "project", work)

    @strawberry.mutation(description="Delete a project with its timeline, exports and history.", permission_classes=[Require("project:write")])
    async def project_delete(self, info: strawberry.Info, id: IdArg) -> ProjectPayload | None:  # type: ignore[valid-type]
        async def work(session):  # noqa: ANN001, ANN202
            row = await get_row(session, ProjectRow, node_id(id, Project))
            return await delete_recorded(session, info, row, Project, "project", {"name": row.name})

        return await run(info, ProjectPayload, ProjectError, "project", work)

    @strawberry.mutation(description="Add a canvas to a project.", permission_classes=[Require("project:write")])
    async def project_canvas_add(
        self,
        info: strawberry.Info,
        project_id: Annotated[strawberry.ID, strawberry.argument(description="The project.")],
        input: Annotated[CanvasInput, strawberry.argument(description="The canvas.")],
    ) -> ProjectPayload | None:  # type: ignore[valid-type]
        async def work(session):  # noqa: ANN001, ANN202
            row = await _project_of(session, node_id(project_id, Project, "projectId"))
            canvases = list(row.canvases or [])
            if len(canvases) >= MAX_CANVASES:
                raise Refused("INVALID", f"A project has at most {MAX_CANVASES} canvases.", "projectId")
            fmt = row.social_format_id
            if given(input.social_format_id) and input.social_format_id is not None:
                fmt = await _format_id(session, input.social_format_id, "socialFormatId")
            canvas = _canvas_json(input, {"id": secrets.token_hex(6), "name": f"Canvas {len(canvases) + 1}", "socialFormatId": str(fmt)})
            row.canvases = [*canvases, canvas]
            _touch(row, info)
            await refreshed(session, row)
            await record(session, info, "project.canvas_add", "project", row.id, {"canvas_id": canvas["id"]})
            return Project.from_row(row)

        return await run(info, ProjectPayload, ProjectError, "project", work)

    @strawberry.mutation(description="Change a canvas of a project.", permission_classes=[Require("project:write")])
    async def project_canvas_update(
        self,
        info: strawberry.Info,
        project_id: Annotated[strawberry.ID, strawberry.argument(description="The project.")],
        canvas_id: Annotated[str, strawberry.argument(description="The canvas.")],
        input: Annotated[CanvasInput, strawberry.argument(description="The changes.")],
    ) -> ProjectPayload | None:  # type: ignore[valid-type]
        async def work(session):  # noqa: ANN001, ANN202
            row = await _project_of(session, node_id(project_id, Project, "projectId"))
            canvases = list(row.canvases or [])
            index = next((i for i, c in enumerate(canvases) if c.get("id") == canvas_id), None)
            if index is None:
                raise Refused("NOT_FOUND", "No such canvas in this project.", "canvasId")
            updated = _canvas_json(input, canvases[index])
            if given(input.social_format_id) and input.social_format_id is not None:
                updated["socialFormatId"] = str(await _format_id(session, input.social_format_id, "socialFormatId"))
            canvases[index] = updated
            row.canvases = canvases
            flag_modified(row, "canvases")
            _touch(row, info)
            await refreshed(session, row)
            await record(session, info, "project.canvas_update", "project", row.id, {"canvas_id": canvas_id})
            return Project.from_row(row)

        return await run(info, ProjectPayload, ProjectError, "project", work)

    @strawberry.mutation(description="Remove a canvas and its timeline elements (the last canvas stays).", permission_classes=[Require("project:write")])
    async def project_canvas_remove(
        self,
        info: strawberry.Info,
        project_id: Annotated[strawberry.ID, strawberry.argument(description="The project.")],
        canvas_id: Annotated[str, strawberry.argument(description="The canvas.")],
    ) -> ProjectPayload | None:  # type: ignore[valid-type]
        async def work(session):  # noqa: ANN001, ANN202
            row = await _project_of(session, node_id(project_id, Project, "projectId"))
            canvases = [c for c in (row.canvases or []) if c.get("id") != canvas_id]
            if len(canvases) == len(row.canvases or []):
                raise Refused("NOT_FOUND", "No such canvas in this project.", "canvasId")
            if not canvases:
                raise Refused("INVALID", "A project keeps at least one canvas.", "canvasId")
            row.canvases = canvases
            if row.active_canvas_id == canvas_id:
                row.active_canvas_id = canvases[0]["id"]
            elements = (await session.execute(
                select(TimelineElementRow).where(TimelineElementRow.project_id == row.id, TimelineElementRow.canvas_id == canvas_id)
            )).scalars().all()
            for element in elements:
                await session.delete(element)
            _touch(row, info)
            await refreshed(session, row)
            await record(session, info, "project.canvas_remove", "project", row.id, {"canvas_id": canvas_id, "elements": len(elements)})
            return Project.from_row(row)

        return await run(info, ProjectPayload, ProjectError, "project", work)

    @strawberry.mutation(description="Add an element to a canvas's timeline.", permission_classes=[Require("project:write")])
    async def timeline_element_create(
        self,
        info: strawberry.Info,
        project_id: Annotated[strawberry.ID, strawberry.argument(description="The project.")],
        input: Annotated[TimelineElementCreateInput, strawberry.argument(description="The element.")],
    ) -> TimelineElementPayload | None:  # type: ignore[valid-type]
        p = info.context.principal

        async def work(session):  # noqa: ANN001, ANN202
            project = await _project_of(session, node_id(project_id, Project, "projectId"))
            if input.canvas_id not in {c.get("id") for c in project.canvases or []}:
                raise Refused("NOT_FOUND", "No such canvas in this project.", "canvasId")
            row = TimelineElementRow(
                workspace_id=project.workspace_id, project_id=project.id, canvas_id=input.canvas_id, track_index=0,
                start_time=Decimal(0), duration=Decimal(5), properties={}, created_by=p.user_id, last_edited_by=p.user_id,
            )
            changes = _apply_element(row, input)
            session.add(row)
            _touch(project, info)
            await refreshed(session, row)
            await record(session, info, "timeline_element.create", "timeline_element", row.id, changes)
            return TimelineElement.from_row(row)

        return await run(info, TimelineElementPayload, TimelineElementError, "timeline_element", work)

    @strawberry.mutation(
        description="Change a timeline element; a synced element passes its content changes to its sync group.",
        permission_classes=[Require("project:write")],
    )
    async def timeline_element_update(
        self, info: strawberry.Info, id: IdArg, input: Annotated[TimelineElementInput, strawberry.argument(description="The changes.")]
    ) -> TimelineElementPayload | None:  # type: ignore[valid-type]
        async def work(session):  # noqa: ANN001, ANN202
            row = await get_row(session, TimelineElementRow, node_id(id, TimelineElement))
            if given(input.canvas_id) and input.canvas_id is not None and input.canvas_id != row.canvas_id:
                project = await _project_of(session, row.project_id)
                if input.canvas_id not in {c.get("id") for c in project.canvases or []}:
                    raise Refused("NOT_FOUND", "No such canvas in this project.", "canvasId")
                row.canvas_id = input.canvas_id
            changes = _apply_element(row, input)
            row.last_edited_by, row.last_edited_at = info.context.principal.user_id, _now()
            synced = 0
            if row.is_synced and row.sync_group:
                shared = {k: getattr(row, k) for k in SYNCED_FIELDS if k in changes}
                if shared:
                    peers = (await session.execute(
                        select(TimelineElementRow).where(
                            TimelineElementRow.project_id == row.project_id,
                            TimelineElementRow.sync_group == row.sync_group,
                            TimelineElementRow.is_synced,
                            TimelineElementRow.id != row.id,
                        ).with_for_update()
                    )).scalars().all()
                    for peer in peers:
                        for k, v in shared.items():
                            setattr(peer, k, v)
                        peer.last_edited_by, peer.last_edited_at = row.last_edited_by, row.last_edited_at
                    synced = len(peers)
            await refreshed(session, row)
            await record(session, info, "timeline_element.update", "timeline_element", row.id, {**changes, "synced": synced})
            return TimelineElement.from_row(row)

        return await run(info, TimelineElementPayload, TimelineElementError, "timeline_element", work)

    @strawberry.mutation(description="Remove an element from the timeline.", permission_classes=[Require("project:write")])
    async def timeline_element_delete(self, info: strawberry.Info, id: IdArg) -> TimelineElementPayload | None:  # type: ignore[valid-type]
        async def work(session):  # noqa: ANN001, ANN202
            row = await get_row(session, TimelineElementRow, node_id(id, TimelineElement))
            return await delete_recorded(session, info, row, TimelineElement, "timeline_element", {"name": row.name})

        return await run(info, TimelineElementPayload, TimelineElementError, "timeline_element", work)
