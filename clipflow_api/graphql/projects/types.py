"""Studio types: projects with their canvases, collaborators, timeline, AI generations,
exports and analytics events."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, ClassVar

import strawberry
from strawberry import relay

from ..context import Info
from ..base import JSON, RowType, desc
from ..enums import CollaboratorRole, ExportStatus, MemberStatus, ProjectStatus, TimelineElementType
from ..loaders import load_connection, load_list, load_one
from ..relay import AfterArg, BeforeArg, Connection, FirstArg, LastArg


@strawberry.type(description="One canvas of a project: a format-specific artboard sharing the project's timeline.")
class Canvas:
    id: str = desc("The canvas id, unique within the project.")
    name: str | None = desc("Display name.")
    social_format_id: strawberry.ID | None = desc("The format's global id, when the canvas targets one.")
    data: JSON = desc("Everything else stored for the canvas (size, background, ...).")

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Canvas:
        from ..relay import global_id
        from ..templates.types import SocialFormat

        fmt = raw.get("socialFormatId") or raw.get("social_format_id")
        rest = {k: v for k, v in raw.items() if k not in ("id", "name", "socialFormatId", "social_format_id")}
        return cls(
            id=str(raw.get("id")),
            name=raw.get("name"),
            social_format_id=strawberry.ID(global_id(SocialFormat, fmt)) if fmt else None,
            data=JSON(rest),
        )


@strawberry.type(description="A studio project: multi-canvas designs on a shared timeline.")
class Project(relay.Node, RowType):
    id: relay.NodeID[uuid.UUID]
    workspace_id: strawberry.Private[uuid.UUID]
    template_id: strawberry.Private[uuid.UUID | None]
    social_format_id: strawberry.Private[uuid.UUID]
    owner_id: strawberry.Private[uuid.UUID]
    last_edited_by: strawberry.Private[uuid.UUID | None]
    canvases_json: strawberry.Private[list]
    _row_aliases: ClassVar[dict[str, str]] = {"canvases_json": "canvases"}
    name: str = desc("Project name.")
    description: str | None = desc("Description.")
    active_canvas_id: str | None = desc("The canvas open in the editor.")
    project_data: JSON = desc("Editor state shared by every canvas.")
    status: ProjectStatus = desc("Where the project is in review.")
    last_edited_at: datetime | None = desc("Last edit.")
    share_settings: JSON | None = desc("Sharing settings.")
    ai_generations_used: int = desc("AI generations used by the project.")
    created_at: datetime = desc("When the project was created.")
    updated_at: datetime = desc("Last change.")

    @strawberry.field(description="The project's canvases, in order.")
    def canvases(self) -> list[Canvas]:
        return [Canvas.from_json(c) for c in (self.canvases_json or []) if isinstance(c, dict)]

    @strawberry.field(description="The workspace that owns the project.")
    async def workspace(self, info: Info) -> Workspace | None:
        return await load_one(info, WorkspaceByIdLoader, Workspace, self.workspace_id)

    @strawberry.field(description="Who owns the project.")
    async def owner(self, info: Info) -> User | None:
        return await load_one(info, UserByIdLoader, User, self.owner_id)

    @strawberry.field(description="Who edited last.")
    async def last_edited_by_user(self, info: Info) -> User | None:
        return await load_one(info, UserByIdLoader, User, self.last_edited_by)

    @strawberry.field(description="The template the project started from.")
    async def template(self, info: Info) -> Template | None:
        return await load_one(info, TemplateByIdLoader, Template, self.template_id)

    @strawberry.field(description="The project's main format.")
    async def social_format(self, info: Info) -> SocialFormat | None:
        return await load_one(info, SocialFormatByIdLoader, SocialFormat, self.social_format_id)

    @strawberry.field(description="People invited to the project.")
    async def collaborators(self, info: Info) -> list[ProjectCollaborator]:
        return await load_list(info, ProjectCollaboratorsByProjectIdLoader, ProjectCollaborator, self.id)

    @strawberry.field(description="Timeline elements by track and start time.")
    async def timeline_elements(
        self,
        info: Info,
        canvas_id: Annotated[str | None, strawberry.argument(description="Only elements of this canvas.")] = None,
        first: FirstArg = None,
        after: AfterArg = None,
        last: LastArg = None,
        before: BeforeArg = None,
    ) -> Connection[TimelineElement]:
        return await load_connection(
            info, TimelineElementsByProjectIdLoader, TimelineElement, self.id, first=first, after=after, last=last, before=before,
            filter=canvas_id,
        )

    @strawberry.field(description="Rendered exports, newest first.")
    async def exports(
        self, info: Info, first: FirstArg = None, after: AfterArg = None, last: LastArg = None, before: BeforeArg = None
    ) -> Connection[ProjectExport]:
        return await load_connection(
            info, ProjectExportsByProjectIdLoader, ProjectExport, self.id, first=first, after=after, last=last, before=before
        )

    @strawberry.field(description="AI text generations, newest first.")
    async def ai_text_generations(
        self, info: Info, first: FirstArg = None, after: AfterArg = None, last: LastArg = None, before: BeforeArg = None
    ) -> Connection[AiTextGeneration]:
        return await load_connection(
            info, AiTextGenerationsByProjectIdLoader, AiTextGeneration, self.id, first=first, after=after, last=last, before=before
        )

    @strawberry.field(description="AI image generations, newest first.")
    async def ai_image_generations(
        self, info: Info, first: FirstArg = None, after: AfterArg = None, last: LastArg = None, before: BeforeArg = None
    ) -> Connection[AiImageGeneration]:
        return await load_connection(
            info, AiImageGenerationsByProjectIdLoader, AiImageGeneration, self.id, first=first, after=after, last=last, before=before
        )

    @strawberry.field(description="Editor analytics events, newest first.")
    async def analytics_events(
        self, info: Info, first: FirstArg = None, after: AfterArg = None, last: LastArg = None, before: BeforeArg = None
    ) -> Connection[ProjectAnalyticsEvent]:
        return await load_connection(
            info, ProjectAnalyticsByProjectIdLoader, ProjectAnalyticsEvent, self.id, first=first, after=after, last=last, before=before
        )


@strawberry.type(description="A person invited to one project, with a project role.")
class ProjectCollaborator(relay.Node, RowType):
    id: relay.NodeID[uuid.UUID]
    project_id: strawberry.Private[uuid.UUID]
    user_id: strawberry.Private[uuid.UUID]
    role: CollaboratorRole = desc("The collaborator's role on the project.")
    permissions: JSON = desc("Fine-grained project permissions.")
    status: MemberStatus = desc("Whether the collaborator is still on the project.")
    invited_at: datetime | None = desc("When they were invited.")
    joined_at: datetime | None = desc("When they joined.")
    created_at: datetime = desc("When the record was created.")

    @strawberry.field(description="The collaborator.")
    async def user(self, info: Info) -> User | None:
        return await load_one(info, UserByIdLoader, User, self.user_id)

    @strawberry.field(description="The project.")
    async def project(self, info: Info) -> Project | None:
        return await load_one(info, ProjectByIdLoader, Project, self.project_id)


@strawberry.type(description="An element on a project's timeline (text, image, video, shape, audio).")
class TimelineElement(relay.Node, RowType):
    id: relay.NodeID[uuid.UUID]
    project_id: strawberry.Private[uuid.UUID]
    created_by: strawberry.Private[uuid.UUID | None]
    canvas_id: str = desc("The canvas the element is on.")
    type: TimelineElementType = desc("The kind of element.")
    name: str = desc("Layer name.")
    track_index: int = desc("Timeline track.")
    start_time: float = desc("Start in seconds.")
    duration: float = desc("Length in seconds.")
    x: float = desc("Left, in canvas pixels.")
    y: float = desc("Top, in canvas pixels.")
    width: float | None = desc("Width in canvas pixels.")
    height: float | None = desc("Height in canvas pixels.")
    rotation: float = desc("Rotation in degrees.")
    opacity: float = desc("Opacity, 0 to 1.")
    properties: JSON = desc("Type-specific properties (text, colors, source...).")
    ai_generated: bool = desc("Whether AI made the element.")
    ai_provider: str | None = desc("Which AI provider made it.")
    is_synced: bool = desc("Whether edits propagate to the other elements of its sync group.")
    sync_group: str | None = desc("Elements sharing a sync group mirror each other across canvases.")
    z_index: int = desc("Stacking order.")
    is_locked: bool = desc("Whether the element is locked in the editor.")
    is_hidden: bool = desc("Whether the element is hidden.")
    last_edited_at: datetime | None = desc("Last edit.")
    created_at: datetime = desc("When the element was added.")
    updated_at: datetime = desc("Last change.")

    @strawberry.field(description="The project.")
    async def project(self, info: Info) -> Project | None:
        return await load_one(info, ProjectByIdLoader, Project, self.project_id)


@strawberry.type(description="Text generated by AI for a project.")
class AiTextGeneration(relay.Node, RowType):
    id: relay.NodeID[uuid.UUID]
    project_id: strawberry.Private[uuid.UUID]
    user_id: strawberry.Private[uuid.UUID]
    prompt: str = desc("The prompt.")
    context: JSON | None = desc("Context given to the model.")
    provider: str = desc("AI provider.")
    model: str = desc("Model name.")
    generated_text: str = desc("The text produced.")
    alternatives: JSON = desc("Other candidates.")
    tokens_used: int | None = desc("Tokens used.")
    cost: float | None = desc("Cost in USD.")
    response_time: int | None = desc("Milliseconds to answer.")
    applied_to_element: str | None = desc("The element that uses the text.")
    is_used: bool = desc("Whether the text was used.")
    user_rating: int | None = desc("The user's rating, 1-5.")
    user_feedback: str | None = desc("The user's feedback.")
    created_at: datetime = desc("When it was generated.")

    @strawberry.field(description="Who asked for it.")
    async def user(self, info: Info) -> User | None:
        return await load_one(info, UserByIdLoader, User, self.user_id)

    @strawberry.field(description="The project.")
    async def project(self, info: Info) -> Project | None:
        return await load_one(info, ProjectByIdLoader, Project, self.project_id)


@strawberry.type(description="An image generated by AI for a project.")
class AiImageGeneration(relay.Node, RowType):
    id: relay.NodeID[uuid.UUID]
    project_id: strawberry.Private[uuid.UUID]
    user_id: strawberry.Private[uuid.UUID]
    prompt: str = desc("The prompt.")
    negative_prompt: str | None = desc("What to avoid.")
    style: str | None = desc("Style preset.")
    provider: str = desc("AI provider.")
    width: int = desc("Width in pixels.")
    height: int = desc("Height in pixels.")
    seed: float | None = desc("Random seed.")
    steps: int | None = desc("Diffusion steps.")
    guidance: float | None = desc("Guidance scale.")
    image_url: str = desc("The image.")
    thumbnail_url: str | None = desc("Preview image.")
    alternatives: JSON = desc("Other candidates.")
    generation_time: int | None = desc("Milliseconds to generate.")
    cost: float | None = desc("Cost in USD.")
    applied_to_element: str | None = desc("The element that uses the image.")
    is_used: bool = desc("Whether the image was used.")
    user_rating: int | None = desc("The user's rating, 1-5.")
    user_feedback: str | None = desc("The user's feedback.")
    created_at: datetime = desc("When it was generated.")

    @strawberry.field(description="Who asked for it.")
    async def user(self, info: Info) -> User | None:
        return await load_one(info, UserByIdLoader, User, self.user_id)

    @strawberry.field(description="The project.")
    async def project(self, info: Info) -> Project | None:
        return await load_one(info, ProjectByIdLoader, Project, self.project_id)


@strawberry.type(description="A server-side render of one canvas of a project.")
class ProjectExport(relay.Node, RowType):
    id: relay.NodeID[uuid.UUID]
    project_id: strawberry.Private[uuid.UUID]
    user_id: strawberry.Private[uuid.UUID]
    social_format_id: strawberry.Private[uuid.UUID]
    canvas_id: str = desc("The canvas rendered.")
    export_settings: JSON = desc("Render settings.")
    status: ExportStatus = desc("Where the render is.")
    output_url: str | None = desc("The rendered file.")
    thumbnail_url: str | None = desc("Preview image.")
    file_size: float | None = desc("Size in bytes.")
    duration: float | None = desc("Length in seconds.")
    processing_started_at: datetime | None = desc("When rendering started.")
    processing_completed_at: datetime | None = desc("When rendering finished.")
    processing_time: int | None = desc("Milliseconds to render.")
    error_message: str | None = desc("Why rendering failed.")
    download_count: int = desc("Downloads.")
    last_downloaded_at: datetime | None = desc("Last download.")
    created_at: datetime = desc("When the export was requested.")
    updated_at: datetime = desc("Last change.")

    @strawberry.field(description="Who asked for it.")
    async def user(self, info: Info) -> User | None:
        return await load_one(info, UserByIdLoader, User, self.user_id)

    @strawberry.field(description="The project.")
    async def project(self, info: Info) -> Project | None:
        return await load_one(info, ProjectByIdLoader, Project, self.project_id)

    @strawberry.field(description="The format rendered to.")
    async def social_format(self, info: Info) -> SocialFormat | None:
        return await load_one(info, SocialFormatByIdLoader, SocialFormat, self.social_format_id)


@strawberry.type(description="An editor analytics event of a project.")
class ProjectAnalyticsEvent(relay.Node, RowType):
    id: relay.NodeID[uuid.UUID]
    project_id: strawberry.Private[uuid.UUID]
    user_id: strawberry.Private[uuid.UUID]
    event_type: str = desc("What happened.")
    event_data: JSON | None = desc("Event details.")
    canvas_id: str | None = desc("The canvas involved.")
    element_id: str | None = desc("The element involved.")
    session_id: str | None = desc("Editor session.")
    created_at: datetime = desc("When it happened.")

    @strawberry.field(description="Who did it.")
    async def user(self, info: Info) -> User | None:
        return await load_one(info, UserByIdLoader, User, self.user_id)


from ..auth.loaders import UserByIdLoader  # noqa: E402
from ..auth.types import User  # noqa: E402
from ..templates.loaders import SocialFormatByIdLoader, TemplateByIdLoader  # noqa: E402
from ..templates.types import SocialFormat, Template  # noqa: E402
from ..workspaces.loaders import WorkspaceByIdLoader  # noqa: E402
from ..workspaces.types import Workspace  # noqa: E402
from .loaders import (  # noqa: E402
    AiImageGenerationsByProjectIdLoader,
    AiTextGenerationsByProjectIdLoader,
    ProjectAnalyticsByProjectIdLoader,
    ProjectByIdLoader,
    ProjectCollaboratorsByProjectIdLoader,
    ProjectExportsByProjectIdLoader,
    TimelineElementsByProjectIdLoader,
)
