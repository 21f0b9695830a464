"""Edits with rules: caption words (in order, not overlapping, within the clip), webhooks
(URL, events, secret rotation), templates (system ones are read-only) and media folders
(no cycles; deleting takes sub-folders, files stay). A refused edit changes nothing."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from clipflow_api.crypto import decrypt_token
from clipflow_api.models import AuditLog, Caption, MediaFolder, Template, UserMedia, Video, Webhook, WebhookLog
from tests.fixtures import builders
from tests.graphql.conftest import Api, gid

ERRORS = "errors { field code message }"


@pytest.fixture
async def editor(api: Api, committed):  # noqa: ANN001, ANN201
    """(call, workspace) for an admin: ``call(query, **variables)`` returns ``data.r``."""
    ws = await builders.workspace(committed)
    await builders.subscribe(committed, ws)  # webhooks and brand kits are paid features
    _, token = await builders.member(committed, ws, "admin")
    await committed.commit()

    async def call(query: str, **variables: Any) -> dict[str, Any]:
        body = await api.gql(query, variables, token=token, workspace=ws)
        assert body.get("errors") is None, body
        return body["data"]["r"]

    return call, ws


async def _audits(db: Any, ws: Any) -> int:
    return await db.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.workspace_id == ws.id))


# --- captions ------------------------------------------------------------------------------

CAPTION = f"mutation($id: ID!, $w: [CaptionWordInput!]) {{ r: captionUpdate(id: $id, input: {{words: $w}}) {{ caption {{ words {{ word start end }} }} {ERRORS} }} }}"


def _words(*spans: tuple[str, float, float]) -> list[dict[str, Any]]:
    return [{"word": w, "start": s, "end": e} for w, s, e in spans]


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (_words(("one", 0.5, 0.9), ("two", 0.2, 0.4)), "Word 2 starts before word 1: words must be in order."),
        (_words(("one", 0.0, 0.6), ("two", 0.5, 0.9)), "Word 2 starts before word 1 ends: words must not overlap."),
        (_words(("one", 0.0, 0.5), ("two", 7.6, 8.2)), "Word 2 ends after the clip, which is 8 seconds long."),
        (_words(("one", 0.6, 0.5)), "Word 1 must start at 0 or later and end after it starts."),
        (_words(("  ", 0.0, 0.5)), "Word 1 is empty or longer than 100 characters."),
    ],
    # (a negative time is refused before the resolver: tests/security/test_edge.py)
    ids=["out-of-order", "overlap", "past-the-clip", "ends-before-start", "empty"],
)
async def test_caption_words_must_be_ordered_apart_and_within_the_clip(editor, committed, words, message) -> None:  # noqa: ANN001
    call, ws = editor
    clip = await builders.clip(committed, await builders.video(committed, ws))  # 0 to 8 seconds of the video: 8 seconds long
    caption = await builders.caption(committed, clip)
    await committed.commit()
    audits = await _audits(committed, ws)
    refused = await call(CAPTION, id=gid("Caption", caption.id), w=words)
    assert refused == {"caption": None, "errors": [{"field": "words", "code": "INVALID", "message": message}]}
    await committed.refresh(caption)
    assert caption.words == [{"word": "hello", "start": 0.0, "end": 0.4}, {"word": "world", "start": 0.4, "end": 0.9}]
    assert await _audits(committed, ws) == audits


async def test_caption_words_that_touch_and_fill_the_clip_are_kept(editor, committed) -> None:  # noqa: ANN001
    call, ws = editor
    video = await builders.video(committed, ws)
    clip = await builders.clip(committed, video, 2)  # 20 to 28 seconds
    clip.end_time = Decimal("27.5")
    caption = await builders.caption(committed, clip)
    await committed.commit()
    words = _words(("so", 0.0, 0.25), ("what", 0.25, 0.6), ("now", 7.0, 7.5))
    kept = await call(CAPTION, id=gid("Caption", caption.id), w=words)
    assert kept == {"caption": {"words": words}, "errors": []}
    await committed.refresh(caption)
    assert caption.words == words


# --- webhooks ------------------------------------------------------------------------------

WEBHOOK_UPDATE = f"mutation($id: ID!, $i: WebhookUpdateInput!) {{ r: webhookUpdate(id: $id, input: $i) {{ secret webhook {{ url events isActive failureCount }} {ERRORS} }} }}"


async def test_webhook_update_rotate_and_delete(editor, committed) -> None:  # noqa: ANN001
    call, ws = editor
    created = await call(f'mutation {{ r: webhookCreate(input: {{url: "https://hooks.example.com/a", events: ["clip.generated"]}}) {{ secret webhook {{ id }} {ERRORS} }} }}')
    hook_gid, first_secret = created["webhook"]["id"], created["secret"]
    from clipflow_api.graphql.relay import parse_global_id

    hook_id = parse_global_id(hook_gid)[1]
    row = await committed.get(Webhook, hook_id)
    row.failure_count, row.is_active = 7, False
    await committed.commit()
    # when its URL and events change and it is switched back on
    changed = await call(WEBHOOK_UPDATE, id=hook_gid, i={"url": "https://hooks.example.com/b", "events": ["post.published", "post.published", " clip.generated "], "isActive": True})
    # then no secret is shown (none was made), duplicates are dropped and the failures reset
    assert changed == {"secret": None, "webhook": {"url": "https://hooks.example.com/b", "events": ["post.published", "clip.generated"],
                                                   "isActive": True, "failureCount": 0}, "errors": []}
    # refused changes leave it as it is
    await committed.refresh(row)
    before = (row.url, row.events, row.secret)
    for i, error in (({"url": "ftp://hooks.example.com"}, {"field": "url", "code": "INVALID", "message": "Use an https:// URL."}),
                     ({"events": [" "]}, {"field": "events", "code": "REQUIRED", "message": "Choose at least one event."})):
        assert await call(WEBHOOK_UPDATE, id=hook_gid, i=i) == {"secret": None, "webhook": None, "errors": [error]}
    await committed.refresh(row)
    assert (row.url, row.events, row.secret) == before
    # a rotation shows the new secret once, and stores it encrypted
    rotated = await call(WEBHOOK_UPDATE, id=hook_gid, i={"rotateSecret": True})
    new_secret = rotated["secret"]
    assert new_secret.startswith("whsec_") and new_secret != first_secret
    await committed.refresh(row)
    assert new_secret not in row.secret
    assert decrypt_token(row.secret, associated_data=f"webhooks.secret:{hook_id}") == new_secret
    # and deleting takes its delivery log with it
    committed.add(WebhookLog(workspace_id=ws.id, webhook_id=hook_id, event_type="clip.generated", event_id=uuid.uuid4(), request_body={}, success=True))
    await committed.commit()
    deleted = await call(f"mutation($id: ID!) {{ r: webhookDelete(id: $id) {{ webhook {{ url }} {ERRORS} }} }}", id=hook_gid)
    assert deleted == {"webhook": {"url": "https://hooks.example.com/b"}, "errors": []}
    committed.expunge_all()
    assert await committed.get(Webhook, hook_id) is None
    assert await committed.scalar(select(func.count()).select_from(WebhookLog).where(WebhookLog.webhook_id == hook_id)) == 0
    again = await call(f"mutation($id: ID!) {{ r: webhookDelete(id: $id) {{ webhook {{ url }} {ERRORS} }} }}", id=hook_gid)
    assert again == {"webhook": None, "errors": [{"field": "id", "code": "NOT_FOUND", "message": "No such webhook."}]}


# --- templates -----------------------------------------------------------------------------

TEMPLATE_UPDATE = f"mutation($id: ID!, $i: TemplateInput!) {{ r: templateUpdate(id: $id, input: $i) {{ template {{ name type tags category }} {ERRORS} }} }}"
TEMPLATE_DELETE = f"mutation($id: ID!) {{ r: templateDelete(id: $id) {{ template {{ name }} {ERRORS} }} }}"
BAD_TYPE_UPDATE = f"mutation($id: ID!) {{ r: templateUpdate(id: $id, input: {{type: GIF}}) {{ template {{ type }} {ERRORS} }} }}"


async def test_template_update_and_delete_and_system_templates_are_read_only(api: Api, editor, committed) -> None:  # noqa: ANN001
    call, ws = editor
    _, admin_token = await builders.member(committed, ws, "admin")
    own = Template(workspace_id=ws.id, name="Promo", template_data={"layers": []})
    system = Template(workspace_id=None, name=f"System {uuid.uuid4().hex[:6]}", template_data={}, is_public=True)
    committed.add_all([own, system])
    await committed.commit()
    try:
        changed = await call(TEMPLATE_UPDATE, id=gid("Template", own.id), i={"name": " Promo v2 ", "type": "POST", "tags": ["sale"], "category": "marketing"})
        assert changed == {"template": {"name": "Promo v2", "type": "POST", "tags": ["sale"], "category": "marketing"}, "errors": []}
        # the type is an enum: GraphQL refuses anything else before the resolver runs
        bad = await api.gql(BAD_TYPE_UPDATE, {"id": gid("Template", own.id)}, token=admin_token, workspace=ws)
        assert (bad.get("data"), [e["message"] for e in bad["errors"]]) == (None, ["Value 'GIF' does not exist in 'TemplateType' enum."])
        # a system template can be used, not changed or deleted: a permission error, not a payload one
        audits = await _audits(committed, ws)
        for query, variables in ((TEMPLATE_UPDATE, {"i": {"name": "Mine now"}}), (TEMPLATE_DELETE, {})):
            refused = await api.gql(query, {"id": gid("Template", system.id), **variables}, token=admin_token, workspace=ws)
            assert refused["data"] == {"r": None}
            assert [(e["message"], e["extensions"]["code"]) for e in refused["errors"]] == [
                ("System and shared templates cannot be changed; duplicate it instead.", "PERMISSION_DENIED")
            ]
        await committed.refresh(system)
        assert system.name.startswith("System ")
        assert await _audits(committed, ws) == audits
        deleted = await call(TEMPLATE_DELETE, id=gid("Template", own.id))
        assert deleted == {"template": {"name": "Promo v2"}, "errors": []}
        committed.expunge(own)
        assert await committed.get(Template, own.id) is None
    finally:
        await committed.delete(await committed.get(Template, system.id))
        await committed.commit()


# --- media folders -------------------------------------------------------------------------

FOLDER_UPDATE = f"mutation($id: ID!, $i: MediaFolderInput!) {{ r: mediaFolderUpdate(id: $id, input: $i) {{ mediaFolder {{ name color parent {{ name }} }} {ERRORS} }} }}"


async def test_media_folders_move_without_cycles_and_delete_with_their_sub_folders(editor, committed) -> None:  # noqa: ANN001
    call, ws = editor
    root = MediaFolder(workspace_id=ws.id, user_id=ws.owner_id, name="Root")
    committed.add(root)
    await committed.flush()
    child = MediaFolder(workspace_id=ws.id, user_id=ws.owner_id, name="Child", parent_id=root.id)
    other = MediaFolder(workspace_id=ws.id, user_id=ws.owner_id, name="Other")
    committed.add_all([child, other])
    await committed.flush()
    grandchild = MediaFolder(workspace_id=ws.id, user_id=ws.owner_id, name="Grandchild", parent_id=child.id)
    committed.add(grandchild)
    await committed.flush()
    video = await builders.video(committed, ws, folder_id=grandchild.id)
    media = UserMedia(workspace_id=ws.id, user_id=ws.owner_id, folder_id=child.id, filename="f", original_name="f.png", mime_type="image/png",
                      file_size=1, storage_provider="local", storage_key="media/f.png", public_url="u", media_type="image")
    committed.add(media)
    await committed.commit()
    # a rename, recolor and move
    moved = await call(FOLDER_UPDATE, id=gid("MediaFolder", other.id), i={"name": "Archive", "color": "#336699", "parentId": gid("MediaFolder", root.id)})
    assert moved == {"mediaFolder": {"name": "Archive", "color": "#336699", "parent": {"name": "Root"}}, "errors": []}
    # a folder cannot move into itself or below itself
    audits = await _audits(committed, ws)
    cycle = {"field": "parentId", "code": "INVALID", "message": "A folder cannot move into itself or a sub-folder."}
    for target in (root, grandchild):
        assert await call(FOLDER_UPDATE, id=gid("MediaFolder", root.id), i={"parentId": gid("MediaFolder", target.id)}) == {"mediaFolder": None, "errors": [cycle]}
    bad_color = await call(FOLDER_UPDATE, id=gid("MediaFolder", root.id), i={"color": "red"})
    assert bad_color["errors"] == [{"field": "color", "code": "INVALID", "message": "Use a color like #1a2b3c."}]
    await committed.refresh(root)
    assert (root.parent_id, root.color != "red") == (None, True)
    assert await _audits(committed, ws) == audits
    # deleting the child takes the grandchild; the files and videos stay, without a folder
    deleted = await call(f"mutation($id: ID!) {{ r: mediaFolderDelete(id: $id) {{ mediaFolder {{ name }} {ERRORS} }} }}", id=gid("MediaFolder", child.id))
    assert deleted == {"mediaFolder": {"name": "Child"}, "errors": []}
    committed.expunge_all()
    assert [f.name for f in (await committed.execute(select(MediaFolder).where(MediaFolder.workspace_id == ws.id).order_by(MediaFolder.name))).scalars()] == ["Archive", "Root"]
    assert (await committed.get(Video, video.id)).folder_id is None
    assert (await committed.get(UserMedia, media.id)).folder_id is None


async def test_caption_of_another_workspace_is_not_found(editor, committed) -> None:  # noqa: ANN001
    call, ws = editor
    theirs = await builders.caption(committed, await builders.clip(committed, await builders.video(committed, await builders.workspace(committed))))
    await committed.commit()
    refused = await call(CAPTION, id=gid("Caption", theirs.id), w=_words(("x", 0, 0.1)))
    assert refused == {"caption": None, "errors": [{"field": "id", "code": "NOT_FOUND", "message": "No such caption."}]}
    await committed.refresh(theirs)
    assert len(theirs.words) == 2
    assert isinstance(await committed.get(Caption, theirs.id), Caption)


async def test_only_owners_and_admins_share_a_template_with_everyone(api: Api, committed) -> None:  # noqa: ANN001
    ws = await builders.workspace(committed)
    _, editor_token = await builders.member(committed, ws, "editor")
    _, admin_token = await builders.member(committed, ws, "admin")
    own = Template(workspace_id=ws.id, name="Promo", template_data={})
    committed.add(own)
    await committed.commit()
    share = "mutation($id: ID!) { r: templateUpdate(id: $id, input: {isPublic: true}) { template { isPublic } errors { code } } }"
    create = 'mutation { r: templateCreate(input: {name: "Open", templateData: {}, isPublic: true}) { template { isPublic } errors { code } } }'
    # an editor edits templates but cannot publish one to every workspace
    refused = await api.gql(share, {"id": gid("Template", own.id)}, token=editor_token, workspace=ws)
    assert [e["extensions"]["code"] for e in refused["errors"]] == ["PERMISSION_DENIED"]
    refused = await api.gql(create, token=editor_token, workspace=ws)
    assert [e["extensions"]["code"] for e in refused["errors"]] == ["PERMISSION_DENIED"]
    await committed.refresh(own)
    assert own.is_public is False
    assert await committed.scalar(select(func.count()).select_from(Template).where(Template.workspace_id == ws.id)) == 1
    # an editor may still create private ones; an admin may share
    private = 'mutation { r: templateCreate(input: {name: "Mine", templateData: {}, isPublic: false}) { template { isPublic } errors { code } } }'
    assert (await api.gql(private, token=editor_token, workspace=ws))["data"]["r"] == {"template": {"isPublic": False}, "errors": []}
    shared = await api.gql(share, {"id": gid("Template", own.id)}, token=admin_token, workspace=ws)
    assert shared["data"]["r"] == {"template": {"isPublic": True}, "errors": []}
