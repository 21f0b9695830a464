"""Creating workspaces and listing memberships, as the app role (RLS on)."""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.ext.asyncio import AsyncSession

from clipflow_api import audit
from clipflow_api.auth.principal import Principal
from clipflow_api.errors import Conflict, NotFound, ValidationError
from clipflow_api.models import Workspace
from clipflow_api.workspaces import service
from clipflow_api.workspaces.service import slugify
from tests.fixtures.builders import use_tenant
from tests.fixtures import builders


async def test_runs_as_the_app_role(app_db: AsyncSession) -> None:
    role, bypass = (
        await app_db.execute(
            text("SELECT current_user, (SELECT rolbypassrls FROM pg_roles WHERE rolname = current_user)")
        )
    ).one()
    assert (role, bypass) == ("clipflow_app", False)


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Café Crème Studio", "cafe-creme-studio"),
        ("  ACME   Films!! ", "acme-films"),
        ("日本", "workspace"),
        ("ab", "ab-workspace"),
        ("API", "api-workspace"),
        ("x" * 80, "x" * 40),
    ],
)
def test_slugify(name: str, slug: str) -> None:
    assert slugify(name) == slug


async def test_create_workspace_with_owner_membership(app_db: AsyncSession, owner_sql) -> None:
    owner = await builders.user(app_db)
    ws = await service.create_workspace(app_db, owner_id=owner.id, name="  Café   Crème Studio ")
    assert (ws.name, ws.owner_id) == ("Café Crème Studio", owner.id)
    assert re.fullmatch(r"cafe-creme-studio(-[0-9a-f]{6})?", ws.slug)
    members = await owner_sql(
        "SELECT user_id, role, status, accepted_at IS NOT NULL FROM team_members WHERE workspace_id = :w", w=ws.id
    )
    assert [tuple(m) for m in members] == [(owner.id, "owner", "active", True)]
    entries = await owner_sql("SELECT action, user_id, details FROM audit_logs WHERE workspace_id = :w", w=ws.id)
    assert [tuple(e) for e in entries] == [("workspace.create", owner.id, {"slug": ws.slug})]
    # and the session's own tenant is back as it was (none)
    assert (app_db.info["workspace_id"], app_db.info["user_id"]) == (None, None)
    assert (await app_db.execute(select(Workspace.id))).all() == []


async def test_taken_slug_is_refused_even_when_the_other_workspace_is_invisible(
    app_db: AsyncSession, owner_sql
) -> None:
    # given another tenant's workspace with the slug (RLS hides it from this caller)
    slug = f"taken-{uuid.uuid4().hex[:8]}"
    other = await builders.user(app_db)
    await service.create_workspace(app_db, owner_id=other.id, name="Theirs", slug=slug)
    me = await builders.user(app_db)
    await use_tenant(app_db, None, me.id)
    assert (await app_db.execute(select(Workspace).where(Workspace.slug == slug))).all() == []
    before = await owner_sql("SELECT count(*) FROM workspaces")
    # when I ask for it explicitly
    with pytest.raises(Conflict) as err:
        await service.create_workspace(app_db, owner_id=me.id, name="Mine", slug=slug.upper())
    assert (err.value.code, err.value.field) == ("SLUG_TAKEN", "slug")
    assert await owner_sql("SELECT count(*) FROM workspaces") == before
    # but a slug derived from a name gets a suffix instead
    ws = await service.create_workspace(app_db, owner_id=me.id, name=slug)
    assert re.fullmatch(rf"{slug}-[0-9a-f]{{6}}", ws.slug)


@pytest.mark.parametrize("slug", ["ab", "-abc", "abc-", "Has Space", "under_score", "admin", "a" * 51])
async def test_invalid_slugs(app_db: AsyncSession, owner_sql, slug: str) -> None:
    owner = await builders.user(app_db)
    with pytest.raises(ValidationError) as err:
        await service.create_workspace(app_db, owner_id=owner.id, name="X", slug=slug)
    assert (err.value.code, err.value.field) == ("INVALID_SLUG", "slug")
    assert await owner_sql("SELECT count(*) FROM workspaces WHERE owner_id = :u", u=owner.id) == [(0,)]


async def test_create_for_unknown_user_or_without_a_name(app_db: AsyncSession) -> None:
    with pytest.raises(NotFound):
        await service.create_workspace(app_db, owner_id=uuid.uuid4(), name="Ghost")
    owner = await builders.user(app_db)
    with pytest.raises(ValidationError) as err:
        await service.create_workspace(app_db, owner_id=owner.id, name=" ")
    assert (err.value.code, err.value.field) == ("REQUIRED", "name")


async def test_list_memberships_shows_only_active_ones(app_db: AsyncSession, owner_sql) -> None:
    me, other = await builders.user(app_db), await builders.user(app_db)
    mine = await service.create_workspace(app_db, owner_id=me.id, name="Mine")
    theirs = await service.create_workspace(app_db, owner_id=other.id, name="Theirs")
    gone = await service.create_workspace(app_db, owner_id=other.id, name="Left")
    await service.create_workspace(app_db, owner_id=other.id, name="Not mine")
    await owner_sql(
        "INSERT INTO team_members (workspace_id, user_id, role, status) VALUES (:a, :me, 'editor', 'active'), "
        "(:b, :me, 'viewer', 'removed')",
        a=theirs.id,
        b=gone.id,
        me=me.id,
    )
    memberships = await service.list_memberships(app_db, user_id=me.id)
    assert [(m.workspace.id, m.member.role) for m in memberships] == [(mine.id, "owner"), (theirs.id, "editor")]


async def test_audit_record_writes_ip_and_agent_and_respects_rls(app_db: AsyncSession, owner_sql) -> None:
    owner = await builders.user(app_db)
    ws = await service.create_workspace(app_db, owner_id=owner.id, name="Audited")
    await use_tenant(app_db, ws.id, owner.id)
    who = Principal(user_id=owner.id, workspace_id=ws.id, ip_address="2001:db8::1", user_agent="ua/1")
    target = uuid.uuid4()
    await audit.record(app_db, who, "video.delete", resource_type="video", resource_id=target, details={"title": "x"})
    await audit.record(
        app_db,
        Principal(user_id=owner.id, workspace_id=ws.id, ip_address="not-an-ip"),
        "video.read",
        resource_type="video",
        resource_id=target,
    )
    rows = await owner_sql(
        "SELECT action, host(ip_address), user_agent, details FROM audit_logs WHERE resource_id = :r ORDER BY action",
        r=target,
    )
    assert [tuple(r) for r in rows] == [
        ("video.delete", "2001:db8::1", "ua/1", {"title": "x"}),
        ("video.read", None, None, None),
    ]
    # writing into another workspace's trail is refused by RLS
    other = uuid.uuid4()
    with pytest.raises(ProgrammingError, match="row-level security"):
        async with app_db.begin_nested():
            await audit.record(
                app_db, Principal(user_id=owner.id, workspace_id=other), "x", resource_type=None, resource_id=None
            )
