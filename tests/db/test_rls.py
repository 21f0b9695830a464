"""Row-Level Security, exercised as the application role (never a superuser)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, ProgrammingError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from clipflow_api.config import get_settings
from clipflow_api.db import apply_tenant, set_tenant
from clipflow_api.models import TeamMember, Template, Video, Workspace
from tests.fixtures import builders


async def as_app_role(db: AsyncSession, *, workspace_id: uuid.UUID | None, user_id: uuid.UUID | None = None) -> None:
    """Switch the test transaction to the app role with a tenant, as a request would be."""
    await db.flush()
    await db.execute(text(f'SET LOCAL ROLE "{get_settings().db_app_role}"'))
    set_tenant(db, workspace_id=workspace_id, user_id=user_id)
    await apply_tenant(db)


async def test_other_workspace_rows_are_invisible(db: AsyncSession) -> None:
    # given two workspaces with a video each
    ws_a, ws_b = await builders.workspace(db), await builders.workspace(db)
    va, vb = await builders.video(db, ws_a), await builders.video(db, ws_b)
    # when workspace A queries every video, and B's video by id
    await as_app_role(db, workspace_id=ws_a.id)
    all_ids = (await db.execute(select(Video.id))).scalars().all()
    by_id = (await db.execute(select(Video).where(Video.id == vb.id))).scalar_one_or_none()
    # then only A's video exists for it
    assert all_ids == [va.id]
    assert by_id is None


async def test_insert_into_another_workspace_is_refused(db: AsyncSession, connection: AsyncConnection) -> None:
    ws_a, ws_b = await builders.workspace(db), await builders.workspace(db)
    await as_app_role(db, workspace_id=ws_a.id)
    with pytest.raises(ProgrammingError, match="row-level security policy"):
        async with db.begin_nested():
            await builders.video(db, ws_b)
    # and nothing was written
    await db.execute(text("RESET ROLE"))
    count = (await db.execute(select(Video).where(Video.workspace_id == ws_b.id))).all()
    assert count == []


async def test_update_cannot_move_a_row_to_another_workspace(db: AsyncSession) -> None:
    ws_a, ws_b = await builders.workspace(db), await builders.workspace(db)
    v = await builders.video(db, ws_a)
    await as_app_role(db, workspace_id=ws_a.id)
    with pytest.raises(ProgrammingError, match="row-level security policy"):
        async with db.begin_nested():
            await db.execute(text("UPDATE videos SET workspace_id = :b WHERE id = :id"), {"b": ws_b.id, "id": v.id})


async def test_no_tenant_means_no_rows(db: AsyncSession) -> None:
    ws = await builders.workspace(db)
    await builders.video(db, ws)
    await as_app_role(db, workspace_id=None)
    assert (await db.execute(select(Video.id))).all() == []
    assert (await db.execute(select(Workspace.id))).all() == []


async def test_members_see_their_workspaces_and_nobody_elses(db: AsyncSession) -> None:
    # given: A owns one workspace and edits B's "shared"; A was removed from B's "left"
    a, b = await builders.user(db), await builders.user(db)
    mine = await builders.workspace(db, a)
    shared, left, unrelated = [await builders.workspace(db, b) for _ in range(3)]
    db.add_all([
        TeamMember(workspace_id=shared.id, user_id=a.id, role="editor", accepted_at=builders.days_from_now(0)),
        TeamMember(workspace_id=left.id, user_id=a.id, role="editor", status="removed"),
    ])  # fmt: skip
    await db.flush()
    # when / then: each user sees exactly the workspaces they belong to (no tenant set)
    await as_app_role(db, workspace_id=None, user_id=a.id)
    assert set((await db.execute(select(Workspace.id))).scalars()) == {mine.id, shared.id}
    set_tenant(db, workspace_id=None, user_id=b.id)
    await apply_tenant(db)
    assert set((await db.execute(select(Workspace.id))).scalars()) == {shared.id, left.id, unrelated.id}


async def test_system_and_public_templates_are_shared_but_read_only(db: AsyncSession) -> None:
    ws_a, ws_b = await builders.workspace(db), await builders.workspace(db)
    system = Template(name="System", template_data={}, workspace_id=None)
    public_b = Template(name="Public of B", template_data={}, workspace_id=ws_b.id, is_public=True)
    private_b = Template(name="Private of B", template_data={}, workspace_id=ws_b.id)
    db.add_all([system, public_b, private_b])
    await as_app_role(db, workspace_id=ws_a.id)
    names = set((await db.execute(select(Template.name))).scalars())
    assert names == {"System", "Public of B"}
    with pytest.raises(ProgrammingError, match="row-level security policy"):
        async with db.begin_nested():
            db.add(Template(name="sneaky", template_data={}, workspace_id=None))
            await db.flush()
    # updating a shared row is silently limited to zero rows (not visible for UPDATE)
    result = await db.execute(text("UPDATE templates SET name = 'hacked' WHERE id = :id"), {"id": system.id})
    assert result.rowcount == 0


async def test_a_real_app_role_connection_is_isolated(owner_engine: AsyncEngine, app_engine: AsyncEngine) -> None:
    """Committed data, read over a login as the app role (not SET ROLE)."""
    async with AsyncSession(owner_engine, expire_on_commit=False) as owner:
        ws_a, ws_b = await builders.workspace(owner), await builders.workspace(owner)
        va, vb = await builders.video(owner, ws_a), await builders.video(owner, ws_b)
        await owner.commit()
    try:
        async with AsyncSession(app_engine) as app:
            me = (await app.execute(text("SELECT current_user, (SELECT rolbypassrls FROM pg_roles WHERE rolname = current_user)"))).one()
            assert tuple(me) == (get_settings().db_app_role, False)
            await app.rollback()
            set_tenant(app, workspace_id=ws_a.id)
            ids = set((await app.execute(select(Video.id).where(Video.id.in_([va.id, vb.id])))).scalars())
            assert ids == {va.id}
            with pytest.raises(DBAPIError, match="row-level security policy"):
                await builders.video(app, ws_b)
            await app.rollback()
    finally:
        async with AsyncSession(owner_engine) as owner:
            await owner.execute(text("DELETE FROM workspaces WHERE id IN (:a, :b)"), {"a": ws_a.id, "b": ws_b.id})
            await owner.execute(text("DELETE FROM users WHERE id IN (:a, :b)"), {"a": ws_a.owner_id, "b": ws_b.owner_id})
            await owner.commit()
