"""Studio mutations: canvases are added, changed and removed; a synced timeline element
passes its content changes (not its geometry) to its sync group, and to nothing else."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from clipflow_api.models import AuditLog, SocialFormat, TimelineElement
from tests.fixtures import builders
from tests.graphql.conftest import Api, gid

CANVAS = "canvases { id name socialFormatId data }"
CREATE = f"mutation($f: ID!) {{ r: projectCreate(input: {{name: \"Launch\", socialFormatId: $f}}) {{ project {{ id status activeCanvasId {CANVAS} }} errors {{ field code message }} }} }}"
ADD = f"mutation($p: ID!, $i: CanvasInput!) {{ r: projectCanvasAdd(projectId: $p, input: $i) {{ project {{ activeCanvasId {CANVAS} }} errors {{ field code message }} }} }}"
UPDATE_CANVAS = (f"mutation($p: ID!, $c: String!, $i: CanvasInput!) {{ r: projectCanvasUpdate(projectId: $p, canvasId: $c, input: $i) "
                 f"{{ project {{ {CANVAS} }} errors {{ field code message }} }} }}")
REMOVE = (f"mutation($p: ID!, $c: String!) {{ r: projectCanvasRemove(projectId: $p, canvasId: $c) "
          f"{{ project {{ activeCanvasId {CANVAS} }} errors {{ field code message }} }} }}")
ELEMENT = "id canvasId type name x y opacity properties isSynced syncGroup"
CREATE_ELEMENT = (f"mutation($p: ID!, $i: TimelineElementCreateInput!) {{ r: timelineElementCreate(projectId: $p, input: $i) "
                  f"{{ timelineElement {{ {ELEMENT} }} errors {{ field code message }} }} }}")
UPDATE_ELEMENT = (f"mutation($id: ID!, $i: TimelineElementInput!) {{ r: timelineElementUpdate(id: $id, input: $i) "
                  f"{{ timelineElement {{ {ELEMENT} }} errors {{ field code message }} }} }}")


@pytest.fixture
async def studio(api: Api, committed):  # noqa: ANN001, ANN201
    """An editor, a social format, and a call helper returning ``data.r``."""
    ws = await builders.workspace(committed)
    _, token = await builders.member(committed, ws, "editor")
    formats = (await committed.execute(select(SocialFormat).order_by(SocialFormat.id).limit(2))).scalars().all()
    await committed.commit()

    async def call(query: str, **variables: Any) -> dict[str, Any]:
        body = await api.gql(query, variables, token=token, workspace=ws)
        assert body.get("errors") is None, body
        return body["data"]["r"]

    return call, [gid("SocialFormat", f.id) for f in formats], ws


async def test_canvases_are_added_changed_and_removed(studio, committed) -> None:  # noqa: ANN001
    call, (fmt, other_fmt), ws = studio
    # given a project, which starts with one canvas in its format
    created = await call(CREATE, f=fmt)
    project = created["project"]
    [first] = project["canvases"]
    assert (first["name"], first["socialFormatId"], first["data"], project["activeCanvasId"]) == ("Canvas 1", fmt, {}, first["id"])
    assert project["status"] == "DRAFT"  # enums: the stored "draft" reads as the GraphQL value
    pid = project["id"]
    # when a canvas is added in another format, with settings
    added = await call(ADD, p=pid, i={"name": "Square", "socialFormatId": other_fmt, "data": {"background": "#000000", "id": "forged"}})
    assert added["errors"] == []
    first_again, square = added["project"]["canvases"]
    assert first_again == first
    assert (square["name"], square["socialFormatId"], square["data"]) == ("Square", other_fmt, {"background": "#000000"})
    assert square["id"] not in ("forged", first["id"])
    # and changed: renamed, settings merged, format switched
    changed = await call(UPDATE_CANVAS, p=pid, c=square["id"], i={"name": "Square 1:1", "data": {"zoom": 2}, "socialFormatId": fmt})
    assert changed["errors"] == []
    assert changed["project"]["canvases"][1] == {"id": square["id"], "name": "Square 1:1", "socialFormatId": fmt,
                                                  "data": {"background": "#000000", "zoom": 2}}
    missing = await call(UPDATE_CANVAS, p=pid, c="nope", i={"name": "x"})
    assert missing == {"project": None, "errors": [{"field": "canvasId", "code": "NOT_FOUND", "message": "No such canvas in this project."}]}
    # and an element on the square canvas goes with it when the canvas is removed
    element = await call(CREATE_ELEMENT, p=pid, i={"canvasId": square["id"], "type": "TEXT", "name": "Caption"})
    keep = await call(CREATE_ELEMENT, p=pid, i={"canvasId": first["id"], "type": "TEXT", "name": "Title"})
    from clipflow_api.graphql.relay import parse_global_id

    element_id = parse_global_id(element["timelineElement"]["id"])[1]
    keep_id = parse_global_id(keep["timelineElement"]["id"])[1]
    await call("mutation($p: ID!, $c: String!) { r: projectUpdate(id: $p, input: {activeCanvasId: $c}) { project { activeCanvasId } errors { code } } }",
               p=pid, c=square["id"])
    removed = await call(REMOVE, p=pid, c=square["id"])
    assert removed == {"project": {"activeCanvasId": first["id"], "canvases": [first]}, "errors": []}
    assert await committed.get(TimelineElement, element_id) is None
    assert (await committed.get(TimelineElement, keep_id)).name == "Title"
    # and the last canvas stays
    audit_before = await committed.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.workspace_id == ws.id))
    last = await call(REMOVE, p=pid, c=first["id"])
    assert last == {"project": None, "errors": [{"field": "canvasId", "code": "INVALID", "message": "A project keeps at least one canvas."}]}
    unknown = await call(REMOVE, p=pid, c="nope")
    assert unknown["errors"] == [{"field": "canvasId", "code": "NOT_FOUND", "message": "No such canvas in this project."}]
    assert await committed.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.workspace_id == ws.id)) == audit_before


async def test_adding_past_the_canvas_limit_is_refused(studio) -> None:  # noqa: ANN001
    call, (fmt, _), _ws = studio
    pid = (await call(CREATE, f=fmt))["project"]["id"]
    for n in range(19):
        assert (await call(ADD, p=pid, i={"name": f"C{n}"}))["errors"] == []
    over = await call(ADD, p=pid, i={"name": "one too many"})
    assert over == {"project": None, "errors": [{"field": "projectId", "code": "INVALID", "message": "A project has at most 20 canvases."}]}


async def test_a_synced_element_passes_content_changes_to_its_group(studio, committed) -> None:  # noqa: ANN001
    call, (fmt, _), ws = studio
    # given three canvases, and elements in sync group "title" on each (one not synced),
    # another group on the first canvas, and the same group name in another project
    project = (await call(CREATE, f=fmt))["project"]
    pid, c1 = project["id"], project["canvases"][0]["id"]
    c2 = (await call(ADD, p=pid, i={}))["project"]["canvases"][1]["id"]
    c3 = (await call(ADD, p=pid, i={}))["project"]["canvases"][2]["id"]
    other_pid = (await call(CREATE, f=fmt))["project"]["id"]

    async def element(project_id: str, canvas: str, name: str, group: str, synced: bool, x: float) -> dict[str, Any]:
        made = await call(CREATE_ELEMENT, p=project_id, i={"canvasId": canvas, "type": "TEXT", "name": name, "syncGroup": group,
                                                           "isSynced": synced, "x": x, "properties": {"text": name}})
        assert made["errors"] == [], made
        assert made["timelineElement"]["type"] == "TEXT"
        return made["timelineElement"]

    e1 = await element(pid, c1, "Title", "title", True, 10)
    e2 = await element(pid, c2, "Title", "title", True, 20)
    e3 = await element(pid, c3, "Title", "title", False, 30)
    e4 = await element(pid, c1, "Logo", "logo", True, 40)
    other_c1 = (await call("query($id: ID!) { r: node(id: $id) { ... on Project { canvases { id } } } }", id=other_pid))["canvases"][0]["id"]
    e5 = await element(other_pid, other_c1, "Title", "title", True, 50)
    untouched = {e["id"]: e for e in (e3, e4, e5)}

    async def read(*elements: dict[str, Any]) -> list[dict[str, Any]]:
        got = await call(f"query($ids: [ID!]!) {{ r: nodes(ids: $ids) {{ ... on TimelineElement {{ {ELEMENT} }} }} }}", ids=[e["id"] for e in elements])
        return got

    # when the first is renamed, re-texted, faded and moved
    updated = await call(UPDATE_ELEMENT, id=e1["id"], i={"name": "Headline", "properties": {"text": "Big news"}, "opacity": 0.5, "x": 99})
    assert updated["errors"] == []
    # then its synced peer takes the content but keeps its own position
    me, peer = await read(e1, e2)
    assert me == {**e1, "name": "Headline", "properties": {"text": "Big news"}, "opacity": 0.5, "x": 99.0}
    assert peer == {**e2, "name": "Headline", "properties": {"text": "Big news"}, "opacity": 0.5}
    # and the unsynced member, the other group and the other project are unchanged
    assert {e["id"]: e for e in await read(*untouched.values())} == untouched
    audit = (await committed.execute(
        select(AuditLog.details).where(AuditLog.workspace_id == ws.id, AuditLog.action == "timeline_element.update")
    )).scalars().all()
    assert [d["synced"] for d in audit] == [1]
    # and a change of position alone goes nowhere
    moved = await call(UPDATE_ELEMENT, id=e1["id"], i={"x": 5, "y": 6})
    assert moved["errors"] == []
    assert (await read(e2))[0] == peer
    # and editing the unsynced member changes only itself
    await call(UPDATE_ELEMENT, id=e3["id"], i={"name": "Solo"})
    me, peer, solo = await read(e1, e2, e3)
    assert (me["name"], peer["name"], solo["name"]) == ("Headline", "Headline", "Solo")
