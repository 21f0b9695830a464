"""Loaders for studio projects and everything hanging off them."""

from __future__ import annotations


from sqlalchemy import Select

from ...models import (
    AiImageGeneration,
    AiTextGeneration,
    Project,
    ProjectAnalytics,
    ProjectCollaborator,
    ProjectExport,
    TimelineElement,
)
from ..loaders import ByIdLoader, ConnectionByKeyLoader, ListByKeyLoader, ListQuery
from ..relay import SortKey, ascending


class ProjectByIdLoader(ByIdLoader):
    model = Project


class ProjectsByWorkspaceIdLoader(ConnectionByKeyLoader):
    model = Project
    key = Project.workspace_id


class ProjectCollaboratorByIdLoader(ByIdLoader):
    model = ProjectCollaborator


class ProjectCollaboratorsByProjectIdLoader(ListByKeyLoader):
    model = ProjectCollaborator
    key = ProjectCollaborator.project_id
    order_by = (ProjectCollaborator.created_at, ProjectCollaborator.id)


class TimelineElementByIdLoader(ByIdLoader):
    model = TimelineElement


class TimelineElementsByProjectIdLoader(ConnectionByKeyLoader):
    """Filter: a canvas id (str) or None."""

    model = TimelineElement
    key = TimelineElement.project_id

    def base(self, query: ListQuery) -> Select:
        stmt = super().base(query)
        return stmt.where(TimelineElement.canvas_id == query.filter) if query.filter else stmt

    def order(self, query: ListQuery) -> tuple[SortKey, ...]:
        return tuple(ascending(c) for c in (TimelineElement.track_index, TimelineElement.start_time, TimelineElement.z_index))


class AiTextGenerationByIdLoader(ByIdLoader):
    model = AiTextGeneration


class AiTextGenerationsByProjectIdLoader(ConnectionByKeyLoader):
    model = AiTextGeneration
    key = AiTextGeneration.project_id


class AiImageGenerationByIdLoader(ByIdLoader):
    model = AiImageGeneration


class AiImageGenerationsByProjectIdLoader(ConnectionByKeyLoader):
    model = AiImageGeneration
    key = AiImageGeneration.project_id


class ProjectExportByIdLoader(ByIdLoader):
    model = ProjectExport


class ProjectExportsByProjectIdLoader(ConnectionByKeyLoader):
    model = ProjectExport
    key = ProjectExport.project_id


class ProjectAnalyticsByIdLoader(ByIdLoader):
    model = ProjectAnalytics


class ProjectAnalyticsByProjectIdLoader(ConnectionByKeyLoader):
    model = ProjectAnalytics
    key = ProjectAnalytics.project_id
