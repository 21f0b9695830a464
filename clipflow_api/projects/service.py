"""Studio projects: projects, their canvases, and timeline elements with sync groups.

Rules: changing anything in a project needs ``project:write`` in its workspace. A project
starts with one canvas in its format, has at most ``MAX_CANVASES`` and always keeps one;
removing a canvas removes its elements. Updating an element that ``is_synced`` copies the
changed content fields (``SYNCED_FIELDS``: not its geometry, which is per canvas because
formats differ in size) to every other synced element of its ``sync_group`` in the same
project, across canvases, in the same transaction.

Every input is checked before anything is changed, so a refused action writes nothing.
Services flush, never commit; each change is audited here, so jobs get the same trail.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from .. import audit, clock
from ..auth.principal import Principal
from ..errors import Conflict, ErrorCode, NotFound, ValidationError
from ..models import Project, TimelineElement
from ..models.enums import ProjectStatus, TimelineElementType
from ..validation import UNSET, check_text, given, one_of, require_text
from . import repository

MAX_CANVASES = 20
# What a sync group shares; geometry stays per canvas (formats differ in size).
SYNCED_FIELDS = ("name", "type", "start_time", "duration", "properties", "is_hidden", "opacity", "rotation")
# Numeric element fields: (name, decimal places kept, lowest value allowed or None).
_NUMBERS = (
    ("start_time", 3, 0),
    ("duration", 3, 0),
    ("x", 2, None),
    ("y", 2, None),
    ("width", 2, 0),
    ("height", 2, 0),
    ("rotation", 2, None),
    ("opacity", 3, 0),
)
_CLEARABLE_NUMBERS = ("width", "height")  # null clears these; null leaves the others as they are
_FLAGS = ("z_index", "is_locked", "is_hidden", "is_synced")
# Keys of a canvas's JSON that only the service writes.
_CANVAS_KEYS = ("id", "name", "socialFormatId", "social_format_id")
NO_SUCH_CANVAS = "No such canvas in this project."

E = TypeVar("E", bound=StrEnum)


@dataclass
class ProjectChanges:
    """A project's editable fields; UNSET keeps the value (creating needs ``name`` and ``social_format_id``)."""

    name: str | None = UNSET
    description: str | None = UNSET
    social_format_id: uuid.UUID | None = UNSET  # null keeps the format (a project always has one)
    template_id: uuid.UUID | None = UNSET  # null detaches the template
    status: ProjectStatus | str | None = UNSET
    project_data: dict[str, Any] | None = UNSET
    active_canvas_id: str | None = UNSET


@dataclass
class CanvasChanges:
    """A canvas's fields; ``data`` is merged into what the canvas already stores."""

    name: str | None = UNSET
    social_format_id: uuid.UUID | None = UNSET
    data: dict[str, Any] | None = UNSET


@dataclass
class TimelineElementChanges:
    """A timeline element's fields; UNSET keeps the value (creating needs ``canvas_id``, ``type`` and ``name``)."""

    canvas_id: str | None = UNSET
    type: TimelineElementType | str | None = UNSET
    name: str | None = UNSET
    track_index: int | None = UNSET
    start_time: float | None = UNSET
    duration: float | None = UNSET
    x: float | None = UNSET
    y: float | None = UNSET
    width: float | None = UNSET
    height: float | None = UNSET
    rotation: float | None = UNSET
    opacity: float | None = UNSET
    properties: dict[str, Any] | None = UNSET
    z_index: int | None = UNSET
    is_locked: bool | None = UNSET
    is_hidden: bool | None = UNSET
    is_synced: bool | None = UNSET
    sync_group: str | None = UNSET


# -- shared checks ---------------------------------------------------------------------------

def _json_object(value: Any, field: str, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValidationError(ErrorCode.INVALID, f"{what} a JSON object.", field)
    return value


async def _project(session: AsyncSession, workspace_id: uuid.UUID, project_id: uuid.UUID, field: str) -> Project:
    project = await repository.get_project(session, workspace_id, project_id)
    if project is None:
        raise NotFound(ErrorCode.NOT_FOUND, "No such project.", field)
    return project


async def _element(session: AsyncSession, workspace_id: uuid.UUID, element_id: uuid.UUID) -> TimelineElement:
    element = await repository.get_element(session, workspace_id, element_id)
    if element is None:
        raise NotFound(ErrorCode.NOT_FOUND, "No such timeline element.", "id")
    return element


async def _format(session: AsyncSession, format_id: uuid.UUID, field: str = "social_format_id") -> uuid.UUID:
    if not await repository.social_format_exists(session, format_id):
        raise NotFound(ErrorCode.NOT_FOUND, "No such format.", field)
    return format_id


def _canvas_ids(project: Project) -> set[Any]:
    return {c.get("id") for c in project.canvases or []}


def _touch(project: Project, principal: Principal) -> None:
    project.last_edited_by = principal.user_id
    project.last_edited_at = clock.now()


async def _audit(
    session: AsyncSession, principal: Principal, action: str, resource: Project | TimelineElement, details: dict[str, Any]
) -> None:
    resource_type = "project" if isinstance(resource, Project) else "timeline_element"
    await audit.record(session, principal, action, resource_type=resource_type, resource_id=resource.id, details=details)


# -- projects --------------------------------------------------------------------------------


async def _project_values(
    session: AsyncSession, workspace_id: uuid.UUID, data: ProjectChanges, canvases: set[Any], *, creating: bool
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Checked column values for ``data``, and what the audit entry records of them."""
    values: dict[str, Any] = {}
    if given(data.name) or creating:
        values["name"] = require_text(data.name or None, "name", max_length=200)
    if given(data.description):
        values["description"] = check_text(data.description, "description", max_length=5000)
    if given(data.status) and data.status is not None:
        values["status"] = one_of(ProjectStatus, data.status, "status", "Status")
    if given(data.social_format_id) and data.social_format_id is not None:
        values["social_format_id"] = await _format(session, data.social_format_id)
    elif creating:
        raise ValidationError(ErrorCode.REQUIRED, "This field is required.", "social_format_id")
    if given(data.template_id):
        if data.template_id is not None and not await repository.template_usable(session, workspace_id, data.template_id):
            raise NotFound(ErrorCode.NOT_FOUND, "No such template.", "template_id")
        values["template_id"] = data.template_id
    if given(data.project_data) and data.project_data is not None:
        values["project_data"] = _json_object(data.project_data, "project_data", "Project data is")
    if given(data.active_canvas_id):
        if data.active_canvas_id is not None and data.active_canvas_id not in canvases:
            raise NotFound(ErrorCode.NOT_FOUND, NO_SUCH_CANVAS, "active_canvas_id")
        values["active_canvas_id"] = data.active_canvas_id
    recorded = {k: v for k, v in values.items() if k in ("name", "description", "status")}
    for key in ("social_format_id", "template_id"):
        if key in values:
            recorded[key] = str(values[key]) if values[key] is not None else None
    return values, recorded


async def create_project(session: AsyncSession, principal: Principal, data: ProjectChanges) -> Project:
    """Create a project in the principal's workspace, with one canvas in its format."""
    workspace_id = principal.require("project:write")
    values, recorded = await _project_values(session, workspace_id, data, set(), creating=True)
    canvas_id = secrets.token_hex(6)
    values["active_canvas_id"] = canvas_id  # the new canvas is the one open in the editor
    project = Project(
        workspace_id=workspace_id,
        owner_id=principal.user_id,
        project_data=values.pop("project_data", {}),
        canvases=[{"id": canvas_id, "name": "Canvas 1", "socialFormatId": str(values["social_format_id"])}],
        last_edited_by=principal.user_id,
        last_edited_at=clock.now(),
        **values,
    )
    await repository.add_project(session, project)
    await _audit(session, principal, "project.create", project, recorded)
    return project


async def update_project(session: AsyncSession, principal: Principal, project_id: uuid.UUID, changes: ProjectChanges) -> Project:
    """Change a project's fields."""
    workspace_id = principal.require("project:write")
    project = await _project(session, workspace_id, project_id, "id")
    values, recorded = await _project_values(session, workspace_id, changes, _canvas_ids(project), creating=False)
    for key, value in values.items():
        setattr(project, key, value)
    _touch(project, principal)
    await repository.save(session, project)
    await _audit(session, principal, "project.update", project, recorded)
    return project


async def delete_project(session: AsyncSession, principal: Principal, project_id: uuid.UUID) -> Project:
    """Delete a project with its timeline, exports and history; returns its last state."""
    workspace_id = principal.require("project:write")
    project = await _project(session, workspace_id, project_id, "id")
    await repository.delete_one(session, project)
    await _audit(session, principal, "project.delete", project, {"name": project.name})
    return project


# -- canvases --------------------------------------------------------------------------------


async def _canvas_json(session: AsyncSession, changes: CanvasChanges, base: dict[str, Any]) -> dict[str, Any]:
    """``base`` with the changes applied: settings merged, the service's own keys protected."""
    out = dict(base)
    if given(changes.data) and changes.data is not None:
        data = _json_object(changes.data, "data", "Canvas data is")
        out.update({k: v for k, v in data.items() if k not in _CANVAS_KEYS})
    if given(changes.name):
        out["name"] = check_text(changes.name, "name", max_length=200)
    if given(changes.social_format_id) and changes.social_format_id is not None:
        out["socialFormatId"] = str(await _format(session, changes.social_format_id))
    return out


async def add_canvas(session: AsyncSession, principal: Principal, project_id: uuid.UUID, canvas: CanvasChanges) -> Project:
    """Add a canvas to a project (in the project's format unless another is given)."""
    workspace_id = principal.require("project:write")
    project = await _project(session, workspace_id, project_id, "project_id")
    canvases = list(project.canvases or [])
    if len(canvases) >= MAX_CANVASES:
        raise Conflict(ErrorCode.INVALID, f"A project has at most {MAX_CANVASES} canvases.", "project_id")
    taken = _canvas_ids(project)
    canvas_id = secrets.token_hex(6)
    while canvas_id in taken:
        canvas_id = secrets.token_hex(6)
    base = {"id": canvas_id, "name": f"Canvas {len(canvases) + 1}", "socialFormatId": str(project.social_format_id)}
    added = await _canvas_json(session, canvas, base)
    project.canvases = [*canvases, added]
    _touch(project, principal)
    await repository.save(session, project)
    await _audit(session, principal, "project.canvas_add", project, {"canvas_id": canvas_id})
    return project


async def update_canvas(
    session: AsyncSession, principal: Principal, project_id: uuid.UUID, canvas_id: str, changes: CanvasChanges
) -> Project:
    """Change one canvas of a project: rename it, merge settings, switch its format."""
    workspace_id = principal.require("project:write")
    project = await _project(session, workspace_id, project_id, "project_id")
    canvases = list(project.canvases or [])
    index = next((i for i, c in enumerate(canvases) if c.get("id") == canvas_id), None)
    if index is None:
        raise NotFound(ErrorCode.NOT_FOUND, NO_SUCH_CANVAS, "canvas_id")
    canvases[index] = await _canvas_json(session, changes, canvases[index])
    project.canvases = canvases  # a new list: the JSONB column is written again
    _touch(project, principal)
    await repository.save(session, project)
    await _audit(session, principal, "project.canvas_update", project, {"canvas_id": canvas_id})
    return project


async def remove_canvas(session: AsyncSession, principal: Principal, project_id: uuid.UUID, canvas_id: str) -> Project:
    """Remove a canvas and its timeline elements; the last canvas stays."""
    workspace_id = principal.require("project:write")
    project = await _project(session, workspace_id, project_id, "project_id")
    canvases = [c for c in (project.canvases or []) if c.get("id") != canvas_id]
    if len(canvases) == len(project.canvases or []):
        raise NotFound(ErrorCode.NOT_FOUND, NO_SUCH_CANVAS, "canvas_id")
    if not canvases:
        raise Conflict(ErrorCode.INVALID, "A project keeps at least one canvas.", "canvas_id")
    project.canvases = canvases
    if project.active_canvas_id == canvas_id:
        project.active_canvas_id = canvases[0]["id"]
    elements = await repository.delete_canvas_elements(session, project, canvas_id)
    _touch(project, principal)
    await repository.save(session, project)
    await _audit(session, principal, "project.canvas_remove", project, {"canvas_id": canvas_id, "elements": elements})
    return project


# -- timeline elements -----------------------------------------------------------------------


def _element_values(data: TimelineElementChanges, *, creating: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """Checked column values for ``data`` (canvas aside), and what the audit entry records of them."""
    values: dict[str, Any] = {}
    recorded: dict[str, Any] = {}
    if given(data.type) and data.type is not None:
        values["type"] = recorded["type"] = one_of(TimelineElementType, data.type, "type", "Type")
    elif creating:
        raise ValidationError(ErrorCode.REQUIRED, "This field is required.", "type")
    if (given(data.name) and data.name is not None) or creating:
        values["name"] = recorded["name"] = require_text(data.name or None, "name", max_length=200)
    if given(data.track_index) and data.track_index is not None:
        if not 0 <= data.track_index <= 100:
            raise ValidationError(ErrorCode.INVALID, "Track is 0 to 100.", "track_index")
        values["track_index"] = recorded["track_index"] = data.track_index
    for name, places, low in _NUMBERS:
        value = getattr(data, name)
        if not given(value) or (value is None and name not in _CLEARABLE_NUMBERS):
            continue
        if value is not None:
            if low is not None and value < low:
                raise ValidationError(ErrorCode.INVALID, "Must not be negative.", name)
            if name == "opacity" and value > 1:
                raise ValidationError(ErrorCode.INVALID, "Opacity is 0 to 1.", name)
            value = Decimal(str(round(value, places)))
        values[name] = value
        recorded[name] = str(value) if value is not None else None
    if given(data.properties) and data.properties is not None:
        values["properties"] = _json_object(data.properties, "properties", "Properties are")
        recorded["properties"] = True
    for name in _FLAGS:
        value = getattr(data, name)
        if given(value) and value is not None:
            values[name] = recorded[name] = value
    if given(data.sync_group):
        values["sync_group"] = recorded["sync_group"] = check_text(data.sync_group, "sync_group", max_length=100)
    return values, recorded


async def create_timeline_element(
    session: AsyncSession, principal: Principal, project_id: uuid.UUID, data: TimelineElementChanges
) -> TimelineElement:
    """Add an element to one canvas of a project's timeline."""
    workspace_id = principal.require("project:write")
    project = await _project(session, workspace_id, project_id, "project_id")
    if data.canvas_id not in _canvas_ids(project):
        raise NotFound(ErrorCode.NOT_FOUND, NO_SUCH_CANVAS, "canvas_id")
    values, recorded = _element_values(data, creating=True)
    element = TimelineElement(
        workspace_id=project.workspace_id,
        project_id=project.id,
        canvas_id=data.canvas_id,
        **{"track_index": 0, "start_time": Decimal(0), "duration": Decimal(5), "properties": {}, **values},
        created_by=principal.user_id,
        last_edited_by=principal.user_id,
    )
    _touch(project, principal)
    await repository.add_element(session, element)
    await _audit(session, principal, "timeline_element.create", element, recorded)
    return element


async def update_timeline_element(
    session: AsyncSession, principal: Principal, element_id: uuid.UUID, changes: TimelineElementChanges
) -> TimelineElement:
    """Change an element; a synced one passes its content changes to the rest of its sync group."""
    workspace_id = principal.require("project:write")
    element = await _element(session, workspace_id, element_id)
    move_to = changes.canvas_id if given(changes.canvas_id) and changes.canvas_id is not None else element.canvas_id
    if move_to != element.canvas_id:
        project = await _project(session, workspace_id, element.project_id, "project_id")
        if move_to not in _canvas_ids(project):
            raise NotFound(ErrorCode.NOT_FOUND, NO_SUCH_CANVAS, "canvas_id")
    values, recorded = _element_values(changes, creating=False)
    element.canvas_id = move_to
    for key, value in values.items():
        setattr(element, key, value)
    element.last_edited_by, element.last_edited_at = principal.user_id, clock.now()
    synced = 0
    shared = {k: getattr(element, k) for k in SYNCED_FIELDS if k in values}
    if element.is_synced and element.sync_group and shared:
        peers = await repository.lock_synced_peers(session, element)
        for peer in peers:
            for key, value in shared.items():
                setattr(peer, key, value)
            peer.last_edited_by, peer.last_edited_at = element.last_edited_by, element.last_edited_at
        synced = len(peers)
    await repository.save(session, element)
    await _audit(session, principal, "timeline_element.update", element, {**recorded, "synced": synced})
    return element


async def delete_timeline_element(session: AsyncSession, principal: Principal, element_id: uuid.UUID) -> TimelineElement:
    """Remove an element from the timeline; returns its last state."""
    workspace_id = principal.require("project:write")
    element = await _element(session, workspace_id, element_id)
    await repository.delete_one(session, element)
    await _audit(session, principal, "timeline_element.delete", element, {"name": element.name})
    return element
