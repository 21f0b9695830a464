"""Every mutation of the schema against every role.

The list of mutations comes from the schema: a new mutation without a row in ``CASES``
fails ``test_every_mutation_has_a_matrix_entry``. For each role, a fresh workspace holds a
target for every mutation; each mutation then runs once as a member with that role:

- allowed: no top-level error, an empty ``errors`` list, the changed object in the payload,
  and exactly ``audits`` new audit entries (one, unless the row says why not);
- refused: ``data.r`` is null with one top-level PERMISSION_DENIED error, no audit entry,
  and no row of any table (nor any stored file) changed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

import clipflow_api.models  # noqa: F401
from clipflow_api.auth.tokens import api_key_display_prefix, hash_token, new_api_key, new_token
from clipflow_api.db import Base
from clipflow_api.graphql.schema import Mutation, build_schema
from clipflow_api.models import (
    ApiKey, Asset, AuditLog, BrandKit, FeatureFlag, Invitation, Job, MediaFolder, Project, SocialFormat, Subscription,
    SubscriptionPlan, Template, TimelineElement, UserMedia, Verification, Webhook,
)
from clipflow_api.permissions import ROLE_PERMISSIONS
from tests.graphql.conftest import (
    Api, add_member, gid, make_caption, make_clip, make_token, make_user, make_video, make_workspace,
)

SAMPLE = (Path(__file__).resolve().parents[1] / "fixtures" / "media" / "speech_15s.mp4").read_bytes()
PASSWORD = "a long passphrase 42!"
ERR = "errors { code message }"


@dataclass(frozen=True)
class Case:
    permission: str | None  # what the caller must hold; None: every role may
    query: str  # the mutation aliased ``r``, selecting ``result`` and the payload errors
    result: str  # the payload field that holds the changed object
    variables: Callable[[dict[str, Any]], dict[str, Any]] = lambda w: {}
    audits: int = 1  # audit entries an allowed call writes
    token: str = "caller"  # which of the world's tokens sends it
    upload: bool = False  # a GraphQL multipart request with the sample video


def _id(name: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda w: {"id": w[name]}


# In execution order (signUp before logIn, which signs in the account it made).
CASES: dict[str, Case] = {
    # accounts: open, or any signed-in caller; API keys of the workspace need api_key:manage
    "signUp": Case(None, f'mutation($e: String!) {{ r: signUp(input: {{email: $e, password: "{PASSWORD}", name: "New"}}) {{ token {ERR} }} }}',
                   "token", lambda w: {"e": w["new_email"]}, audits=2),  # user.signup + workspace.create (personal workspace)
    "logIn": Case(None, f'mutation($e: String!) {{ r: logIn(input: {{email: $e, password: "{PASSWORD}"}}) {{ token {ERR} }} }}',
                  "token", lambda w: {"e": w["new_email"]}),
    "logOut": Case(None, f"mutation {{ r: logOut {{ user {{ id }} {ERR} }} }}", "user", token="logout"),
    # auth.service.request_email_verification writes no audit entry (reported to the auth owners)
    "emailVerificationRequest": Case(None, f"mutation {{ r: emailVerificationRequest {{ ok {ERR} }} }}", "ok", audits=0),
    "emailVerify": Case(None, f"mutation($t: String!) {{ r: emailVerify(token: $t) {{ user {{ id }} {ERR} }} }}", "user",
                        lambda w: {"t": w["verify_token"]}),
    "passwordReset": Case(None, f'mutation($t: String!) {{ r: passwordReset(token: $t, newPassword: "another passphrase 77") {{ user {{ id }} {ERR} }} }}',
                          "user", lambda w: {"t": w["reset_token"]}),
    "passwordResetRequest": Case(None, f"mutation($e: String!) {{ r: passwordResetRequest(email: $e) {{ ok {ERR} }} }}", "ok",
                                 lambda w: {"e": w["reset_request_email"]}),
    "apiKeyCreate": Case("api_key:manage", f'mutation {{ r: apiKeyCreate(input: {{name: "ci", scopes: ["video:read"]}}) {{ secret apiKey {{ id }} {ERR} }} }}', "apiKey"),
    "apiKeyRevoke": Case("api_key:manage", f"mutation($id: ID!) {{ r: apiKeyRevoke(id: $id) {{ apiKey {{ revokedAt }} {ERR} }} }}", "apiKey", _id("api_key")),
    # workspaces and members
    "workspaceCreate": Case(None, f'mutation {{ r: workspaceCreate(input: {{name: "Side project"}}) {{ workspace {{ id }} {ERR} }} }}', "workspace"),
    "invitationCreate": Case("member:invite", f"mutation($e: String!) {{ r: invitationCreate(input: {{email: $e, role: EDITOR}}) {{ invitation {{ id }} {ERR} }} }}",
                             "invitation", lambda w: {"e": w["invitee_email"]}),
    "invitationAccept": Case(None, f"mutation($t: String!) {{ r: invitationAccept(token: $t) {{ member {{ id }} {ERR} }} }}", "member",
                             lambda w: {"t": w["invitation_token"]}),
    "memberRoleUpdate": Case("member:manage", f"mutation($id: ID!) {{ r: memberRoleUpdate(id: $id, role: VIEWER) {{ member {{ role }} {ERR} }} }}",
                             "member", _id("member_x")),
    "memberRemove": Case("member:manage", f"mutation($id: ID!) {{ r: memberRemove(id: $id) {{ member {{ status }} {ERR} }} }}", "member", _id("member_y")),
    # videos, clips, captions
    "videoUpload": Case("video:write", f"mutation($file: Upload!) {{ r: videoUpload(file: $file) {{ video {{ id }} job {{ id }} {ERR} }} }}", "video", upload=True),
    "videoImport": Case("video:write", f'mutation {{ r: videoImport(input: {{url: "https://videos.example.com/a.mp4"}}) {{ video {{ id }} job {{ id }} {ERR} }} }}', "video"),
    "videoProcess": Case("video:write", f"mutation($id: ID!) {{ r: videoProcess(input: {{videoId: $id}}) {{ video {{ id }} job {{ id }} {ERR} }} }}", "job", _id("video_process")),
    "videoCreate": Case("video:write", f'mutation {{ r: videoCreate(input: {{fileUrl: "k.mp4", title: "t"}}) {{ video {{ id }} {ERR} }} }}', "video"),
    "videoUpdate": Case("video:write", f'mutation($id: ID!) {{ r: videoUpdate(id: $id, input: {{title: "new"}}) {{ video {{ title }} {ERR} }} }}', "video", _id("video")),
    "videoDelete": Case("video:delete", f"mutation($id: ID!) {{ r: videoDelete(id: $id) {{ video {{ id }} {ERR} }} }}", "video", _id("video_delete")),
    "clipUpdate": Case("clip:write", f'mutation($id: ID!) {{ r: clipUpdate(id: $id, input: {{title: "c"}}) {{ clip {{ title }} {ERR} }} }}', "clip", _id("clip")),
    "clipApprove": Case("clip:approve", f"mutation($id: ID!) {{ r: clipApprove(id: $id) {{ clip {{ status }} {ERR} }} }}", "clip", _id("clip_approve")),
    "clipReject": Case("clip:approve", f'mutation($id: ID!) {{ r: clipReject(id: $id, reason: "meh") {{ clip {{ status }} {ERR} }} }}', "clip", _id("clip_reject")),
    "captionUpdate": Case("caption:write", f'mutation($id: ID!) {{ r: captionUpdate(id: $id, input: {{style: "minimal"}}) {{ caption {{ style }} {ERR} }} }}', "caption", _id("caption")),
    # brand kits, assets, the media library
    "brandKitCreate": Case("brand_kit:write", f'mutation {{ r: brandKitCreate(input: {{name: "B", primaryColor: "#112233"}}) {{ brandKit {{ id }} {ERR} }} }}', "brandKit"),
    "brandKitUpdate": Case("brand_kit:write", f'mutation($id: ID!) {{ r: brandKitUpdate(id: $id, input: {{name: "B2"}}) {{ brandKit {{ name }} {ERR} }} }}', "brandKit", _id("brand_kit")),
    "brandKitDelete": Case("brand_kit:write", f"mutation($id: ID!) {{ r: brandKitDelete(id: $id) {{ brandKit {{ id }} {ERR} }} }}", "brandKit", _id("brand_kit_delete")),
    "assetCreate": Case("asset:write", f'mutation {{ r: assetCreate(input: {{name: "m", type: "audio", fileUrl: "m.mp3"}}) {{ asset {{ id }} {ERR} }} }}', "asset"),
    "assetDelete": Case("asset:write", f"mutation($id: ID!) {{ r: assetDelete(id: $id) {{ asset {{ id }} {ERR} }} }}", "asset", _id("asset")),
    "mediaFolderCreate": Case("media:write", f'mutation {{ r: mediaFolderCreate(input: {{name: "F"}}) {{ mediaFolder {{ id }} {ERR} }} }}', "mediaFolder"),
    "mediaFolderUpdate": Case("media:write", f'mutation($id: ID!) {{ r: mediaFolderUpdate(id: $id, input: {{name: "F2"}}) {{ mediaFolder {{ name }} {ERR} }} }}', "mediaFolder", _id("folder")),
    "mediaFolderDelete": Case("media:write", f"mutation($id: ID!) {{ r: mediaFolderDelete(id: $id) {{ mediaFolder {{ id }} {ERR} }} }}", "mediaFolder", _id("folder_delete")),
    "userMediaCreate": Case("media:write", 'mutation { r: userMediaCreate(input: {originalName: "a.png", mimeType: "image/png", fileSize: 10, '
                            f'storageKey: "media/a.png", mediaType: "image"}}) {{ userMedia {{ id }} {ERR} }} }}', "userMedia"),
    "userMediaUpdate": Case("media:write", f'mutation($id: ID!) {{ r: userMediaUpdate(id: $id, input: {{description: "d"}}) {{ userMedia {{ description }} {ERR} }} }}', "userMedia", _id("media")),
    "userMediaDelete": Case("media:write", f"mutation($id: ID!) {{ r: userMediaDelete(id: $id) {{ userMedia {{ id }} {ERR} }} }}", "userMedia", _id("media_delete")),
    # templates and the studio
    "templateCreate": Case("template:write", f'mutation {{ r: templateCreate(input: {{name: "T", templateData: {{}}}}) {{ template {{ id }} {ERR} }} }}', "template"),
    "templateUpdate": Case("template:write", f'mutation($id: ID!) {{ r: templateUpdate(id: $id, input: {{name: "T2"}}) {{ template {{ name }} {ERR} }} }}', "template", _id("template")),
    "templateDelete": Case("template:write", f"mutation($id: ID!) {{ r: templateDelete(id: $id) {{ template {{ id }} {ERR} }} }}", "template", _id("template_delete")),
    "projectCreate": Case("project:write", f'mutation($f: ID!) {{ r: projectCreate(input: {{name: "P", socialFormatId: $f}}) {{ project {{ id }} {ERR} }} }}', "project",
                          lambda w: {"f": w["format"]}),
    "projectUpdate": Case("project:write", f'mutation($id: ID!) {{ r: projectUpdate(id: $id, input: {{name: "P2"}}) {{ project {{ name }} {ERR} }} }}', "project", _id("project")),
    "projectDelete": Case("project:write", f"mutation($id: ID!) {{ r: projectDelete(id: $id) {{ project {{ id }} {ERR} }} }}", "project", _id("project_delete")),
    "projectCanvasAdd": Case("project:write", f'mutation($id: ID!) {{ r: projectCanvasAdd(projectId: $id, input: {{name: "Square"}}) {{ project {{ id }} {ERR} }} }}', "project", _id("project")),
    "projectCanvasUpdate": Case("project:write", f'mutation($id: ID!) {{ r: projectCanvasUpdate(projectId: $id, canvasId: "c1", input: {{name: "Main"}}) {{ project {{ id }} {ERR} }} }}',
                                "project", _id("project")),
    "projectCanvasRemove": Case("project:write", f'mutation($id: ID!) {{ r: projectCanvasRemove(projectId: $id, canvasId: "c2") {{ project {{ id }} {ERR} }} }}', "project", _id("project")),
    "timelineElementCreate": Case("project:write", 'mutation($id: ID!) { r: timelineElementCreate(projectId: $id, input: {canvasId: "c1", type: "text", name: "Title"}) '
                                  f"{{ timelineElement {{ id }} {ERR} }} }}", "timelineElement", _id("project")),
    "timelineElementUpdate": Case("project:write", f'mutation($id: ID!) {{ r: timelineElementUpdate(id: $id, input: {{name: "Renamed"}}) {{ timelineElement {{ name }} {ERR} }} }}',
                                  "timelineElement", _id("element")),
    "timelineElementDelete": Case("project:write", f"mutation($id: ID!) {{ r: timelineElementDelete(id: $id) {{ timelineElement {{ id }} {ERR} }} }}", "timelineElement",
                                  _id("element_delete")),
    # operations
    "webhookCreate": Case("webhook:manage", f'mutation {{ r: webhookCreate(input: {{url: "https://example.com/h", events: ["clip.generated"]}}) {{ secret webhook {{ id }} {ERR} }} }}', "webhook"),
    "webhookUpdate": Case("webhook:manage", f"mutation($id: ID!) {{ r: webhookUpdate(id: $id, input: {{isActive: false}}) {{ webhook {{ isActive }} {ERR} }} }}", "webhook", _id("webhook")),
    "webhookDelete": Case("webhook:manage", f"mutation($id: ID!) {{ r: webhookDelete(id: $id) {{ webhook {{ id }} {ERR} }} }}", "webhook", _id("webhook_delete")),
    "featureFlagCreate": Case("feature_flag:admin", f'mutation {{ r: featureFlagCreate(input: {{name: "never"}}) {{ featureFlag {{ id }} {ERR} }} }}', "featureFlag"),
    "featureFlagUpdate": Case("feature_flag:admin", f"mutation($id: ID!) {{ r: featureFlagUpdate(id: $id, input: {{isEnabled: true}}) {{ featureFlag {{ id }} {ERR} }} }}",
                              "featureFlag", _id("flag")),
}


def _schema_mutations() -> set[str]:
    return set(build_schema()._schema.mutation_type.fields)


def test_every_mutation_has_a_matrix_entry() -> None:
    assert set(CASES) == _schema_mutations()


def test_matrix_permissions_agree_with_the_declared_ones() -> None:
    # where a mutation declares Require(...), the matrix row names that permission
    names = {f.python_name: f for f in Mutation.__strawberry_definition__.fields}
    from strawberry.utils.str_converters import to_camel_case

    declared = {}
    for python_name, f in names.items():
        held = set().union(*(getattr(p, "permissions", frozenset()) for p in f.permission_classes))
        if held:
            declared[to_camel_case(python_name)] = held
    assert {name: {CASES[name].permission} for name in declared} == declared


# --- the world each role acts in -----------------------------------------------------------

@dataclass
class World:
    ids: dict[str, Any] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    flag: Any = None


async def _world(db: Any, role: str, domain: str) -> World:
    w = World()
    owner = await make_user(db)
    ws = await make_workspace(db, owner)
    # a plan with seats to invite into
    plan = (await db.execute(select(SubscriptionPlan).order_by(SubscriptionPlan.team_members.desc()).limit(1))).scalar_one()
    now = datetime.now(UTC)
    db.add(Subscription(user_id=owner.id, plan_id=plan.id, current_period_start=now, current_period_end=now + timedelta(days=30)))
    caller, w.tokens["caller"] = await add_member(db, ws, role)
    w.tokens["logout"] = await make_token(db, caller)
    member_x, _ = await add_member(db, ws, "editor")
    member_y, _ = await add_member(db, ws, "editor")
    from clipflow_api.models import TeamMember

    members = {m.user_id: m for m in (await db.execute(select(TeamMember).where(TeamMember.workspace_id == ws.id))).scalars()}
    fmt = (await db.execute(select(SocialFormat).limit(1))).scalar_one()
    video = await make_video(db, ws)
    video_delete = await make_video(db, ws)
    video_process = await make_video(db, ws, status="completed", processing_progress=100)
    db.add(Job(workspace_id=ws.id, type="video_process", video_id=video_process.id, status="completed"))
    clips = [await make_clip(db, video, i) for i in range(3)]
    caption = await make_caption(db, clips[0])
    rows = {
        "brand_kit": BrandKit(workspace_id=ws.id, name="Kit"), "brand_kit_delete": BrandKit(workspace_id=ws.id, name="Old"),
        "asset": Asset(workspace_id=ws.id, name="A", type="audio", file_url="a.mp3"),
        "folder": MediaFolder(workspace_id=ws.id, user_id=owner.id, name="F"),
        "folder_delete": MediaFolder(workspace_id=ws.id, user_id=owner.id, name="G"),
        "template": Template(workspace_id=ws.id, name="T", template_data={}),
        "template_delete": Template(workspace_id=ws.id, name="U", template_data={}),
        "webhook": Webhook(workspace_id=ws.id, url="https://example.com/a", secret="x", events=["clip.generated"]),
        "webhook_delete": Webhook(workspace_id=ws.id, url="https://example.com/b", secret="x", events=["clip.generated"]),
    }
    for key in ("media", "media_delete"):
        rows[key] = UserMedia(workspace_id=ws.id, user_id=owner.id, filename="f", original_name="f.png", mime_type="image/png",
                              file_size=1, storage_provider="local", storage_key=f"media/{key}.png", public_url="u", media_type="image")
    canvases = [{"id": c, "name": c, "socialFormatId": str(fmt.id)} for c in ("c1", "c2")]
    for key in ("project", "project_delete"):
        rows[key] = Project(workspace_id=ws.id, name="P", social_format_id=fmt.id, canvases=canvases, active_canvas_id="c1",
                            project_data={}, owner_id=owner.id)
    db.add_all(rows.values())
    await db.flush()
    for key in ("element", "element_delete"):
        rows[key] = TimelineElement(workspace_id=ws.id, project_id=rows["project"].id, canvas_id="c1", type="text", name=key,
                                    track_index=0, start_time=Decimal(0), duration=Decimal(1), properties={})
    secret = new_api_key()
    rows["api_key"] = ApiKey(user_id=owner.id, workspace_id=ws.id, name="owner's", key_hash=hash_token(secret),
                             key_prefix=api_key_display_prefix(secret), scopes=["video:read"])
    w.flag = FeatureFlag(name=f"flag-{uuid.uuid4().hex[:8]}")
    db.add_all([rows["element"], rows["element_delete"], rows["api_key"], w.flag])
    # people for the token flows: an unverified address, a reset link, a reset request
    verify_user, reset_user, request_user = [await make_user(db) for _ in range(3)]
    verify_token, reset_token = new_token(), new_token()
    db.add_all([
        Verification(identifier=f"email-verify:{verify_user.id}:{verify_user.email}", value=hash_token(verify_token),
                     expires_at=now + timedelta(hours=1)),
        Verification(identifier=f"password-reset:{reset_user.id}:", value=hash_token(reset_token), expires_at=now + timedelta(hours=1)),
    ])
    # an invitation to another workspace, addressed to the caller
    other = await make_workspace(db)
    invitation_token = new_token()
    db.add(Invitation(workspace_id=other.id, email=caller.email, role="viewer", token=hash_token(invitation_token),
                      invited_by=other.owner_id, expires_at=now + timedelta(days=1)))
    await db.flush()
    names = {
        "video": ("Video", video), "video_delete": ("Video", video_delete), "video_process": ("Video", video_process),
        "clip": ("Clip", clips[0]), "clip_approve": ("Clip", clips[1]), "clip_reject": ("Clip", clips[2]), "caption": ("Caption", caption),
        "brand_kit": ("BrandKit",), "brand_kit_delete": ("BrandKit",), "asset": ("Asset",), "folder": ("MediaFolder",),
        "folder_delete": ("MediaFolder",), "media": ("UserMedia",), "media_delete": ("UserMedia",), "template": ("Template",),
        "template_delete": ("Template",), "project": ("Project",), "project_delete": ("Project",),
        "element": ("TimelineElement",), "element_delete": ("TimelineElement",), "webhook": ("Webhook",),
        "webhook_delete": ("Webhook",), "api_key": ("ApiKey",),
    }
    for key, spec in names.items():
        row = spec[1] if len(spec) > 1 else rows[key]
        w.ids[key] = gid(spec[0], row.id)
    w.ids |= {
        "flag": gid("FeatureFlag", w.flag.id), "format": gid("SocialFormat", fmt.id),
        "member_x": gid("TeamMember", members[member_x.id].id), "member_y": gid("TeamMember", members[member_y.id].id),
        "verify_token": verify_token, "reset_token": reset_token, "reset_request_email": request_user.email,
        "invitation_token": invitation_token, "new_email": f"new-{uuid.uuid4().hex[:8]}@{domain}",
        "invitee_email": f"invitee-{uuid.uuid4().hex[:8]}@{domain}", "workspace": ws,
    }
    await db.commit()
    return w


_TABLES = sorted(t.name for t in Base.metadata.sorted_tables if t.name != "sessions")
# One statement: a digest of every row of every table (sessions slide their expiry on
# use, so only their ids count), plus the stored files.
_SNAPSHOT = text(" UNION ALL ".join(
    [f"SELECT '{t}', md5(coalesce(string_agg(x::text, ',' ORDER BY x::text), '')) FROM {t} x" for t in _TABLES]
    + ["SELECT 'sessions', md5(coalesce(string_agg(id::text, ',' ORDER BY id), '')) FROM sessions"]
))


async def _snapshot(db: Any, api: Api) -> dict[str, Any]:
    state: dict[str, Any] = dict((await db.execute(_SNAPSHOT)).all())
    root = api.app.state.storage.root
    state["files"] = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    return state


async def _send(api: Api, case: Case, w: World) -> dict[str, Any]:
    variables = case.variables(w.ids)
    ws = w.ids["workspace"]
    if case.upload:
        return await api.upload(case.query, {**variables, "file": None}, {"variables.file": ("talk.mp4", SAMPLE, "video/mp4")},
                                token=w.tokens[case.token], workspace=ws)
    return await api.gql(case.query, variables, token=w.tokens[case.token], workspace=ws)


@pytest.mark.parametrize("role", sorted(ROLE_PERMISSIONS))
async def test_role_against_every_mutation(api: Api, committed, user_domain: str, role: str, cheap_password_hashing) -> None:  # noqa: ANN001
    assert set(CASES) == _schema_mutations()
    # given a workspace with a target for every mutation, and a member with ``role``
    w = await _world(committed, role, user_domain)
    held = ROLE_PERMISSIONS[role]
    try:
        outcomes: dict[str, str] = {}
        for name, case in CASES.items():
            allowed = case.permission is None or case.permission in held
            before = await _snapshot(committed, api) if not allowed else None
            audits = await committed.scalar(select(func.count()).select_from(AuditLog))
            # when the member calls it
            body = await _send(api, case, w)
            added = await committed.scalar(select(func.count()).select_from(AuditLog)) - audits
            if allowed:
                # then it did what it says, and wrote its audit entries
                assert body.get("errors") is None, (name, body)
                payload = body["data"]["r"]
                assert payload["errors"] == [], (name, payload)
                assert payload[case.result] not in (None, False), (name, payload)
                assert added == case.audits, f"{name} wrote {added} audit entries, not {case.audits}"
                outcomes[name] = "ok"
            else:
                # or it was refused at the top level, and nothing changed anywhere
                assert body["data"] == {"r": None}, (name, body)
                assert [e["extensions"]["code"] for e in body["errors"]] == ["PERMISSION_DENIED"], (name, body)
                assert added == 0, f"refused {name} wrote an audit entry"
                after = await _snapshot(committed, api)
                changed = sorted(k for k in before if before[k] != after[k])
                assert changed == [], f"refused {name} changed {changed}"
                outcomes[name] = "PERMISSION_DENIED"
        assert outcomes == {n: ("ok" if c.permission is None or c.permission in held else "PERMISSION_DENIED") for n, c in CASES.items()}
    finally:
        # (the committed fixture deletes the world's users and every workspace they own)
        flag_id = w.flag.id
        await committed.rollback()
        await committed.execute(text("DELETE FROM feature_flags WHERE id = :id"), {"id": flag_id})
        await committed.commit()
