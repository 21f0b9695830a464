"""The template rules, as the app role (RLS on): who edits what, sharing, input checks.

Every refusal is checked to write nothing (templates and audit entries read as the owner).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from clipflow_api.auth.principal import Principal
from clipflow_api.errors import NotFound, PermissionDenied, ValidationError
from clipflow_api.models import Template, TeamMember, Workspace
from clipflow_api.models.enums import TemplateType
from clipflow_api.templates import service
from clipflow_api.templates.service import TemplateChanges
from tests.auth.helpers import principal
from tests.fixtures.builders import use_tenant
from tests.fixtures import builders

READ_ONLY = "System and shared templates cannot be changed; duplicate it instead."
SHARING = "Only workspace owners and admins can share a template with everyone."


@dataclass
class Team:
    db: AsyncSession  # app_db: the test's transaction as the app role (RLS on)
    ws: Workspace
    people: dict[str, Principal]
    own: Template  # the workspace's, private
    system: Template  # no workspace
    shared: Template  # another workspace's, public
    foreign: Template  # another workspace's, private

    async def acting(self, role: str) -> Principal:
        """The member of that role, with the session's tenant set to them (as a request would)."""
        who = self.people[role]
        await use_tenant(self.db, who.workspace_id, who.user_id)
        return who


@pytest.fixture
async def _rows_as_owner(db: AsyncSession) -> tuple:
    """A workspace with one member per role and templates of every kind, written as the owner."""
    ws = await builders.workspace(db)
    people = {"owner": principal(ws.owner_id, ws.id, "owner")}
    for role in ("admin", "editor", "scheduler", "viewer", "client"):
        user = await builders.user(db)
        db.add(TeamMember(workspace_id=ws.id, user_id=user.id, role=role))
        people[role] = principal(user.id, ws.id, role)
    other = await builders.workspace(db)
    own = Template(workspace_id=ws.id, name="Promo", template_data={"layers": []}, tags=["sale"])
    system = Template(workspace_id=None, name="System intro", template_data={}, is_public=True)
    shared = Template(workspace_id=other.id, name="Their public", template_data={}, is_public=True)
    foreign = Template(workspace_id=other.id, name="Their private", template_data={})
    db.add_all([own, system, shared, foreign])
    await db.flush()
    return ws, people, own, system, shared, foreign


@pytest.fixture
async def team(_rows_as_owner: tuple, app_db: AsyncSession) -> Team:
    """The rows above (built first: this argument order matters), then the session as the app role."""
    return Team(app_db, *_rows_as_owner)


async def _state(owner_sql: Any, team: Team) -> tuple[list, int]:
    """Every column of the templates in play, and the workspace's audit entries, read as the owner."""
    rows = await owner_sql(
        "SELECT to_jsonb(t) FROM templates t WHERE t.workspace_id = :w OR t.id = ANY(:ids) ORDER BY t.id",
        w=team.ws.id, ids=[team.system.id, team.shared.id, team.foreign.id],
    )
    audits = await owner_sql("SELECT count(*) FROM audit_logs WHERE workspace_id = :w", w=team.ws.id)
    return [r[0] for r in rows], audits[0][0]


async def _rows(owner_sql: Any, sql: str, **params: Any) -> list[tuple]:
    return [tuple(r) for r in await owner_sql(sql, **params)]


async def _audit(owner_sql: Any, template_id: uuid.UUID) -> list[tuple]:
    rows = await owner_sql(
        "SELECT action, user_id, workspace_id, resource_type, details FROM audit_logs WHERE resource_id = :r ORDER BY created_at",
        r=template_id,
    )
    return [tuple(r) for r in rows]


# -- create ----------------------------------------------------------------------------------


async def test_an_editor_creates_a_team_template(team: Team, owner_sql) -> None:
    # given an editor
    editor = await team.acting("editor")
    # when they create a template with only the required fields
    row = await service.create_template(team.db, editor, TemplateChanges(name="  Launch  ", template_data={"layers": [1]}))
    # then it is their workspace's, private, a video template by default, and audited
    stored = await owner_sql(
        "SELECT workspace_id, created_by, name, type, visibility, is_public, template_data, tags, placeholders FROM templates WHERE id = :id",
        id=row.id,
    )
    assert [tuple(r) for r in stored] == [(team.ws.id, editor.user_id, "Launch", "video", "team", False, {"layers": [1]}, [], [])]
    assert await _audit(owner_sql, row.id) == [
        ("template.create", editor.user_id, team.ws.id, "template", {"name": "Launch", "template_data": True})
    ]


async def test_create_takes_every_editable_field(team: Team, owner_sql) -> None:
    editor = await team.acting("editor")
    data = TemplateChanges(
        name="Quote", description=" A quote card ", type=TemplateType.CAPTION, category="marketing", tags=["a", "b"],
        template_data={"font": "Inter"}, placeholders=[{"key": "quote"}], thumbnail_url="https://cdn.example/q.png",
        is_public=False,
    )
    row = await service.create_template(team.db, editor, data)
    stored = await owner_sql(
        "SELECT name, description, type, category, tags, template_data, placeholders, thumbnail_url, is_public FROM templates WHERE id = :id",
        id=row.id,
    )
    assert [tuple(r) for r in stored] == [
        ("Quote", "A quote card", "caption", "marketing", ["a", "b"], {"font": "Inter"}, [{"key": "quote"}], "https://cdn.example/q.png", False)
    ]
    assert (await _audit(owner_sql, row.id))[0][4] == {
        "name": "Quote", "description": "A quote card", "type": "caption", "category": "marketing", "tags": ["a", "b"],
        "template_data": True, "is_public": False,
    }


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (TemplateChanges(template_data={}), ("REQUIRED", "name", "This field is required.")),
        (TemplateChanges(name="T"), ("REQUIRED", "template_data", "This field is required.")),
        (TemplateChanges(name="   ", template_data={}), ("REQUIRED", "name", "This field is required.")),
        (TemplateChanges(name="T", template_data=[]), ("INVALID", "template_data", "Template data is a JSON object.")),
        (TemplateChanges(name="T", template_data={}, type="gif"), ("INVALID", "type", "Type is video, caption, post or canvas.")),
    ],
    ids=["no-name", "no-data", "blank-name", "data-not-object", "bad-type"],
)
async def test_refused_creates_write_nothing(team: Team, owner_sql, data: TemplateChanges, error: tuple) -> None:
    editor = await team.acting("editor")
    before = await _state(owner_sql, team)
    with pytest.raises(ValidationError) as refused:
        await service.create_template(team.db, editor, data)
    assert (refused.value.code, refused.value.field, refused.value.message) == error
    assert await _state(owner_sql, team) == before


# -- update ----------------------------------------------------------------------------------


async def test_an_editor_changes_their_workspaces_template(team: Team, owner_sql) -> None:
    editor = await team.acting("editor")
    changes = TemplateChanges(name=" Promo v2 ", type=TemplateType.POST, tags=["spring"], category="marketing", description=None)
    row = await service.update_template(team.db, editor, team.own.id, changes)
    assert (row.name, row.type, row.tags, row.category, row.description) == ("Promo v2", "post", ["spring"], "marketing", None)
    stored = await owner_sql("SELECT name, type, tags, category, template_data, is_public FROM templates WHERE id = :id", id=team.own.id)
    # fields left out keep their value
    assert [tuple(r) for r in stored] == [("Promo v2", "post", ["spring"], "marketing", {"layers": []}, False)]
    assert await _audit(owner_sql, team.own.id) == [
        ("template.update", editor.user_id, team.ws.id, "template",
         {"name": "Promo v2", "type": "post", "tags": ["spring"], "category": "marketing", "description": None})
    ]


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        (TemplateChanges(name=None), ("REQUIRED", "name", "This field is required.")),
        (TemplateChanges(name="x" * 256), ("INVALID", "name", "At most 255 characters.")),
        (TemplateChanges(description="x" * 5001), ("INVALID", "description", "At most 5000 characters.")),
        (TemplateChanges(type="gif"), ("INVALID", "type", "Type is video, caption, post or canvas.")),
        (TemplateChanges(category="x" * 101), ("INVALID", "category", "At most 100 characters.")),
        (TemplateChanges(tags=[str(i) for i in range(51)]), ("INVALID", "tags", "At most 50 items.")),
        (TemplateChanges(template_data=None), ("INVALID", "template_data", "Template data is a JSON object.")),
        (TemplateChanges(placeholders={"a": 1}), ("INVALID", "placeholders", "Placeholders are a JSON list.")),
        (TemplateChanges(thumbnail_url="x" * 2001), ("INVALID", "thumbnail_url", "At most 2000 characters.")),
        # one bad field refuses the whole change: the good one is not applied either
        (TemplateChanges(name="Renamed", type="gif"), ("INVALID", "type", "Type is video, caption, post or canvas.")),
    ],
    ids=["null-name", "long-name", "long-description", "bad-type", "long-category", "too-many-tags", "null-data",
         "placeholders-not-list", "long-thumbnail", "partly-bad"],
)
async def test_refused_updates_change_nothing(team: Team, owner_sql, changes: TemplateChanges, error: tuple) -> None:
    editor = await team.acting("editor")
    before = await _state(owner_sql, team)
    with pytest.raises(ValidationError) as refused:
        await service.update_template(team.db, editor, team.own.id, changes)
    assert (refused.value.code, refused.value.field, refused.value.message) == error
    assert await _state(owner_sql, team) == before


@pytest.mark.parametrize("target", ["system", "shared"])
async def test_system_and_shared_templates_are_read_only(team: Team, owner_sql, target: str) -> None:
    # given a template the workspace can see and use, but does not own
    admin = await team.acting("admin")
    template_id = getattr(team, target).id
    before = await _state(owner_sql, team)
    # when its members try to change or delete it, then they may not
    with pytest.raises(PermissionDenied) as refused:
        await service.update_template(team.db, admin, template_id, TemplateChanges(name="Mine now"))
    assert (refused.value.code, refused.value.field, refused.value.message) == ("PERMISSION_DENIED", "id", READ_ONLY)
    with pytest.raises(PermissionDenied) as refused:
        await service.delete_template(team.db, admin, template_id)
    assert (refused.value.code, refused.value.field, refused.value.message) == ("PERMISSION_DENIED", "id", READ_ONLY)
    assert await _state(owner_sql, team) == before


async def test_another_workspaces_private_template_is_not_found(team: Team, owner_sql) -> None:
    admin = await team.acting("admin")
    before = await _state(owner_sql, team)
    for attempt in (
        service.update_template(team.db, admin, team.foreign.id, TemplateChanges(name="Hijacked")),
        service.delete_template(team.db, admin, team.foreign.id),
        service.update_template(team.db, admin, uuid.uuid4(), TemplateChanges(name="Nobody")),
    ):
        with pytest.raises(NotFound) as refused:
            await attempt
        assert (refused.value.code, refused.value.field, refused.value.message) == ("NOT_FOUND", "id", "No such template.")
    assert await _state(owner_sql, team) == before


# -- sharing with everyone -------------------------------------------------------------------


async def test_an_editor_may_not_share_a_template_with_everyone(team: Team, owner_sql) -> None:
    editor = await team.acting("editor")
    before = await _state(owner_sql, team)
    with pytest.raises(PermissionDenied) as refused:
        await service.update_template(team.db, editor, team.own.id, TemplateChanges(name="Open", is_public=True))
    assert (refused.value.code, refused.value.field, refused.value.message) == ("PERMISSION_DENIED", "is_public", SHARING)
    with pytest.raises(PermissionDenied) as refused:
        await service.create_template(team.db, editor, TemplateChanges(name="Open", template_data={}, is_public=True))
    assert (refused.value.code, refused.value.field, refused.value.message) == ("PERMISSION_DENIED", "is_public", SHARING)
    assert await _state(owner_sql, team) == before


async def test_an_editor_may_send_the_sharing_it_already_has(team: Team) -> None:
    # is_public unchanged is not publishing: an editor's form may send it back as it was
    editor = await team.acting("editor")
    kept = await service.update_template(team.db, editor, team.own.id, TemplateChanges(name="Kept", is_public=False))
    created = await service.create_template(team.db, editor, TemplateChanges(name="Mine", template_data={}, is_public=False))
    assert (kept.is_public, created.is_public) == (False, False)
    # and is_public null leaves it as it is
    assert (await service.update_template(team.db, editor, team.own.id, TemplateChanges(is_public=None))).is_public is False


@pytest.mark.parametrize("role", ["owner", "admin"])
async def test_owners_and_admins_share_and_unshare(team: Team, owner_sql, role: str) -> None:
    who = await team.acting(role)
    await service.update_template(team.db, who, team.own.id, TemplateChanges(is_public=True))
    assert await _rows(owner_sql, "SELECT is_public FROM templates WHERE id = :id", id=team.own.id) == [(True,)]
    created = await service.create_template(team.db, who, TemplateChanges(name="Open", template_data={}, is_public=True))
    assert await _rows(owner_sql, "SELECT is_public, visibility FROM templates WHERE id = :id", id=created.id) == [(True, "team")]
    await service.update_template(team.db, who, team.own.id, TemplateChanges(is_public=False))
    assert await _rows(owner_sql, "SELECT is_public FROM templates WHERE id = :id", id=team.own.id) == [(False,)]
    assert [a[4] for a in await _audit(owner_sql, team.own.id)] == [{"is_public": True}, {"is_public": False}]


async def test_an_editor_may_not_unshare_a_shared_template_either(team: Team, owner_sql) -> None:
    own_id = team.own.id
    await owner_sql("UPDATE templates SET is_public = true WHERE id = :id", id=own_id)
    team.db.expire(team.own)  # the session reads the shared state afresh
    editor = await team.acting("editor")
    before = await _state(owner_sql, team)
    with pytest.raises(PermissionDenied) as refused:
        await service.update_template(team.db, editor, own_id, TemplateChanges(is_public=False))
    assert (refused.value.code, refused.value.field) == ("PERMISSION_DENIED", "is_public")
    assert await _state(owner_sql, team) == before


# -- delete ----------------------------------------------------------------------------------


async def test_an_editor_deletes_their_workspaces_template(team: Team, owner_sql) -> None:
    editor = await team.acting("editor")
    row = await service.delete_template(team.db, editor, team.own.id)
    assert (row.id, row.name) == (team.own.id, "Promo")
    assert await _rows(owner_sql, "SELECT count(*) FROM templates WHERE id = :id", id=team.own.id) == [(0,)]
    assert await _audit(owner_sql, team.own.id) == [("template.delete", editor.user_id, team.ws.id, "template", {"name": "Promo"})]


# -- who may edit at all ---------------------------------------------------------------------


@pytest.mark.parametrize("role", ["scheduler", "viewer", "client"])
async def test_members_without_template_write_change_nothing(team: Team, owner_sql, role: str) -> None:
    who = await team.acting(role)
    before = await _state(owner_sql, team)
    message = "You need the template:write permission in this workspace."
    for attempt in (
        service.create_template(team.db, who, TemplateChanges(name="T", template_data={})),
        service.update_template(team.db, who, team.own.id, TemplateChanges(name="T2")),
        service.delete_template(team.db, who, team.own.id),
    ):
        with pytest.raises(PermissionDenied) as refused:
            await attempt
        assert (refused.value.code, refused.value.field, refused.value.message) == ("PERMISSION_DENIED", None, message)
    assert await _state(owner_sql, team) == before


async def test_a_principal_without_a_workspace_changes_nothing(team: Team, owner_sql) -> None:
    nobody = Principal(user_id=team.people["editor"].user_id, permissions=frozenset({"template:write"}))
    before = await _state(owner_sql, team)
    with pytest.raises(PermissionDenied) as refused:
        await service.create_template(team.db, nobody, TemplateChanges(name="T", template_data={}))
    assert (refused.value.code, refused.value.field) == ("PERMISSION_DENIED", None)
    assert await _state(owner_sql, team) == before

