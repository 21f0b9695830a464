"""Inputs of the studio mutations."""

from __future__ import annotations

import strawberry

from ..base import JSON
from ..enums import ProjectStatus, TimelineElementType
from ..inputcheck import SECONDS_PER_WEEK, bounds


@strawberry.input(description="Changes to a project: fields left out keep their value.")
class ProjectInput:
    name: str | None = strawberry.field(default=strawberry.UNSET, description="Project name.")
    description: str | None = strawberry.field(default=strawberry.UNSET, description="Description.")
    social_format_id: strawberry.ID | None = strawberry.field(default=strawberry.UNSET, description="Main format.")
    template_id: strawberry.ID | None = strawberry.field(default=strawberry.UNSET, description="Template to start from.")
    status: ProjectStatus | None = strawberry.field(default=strawberry.UNSET, description="Where the project is in review.")
    project_data: JSON | None = strawberry.field(default=strawberry.UNSET, description="Editor state.")
    active_canvas_id: str | None = strawberry.field(default=strawberry.UNSET, description="The canvas open in the editor.")


# Create inputs: the fields a new row needs are non-null, so the schema (and typed clients) say so.
@strawberry.input(description="A new project.")
class ProjectCreateInput(ProjectInput):
    name: str = strawberry.field(description="Project name.")
    social_format_id: strawberry.ID = strawberry.field(description="Main format (its first canvas takes it).")


@strawberry.input(description="Fields of a canvas.")
class CanvasInput:
    name: str | None = strawberry.field(default=strawberry.UNSET, description="Display name.")
    social_format_id: strawberry.ID | None = strawberry.field(default=strawberry.UNSET, description="The format the canvas targets.")
    data: JSON | None = strawberry.field(default=strawberry.UNSET, description="Other canvas settings (size, background...).")


@strawberry.input(description="Changes to a timeline element: fields left out keep their value.")
class TimelineElementInput:
    canvas_id: str | None = strawberry.field(default=strawberry.UNSET, description="The canvas.")
    type: TimelineElementType | None = strawberry.field(default=strawberry.UNSET, description="The kind of element.")
    name: str | None = strawberry.field(default=strawberry.UNSET, description="Layer name.")
    track_index: int | None = strawberry.field(default=strawberry.UNSET, description="Timeline track.", metadata=bounds(0, 100))
    start_time: float | None = strawberry.field(default=strawberry.UNSET, description="Start in seconds.", metadata=bounds(0, SECONDS_PER_WEEK))
    duration: float | None = strawberry.field(default=strawberry.UNSET, description="Length in seconds.", metadata=bounds(0, SECONDS_PER_WEEK))
    x: float | None = strawberry.field(default=strawberry.UNSET, description="Left, in canvas pixels.", metadata=bounds(-100_000, 100_000))
    y: float | None = strawberry.field(default=strawberry.UNSET, description="Top, in canvas pixels.", metadata=bounds(-100_000, 100_000))
    width: float | None = strawberry.field(default=strawberry.UNSET, description="Width.", metadata=bounds(0, 100_000))
    height: float | None = strawberry.field(default=strawberry.UNSET, description="Height.", metadata=bounds(0, 100_000))
    rotation: float | None = strawberry.field(default=strawberry.UNSET, description="Rotation in degrees.", metadata=bounds(-3600, 3600))
    opacity: float | None = strawberry.field(default=strawberry.UNSET, description="Opacity, 0 to 1.", metadata=bounds(0, 1))
    properties: JSON | None = strawberry.field(default=strawberry.UNSET, description="Type-specific properties.")
    z_index: int | None = strawberry.field(default=strawberry.UNSET, description="Stacking order.", metadata=bounds(-1_000_000, 1_000_000))
    is_locked: bool | None = strawberry.field(default=strawberry.UNSET, description="Lock in the editor.")
    is_hidden: bool | None = strawberry.field(default=strawberry.UNSET, description="Hide.")
    is_synced: bool | None = strawberry.field(default=strawberry.UNSET, description="Mirror edits to the sync group.")
    sync_group: str | None = strawberry.field(default=strawberry.UNSET, description="The sync group (elements on other canvases).")


@strawberry.input(description="A new timeline element.")
class TimelineElementCreateInput(TimelineElementInput):
    canvas_id: str = strawberry.field(description="The canvas.")
    type: TimelineElementType = strawberry.field(description="The kind of element.")
    name: str = strawberry.field(description="Layer name.")
