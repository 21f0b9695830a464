"""Every mutation of the schema against every role.

The list of mutations comes from the schema: a new mutation without a row in ``CASES``
fails ``test_every_mutation_has_a_matrix_entry``. For each role, a fresh workspace holds a
target for every mutation; each mutation then runs once as a member with that role:

- allowed: no top-level error, an empty ``errors`` list, the changed object in the payload,
  and exactly the rows of ``CHANGES[mutation]`` inserted, updated (those columns) or deleted,
  audit entries and stored files included, and nothing else;
- refused: ``data.r`` is null with one top-level PERMISSION_DENIED error, and no row of any
  table (nor any stored file) changed.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

import clipflow_api.models  # noqa: F401
from clipflow_api.auth.tokens import api_key_display_prefix, hash_token, new_api_key, new_token
from clipflow_api.db import Base
from clipflow_api.graphql.schema import Mutation, build_schema
from clipflow_api.models import (
    ApiKey, Asset, BrandKit, FeatureFlag, Invitation, Job, MediaFolder, Project, SocialFormat, SubscriptionPlan,
    Template, TimelineElement, User, UserMedia, UserSession, Verification, Webhook,
)
from clipflow_api.config import get_settings
from clipflow_api.permissions import ROLE_PERMISSIONS, SYSTEM_PERMISSIONS
from clipflow_api.storage import get_storage
from clipflow_api.storage.workspace_files import new_upload_key
from tests.fixtures import builders
from tests.graphql.conftest import Api, gid

SAMPLE_PATH = Path(__file__).resolve().parents[1] / "fixtures" / "media" / "speech_15s.mp4"
SAMPLE = SAMPLE_PATH.read_bytes()
PASSWORD = "a long passphrase 42!"
ERR = "errors { code message }"


@dataclass(frozen=True)
class Case:
    permission: str | None  # what the caller must hold; None: every role may
    query: str  # the mutation aliased ``r``, selecting ``result`` and the payload errors
    result: str  # the payload field that holds the changed object
    variables: Callable[[dict[str, Any]], dict[str, Any]] = lambda w: {}
    token: str = "caller"  # which of the world's tokens sends it
    upload: bool = False  # a GraphQL multipart request with the sample video


def _id(name: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda w: {"id": w[name]}


# In execution order (signUp before logIn, which signs in the account it made).
CASES: dict[str, Case] = {
    # accounts: open, or any signed-in caller; API keys of the workspace need api_key:manage
    "signUp": Case(None, f'mutation($e: String!) {{ r: signUp(input: {{email: $e, password: "{PASSWORD}", name: "New"}}) {{ token {ERR} }} }}',
                   "token", lambda w: {"e": w["new_email"]}),
    "logIn": Case(None, f'mutation($e: String!) {{ r: logIn(input: {{email: $e, password: "{PASSWORD}"}}) {{ token {ERR} }} }}',
                  "token", lambda w: {"e": w["new_email"]}),
    "logOut": Case(None, f"mutation {{ r: logOut {{ user {{ id }} {ERR} }} }}", "user", token="logout"),
    # auth.service.request_email_verification writes no audit entry (reported to the auth owners)
    "emailVerificationRequest": Case(None, f"mutation {{ r: emailVerificationRequest {{ ok {ERR} }} }}", "ok", token="unverified"),
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
    "captionUpdate": Case("caption:write", f'mutation($id: ID!) {{ r: captionUpdate(id: $id, input: {{style: MINIMAL}}) {{ caption {{ style }} {ERR} }} }}', "caption", _id("caption")),
    # brand kits, assets, the media library
    "brandKitCreate": Case("brand_kit:write", f'mutation {{ r: brandKitCreate(input: {{name: "B", primaryColor: "#112233"}}) {{ brandKit {{ id }} {ERR} }} }}', "brandKit"),
    "brandKitUpdate": Case("brand_kit:write", f'mutation($id: ID!) {{ r: brandKitUpdate(id: $id, input: {{name: "B2"}}) {{ brandKit {{ name }} {ERR} }} }}', "brandKit", _id("brand_kit")),
    "brandKitDelete": Case("brand_kit:write", f"mutation($id: ID!) {{ r: brandKitDelete(id: $id) {{ brandKit {{ id }} {ERR} }} }}", "brandKit", _id("brand_kit_delete")),
    "assetCreate": Case("asset:write", f'mutation($k: String!) {{ r: assetCreate(input: {{name: "m", type: AUDIO, fileUrl: $k}}) {{ asset {{ id }} {ERR} }} }}', "asset",
                        lambda w: {"k": w["asset_key"]}),
    "fileUploadCreate": Case("asset:write", 'mutation { r: fileUploadCreate(input: {purpose: ASSET, filename: "a.png", contentType: "image/png", size: 10}) '
                             f"{{ upload {{ key }} {ERR} }} }}", "upload"),
    "assetDelete": Case("asset:write", f"mutation($id: ID!) {{ r: assetDelete(id: $id) {{ asset {{ id }} {ERR} }} }}", "asset", _id("asset")),
    "mediaFolderCreate": Case("media:write", f'mutation {{ r: mediaFolderCreate(input: {{name: "F"}}) {{ mediaFolder {{ id }} {ERR} }} }}', "mediaFolder"),
    "mediaFolderUpdate": Case("media:write", f'mutation($id: ID!) {{ r: mediaFolderUpdate(id: $id, input: {{name: "F2"}}) {{ mediaFolder {{ name }} {ERR} }} }}', "mediaFolder", _id("folder")),
    "mediaFolderDelete": Case("media:write", f"mutation($id: ID!) {{ r: mediaFolderDelete(id: $id) {{ mediaFolder {{ id }} {ERR} }} }}", "mediaFolder", _id("folder_delete")),
    "userMediaCreate": Case("media:write", 'mutation($k: String!) { r: userMediaCreate(input: {originalName: "a.png", mimeType: "image/png", fileSize: 10, '
                            f'storageKey: $k, mediaType: IMAGE}}) {{ userMedia {{ id }} {ERR} }} }}', "userMedia", lambda w: {"k": w["media_key"]}),
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
    "timelineElementCreate": Case("project:write", 'mutation($id: ID!) { r: timelineElementCreate(projectId: $id, input: {canvasId: "c1", type: TEXT, name: "Title"}) '
                                  f"{{ timelineElement {{ id }} {ERR} }} }}", "timelineElement", _id("project")),
    "timelineElementUpdate": Case("project:write", f'mutation($id: ID!) {{ r: timelineElementUpdate(id: $id, input: {{name: "Renamed"}}) {{ timelineElement {{ name }} {ERR} }} }}',
                                  "timelineElement", _id("element")),
    "timelineElementDelete": Case("project:write", f"mutation($id: ID!) {{ r: timelineElementDelete(id: $id) {{ timelineElement {{ id }} {ERR} }} }}", "timelineElement",
                                  _id("element_delete")),
    # operations
    "webhookCreate": Case("webhook:manage", f'mutation {{ r: webhookCreate(input: {{url: "https://example.com/h", events: ["clip.generated"]}}) {{ secret webhook {{ id }} {ERR} }} }}', "webhook"),
    "webhookUpdate": Case("webhook:manage", f"mutation($id: ID!) {{ r: webhookUpdate(id: $id, input: {{isActive: false}}) {{ webhook {{ isActive }} {ERR} }} }}", "webhook", _id("webhook")),
    "webhookDelete": Case("webhook:manage", f"mutation($id: ID!) {{ r: webhookDelete(id: $id) {{ webhook {{ id }} {ERR} }} }}", "webhook", _id("webhook_delete")),
    # social accounts (connecting only builds the consent URL; disconnect cannot read the builder's fake token, so
    # nothing is sent to TikTok)
    "socialAccountConnect": Case("social_account:manage", f"mutation {{ r: socialAccountConnect(platform: TIKTOK) {{ authorizationUrl {ERR} }} }}",
                                 "authorizationUrl"),
    # finishing stores what the callback parked for the caller (_park_connect: no platform is asked)
    "socialAccountConnectComplete": Case("social_account:manage", "mutation($p: String!) { r: socialAccountConnectComplete(pendingId: $p) "
                                         f"{{ socialAccount {{ status }} {ERR} }} }}", "socialAccount", lambda w: {"p": w["pending_connect"]}),
    "socialAccountDisconnect": Case("social_account:manage", f"mutation($id: ID!) {{ r: socialAccountDisconnect(id: $id) {{ socialAccount {{ status }} {ERR} }} }}",
                                    "socialAccount", _id("account_disconnect")),
    # posts (Instagram: the sample video conforms as it is, so scheduling starts no conform job)
    "postCreate": Case("post:write", 'mutation($c: ID!, $a: ID!) { r: postCreate(input: {clipId: $c, socialAccountIds: [$a], caption: "P"}) '
                       f"{{ posts {{ id }} groupId {ERR} }} }}", "posts", lambda w: {"c": w["post_clip"], "a": w["post_account"]}),
    "postUpdate": Case("post:write", f'mutation($id: ID!) {{ r: postUpdate(id: $id, input: {{caption: "E"}}) {{ post {{ caption }} {ERR} }} }}', "post",
                       _id("post_draft")),
    "postSchedule": Case("post:schedule", f"mutation($id: ID!, $at: DateTime!) {{ r: postSchedule(id: $id, at: $at) {{ post {{ status }} {ERR} }} }}",
                         "post", lambda w: {"id": w["post_to_schedule"], "at": w["post_at"]}),
    "postPublishNow": Case("post:schedule", f"mutation($id: ID!) {{ r: postPublishNow(id: $id) {{ post {{ status }} {ERR} }} }}", "post", _id("post_now")),
    "postReschedule": Case("post:schedule", f"mutation($id: ID!, $at: DateTime!) {{ r: postReschedule(id: $id, at: $at) {{ post {{ status }} {ERR} }} }}",
                           "post", lambda w: {"id": w["post_scheduled"], "at": w["post_at"]}),
    "postCancel": Case("post:schedule", f"mutation($id: ID!) {{ r: postCancel(id: $id) {{ post {{ status }} {ERR} }} }}", "post", _id("post_cancel")),
    "postRetry": Case("post:schedule", f"mutation($id: ID!) {{ r: postRetry(id: $id) {{ post {{ status }} {ERR} }} }}", "post", _id("post_failed")),
    "postApprove": Case("post:approve", f"mutation($id: ID!) {{ r: postApprove(id: $id) {{ post {{ status }} {ERR} }} }}", "post", _id("post_pending")),
    "postReject": Case("post:approve", f'mutation($id: ID!) {{ r: postReject(id: $id, comment: "no") {{ post {{ status }} {ERR} }} }}', "post",
                       _id("post_reject")),
    "featureFlagCreate": Case("feature_flag:admin", f'mutation {{ r: featureFlagCreate(input: {{name: "never"}}) {{ featureFlag {{ id }} {ERR} }} }}', "featureFlag"),
    "featureFlagUpdate": Case("feature_flag:admin", f"mutation($id: ID!) {{ r: featureFlagUpdate(id: $id, input: {{isEnabled: true}}) {{ featureFlag {{ id }} {ERR} }} }}",
                              "featureFlag", _id("flag")),
}


# --- what each allowed mutation changes ------------------------------------------------------

@dataclass(frozen=True)
class W:
    """The id (or value) of something in the world, known once the world is built."""

    key: str


@dataclass(frozen=True)
class Change:
    """One row an allowed call must change: table, operation, and column values the row has
    (after an insert or update, before a delete); an update names exactly the columns it changed.
    A value is a literal, a ``W`` reference, or a predicate."""

    table: str
    op: str
    where: dict[str, Any] = field(default_factory=dict)
    columns: frozenset[str] = frozenset()


def ins(table: str, **where: Any) -> Change:
    return Change(table, "insert", where)


def upd(table: str, ref: str, *columns: str, **where: Any) -> Change:
    return Change(table, "update", {"id": W(ref), **where}, frozenset(columns))


def gone(table: str, ref: str) -> Change:
    return Change(table, "delete", {"id": W(ref)})


def audit(action: str, workspace: str | None = "workspace", user: str = "caller", **where: Any) -> Change:
    return ins("audit_logs", action=action, user_id=W(user), workspace_id=W(workspace) if workspace else None, **where)


def _in_ws(**where: Any) -> dict[str, Any]:
    return {"workspace_id": W("workspace"), **where}


# One entry per mutation: every row it inserts, updates or deletes when allowed (audit entries
# included; ``files`` is the storage folder). Anything else that changes fails the test.
CHANGES: dict[str, tuple[Change, ...]] = {
    "signUp": (ins("users", email=W("new_email"), name="New", email_verified=False), ins("workspaces", name="New's workspace"),
               ins("team_members", role="owner", status="active"), ins("sessions", ip_address="127.0.0.1"),
               ins("audit_logs", action="user.signup", workspace_id=None), ins("audit_logs", action="workspace.create")),
    "logIn": (Change("users", "update", {"email": W("new_email")}, frozenset({"last_login_at"})),
              ins("sessions", ip_address="127.0.0.1"), ins("audit_logs", action="user.login", workspace_id=None)),
    "logOut": (gone("sessions", "logout_session"), audit("user.logout", None)),
    "emailVerificationRequest": (ins("verifications", identifier=W("unverified_identifier")),),
    "emailVerify": (upd("users", "verify_user", "email_verified", email_verified=True), gone("verifications", "verify_row"),
                    audit("user.email_verified", None, "verify_user")),
    "passwordReset": (upd("users", "reset_user", "password_hash", "email_verified", email_verified=True),
                      gone("verifications", "reset_row"), audit("user.password_reset", None, "reset_user")),
    "passwordResetRequest": (ins("verifications", identifier=W("reset_request_identifier")),
                             audit("user.password_reset_requested", None, "request_user")),
    "apiKeyCreate": (ins("api_keys", **_in_ws(user_id=W("caller"), name="ci", scopes=["video:read"], revoked_at=None)),
                     audit("api_key.create")),
    "apiKeyRevoke": (upd("api_keys", "api_key", "revoked_at"), audit("api_key.revoke")),
    "workspaceCreate": (ins("workspaces", name="Side project", owner_id=W("caller")),
                        ins("team_members", user_id=W("caller"), role="owner", status="active"),
                        ins("audit_logs", action="workspace.create", user_id=W("caller"))),
    "invitationCreate": (ins("invitations", **_in_ws(email=W("invitee_email"), role="editor", invited_by=W("caller"))),
                         audit("member.invite")),
    "invitationAccept": (upd("invitations", "invitation", "accepted_at"),
                         ins("team_members", workspace_id=W("other_workspace"), user_id=W("caller"), role="viewer", status="active"),
                         audit("member.join", "other_workspace")),
    "memberRoleUpdate": (upd("team_members", "member_x", "role", role="viewer"), audit("member.role_change")),
    "memberRemove": (upd("team_members", "member_y", "status", status="removed"), audit("member.remove")),
    "videoUpload": (ins("videos", **_in_ws(uploaded_by=W("caller"), source_type="upload", title="talk")),
                    ins("jobs", **_in_ws(type="video_process", status="pending")),
                    ins("files", path=lambda p: p.startswith("videos/") and p.endswith("/source.mp4")), audit("video.upload")),
    "videoImport": (ins("videos", **_in_ws(source_type="url", source_url="https://videos.example.com/a.mp4")),
                    ins("jobs", **_in_ws(type="video_process", status="pending")), audit("video.import")),
    "videoProcess": (upd("videos", "video_process", "status", "processing_progress", status="pending", processing_progress=0),
                     ins("jobs", **_in_ws(type="video_process", video_id=W("video_process"), status="pending")),
                     audit("video.process")),
    "videoCreate": (ins("videos", **_in_ws(title="t", file_url="k.mp4")), audit("video.create")),
    "videoUpdate": (upd("videos", "video", "title", title="new"), audit("video.update")),
    "videoDelete": (upd("videos", "video_delete", "deleted_at"), audit("video.delete")),
    "clipUpdate": (upd("clips", "clip", "title", "status", title="c", status="edited"), audit("clip.update")),
    "clipApprove": (upd("clips", "clip_approve", "status", "approved_at", "approved_by", status="approved", approved_by=W("caller")),
                    audit("clip.approve")),
    "clipReject": (upd("clips", "clip_reject", "status", "rejection_reason", status="rejected", rejection_reason="meh"),
                   audit("clip.reject")),
    "captionUpdate": (upd("captions", "caption", "style", style="minimal"), audit("caption.update")),
    "brandKitCreate": (ins("brand_kits", **_in_ws(name="B", primary_color="#112233")), audit("brand_kit.create")),
    "brandKitUpdate": (upd("brand_kits", "brand_kit", "name", name="B2"), audit("brand_kit.update")),
    "brandKitDelete": (gone("brand_kits", "brand_kit_delete"), audit("brand_kit.delete")),
    "assetCreate": (ins("assets", **_in_ws(name="m", type="audio", file_url=W("asset_key"))), audit("asset.create")),
    "fileUploadCreate": (audit("file_upload.create"),),  # the file itself arrives later, by signed PUT
    "assetDelete": (gone("assets", "asset"), audit("asset.delete")),
    "mediaFolderCreate": (ins("media_folders", **_in_ws(name="F", user_id=W("caller"))), audit("media_folder.create")),
    "mediaFolderUpdate": (upd("media_folders", "folder", "name", name="F2"), audit("media_folder.update")),
    "mediaFolderDelete": (gone("media_folders", "folder_delete"), audit("media_folder.delete")),
    "userMediaCreate": (ins("user_media", **_in_ws(user_id=W("caller"), storage_key=W("media_key"), media_type="image")),
                        audit("user_media.create")),
    "userMediaUpdate": (upd("user_media", "media", "description", description="d"), audit("user_media.update")),
    "userMediaDelete": (gone("user_media", "media_delete"), audit("user_media.delete")),
    "templateCreate": (ins("templates", **_in_ws(name="T")), audit("template.create")),
    "templateUpdate": (upd("templates", "template", "name", name="T2"), audit("template.update")),
    "templateDelete": (gone("templates", "template_delete"), audit("template.delete")),
    "projectCreate": (ins("projects", **_in_ws(name="P", social_format_id=W("format_id"))), audit("project.create")),
    "projectUpdate": (upd("projects", "project", "name", "last_edited_at", "last_edited_by", name="P2", last_edited_by=W("caller")),
                      audit("project.update")),
    "projectDelete": (gone("projects", "project_delete"), audit("project.delete")),
    "projectCanvasAdd": (upd("projects", "project", "canvases", "last_edited_at"), audit("project.canvas_add")),
    "projectCanvasUpdate": (upd("projects", "project", "canvases", "last_edited_at"), audit("project.canvas_update")),
    "projectCanvasRemove": (upd("projects", "project", "canvases", "last_edited_at"), audit("project.canvas_remove")),
    "timelineElementCreate": (ins("timeline_elements", **_in_ws(project_id=W("project"), canvas_id="c1", type="text", name="Title")),
                              upd("projects", "project", "last_edited_at"), audit("timeline_element.create")),
    "timelineElementUpdate": (upd("timeline_elements", "element", "name", "last_edited_at", "last_edited_by", name="Renamed",
                                  last_edited_by=W("caller")), audit("timeline_element.update")),
    "timelineElementDelete": (gone("timeline_elements", "element_delete"), audit("timeline_element.delete")),
    "webhookCreate": (ins("webhooks", **_in_ws(url="https://example.com/h", events=["clip.generated"], is_active=True)),
                      audit("webhook.create")),
    "webhookUpdate": (upd("webhooks", "webhook", "is_active", is_active=False), audit("webhook.update")),
    "webhookDelete": (gone("webhooks", "webhook_delete"), audit("webhook.delete")),
    "socialAccountConnect": (),  # the pending connect lives in Redis until the platform calls back
    "socialAccountConnectComplete": (ins("social_accounts", **_in_ws(platform="youtube", status="active", username="@parked")),
                                     audit("social_account.connect")),
    "socialAccountDisconnect": (upd("social_accounts", "account_disconnect", "status", "access_token", status="disconnected",
                                    access_token=""), audit("social_account.disconnect")),
    "postCreate": (ins("posts", **_in_ws(clip_id=W("post_clip"), social_account_id=W("post_account"), status="draft", caption="P",
                                         created_by=W("caller"))), audit("post.create")),
    "postUpdate": (upd("posts", "post_draft", "caption", caption="E"), audit("post.update")),
    "postSchedule": (upd("posts", "post_to_schedule", "status", "scheduled_at", status="scheduled"),
                     ins("outbox_events", **_in_ws(type="post.scheduled")), audit("post.schedule")),
    "postPublishNow": (upd("posts", "post_now", "status", "scheduled_at", status="scheduled"),
                       ins("outbox_events", **_in_ws(type="post.scheduled")), audit("post.publish_now")),
    "postReschedule": (upd("posts", "post_scheduled", "scheduled_at"), ins("outbox_events", **_in_ws(type="post.scheduled")),
                       audit("post.reschedule")),
    "postCancel": (upd("posts", "post_cancel", "status", status="cancelled"), audit("post.cancel")),
    "postRetry": (upd("posts", "post_failed", "status", "scheduled_at", "publish_error", status="scheduled", publish_error=None),
                  ins("outbox_events", **_in_ws(type="post.scheduled")), audit("post.retry")),
    "postApprove": (upd("posts", "post_pending", "status", "approved_by", "approved_at", status="scheduled", approved_by=W("caller")),
                    ins("outbox_events", **_in_ws(type="post.scheduled")), audit("post.approve")),
    "postReject": (upd("posts", "post_reject", "status", "approval_comment", status="rejected", approval_comment="no"),
                   audit("post.reject")),
    # platform staff only (no workspace role holds feature_flag:admin): test_platform_staff_run_the_staff_mutations
    "featureFlagCreate": (ins("feature_flags", name="never", created_by=W("caller")), audit("feature_flag.create")),
    "featureFlagUpdate": (upd("feature_flags", "flag", "is_enabled", is_enabled=True), audit("feature_flag.update")),
}


def _unmatched(expected: tuple[Change, ...], changed: list[Changed], refs: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(expected changes that did not happen, changes nobody expected)."""

    def matches(value: Any, want: Any) -> bool:
        if isinstance(want, W):
            return value == refs[want.key]
        return want(value) if callable(want) else value == want

    left = list(changed)
    missing = []
    for e in expected:
        hit = next((c for c in left if (c.table, c.op) == (e.table, e.op) and (e.op != "update" or c.columns == e.columns)
                    and all(matches(c.row.get(k), v) for k, v in e.where.items())), None)
        if hit is None:
            shown = {k: refs.get(v.key, v) if isinstance(v, W) else v for k, v in e.where.items()}
            missing.append(f"{e.op} {e.table} {shown}" + (f" {sorted(e.columns)}" if e.op == "update" else ""))
        else:
            left.remove(hit)
    return missing, [str(c) for c in left]


def _schema_mutations() -> set[str]:
    return set(build_schema()._schema.mutation_type.fields)


def test_every_mutation_has_a_matrix_entry() -> None:
    assert set(CASES) == _schema_mutations()
    assert set(CHANGES) == set(CASES)


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
    refs: dict[str, Any] = field(default_factory=dict)  # W(...) keys: row ids as the JSON snapshot shows them
    flag: Any = None


async def _world(db: Any, role: str, domain: str) -> World:
    w = World()
    owner = await builders.user(db)
    ws = await builders.workspace(db, owner)
    # a plan with seats to invite into
    plan = (await db.execute(select(SubscriptionPlan).order_by(SubscriptionPlan.team_members.desc()).limit(1))).scalar_one()
    now = datetime.now(UTC)
    await builders.subscribe(db, owner, plan.name)
    caller, w.tokens["caller"] = await builders.member(db, ws, role)
    caller.email_verified = True  # API keys and invitations need a verified address
    w.tokens["logout"] = await builders.token(db, caller)
    unverified, w.tokens["unverified"] = await builders.member(db, ws, "viewer")  # asks for a verification email
    member_x, _ = await builders.member(db, ws, "editor")
    member_y, _ = await builders.member(db, ws, "editor")
    from clipflow_api.models import TeamMember

    members = {m.user_id: m for m in (await db.execute(select(TeamMember).where(TeamMember.workspace_id == ws.id))).scalars()}
    fmt = (await db.execute(select(SocialFormat).limit(1))).scalar_one()
    video = await builders.video(db, ws)
    video_delete = await builders.video(db, ws)
    video_process = await builders.video(db, ws, status="completed", processing_progress=100)
    db.add(Job(workspace_id=ws.id, type="video_process", video_id=video_process.id, status="completed"))
    clips = [await builders.clip(db, video, i) for i in range(3)]
    caption = await builders.caption(db, clips[0])
    account_disconnect = await builders.social_account(db, ws)
    rows = {
        "brand_kit": BrandKit(workspace_id=ws.id, name="Kit"), "brand_kit_delete": BrandKit(workspace_id=ws.id, name="Old"),
        "asset": Asset(workspace_id=ws.id, name="A", type="audio", file_url="a.mp3"),
        # the caller's own folders and media: unshared ones are visible to their owner only
        "folder": MediaFolder(workspace_id=ws.id, user_id=caller.id, name="F"),
        "folder_delete": MediaFolder(workspace_id=ws.id, user_id=caller.id, name="G"),
        "template": Template(workspace_id=ws.id, name="T", template_data={}),
        "template_delete": Template(workspace_id=ws.id, name="U", template_data={}),
        "webhook": Webhook(workspace_id=ws.id, url="https://example.com/a", secret="x", events=["clip.generated"]),
        "webhook_delete": Webhook(workspace_id=ws.id, url="https://example.com/b", secret="x", events=["clip.generated"]),
    }
    for key in ("media", "media_delete"):
        rows[key] = UserMedia(workspace_id=ws.id, user_id=caller.id, filename="f", original_name="f.png", mime_type="image/png",
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
    verify_user, reset_user, request_user = [await builders.user(db) for _ in range(3)]
    verify_token, reset_token = new_token(), new_token()
    verify_row = Verification(identifier=f"email-verify:{verify_user.id}:{verify_user.email}", value=hash_token(verify_token),
                              expires_at=now + timedelta(hours=1))
    reset_row = Verification(identifier=f"password-reset:{reset_user.id}:", value=hash_token(reset_token),
                             expires_at=now + timedelta(hours=1))
    db.add_all([verify_row, reset_row])
    # an invitation to another workspace, addressed to the caller
    other = await builders.workspace(db)
    invitation_token = new_token()
    invitation = Invitation(workspace_id=other.id, email=caller.email, role="viewer", token=hash_token(invitation_token),
                            invited_by=other.owner_id, expires_at=now + timedelta(days=1))
    db.add(invitation)
    await db.flush()
    names = {
        "video": ("Video", video), "video_delete": ("Video", video_delete), "video_process": ("Video", video_process),
        "clip": ("Clip", clips[0]), "clip_approve": ("Clip", clips[1]), "clip_reject": ("Clip", clips[2]), "caption": ("Caption", caption),
        "brand_kit": ("BrandKit",), "brand_kit_delete": ("BrandKit",), "asset": ("Asset",), "folder": ("MediaFolder",),
        "folder_delete": ("MediaFolder",), "media": ("UserMedia",), "media_delete": ("UserMedia",), "template": ("Template",),
        "template_delete": ("Template",), "project": ("Project",), "project_delete": ("Project",),
        "element": ("TimelineElement",), "element_delete": ("TimelineElement",), "webhook": ("Webhook",),
        "webhook_delete": ("Webhook",), "api_key": ("ApiKey",), "account_disconnect": ("SocialAccount", account_disconnect),
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
    # files uploaded to the workspace (fileUploadCreate's keys), for assetCreate and userMediaCreate
    storage = get_storage()
    for name, filename in (("asset_key", "m.mp3"), ("media_key", "a.png")):
        w.ids[name] = new_upload_key(ws.id, filename)
        await asyncio.to_thread(storage.put_file, w.ids[name], SAMPLE_PATH)
    await db.commit()
    w.refs = {key: str(row.id) for key, row in {**rows, "video": video, "video_delete": video_delete,
              "video_process": video_process, "clip": clips[0], "clip_approve": clips[1], "clip_reject": clips[2],
              "caption": caption, "account_disconnect": account_disconnect, "flag": w.flag, "workspace": ws, "other_workspace": other, "caller": caller,
              "verify_user": verify_user, "reset_user": reset_user, "request_user": request_user,
              "member_x": members[member_x.id], "member_y": members[member_y.id], "invitation": invitation,
              "verify_row": verify_row, "reset_row": reset_row}.items()}
    w.refs |= {
        "format_id": str(fmt.id), "new_email": w.ids["new_email"], "invitee_email": w.ids["invitee_email"],
        "asset_key": w.ids["asset_key"], "media_key": w.ids["media_key"],
        "unverified_identifier": f"email-verify:{unverified.id}:{unverified.email}",
        "reset_request_identifier": f"password-reset:{request_user.id}:",
        "logout_session": str(await db.scalar(select(UserSession.id).where(UserSession.token_hash == hash_token(w.tokens["logout"])))),
    }
    await _posting_world(db, w, ws)
    return w


async def _park_connect(api: Api, w: World) -> str:
    """A YouTube consent that came back for the caller, parked as the callback parks it: its pending id."""
    from clipflow_api.models.enums import Platform
    from clipflow_api.publishing import accounts, oauth

    started = accounts.PendingConnect(Platform.YOUTUBE, uuid.UUID(w.refs["caller"]), w.ids["workspace"].id, None,
                                      datetime.now(UTC) + timedelta(minutes=10))
    profile = oauth.Profile(platform_user_id=uuid.uuid4().hex, username="@parked", display_name="Parked", avatar_url=None,
                            account_type="creator", follower_count=1)
    return await accounts.park(api.app.state.redis, started, oauth.TokenSet("access", "refresh"), profile, api.app.state.settings)


async def _posting_world(db: Any, w: World, ws: Any) -> None:
    """An Instagram account, a clip whose 9:16 rendering (the sample: Instagram takes it) is stored, and a post per
    post mutation in the state it acts on."""
    from clipflow_api.models import Post, SocialAccount

    key = f"clips/{uuid.uuid4()}/9x16.mp4"
    await asyncio.to_thread(get_storage().put_file, key, SAMPLE_PATH)
    video = await builders.video(db, ws)
    clip = await builders.clip(db, video, 0, file_urls={"9:16": key})
    account = SocialAccount(workspace_id=ws.id, platform="instagram", platform_user_id=uuid.uuid4().hex, username="ig", access_token="x")
    db.add(account)
    await db.flush()
    soon = datetime.now(UTC) + timedelta(days=1)
    states = {
        "post_draft": {"status": "draft"}, "post_to_schedule": {"status": "draft"}, "post_now": {"status": "draft"},
        "post_scheduled": {"status": "scheduled", "scheduled_at": soon}, "post_cancel": {"status": "scheduled", "scheduled_at": soon},
        "post_failed": {"status": "failed", "scheduled_at": soon - timedelta(days=2), "publish_error": "Instagram refused it."},
        "post_pending": {"status": "pending_approval", "scheduled_at": soon},
        "post_reject": {"status": "pending_approval", "scheduled_at": soon},
    }
    posts = {name: Post(workspace_id=ws.id, social_account_id=account.id, clip_id=clip.id, media_urls=[key], media_type="video",
                        created_by=ws.owner_id, **values) for name, values in states.items()}
    db.add_all(posts.values())
    await db.commit()
    w.ids |= {name: gid("Post", post.id) for name, post in posts.items()}
    w.ids |= {"post_clip": gid("Clip", clip.id), "post_account": gid("SocialAccount", account.id),
              "post_at": (soon + timedelta(days=1)).isoformat()}
    w.refs |= {name: str(post.id) for name, post in posts.items()}
    w.refs |= {"post_clip": str(clip.id), "post_account": str(account.id)}


_TABLES = sorted(t.name for t in Base.metadata.sorted_tables)
# One statement: every row of every table, as JSON keyed by table.
_SNAPSHOT = text(" UNION ALL ".join(f"SELECT '{t}', coalesce(json_agg(snap_row), '[]')::text FROM {t} snap_row" for t in _TABLES))
# Columns that move without anyone changing the row: sessions slide their expiry on use.
_SLIDING = {"sessions": {"expires_at"}}


async def _snapshot(db: Any, api: Api) -> dict[str, dict[str, dict[str, Any]]]:
    """{table: {id: row}} for every table, plus the stored files as the pseudo-table ``files``."""
    state = {table: {row["id"]: row for row in json.loads(rows)} for table, rows in (await db.execute(_SNAPSHOT)).all()}
    root = api.app.state.storage.root
    paths = [str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()]
    state["files"] = {path: {"id": path, "path": path} for path in paths}
    return state


@dataclass(frozen=True)
class Changed:
    """One row that differs between two snapshots."""

    table: str
    op: str  # insert, update or delete
    row: dict[str, Any]  # after an insert or update, before a delete
    columns: frozenset[str] = frozenset()  # an update's changed columns (updated_at aside)

    def __str__(self) -> str:
        shown = f" {sorted(self.columns)}" if self.op == "update" else ""
        hints = {k: self.row[k] for k in ("action", "name", "workspace_id", "user_id") if k in self.row}
        return f"{self.op} {self.table} {self.row['id']}{shown} {hints}"


def _diff(before: dict[str, Any], after: dict[str, Any]) -> list[Changed]:
    changes: list[Changed] = []
    for table in sorted(before):
        old, new = before[table], after[table]
        changes += [Changed(table, "insert", new[i]) for i in sorted(new.keys() - old.keys())]
        changes += [Changed(table, "delete", old[i]) for i in sorted(old.keys() - new.keys())]
        ignored = {"updated_at"} | _SLIDING.get(table, set())
        for i in sorted(old.keys() & new.keys()):
            columns = frozenset(c for c in new[i] if new[i][c] != old[i].get(c)) - ignored
            if columns:
                changes.append(Changed(table, "update", new[i], columns))
    return changes


async def _send(api: Api, case: Case, w: World) -> dict[str, Any]:
    variables = case.variables(w.ids)
    ws = w.ids["workspace"]
    if case.upload:
        return await api.upload(case.query, {**variables, "file": None}, {"variables.file": ("talk.mp4", SAMPLE, "video/mp4")},
                                token=w.tokens[case.token], workspace=ws)
    return await api.gql(case.query, variables, token=w.tokens[case.token], workspace=ws)


async def _call(api: Api, db: Any, w: World, name: str, allowed: bool) -> str:
    """Send mutation ``name`` as the world's caller and check its effect; its outcome."""
    case = CASES[name]
    before = await _snapshot(db, api)
    # when the member calls it
    body = await _send(api, case, w)
    changed = _diff(before, await _snapshot(db, api))
    if allowed:
        # then it did what it says: the payload, and exactly the expected rows changed
        assert body.get("errors") is None, (name, body)
        payload = body["data"]["r"]
        assert payload["errors"] == [], (name, payload)
        assert payload[case.result] not in (None, False), (name, payload)
        missing, unexpected = _unmatched(CHANGES[name], changed, w.refs)
        assert (missing, unexpected) == ([], []), f"{name}: missing {missing}, not expected {unexpected}"
        return "ok"
    # or it was refused at the top level, and nothing changed anywhere
    assert body["data"] == {"r": None}, (name, body)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["PERMISSION_DENIED"], (name, body)
    assert [str(c) for c in changed] == [], f"refused {name} changed rows"
    return "PERMISSION_DENIED"


async def _drop_flags(db: Any, w: World) -> None:
    # (the committed fixture deletes the world's users and every workspace they own)
    flag_id = w.flag.id
    await db.rollback()
    await db.execute(text("DELETE FROM feature_flags WHERE id = :id OR name = 'never'"), {"id": flag_id})
    await db.commit()


@pytest.mark.parametrize("role", sorted(ROLE_PERMISSIONS))
async def test_role_against_every_mutation(api: Api, committed, user_domain: str, role: str, cheap_password_hashing) -> None:  # noqa: ANN001
    assert set(CASES) == _schema_mutations()
    # given a workspace with a target for every mutation, and a member with ``role``
    w = await _world(committed, role, user_domain)
    w.ids["pending_connect"] = await _park_connect(api, w)
    held = ROLE_PERMISSIONS[role]
    try:
        outcomes = {name: await _call(api, committed, w, name, case.permission is None or case.permission in held)
                    for name, case in CASES.items()}
        assert outcomes == {n: ("ok" if c.permission is None or c.permission in held else "PERMISSION_DENIED") for n, c in CASES.items()}
    finally:
        await _drop_flags(committed, w)


async def test_platform_staff_run_the_staff_mutations(
    api: Api, committed, user_domain: str, monkeypatch: pytest.MonkeyPatch, cheap_password_hashing  # noqa: ANN001
) -> None:
    # given a viewer of the world who is also platform staff (verified, listed in PLATFORM_ADMINS)
    w = await _world(committed, "viewer", user_domain)
    caller = await committed.get(User, uuid.UUID(w.refs["caller"]))
    monkeypatch.setattr(get_settings(), "platform_admins", [caller.email])
    staff = [name for name, case in CASES.items() if case.permission in SYSTEM_PERMISSIONS]
    try:
        # then each staff mutation changes exactly its expected rows
        assert staff == ["featureFlagCreate", "featureFlagUpdate"]
        assert {name: await _call(api, committed, w, name, True) for name in staff} == dict.fromkeys(staff, "ok")
    finally:
        await _drop_flags(committed, w)
