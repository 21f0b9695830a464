"""Role changes, custom permissions and removal: who may, and the owner protections."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from clipflow_api.auth import service as accounts
from clipflow_api.errors import Conflict, NotFound, PermissionDenied, ValidationError
from clipflow_api.models import TeamMember
from clipflow_api.permissions import ROLE_PERMISSIONS, effective_permissions
from clipflow_api.workspaces import service
from tests.auth.helpers import principal
from tests.fixtures.builders import use_tenant
from tests.fixtures import builders


async def _team(db: AsyncSession, *roles: str):
    """A workspace with its owner and one member per role given; returns (ws, {role: (user, member)})."""
    owner = await builders.user(db, name="Owner", email_verified=True)
    await builders.subscribe(db, owner.id, "pro")  # API access, and seats for the team
    ws = await service.create_workspace(db, owner_id=owner.id, name="Crew")
    await use_tenant(db, ws.id, owner.id)
    people = {"owner": (owner, (await service.list_memberships(db, user_id=owner.id))[0].member)}
    await use_tenant(db, ws.id, owner.id)
    for role in roles:
        user = await builders.user(db, name=role.title(), email_verified=True)
        member = TeamMember(workspace_id=ws.id, user_id=user.id, role=role)
        db.add(member)
        await db.flush()
        people[role] = (user, member)
    return ws, people


def _as(ws, people, role: str):
    return principal(people[role][0].id, ws.id, people[role][1].role)


async def _roles(owner_sql, ws) -> dict:
    rows = await owner_sql(
        "SELECT u.name, m.role, m.status FROM team_members m JOIN users u ON u.id = m.user_id WHERE m.workspace_id = :w",
        w=ws.id,
    )
    return {r[0]: (r[1], r[2]) for r in rows}


# -- change_role -----------------------------------------------------------------------------------


async def test_admin_changes_an_editor_to_scheduler(app_db: AsyncSession, owner_sql) -> None:
    ws, people = await _team(app_db, "admin", "editor")
    member = await service.change_role(
        app_db, _as(ws, people, "admin"), member_id=people["editor"][1].id, role="scheduler"
    )
    assert member.role == "scheduler"
    assert (await _roles(owner_sql, ws))["Editor"] == ("scheduler", "active")
    entries = await owner_sql("SELECT action, details FROM audit_logs WHERE resource_id = :m", m=member.id)
    assert [tuple(e) for e in entries] == [("member.role_change", {"from": "editor", "to": "scheduler"})]


@pytest.mark.parametrize(
    ("actor", "target", "role", "error", "code"),
    [
        ("admin", "editor", "owner", PermissionDenied, "OWNER_PROTECTED"),
        ("admin", "owner", "viewer", PermissionDenied, "OWNER_PROTECTED"),
        ("owner", "owner", "admin", Conflict, "LAST_OWNER"),
        ("editor", "viewer", "client", PermissionDenied, "PERMISSION_DENIED"),
        ("owner", "editor", "boss", ValidationError, "INVALID_ROLE"),
    ],
)
async def test_refused_role_changes_change_nothing(app_db, owner_sql, actor, target, role, error, code) -> None:
    ws, people = await _team(app_db, "admin", "editor", "viewer")
    before = await _roles(owner_sql, ws)
    with pytest.raises(error) as err:
        await service.change_role(app_db, _as(ws, people, actor), member_id=people[target][1].id, role=role)
    assert err.value.code == code
    assert await _roles(owner_sql, ws) == before


async def test_owners_hand_over_ownership(app_db: AsyncSession, owner_sql) -> None:
    ws, people = await _team(app_db, "admin")
    owner = _as(ws, people, "owner")
    await service.change_role(app_db, owner, member_id=people["admin"][1].id, role="owner")
    # with a second owner, the first may step down
    await service.change_role(app_db, owner, member_id=people["owner"][1].id, role="admin")
    assert await _roles(owner_sql, ws) == {"Owner": ("admin", "active"), "Admin": ("owner", "active")}


async def test_members_of_other_workspaces_are_not_found(app_db: AsyncSession) -> None:
    ws, people = await _team(app_db)
    other_ws, other_people = await _team(app_db, "editor")
    with pytest.raises(NotFound):
        await service.change_role(
            app_db, _as(ws, people, "owner"), member_id=other_people["editor"][1].id, role="viewer"
        )
    with pytest.raises(NotFound):
        await service.change_role(app_db, _as(ws, people, "owner"), member_id=uuid.uuid4(), role="viewer")


# -- custom permissions ----------------------------------------------------------------------------


async def test_custom_permissions_grant_and_revoke(app_db: AsyncSession, owner_sql) -> None:
    ws, people = await _team(app_db, "admin", "editor")
    editor = people["editor"][1]
    member = await service.set_custom_permissions(
        app_db, _as(ws, people, "admin"), member_id=editor.id, grant=["video:delete"], revoke=["clip:write"]
    )
    assert member.custom_permissions == {"grant": ["video:delete"], "revoke": ["clip:write"]}
    stored = (await owner_sql("SELECT role, custom_permissions FROM team_members WHERE id = :m", m=editor.id))[0]
    assert effective_permissions(stored[0], stored[1]) == (ROLE_PERMISSIONS["editor"] | {"video:delete"}) - {
        "clip:write"
    }
    # empty lists clear the override
    cleared = await service.set_custom_permissions(app_db, _as(ws, people, "admin"), member_id=editor.id)
    assert cleared.custom_permissions is None


@pytest.mark.parametrize(
    ("actor", "target", "grant", "error", "code"),
    [
        ("admin", "editor", ["billing:manage"], PermissionDenied, "PERMISSION_DENIED"),  # admins do not hold it
        ("admin", "editor", ["video:fly"], ValidationError, "INVALID_PERMISSION"),
        ("admin", "owner", [], Conflict, "OWNER_PROTECTED"),
        ("editor", "viewer", ["video:write"], PermissionDenied, "PERMISSION_DENIED"),
    ],
)
async def test_refused_permission_changes(app_db, owner_sql, actor, target, grant, error, code) -> None:
    ws, people = await _team(app_db, "admin", "editor", "viewer")
    with pytest.raises(error) as err:
        await service.set_custom_permissions(
            app_db,
            _as(ws, people, actor),
            member_id=people[target][1].id,
            grant=grant,
            revoke=["video:read"] if not grant else [],
        )
    assert err.value.code == code
    assert await owner_sql(
        "SELECT count(*) FROM team_members WHERE workspace_id = :w AND custom_permissions IS NOT NULL", w=ws.id
    ) == [(0,)]


async def test_promotion_to_owner_drops_custom_permissions(app_db: AsyncSession) -> None:
    ws, people = await _team(app_db, "admin")
    owner = _as(ws, people, "owner")
    await service.set_custom_permissions(app_db, owner, member_id=people["admin"][1].id, revoke=["webhook:manage"])
    member = await service.change_role(app_db, owner, member_id=people["admin"][1].id, role="owner")
    assert member.custom_permissions is None


# -- removal ---------------------------------------------------------------------------------------


async def test_admin_removes_an_editor_and_their_keys_stop(app_db: AsyncSession, owner_sql) -> None:
    ws, people = await _team(app_db, "admin", "editor")
    # the editor got a custom grant to make a key in this workspace
    await service.set_custom_permissions(
        app_db, _as(ws, people, "owner"), member_id=people["editor"][1].id, grant=["api_key:manage"]
    )
    key, _ = await accounts.create_api_key(app_db, _as(ws, people, "editor"), name="k", scopes=["video:read"])
    # when
    removed = await service.remove_member(app_db, _as(ws, people, "admin"), member_id=people["editor"][1].id)
    # then the membership comes back as it now is
    assert (removed.id, removed.user_id, removed.role, removed.status) == (
        people["editor"][1].id, people["editor"][0].id, "editor", "removed"
    )
    assert (await _roles(owner_sql, ws))["Editor"] == ("editor", "removed")
    assert (await owner_sql("SELECT revoked_at IS NOT NULL FROM api_keys WHERE id = :k", k=key.id)) == [(True,)]
    entries = await owner_sql(
        "SELECT action, details->>'api_keys_revoked' FROM audit_logs WHERE resource_id = :m AND action = 'member.remove'",
        m=people["editor"][1].id,
    )
    assert [tuple(e) for e in entries] == [("member.remove", "1")]
    # and they no longer appear among their memberships
    assert [m.workspace.id for m in await service.list_memberships(app_db, user_id=people["editor"][0].id)] == []


@pytest.mark.parametrize(
    ("actor", "target", "error", "code"),
    [
        ("admin", "owner", PermissionDenied, "OWNER_PROTECTED"),
        ("owner", "owner", Conflict, "LAST_OWNER"),
        ("editor", "viewer", PermissionDenied, "PERMISSION_DENIED"),
    ],
)
async def test_refused_removals_change_nothing(app_db, owner_sql, actor, target, error, code) -> None:
    ws, people = await _team(app_db, "admin", "editor", "viewer")
    before = await _roles(owner_sql, ws)
    with pytest.raises(error) as err:
        await service.remove_member(app_db, _as(ws, people, actor), member_id=people[target][1].id)
    assert err.value.code == code
    assert await _roles(owner_sql, ws) == before


async def test_anyone_may_leave_and_an_owner_once_another_owner_remains(app_db: AsyncSession, owner_sql) -> None:
    ws, people = await _team(app_db, "viewer", "admin")
    await service.remove_member(app_db, _as(ws, people, "viewer"), member_id=people["viewer"][1].id)
    await service.change_role(app_db, _as(ws, people, "owner"), member_id=people["admin"][1].id, role="owner")
    await service.remove_member(app_db, _as(ws, people, "owner"), member_id=people["owner"][1].id)
    assert await _roles(owner_sql, ws) == {
        "Owner": ("owner", "removed"),
        "Viewer": ("viewer", "removed"),
        "Admin": ("owner", "active"),
    }
    actions = await owner_sql(
        "SELECT action FROM audit_logs WHERE workspace_id = :w AND action LIKE 'member.%' ORDER BY action", w=ws.id
    )
    assert [a[0] for a in actions] == ["member.leave", "member.leave", "member.role_change"]
