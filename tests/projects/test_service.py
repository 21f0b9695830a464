"""The studio rules, as the app role (RLS on): projects, canvases, timeline elements, sync groups.

Every refusal is checked to write nothing (projects, elements and audit entries read as the owner).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from clipflow_api.auth.principal import Principal
from clipflow_api.config import get_settings
from clipflow_api.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationError
from clipflow_api.models import Project, SocialFormat, TeamMember, Template, TimelineElement, Workspace
from clipflow_api.models.enums import ProjectStatus, TimelineElementType
from clipflow_api.projects import service
from clipflow_api.projects.service import CanvasChanges, ProjectChanges, TimelineElementChanges
from tests.auth.helpers import principal
from tests.fixtures.builders import use_tenant
from tests.fixtures import builders

NO_CANVAS = "No such canvas in this project."
REQUIRED = "This field is required."


@dataclass
class Studio:
    ws: Workspace
    people: dict[str, Principal]
    formats: list[uuid.UUID]  # two seeded social formats
    project: Project  # canvases c1 (active) and c2
    elements: dict[str, TimelineElement]
    other_project: Project  # another workspace's
    other_element: TimelineElement
    templates: dict[str, uuid.UUID]  # own, system, shared (another workspace's, public), foreign (private)

    async def acting(self, db: AsyncSession, role: str = "editor") -> Principal:
        """The member of that role, with the session's tenant set to them (as a request would)."""
        who = self.people[role]
        await use_tenant(db, who.workspace_id, who.user_id)
        return who


def _element(project: Project, canvas: str, name: str, **kw: Any) -> TimelineElement:
    return TimelineElement(
        workspace_id=project.workspace_id, project_id=project.id, canvas_id=canvas, type=kw.pop("type", "text"), name=name,
        track_index=0, start_time=Decimal("0"), duration=Decimal("5"), properties=kw.pop("properties", {"text": name}), **kw,
    )


@pytest.fixture
async def studio_rows(db: AsyncSession) -> Studio:
    """A workspace with an editor and a viewer, a project with two canvases and elements on them,
    another workspace with its own project, and templates of every kind (written as the owner)."""
    ws = await builders.workspace(db)
    people = {"owner": principal(ws.owner_id, ws.id, "owner")}
    for role in ("editor", "viewer"):
        user = await builders.user(db)
        db.add(TeamMember(workspace_id=ws.id, user_id=user.id, role=role))
        people[role] = principal(user.id, ws.id, role)
    formats = list((await db.execute(select(SocialFormat.id).order_by(SocialFormat.id).limit(2))).scalars())
    canvases = [
        {"id": "c1", "name": "Main", "socialFormatId": str(formats[0])},
        {"id": "c2", "name": "Square", "socialFormatId": str(formats[1]), "background": "#000000"},
    ]
    project = Project(workspace_id=ws.id, name="Launch", social_format_id=formats[0], canvases=canvases, active_canvas_id="c1",
                      project_data={"zoom": 1}, owner_id=ws.owner_id)
    other = await builders.workspace(db)
    other_project = Project(workspace_id=other.id, name="Theirs", social_format_id=formats[0], canvases=[canvases[0]],
                            active_canvas_id="c1", project_data={}, owner_id=other.owner_id)
    db.add_all([project, other_project])
    await db.flush()
    elements = {
        # sync group "title" on both canvases (one member not synced), another group, an ungrouped one
        "title1": _element(project, "c1", "Title", sync_group="title", is_synced=True, x=Decimal("10")),
        "title2": _element(project, "c2", "Title", sync_group="title", is_synced=True, x=Decimal("20")),
        "title_unsynced": _element(project, "c2", "Title", sync_group="title", is_synced=False, x=Decimal("30")),
        "logo": _element(project, "c1", "Logo", type="image", sync_group="logo", is_synced=True),
        "plain": _element(project, "c2", "Plain"),
    }
    other_element = _element(other_project, "c1", "Title", sync_group="title", is_synced=True)
    templates = {
        "own": Template(workspace_id=ws.id, name="Own", template_data={}),
        "system": Template(workspace_id=None, name="System", template_data={}, is_public=True),
        "shared": Template(workspace_id=other.id, name="Shared", template_data={}, is_public=True),
        "foreign": Template(workspace_id=other.id, name="Foreign", template_data={}),
    }
    db.add_all([*elements.values(), other_element, *templates.values()])
    await db.flush()
    return Studio(ws, people, formats, project, elements, other_project, other_element, {k: t.id for k, t in templates.items()})


@pytest.fixture
async def studio(studio_rows: Studio, app_db: AsyncSession) -> Studio:
    """The studio, with the session acting as the app role from here on (RLS applies).

    Tests name ``studio`` before ``app_db``: the rows are written before the role changes.
    """
    assert (await app_db.execute(text("SELECT current_user"))).scalar() == get_settings().db_app_role
    return studio_rows


async def _rows(owner_sql: Any, sql: str, **params: Any) -> list[tuple]:
    return [tuple(r) for r in await owner_sql(sql, **params)]


async def _state(owner_sql: Any, studio: Studio) -> tuple[list, list, list]:
    """Every column of every project and element in play, and the audit trail, read as the owner."""
    workspaces = [studio.ws.id, studio.other_project.workspace_id]
    projects = await _rows(owner_sql, "SELECT to_jsonb(p) FROM projects p WHERE workspace_id = ANY(:w) ORDER BY id", w=workspaces)
    elements = await _rows(owner_sql, "SELECT to_jsonb(e) FROM timeline_elements e WHERE workspace_id = ANY(:w) ORDER BY id",
                           w=workspaces)
    audits = await _rows(owner_sql, "SELECT action FROM audit_logs WHERE workspace_id = ANY(:w)", w=workspaces)
    return projects, elements, audits


async def _audit(owner_sql: Any, resource_id: uuid.UUID) -> list[tuple]:
    return await _rows(
        owner_sql,
        "SELECT action, user_id, workspace_id, resource_type, details FROM audit_logs WHERE resource_id = :r ORDER BY created_at",
        r=resource_id,
    )


async def _project(owner_sql: Any, project_id: uuid.UUID) -> dict[str, Any]:
    [(row,)] = await _rows(owner_sql, "SELECT to_jsonb(p) FROM projects p WHERE id = :id", id=project_id)
    return row


async def _element_row(owner_sql: Any, element_id: uuid.UUID) -> dict[str, Any]:
    [(row,)] = await _rows(owner_sql, "SELECT to_jsonb(e) FROM timeline_elements e WHERE id = :id", id=element_id)
    return row


async def _refused(
    owner_sql: Any, studio: Studio, call: Any, error: type[DomainError], code: str, field: str | None, message: str
) -> None:
    """``call()`` raises exactly that error, and every project, element and audit entry stays as it was."""
    before = await _state(owner_sql, studio)
    with pytest.raises(error) as refused:
        await call()
    assert type(refused.value) is error
    assert (refused.value.code, refused.value.field, refused.value.message) == (code, field, message)
    assert await _state(owner_sql, studio) == before


# -- projects --------------------------------------------------------------------------------


async def test_an_editor_creates_a_project_with_one_canvas_in_its_format(studio: Studio, app_db: AsyncSession, owner_sql) -> None:
    # given an editor
    editor = await studio.acting(app_db)
    # when they create a project with only the required fields
    row = await service.create_project(app_db, editor, ProjectChanges(name="  Spring  ", social_format_id=studio.formats[1]))
    # then it is theirs, in their workspace, a draft with one canvas in its format, open in the editor
    stored = await _project(owner_sql, row.id)
    [canvas] = stored["canvases"]
    assert canvas == {"id": canvas["id"], "name": "Canvas 1", "socialFormatId": str(studio.formats[1])}
    assert len(canvas["id"]) == 12
    assert {k: stored[k] for k in ("workspace_id", "owner_id", "name", "social_format_id", "status", "active_canvas_id",
                                   "project_data", "template_id", "description", "last_edited_by")} == {
        "workspace_id": str(studio.ws.id), "owner_id": str(editor.user_id), "name": "Spring",
        "social_format_id": str(studio.formats[1]), "status": "draft", "active_canvas_id": canvas["id"], "project_data": {},
        "template_id": None, "description": None, "last_edited_by": str(editor.user_id),
    }
    # and audited
    assert await _audit(owner_sql, row.id) == [
        ("project.create", editor.user_id, studio.ws.id, "project", {"name": "Spring", "social_format_id": str(studio.formats[1])})
    ]


@pytest.mark.parametrize("template", ["own", "system", "shared"])
async def test_create_takes_every_field_and_any_usable_template(
    studio: Studio, app_db: AsyncSession, owner_sql, template: str
) -> None:
    editor = await studio.acting(app_db)
    data = ProjectChanges(
        name="Spring", description=" Launch week ", social_format_id=studio.formats[0], template_id=studio.templates[template],
        status=ProjectStatus.IN_REVIEW, project_data={"grid": True},
    )
    row = await service.create_project(app_db, editor, data)
    stored = await _project(owner_sql, row.id)
    assert (stored["description"], stored["status"], stored["template_id"], stored["project_data"]) == (
        "Launch week", "in_review", str(studio.templates[template]), {"grid": True}
    )
    assert (await _audit(owner_sql, row.id))[0][4] == {
        "name": "Spring", "description": "Launch week", "status": "in_review", "social_format_id": str(studio.formats[0]),
        "template_id": str(studio.templates[template]),
    }


@pytest.mark.parametrize(
    ("changes", "error", "code", "field", "message"),
    [
        (dict(social_format_id=0), ValidationError, "REQUIRED", "name", REQUIRED),
        (dict(name="   ", social_format_id=0), ValidationError, "REQUIRED", "name", REQUIRED),
        (dict(name="x" * 201, social_format_id=0), ValidationError, "INVALID", "name", "At most 200 characters."),
        (dict(name="P"), ValidationError, "REQUIRED", "social_format_id", REQUIRED),
        (dict(name="P", social_format_id=None), ValidationError, "REQUIRED", "social_format_id", REQUIRED),
        (dict(name="P", social_format_id=uuid.UUID(int=7)), NotFound, "NOT_FOUND", "social_format_id", "No such format."),
        (dict(name="P", social_format_id=0, status="done"), ValidationError, "INVALID", "status", "Status is draft, in_review or final."),
        (dict(name="P", social_format_id=0, template_id="foreign"), NotFound, "NOT_FOUND", "template_id", "No such template."),
        (dict(name="P", social_format_id=0, template_id=uuid.UUID(int=7)), NotFound, "NOT_FOUND", "template_id", "No such template."),
        (dict(name="P", social_format_id=0, project_data=[1]), ValidationError, "INVALID", "project_data", "Project data is a JSON object."),
        (dict(name="P", social_format_id=0, description="d" * 5001), ValidationError, "INVALID", "description", "At most 5000 characters."),
        # a new project has no canvas but the one made for it
        (dict(name="P", social_format_id=0, active_canvas_id="c1"), NotFound, "NOT_FOUND", "active_canvas_id", NO_CANVAS),
    ],
    ids=["no-name", "blank-name", "long-name", "no-format", "null-format", "unknown-format", "bad-status", "foreign-template",
         "unknown-template", "data-not-object", "long-description", "active-canvas"],
)
async def test_refused_creates_write_nothing(
    studio: Studio, app_db: AsyncSession, owner_sql, changes: dict, error: type[DomainError], code: str, field: str, message: str
) -> None:
    editor = await studio.acting(app_db)
    if changes.get("social_format_id") == 0:
        changes["social_format_id"] = studio.formats[0]
    if changes.get("template_id") == "foreign":
        changes["template_id"] = studio.templates["foreign"]
    await _refused(owner_sql, studio, lambda: service.create_project(app_db, editor, ProjectChanges(**changes)),
                   error, code, field, message)


async def test_an_editor_updates_a_project(studio: Studio, app_db: AsyncSession, owner_sql) -> None:
    # given a project open on its first canvas
    editor = await studio.acting(app_db)
    # when an editor renames it, sends it to review, switches format, template and canvas, and replaces its data
    changes = ProjectChanges(
        name="Launch 2", status=ProjectStatus.FINAL, social_format_id=studio.formats[1], template_id=studio.templates["own"],
        project_data={"zoom": 2}, active_canvas_id="c2", description=None,
    )
    row = await service.update_project(app_db, editor, studio.project.id, changes)
    # then every field is stored and the editor is the last to have edited it
    stored = await _project(owner_sql, row.id)
    assert {k: stored[k] for k in ("name", "status", "social_format_id", "template_id", "project_data", "active_canvas_id",
                                   "description", "last_edited_by")} == {
        "name": "Launch 2", "status": "final", "social_format_id": str(studio.formats[1]),
        "template_id": str(studio.templates["own"]), "project_data": {"zoom": 2}, "active_canvas_id": "c2", "description": None,
        "last_edited_by": str(editor.user_id),
    }
    assert await _audit(owner_sql, row.id) == [
        ("project.update", editor.user_id, studio.ws.id, "project",
         {"name": "Launch 2", "description": None, "status": "final", "social_format_id": str(studio.formats[1]),
          "template_id": str(studio.templates["own"])}),
    ]
    # and null detaches the template, while a null format or status leaves them as they are
    row = await service.update_project(
        app_db, editor, studio.project.id, ProjectChanges(template_id=None, social_format_id=None, status=None)
    )
    stored = await _project(owner_sql, row.id)
    assert (stored["template_id"], stored["social_format_id"], stored["status"]) == (None, str(studio.formats[1]), "final")


@pytest.mark.parametrize(
    ("target", "changes", "error", "code", "field", "message"),
    [
        ("project", dict(name=""), ValidationError, "REQUIRED", "name", REQUIRED),
        ("project", dict(name=None), ValidationError, "REQUIRED", "name", REQUIRED),
        ("project", dict(status="archived"), ValidationError, "INVALID", "status", "Status is draft, in_review or final."),
        ("project", dict(social_format_id=uuid.UUID(int=7)), NotFound, "NOT_FOUND", "social_format_id", "No such format."),
        ("project", dict(template_id="foreign"), NotFound, "NOT_FOUND", "template_id", "No such template."),
        ("project", dict(project_data="x"), ValidationError, "INVALID", "project_data", "Project data is a JSON object."),
        ("project", dict(active_canvas_id="c9"), NotFound, "NOT_FOUND", "active_canvas_id", NO_CANVAS),
        # a later check refusing leaves the earlier, valid changes unwritten too
        ("project", dict(name="Renamed", status="archived"), ValidationError, "INVALID", "status", "Status is draft, in_review or final."),
        ("other", dict(name="Mine now"), NotFound, "NOT_FOUND", "id", "No such project."),
        ("unknown", dict(name="P"), NotFound, "NOT_FOUND", "id", "No such project."),
    ],
    ids=["blank-name", "null-name", "bad-status", "unknown-format", "foreign-template", "data-not-object", "unknown-canvas",
         "partly-valid", "other-workspace", "unknown-project"],
)
async def test_refused_updates_write_nothing(
    studio: Studio, app_db: AsyncSession, owner_sql, target: str, changes: dict, error: type[DomainError], code: str,
    field: str, message: str,
) -> None:
    editor = await studio.acting(app_db)
    if changes.get("template_id") == "foreign":
        changes["template_id"] = studio.templates["foreign"]
    project_id = {"project": studio.project.id, "other": studio.other_project.id, "unknown": uuid.UUID(int=7)}[target]
    await _refused(owner_sql, studio, lambda: service.update_project(app_db, editor, project_id, ProjectChanges(**changes)),
                   error, code, field, message)


async def test_deleting_a_project_takes_its_timeline_along(studio: Studio, app_db: AsyncSession, owner_sql) -> None:
    editor = await studio.acting(app_db)
    row = await service.delete_project(app_db, editor, studio.project.id)
    assert row.name == "Launch"
    assert await _rows(owner_sql, "SELECT id FROM projects WHERE workspace_id = :w", w=studio.ws.id) == []
    assert await _rows(owner_sql, "SELECT id FROM timeline_elements WHERE workspace_id = :w", w=studio.ws.id) == []
    assert await _audit(owner_sql, studio.project.id) == [
        ("project.delete", editor.user_id, studio.ws.id, "project", {"name": "Launch"})
    ]
    # and another workspace's project is out of reach
    await _refused(owner_sql, studio, lambda: service.delete_project(app_db, editor, studio.other_project.id),
                   NotFound, "NOT_FOUND", "id", "No such project.")


def _every_call(studio: Studio, db: AsyncSession, who: Principal) -> dict[str, Any]:
    project, element = studio.project.id, studio.elements["plain"].id
    return {
        "create_project": lambda: service.create_project(db, who, ProjectChanges(name="P", social_format_id=studio.formats[0])),
        "update_project": lambda: service.update_project(db, who, project, ProjectChanges(name="P")),
        "delete_project": lambda: service.delete_project(db, who, project),
        "add_canvas": lambda: service.add_canvas(db, who, project, CanvasChanges()),
        "update_canvas": lambda: service.update_canvas(db, who, project, "c1", CanvasChanges(name="X")),
        "remove_canvas": lambda: service.remove_canvas(db, who, project, "c2"),
        "create_timeline_element": lambda: service.create_timeline_element(
            db, who, project, TimelineElementChanges(canvas_id="c1", type="text", name="T")),
        "update_timeline_element": lambda: service.update_timeline_element(db, who, element, TimelineElementChanges(name="T")),
        "delete_timeline_element": lambda: service.delete_timeline_element(db, who, element),
    }


@pytest.mark.parametrize("call", [
    "create_project", "update_project", "delete_project", "add_canvas", "update_canvas", "remove_canvas",
    "create_timeline_element", "update_timeline_element", "delete_timeline_element",
])
async def test_a_viewer_changes_nothing(studio: Studio, app_db: AsyncSession, owner_sql, call: str) -> None:
    viewer = await studio.acting(app_db, "viewer")
    await _refused(owner_sql, studio, _every_call(studio, app_db, viewer)[call], PermissionDenied, "PERMISSION_DENIED", None,
                   "You need the project:write permission in this workspace.")


async def test_no_workspace_means_no_changes(studio: Studio, app_db: AsyncSession, owner_sql) -> None:
    editor = await studio.acting(app_db)
    nowhere = Principal(user_id=editor.user_id, workspace_id=None, permissions=editor.permissions)
    await _refused(owner_sql, studio, _every_call(studio, app_db, nowhere)["update_project"], PermissionDenied,
                   "PERMISSION_DENIED", None, "You need the project:write permission in this workspace.")


# -- canvases --------------------------------------------------------------------------------


async def test_adding_canvases(studio: Studio, app_db: AsyncSession, owner_sql) -> None:
    editor = await studio.acting(app_db)
    # when a canvas is added with nothing given, it takes the project's format and the next name
    await service.add_canvas(app_db, editor, studio.project.id, CanvasChanges())
    # and one with a name, another format and settings (the keys the service owns cannot be forged)
    data = {"background": "#ffffff", "id": "forged", "socialFormatId": "forged", "social_format_id": "forged", "name": "forged"}
    row = await service.add_canvas(
        app_db, editor, studio.project.id, CanvasChanges(name=" Story ", social_format_id=studio.formats[1], data=data)
    )
    stored = await _project(owner_sql, row.id)
    first, second, third, fourth = stored["canvases"]
    assert (first["id"], second["id"]) == ("c1", "c2")
    assert third == {"id": third["id"], "name": "Canvas 3", "socialFormatId": str(studio.formats[0])}
    assert fourth == {"id": fourth["id"], "name": "Story", "socialFormatId": str(studio.formats[1]), "background": "#ffffff"}
    assert len({"c1", "c2", third["id"], fourth["id"]}) == 4
    assert (stored["active_canvas_id"], stored["last_edited_by"]) == ("c1", str(editor.user_id))
    assert [a[0:1] + a[4:] for a in await _audit(owner_sql, row.id)] == [
        ("project.canvas_add", {"canvas_id": third["id"]}), ("project.canvas_add", {"canvas_id": fourth["id"]}),
    ]


async def test_adding_past_the_canvas_limit_is_refused(studio: Studio, app_db: AsyncSession, owner_sql) -> None:
    editor = await studio.acting(app_db)
    for _ in range(service.MAX_CANVASES - 2):
        await service.add_canvas(app_db, editor, studio.project.id, CanvasChanges())
    assert len((await _project(owner_sql, studio.project.id))["canvases"]) == 20
    await _refused(owner_sql, studio, lambda: service.add_canvas(app_db, editor, studio.project.id, CanvasChanges()),
                   Conflict, "INVALID", "project_id", "A project has at most 20 canvases.")


@pytest.mark.parametrize(
    ("changes", "error", "code", "field", "message"),
    [
        (dict(social_format_id=uuid.UUID(int=7)), NotFound, "NOT_FOUND", "social_format_id", "No such format."),
        (dict(data=["x"]), ValidationError, "INVALID", "data", "Canvas data is a JSON object."),
        (dict(name="n" * 201), ValidationError, "INVALID", "name", "At most 200 characters."),
    ],
    ids=["unknown-format", "data-not-object", "long-name"],
)
@pytest.mark.parametrize("action", ["add", "update"])
async def test_refused_canvas_changes_write_nothing(
    studio: Studio, app_db: AsyncSession, owner_sql, action: str, changes: dict, error: type[DomainError], code: str,
    field: str, message: str,
) -> None:
    editor = await studio.acting(app_db)

    def call() -> Any:
        if action == "add":
            return service.add_canvas(app_db, editor, studio.project.id, CanvasChanges(**changes))
        return service.update_canvas(app_db, editor, studio.project.id, "c2", CanvasChanges(**changes))

    await _refused(owner_sql, studio, call, error, code, field, message)


async def test_updating_a_canvas_renames_merges_and_switches_format(studio: Studio, app_db: AsyncSession, owner_sql) -> None:
    editor = await studio.acting(app_db)
    row = await service.update_canvas(
        app_db, editor, studio.project.id, "c2",
        CanvasChanges(name="Square 1:1", social_format_id=studio.formats[0], data={"zoom": 2, "id": "forged"}),
    )
    stored = await _project(owner_sql, row.id)
    assert stored["canvases"] == [
        {"id": "c1", "name": "Main", "socialFormatId": str(studio.formats[0])},
        {"id": "c2", "name": "Square 1:1", "socialFormatId": str(studio.formats[0]), "background": "#000000", "zoom": 2},
    ]
    assert (await _audit(owner_sql, row.id))[0][0::4] == ("project.canvas_update", {"canvas_id": "c2"})
    # and an unknown canvas, or another workspace's project, is refused
    await _refused(owner_sql, studio, lambda: service.update_canvas(app_db, editor, studio.project.id, "c9", CanvasChanges(name="x")),
                   NotFound, "NOT_FOUND", "canvas_id", NO_CANVAS)
    await _refused(owner_sql, studio,
                   lambda: service.update_canvas(app_db, editor, studio.other_project.id, "c1", CanvasChanges(name="x")),
                   NotFound, "NOT_FOUND", "project_id", "No such project.")


async def test_removing_a_canvas_removes_its_elements(studio: Studio, app_db: AsyncSession, owner_sql) -> None:
    editor = await studio.acting(app_db)
    # given the project open on c1, when c1 goes
    row = await service.remove_canvas(app_db, editor, studio.project.id, "c1")
    # then c2 is left and open, and only c1's elements went with it
    stored = await _project(owner_sql, row.id)
    assert ([c["id"] for c in stored["canvases"]], stored["active_canvas_id"]) == (["c2"], "c2")
    left = await _rows(owner_sql, "SELECT name, canvas_id FROM timeline_elements WHERE project_id = :p ORDER BY name, x",
                       p=studio.project.id)
    assert left == [("Plain", "c2"), ("Title", "c2"), ("Title", "c2")]
    assert await _rows(owner_sql, "SELECT count(*) FROM timeline_elements WHERE id = :e", e=studio.other_element.id) == [(1,)]
    assert (await _audit(owner_sql, row.id))[0][0::4] == ("project.canvas_remove", {"canvas_id": "c1", "elements": 2})
    # and the last canvas stays; an unknown one is not found
    await _refused(owner_sql, studio, lambda: service.remove_canvas(app_db, editor, studio.project.id, "c2"),
                   Conflict, "INVALID", "canvas_id", "A project keeps at least one canvas.")
    await _refused(owner_sql, studio, lambda: service.remove_canvas(app_db, editor, studio.project.id, "c9"),
                   NotFound, "NOT_FOUND", "canvas_id", NO_CANVAS)


async def test_removing_another_canvas_keeps_the_open_one(studio: Studio, app_db: AsyncSession, owner_sql) -> None:
    editor = await studio.acting(app_db)
    row = await service.remove_canvas(app_db, editor, studio.project.id, "c2")
    stored = await _project(owner_sql, row.id)
    assert ([c["id"] for c in stored["canvases"]], stored["active_canvas_id"]) == (["c1"], "c1")
    assert (await _audit(owner_sql, row.id))[0][4] == {"canvas_id": "c2", "elements": 3}


# -- timeline elements -----------------------------------------------------------------------


async def test_creating_an_element(studio: Studio, app_db: AsyncSession, owner_sql) -> None:
    editor = await studio.acting(app_db)
    # when an element is created with only the required fields
    row = await service.create_timeline_element(
        app_db, editor, studio.project.id, TimelineElementChanges(canvas_id="c2", type=TimelineElementType.SHAPE, name=" Box ")
    )
    # then it has the defaults, is the editor's, and the project records the edit
    stored = await _element_row(owner_sql, row.id)
    assert {k: stored[k] for k in ("workspace_id", "project_id", "canvas_id", "type", "name", "track_index", "start_time",
                                   "duration", "x", "y", "width", "opacity", "properties", "is_synced", "sync_group",
                                   "created_by", "last_edited_by")} == {
        "workspace_id": str(studio.ws.id), "project_id": str(studio.project.id), "canvas_id": "c2", "type": "shape",
        "name": "Box", "track_index": 0, "start_time": 0.0, "duration": 5.0, "x": 0.0, "y": 0.0, "width": None,
        "opacity": 1.0, "properties": {}, "is_synced": False, "sync_group": None, "created_by": str(editor.user_id),
        "last_edited_by": str(editor.user_id),
    }
    assert (await _project(owner_sql, studio.project.id))["last_edited_by"] == str(editor.user_id)
    assert await _audit(owner_sql, row.id) == [
        ("timeline_element.create", editor.user_id, studio.ws.id, "timeline_element", {"type": "shape", "name": "Box"})
    ]


async def test_creating_an_element_takes_every_field(studio: Studio, app_db: AsyncSession, owner_sql) -> None:
    editor = await studio.acting(app_db)
    data = TimelineElementChanges(
        canvas_id="c1", type="video", name="Clip", track_index=3, start_time=1.23456, duration=2.5, x=-10.555, y=20,
        width=1080, height=1920, rotation=-90, opacity=0.5, properties={"src": "a.mp4"}, z_index=4, is_locked=True,
        is_hidden=False, is_synced=True, sync_group=" clip ",
    )
    row = await service.create_timeline_element(app_db, editor, studio.project.id, data)
    stored = await _element_row(owner_sql, row.id)
    assert {k: stored[k] for k in ("type", "track_index", "start_time", "duration", "x", "y", "width", "height", "rotation",
                                   "opacity", "properties", "z_index", "is_locked", "is_hidden", "is_synced", "sync_group")} == {
        "type": "video", "track_index": 3, "start_time": 1.235, "duration": 2.5, "x": -10.55, "y": 20, "width": 1080,
        "height": 1920, "rotation": -90, "opacity": 0.5, "properties": {"src": "a.mp4"}, "z_index": 4, "is_locked": True,
        "is_hidden": False, "is_synced": True, "sync_group": "clip",
    }
    assert (await _audit(owner_sql, row.id))[0][4] == {
        "type": "video", "name": "Clip", "track_index": 3, "start_time": "1.235", "duration": "2.5", "x": "-10.55", "y": "20",
        "width": "1080", "height": "1920", "rotation": "-90", "opacity": "0.5", "properties": True, "z_index": 4,
        "is_locked": True, "is_hidden": False, "is_synced": True, "sync_group": "clip",
    }


_ELEMENT = dict(canvas_id="c1", type="text", name="T")


@pytest.mark.parametrize(
    ("changes", "error", "code", "field", "message"),
    [
        ({**_ELEMENT, "canvas_id": "c9"}, NotFound, "NOT_FOUND", "canvas_id", NO_CANVAS),
        (dict(type="text", name="T"), NotFound, "NOT_FOUND", "canvas_id", NO_CANVAS),
        (dict(canvas_id="c1", name="T"), ValidationError, "REQUIRED", "type", REQUIRED),
        ({**_ELEMENT, "type": "sticker"}, ValidationError, "INVALID", "type", "Type is text, image, video, shape or audio."),
        (dict(canvas_id="c1", type="text"), ValidationError, "REQUIRED", "name", REQUIRED),
        ({**_ELEMENT, "name": " "}, ValidationError, "REQUIRED", "name", REQUIRED),
        ({**_ELEMENT, "track_index": 101}, ValidationError, "INVALID", "track_index", "Track is 0 to 100."),
        ({**_ELEMENT, "track_index": -1}, ValidationError, "INVALID", "track_index", "Track is 0 to 100."),
        ({**_ELEMENT, "duration": -0.5}, ValidationError, "INVALID", "duration", "Must not be negative."),
        ({**_ELEMENT, "width": -1}, ValidationError, "INVALID", "width", "Must not be negative."),
        ({**_ELEMENT, "opacity": 1.5}, ValidationError, "INVALID", "opacity", "Opacity is 0 to 1."),
        ({**_ELEMENT, "properties": "red"}, ValidationError, "INVALID", "properties", "Properties are a JSON object."),
        ({**_ELEMENT, "sync_group": "g" * 101}, ValidationError, "INVALID", "sync_group", "At most 100 characters."),
    ],
    ids=["unknown-canvas", "no-canvas", "no-type", "bad-type", "no-name", "blank-name", "track-high", "track-low",
         "negative-duration", "negative-width", "opacity-high", "properties-not-object", "long-sync-group"],
)
async def test_refused_element_creates_write_nothing(
    studio: Studio, app_db: AsyncSession, owner_sql, changes: dict, error: type[DomainError], code: str, field: str, message: str
) -> None:
    editor = await studio.acting(app_db)
    await _refused(
        owner_sql, studio,
        lambda: service.create_timeline_element(app_db, editor, studio.project.id, TimelineElementChanges(**changes)),
        error, code, field, message,
    )


async def test_no_element_lands_in_another_workspace_s_project(studio: Studio, app_db: AsyncSession, owner_sql) -> None:
    editor = await studio.acting(app_db)
    await _refused(
        owner_sql, studio,
        lambda: service.create_timeline_element(app_db, editor, studio.other_project.id, TimelineElementChanges(**_ELEMENT)),
        NotFound, "NOT_FOUND", "project_id", "No such project.",
    )


async def test_updating_an_element(studio: Studio, app_db: AsyncSession, owner_sql) -> None:
    editor = await studio.acting(app_db)
    plain = studio.elements["plain"]
    await app_db.execute(TimelineElement.__table__.update().where(TimelineElement.id == plain.id).values(width=Decimal("100")))
    # when it moves to c1 and changes, null clearing its width (null leaves x as it is)
    row = await service.update_timeline_element(
        app_db, editor, plain.id,
        TimelineElementChanges(canvas_id="c1", name="Renamed", width=None, x=None, y=7.777, type=None, is_locked=True),
    )
    stored = await _element_row(owner_sql, row.id)
    assert {k: stored[k] for k in ("canvas_id", "name", "width", "x", "y", "type", "is_locked", "last_edited_by")} == {
        "canvas_id": "c1", "name": "Renamed", "width": None, "x": 0.0, "y": 7.78, "type": "text", "is_locked": True,
        "last_edited_by": str(editor.user_id),
    }
    assert await _audit(owner_sql, row.id) == [
        ("timeline_element.update", editor.user_id, studio.ws.id, "timeline_element",
         {"name": "Renamed", "width": None, "y": "7.78", "is_locked": True, "synced": 0}),
    ]


@pytest.mark.parametrize(
    ("target", "changes", "error", "code", "field", "message"),
    [
        ("plain", dict(canvas_id="c9"), NotFound, "NOT_FOUND", "canvas_id", NO_CANVAS),
        ("plain", dict(type="gif"), ValidationError, "INVALID", "type", "Type is text, image, video, shape or audio."),
        ("plain", dict(name=""), ValidationError, "REQUIRED", "name", REQUIRED),
        ("plain", dict(start_time=-1), ValidationError, "INVALID", "start_time", "Must not be negative."),
        ("plain", dict(opacity=-0.1), ValidationError, "INVALID", "opacity", "Must not be negative."),
        ("plain", dict(properties=[1]), ValidationError, "INVALID", "properties", "Properties are a JSON object."),
        # valid content first, then a refusal: nothing reaches the element or its sync group
        ("title1", dict(name="Headline", opacity=2), ValidationError, "INVALID", "opacity", "Opacity is 0 to 1."),
        ("other", dict(name="Mine"), NotFound, "NOT_FOUND", "id", "No such timeline element."),
        ("unknown", dict(name="Mine"), NotFound, "NOT_FOUND", "id", "No such timeline element."),
    ],
    ids=["unknown-canvas", "bad-type", "blank-name", "negative-start", "negative-opacity", "properties-not-object",
         "synced-partly-valid", "other-workspace", "unknown-element"],
)
async def test_refused_element_updates_write_nothing(
    studio: Studio, app_db: AsyncSession, owner_sql, target: str, changes: dict, error: type[DomainError], code: str,
    field: str, message: str,
) -> None:
    editor = await studio.acting(app_db)
    ids = {"other": studio.other_element.id, "unknown": uuid.UUID(int=7)}
    element_id = ids.get(target) or studio.elements[target].id
    await _refused(
        owner_sql, studio,
        lambda: service.update_timeline_element(app_db, editor, element_id, TimelineElementChanges(**changes)),
        error, code, field, message,
    )


async def test_a_synced_element_passes_content_changes_to_its_group(studio: Studio, app_db: AsyncSession, owner_sql) -> None:
    editor = await studio.acting(app_db)
    e = studio.elements
    before = {k: await _element_row(owner_sql, v.id) for k, v in e.items()}
    other_before = await _element_row(owner_sql, studio.other_element.id)
    # when the synced title on c1 is renamed, re-texted, faded, re-timed and moved
    changes = TimelineElementChanges(name="Headline", properties={"text": "Big news"}, opacity=0.5, duration=3, x=99, y=5,
                                     track_index=2)
    await service.update_timeline_element(app_db, editor, e["title1"].id, changes)
    # then its synced peer on c2 takes the content, keeps its own position and track
    content = {"name": "Headline", "properties": {"text": "Big news"}, "opacity": 0.5, "duration": 3.0,
               "last_edited_by": str(editor.user_id)}
    me, peer = await _element_row(owner_sql, e["title1"].id), await _element_row(owner_sql, e["title2"].id)
    assert {k: me[k] for k in (*content, "x", "y", "track_index")} == {**content, "x": 99.0, "y": 5.0, "track_index": 2}
    assert {k: peer[k] for k in (*content, "x", "y", "track_index")} == {**content, "x": 20.0, "y": 0.0, "track_index": 0}
    assert peer["last_edited_at"] == me["last_edited_at"]
    # and the unsynced member, the other group, the ungrouped element and the other project are unchanged
    for key in ("title_unsynced", "logo", "plain"):
        assert await _element_row(owner_sql, e[key].id) == before[key]
    assert await _element_row(owner_sql, studio.other_element.id) == other_before
    assert (await _audit(owner_sql, e["title1"].id))[0][4]["synced"] == 1
    # and a change of geometry alone goes nowhere
    await service.update_timeline_element(app_db, editor, e["title1"].id, TimelineElementChanges(x=1, y=2, width=30))
    assert await _element_row(owner_sql, e["title2"].id) == peer
    assert (await _audit(owner_sql, e["title1"].id))[1][4] == {"x": "1", "y": "2", "width": "30", "synced": 0}
    # and editing the unsynced member changes only itself
    await service.update_timeline_element(app_db, editor, e["title_unsynced"].id, TimelineElementChanges(name="Solo"))
    assert (await _element_row(owner_sql, e["title1"].id))["name"] == "Headline"
    assert (await _element_row(owner_sql, e["title2"].id))["name"] == "Headline"


async def test_joining_a_group_while_changing_content_syncs_at_once(studio: Studio, app_db: AsyncSession, owner_sql) -> None:
    editor = await studio.acting(app_db)
    e = studio.elements
    await service.update_timeline_element(
        app_db, editor, e["plain"].id, TimelineElementChanges(sync_group="logo", is_synced=True, name="Brand")
    )
    assert (await _element_row(owner_sql, e["logo"].id))["name"] == "Brand"
    assert (await _audit(owner_sql, e["plain"].id))[0][4]["synced"] == 1


async def test_deleting_an_element(studio: Studio, app_db: AsyncSession, owner_sql) -> None:
    editor = await studio.acting(app_db)
    plain = studio.elements["plain"]
    row = await service.delete_timeline_element(app_db, editor, plain.id)
    assert row.name == "Plain"
    assert await _rows(owner_sql, "SELECT id FROM timeline_elements WHERE id = :e", e=plain.id) == []
    assert await _audit(owner_sql, plain.id) == [
        ("timeline_element.delete", editor.user_id, studio.ws.id, "timeline_element", {"name": "Plain"})
    ]
    await _refused(owner_sql, studio, lambda: service.delete_timeline_element(app_db, editor, studio.other_element.id),
                   NotFound, "NOT_FOUND", "id", "No such timeline element.")
