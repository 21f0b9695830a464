"""All SQL of studio projects: projects, their timeline elements, and what they point at.

Every lookup is scoped to the caller's workspace; Row-Level Security says the same again.
Rows are read ``FOR UPDATE`` where a change follows, so concurrent edits of one project
(or one sync group) queue instead of overwriting each other.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import Project, SocialFormat, Template, TimelineElement
from ..rows import delete_row, refreshed

# -- projects --------------------------------------------------------------------------------


async def get_project(session: AsyncSession, workspace_id: uuid.UUID, project_id: uuid.UUID) -> Project | None:
    """The workspace's project, locked for the change that follows."""
    return (
        await session.execute(
            select(Project).where(Project.id == project_id, Project.workspace_id == workspace_id).with_for_update()
        )
    ).scalar_one_or_none()


async def add_project(session: AsyncSession, project: Project) -> Project:
    session.add(project)
    return await refreshed(session, project)


async def save(session: AsyncSession, row: Any) -> Any:
    """Flush a changed project or element and reload its server-side values (``updated_at``)."""
    return await refreshed(session, row)


async def delete_one(session: AsyncSession, row: Project | TimelineElement) -> None:
    """Delete a project (its timeline, exports and history cascade) or one element."""
    await delete_row(session, row)


# -- what a project points at ----------------------------------------------------------------


async def social_format_exists(session: AsyncSession, format_id: uuid.UUID) -> bool:
    return (await session.execute(select(SocialFormat.id).where(SocialFormat.id == format_id))).first() is not None


async def template_usable(session: AsyncSession, workspace_id: uuid.UUID, template_id: uuid.UUID) -> bool:
    """A template of the workspace, a system template (no workspace) or a public one."""
    found = await session.execute(
        select(Template.id).where(
            Template.id == template_id,
            or_(Template.workspace_id == workspace_id, Template.workspace_id.is_(None), Template.is_public.is_(True)),
        )
    )
    return found.first() is not None


# -- timeline elements -----------------------------------------------------------------------


async def get_element(session: AsyncSession, workspace_id: uuid.UUID, element_id: uuid.UUID) -> TimelineElement | None:
    """The workspace's timeline element, locked for the change that follows."""
    return (
        await session.execute(
            select(TimelineElement)
            .where(TimelineElement.id == element_id, TimelineElement.workspace_id == workspace_id)
            .with_for_update()
        )
    ).scalar_one_or_none()


async def add_element(session: AsyncSession, element: TimelineElement) -> TimelineElement:
    session.add(element)
    return await refreshed(session, element)


async def lock_synced_peers(session: AsyncSession, element: TimelineElement) -> list[TimelineElement]:
    """The other synced elements of the element's sync group in its project, locked."""
    if not element.sync_group:
        return []
    rows = await session.execute(
        select(TimelineElement)
        .where(
            TimelineElement.workspace_id == element.workspace_id,
            TimelineElement.project_id == element.project_id,
            TimelineElement.sync_group == element.sync_group,
            TimelineElement.is_synced.is_(True),
            TimelineElement.id != element.id,
        )
        .order_by(TimelineElement.id)
        .with_for_update()
    )
    return list(rows.scalars())


async def delete_canvas_elements(session: AsyncSession, project: Project, canvas_id: str) -> int:
    """Delete the elements of one canvas of the project; returns how many went."""
    result = await session.execute(
        delete(TimelineElement)
        .where(
            TimelineElement.workspace_id == project.workspace_id,
            TimelineElement.project_id == project.id,
            TimelineElement.canvas_id == canvas_id,
        )
        .returning(TimelineElement.id)
        .execution_options(synchronize_session="fetch")
    )
    return len(result.all())

