"""All SQL for templates.

Queries run under the session's tenant (RLS): a workspace sees its own templates plus the
system ones (no workspace) and those another workspace shared (``is_public``); it writes
only its own. Reads filter by workspace as well, so RLS is the second guard, not the only one.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import Template


async def get_visible_template(session: AsyncSession, workspace_id: uuid.UUID, template_id: uuid.UUID) -> Template | None:
    """The template if the workspace may see it: its own, a system one (no workspace) or a shared one."""
    return (
        await session.execute(
            select(Template).where(
                Template.id == template_id,
                or_(Template.workspace_id == workspace_id, Template.workspace_id.is_(None), Template.is_public.is_(True)),
            )
        )
    ).scalar_one_or_none()


async def add_template(session: AsyncSession, **values: Any) -> Template:
    template = Template(**values)
    session.add(template)
    await session.flush()
    await session.refresh(template)  # server defaults: type, rating, timestamps
    return template


async def save_template(session: AsyncSession, template: Template) -> Template:
    """Flush the template's changes and reload what the database computes (updated_at)."""
    await session.flush()
    await session.refresh(template)
    return template


async def delete_template(session: AsyncSession, template: Template) -> None:
    await session.delete(template)
    await session.flush()

