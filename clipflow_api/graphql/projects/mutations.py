"""Studio mutations over clipflow_api.projects.service: projects, canvases, timeline elements."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from ...projects import service as projects
from ...validation import UNSET
from ..base import IdArg
from ..context import Info
from ..errors import MutationError
from ..mutations import node_id, run, to_domain
from ..permissions import Require
from ..templates.types import SocialFormat, Template
from .inputs import CanvasInput, ProjectCreateInput, ProjectInput, TimelineElementCreateInput, TimelineElementInput
from .types import Project, TimelineElement

ProjectIdArg = Annotated[strawberry.ID, strawberry.argument(description="The project.")]
CanvasIdArg = Annotated[str, strawberry.argument(description="The canvas.")]


@strawberry.type(description="A refused project change.")
class ProjectError(MutationError):
    pass


@strawberry.type(description="The result of a project or canvas mutation.")
class ProjectPayload:
    project: Project | None = strawberry.field(default=None, description="The project after the change (null when refused).")
    errors: list[ProjectError] = strawberry.field(default_factory=list, description="Why the change was refused; empty on success.")


@strawberry.type(description="A refused timeline change.")
class TimelineElementError(MutationError):
    pass


@strawberry.type(description="The result of a timeline mutation.")
class TimelineElementPayload:
    timeline_element: TimelineElement | None = strawberry.field(
        default=None, description="The timeline element after the change (null when refused)."
    )
    errors: list[TimelineElementError] = strawberry.field(
        default_factory=list, description="Why the change was refused; empty on success."
    )


def _optional_node_id(value: Any, node_type: type, field: str) -> Any:
    """A sent global id as its uuid; null stays null, a field not sent stays UNSET."""
    if value is strawberry.UNSET:
        return UNSET
    return None if value is None else node_id(value, node_type, field)


def _project_changes(data: ProjectInput) -> projects.ProjectChanges:
    return to_domain(
        data,
        projects.ProjectChanges,
        social_format_id=_optional_node_id(data.social_format_id, SocialFormat, "social_format_id"),
        template_id=_optional_node_id(data.template_id, Template, "template_id"),
    )


def _canvas_changes(data: CanvasInput) -> projects.CanvasChanges:
    return to_domain(
        data, projects.CanvasChanges, social_format_id=_optional_node_id(data.social_format_id, SocialFormat, "social_format_id")
    )


@strawberry.type
class ProjectMutations:
    @strawberry.mutation(description="Create a project with one canvas in its format.", permission_classes=[Require("project:write")])
    async def project_create(
        self, info: Info, input: Annotated[ProjectCreateInput, strawberry.argument(description="The project.")]
    ) -> ProjectPayload | None:
        async def work(session: AsyncSession) -> Project:
            row = await projects.create_project(session, info.context.principal, _project_changes(input))
            return Project.from_row(row)

        return await run(info, ProjectPayload, ProjectError, "project", work)

    @strawberry.mutation(description="Change a project.", permission_classes=[Require("project:write")])
    async def project_update(
        self, info: Info, id: IdArg, input: Annotated[ProjectInput, strawberry.argument(description="The changes.")]
    ) -> ProjectPayload | None:
        async def work(session: AsyncSession) -> Project:
            row = await projects.update_project(session, info.context.principal, node_id(id, Project), _project_changes(input))
            return Project.from_row(row)

        return await run(info, ProjectPayload, ProjectError, "project", work)

    @strawberry.mutation(description="Delete a project with its timeline, exports and history.", permission_classes=[Require("project:write")])
    async def project_delete(self, info: Info, id: IdArg) -> ProjectPayload | None:
        async def work(session: AsyncSession) -> Project:
            return Project.from_row(await projects.delete_project(session, info.context.principal, node_id(id, Project)))

        return await run(info, ProjectPayload, ProjectError, "project", work)

    @strawberry.mutation(description="Add a canvas to a project.", permission_classes=[Require("project:write")])
    async def project_canvas_add(
        self, info: Info, project_id: ProjectIdArg, input: Annotated[CanvasInput, strawberry.argument(description="The canvas.")]
    ) -> ProjectPayload | None:
        async def work(session: AsyncSession) -> Project:
            pid = node_id(project_id, Project, "project_id")
            return Project.from_row(await projects.add_canvas(session, info.context.principal, pid, _canvas_changes(input)))

        return await run(info, ProjectPayload, ProjectError, "project", work)

    @strawberry.mutation(description="Change a canvas of a project.", permission_classes=[Require("project:write")])
    async def project_canvas_update(
        self,
        info: Info,
        project_id: ProjectIdArg,
        canvas_id: CanvasIdArg,
        input: Annotated[CanvasInput, strawberry.argument(description="The changes.")],
    ) -> ProjectPayload | None:
        async def work(session: AsyncSession) -> Project:
            pid = node_id(project_id, Project, "project_id")
            row = await projects.update_canvas(session, info.context.principal, pid, canvas_id, _canvas_changes(input))
            return Project.from_row(row)

        return await run(info, ProjectPayload, ProjectError, "project", work)

    @strawberry.mutation(description="Remove a canvas and its timeline elements (the last canvas stays).", permission_classes=[Require("project:write")])
    async def project_canvas_remove(self, info: Info, project_id: ProjectIdArg, canvas_id: CanvasIdArg) -> ProjectPayload | None:
        async def work(session: AsyncSession) -> Project:
            pid = node_id(project_id, Project, "project_id")
            return Project.from_row(await projects.remove_canvas(session, info.context.principal, pid, canvas_id))

        return await run(info, ProjectPayload, ProjectError, "project", work)

    @strawberry.mutation(description="Add an element to a canvas's timeline.", permission_classes=[Require("project:write")])
    async def timeline_element_create(
        self,
        info: Info,
        project_id: ProjectIdArg,
        input: Annotated[TimelineElementCreateInput, strawberry.argument(description="The element.")],
    ) -> TimelineElementPayload | None:
        async def work(session: AsyncSession) -> TimelineElement:
            pid = node_id(project_id, Project, "project_id")
            data = to_domain(input, projects.TimelineElementChanges)
            return TimelineElement.from_row(await projects.create_timeline_element(session, info.context.principal, pid, data))

        return await run(info, TimelineElementPayload, TimelineElementError, "timeline_element", work)

    @strawberry.mutation(
        description="Change a timeline element; a synced element passes its content changes to its sync group.",
        permission_classes=[Require("project:write")],
    )
    async def timeline_element_update(
        self, info: Info, id: IdArg, input: Annotated[TimelineElementInput, strawberry.argument(description="The changes.")]
    ) -> TimelineElementPayload | None:
        async def work(session: AsyncSession) -> TimelineElement:
            changes = to_domain(input, projects.TimelineElementChanges)
            row = await projects.update_timeline_element(session, info.context.principal, node_id(id, TimelineElement), changes)
            return TimelineElement.from_row(row)

        return await run(info, TimelineElementPayload, TimelineElementError, "timeline_element", work)

    @strawberry.mutation(description="Remove an element from the timeline.", permission_classes=[Require("project:write")])
    async def timeline_element_delete(self, info: Info, id: IdArg) -> TimelineElementPayload | None:
        async def work(session: AsyncSession) -> TimelineElement:
            row = await projects.delete_timeline_element(session, info.context.principal, node_id(id, TimelineElement))
            return TimelineElement.from_row(row)

        return await run(info, TimelineElementPayload, TimelineElementError, "timeline_element", work)
