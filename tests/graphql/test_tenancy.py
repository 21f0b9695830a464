"""Another workspace's objects are invisible: node(id:) gives null, connections leave them out."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from clipflow_api.models import (
    Account, AccountAnalytics, AiImageGeneration, AiTextGeneration, ApiKey, Asset, AuditLog, BrandKit, Caption, Comment,
    FeatureFlag, Invitation, Job, MediaFolder, Post, PostMetric, Project, ProjectAnalytics, ProjectCollaborator,
    ProjectExport, SocialFormat, SubscriptionPlan, TeamMember, Template, TemplateCategory, TimelineElement,
    UsageLog, User, UserMedia, UserSession, Verification, Webhook, WebhookLog, Workspace,
)
from tests.fixtures import builders
from tests.graphql.conftest import Api, gid

NOW = datetime.now(UTC)


async def _everything(db: Any, ws: Workspace, owner: User) -> dict[str, Any]:
    """One row of every table, owned by ``ws`` (or its owner, for per-user tables)."""
    fmt = (await db.execute(select(SocialFormat).limit(1))).scalar_one()
    plan = (await db.execute(select(SubscriptionPlan).limit(1))).scalar_one()
    video = await builders.video(db, ws)
    clip = await builders.clip(db, video)
    caption = await builders.caption(db, clip)
    account = await builders.social_account(db, ws)
    post = await builders.post(db, account, clip, created_by=owner.id)
    metric = await builders.metric(db, post, 1, 5)
    rows: dict[str, Any] = {"Video": video, "Clip": clip, "Caption": caption, "SocialAccount": account, "Post": post, "PostMetric": metric}
    folder = MediaFolder(workspace_id=ws.id, user_id=owner.id, name="F", is_shared=True)  # shared: every member may read it
    project = Project(workspace_id=ws.id, name="P", social_format_id=fmt.id, canvases=[], project_data={}, owner_id=owner.id)
    webhook = Webhook(workspace_id=ws.id, url="https://example.com/h", secret="x", events=["clip.generated"])
    sub = await builders.subscribe(db, owner, plan.name)
    category = TemplateCategory(name="C", slug=f"c-{uuid.uuid4().hex[:6]}")
    db.add_all([folder, project, webhook, category])
    await db.flush()
    extra = {
        "Comment": Comment(workspace_id=ws.id, post_id=post.id, social_account_id=account.id, platform_comment_id="c1", text="hi", posted_at=NOW),
        "AccountAnalytics": AccountAnalytics(workspace_id=ws.id, social_account_id=account.id, date=date.today()),
        "Asset": Asset(workspace_id=ws.id, name="A", type="audio", file_url="a.mp3"),
        "UserMedia": UserMedia(workspace_id=ws.id, user_id=owner.id, filename="f", original_name="f", mime_type="image/png", file_size=1,
                               storage_provider="local", storage_key="k", public_url="u", media_type="image"),
        "BrandKit": BrandKit(workspace_id=ws.id),
        "Template": Template(workspace_id=ws.id, name="T", template_data={}),
        "ProjectCollaborator": ProjectCollaborator(workspace_id=ws.id, project_id=project.id, user_id=owner.id, role="editor", permissions={}),
        "TimelineElement": TimelineElement(workspace_id=ws.id, project_id=project.id, canvas_id="c", type="text", name="t", track_index=0,
                                           start_time=Decimal(0), duration=Decimal(1), properties={}),
        "AiTextGeneration": AiTextGeneration(workspace_id=ws.id, project_id=project.id, user_id=owner.id, prompt="p", provider="x", model="m", generated_text="g"),
        "AiImageGeneration": AiImageGeneration(workspace_id=ws.id, project_id=project.id, user_id=owner.id, prompt="p", provider="x", width=1, height=1, image_url="i"),
        "ProjectExport": ProjectExport(workspace_id=ws.id, project_id=project.id, user_id=owner.id, canvas_id="c", social_format_id=fmt.id, export_settings={}),
        "ProjectAnalyticsEvent": ProjectAnalytics(workspace_id=ws.id, project_id=project.id, user_id=owner.id, event_type="open"),
        "Job": Job(workspace_id=ws.id, type="video_probe", video_id=video.id),
        "WebhookDelivery": WebhookLog(workspace_id=ws.id, webhook_id=webhook.id, event_type="e", event_id=uuid.uuid4(), request_body={}, success=True),
        "AuditLog": AuditLog(workspace_id=ws.id, user_id=owner.id, action="x"),
        "Invitation": Invitation(workspace_id=ws.id, email="i@example.com", token=uuid.uuid4().hex, invited_by=owner.id, expires_at=NOW + timedelta(days=1)),
        "ApiKey": ApiKey(user_id=owner.id, workspace_id=ws.id, name="k", key_hash=uuid.uuid4().hex, key_prefix="cf_live_x"),
        "UserSession": UserSession(user_id=owner.id, token_hash=uuid.uuid4().hex, expires_at=NOW + timedelta(days=1)),
        "LinkedAccount": Account(user_id=owner.id, account_id=uuid.uuid4().hex, provider_id="github"),
        "Verification": Verification(identifier=f"email-verify:{owner.id}:{owner.email}", value=uuid.uuid4().hex, expires_at=NOW + timedelta(days=1)),
        "UsageLog": UsageLog(subscription_id=sub.id, user_id=owner.id, date=date.today()),
    }
    db.add_all(extra.values())
    await db.flush()
    member = (await db.execute(select(TeamMember).where(TeamMember.workspace_id == ws.id))).scalars().first()
    rows.update(extra)
    rows.update({"MediaFolder": folder, "Project": project, "Webhook": webhook, "PlanSubscription": sub, "Workspace": ws,
                 "TeamMember": member, "User": owner})
    return rows


# Catalogue tables every caller may read; feature flags need feature_flag:admin (no workspace role has it).
SHARED = {"SocialFormat", "TemplateCategory", "SubscriptionPlan"}


async def test_node_ids_of_another_workspace_resolve_to_null(api: Api, committed) -> None:
    # given two workspaces with one row of every table each
    me, other = await builders.user(committed), await builders.user(committed)
    mine_ws, other_ws = await builders.workspace(committed, me), await builders.workspace(committed, other)
    mine = await _everything(committed, mine_ws, me)
    theirs = await _everything(committed, other_ws, other)
    flag = FeatureFlag(name=f"f-{uuid.uuid4().hex[:6]}")
    committed.add(flag)
    token = await builders.token(committed, me)
    await committed.commit()
    try:
        from clipflow_api.graphql.relay import NODE_TYPES

        assert set(NODE_TYPES) - set(mine) - SHARED == {"FeatureFlag"}
        ids_theirs = {name: gid(name, row.id) for name, row in theirs.items()}
        ids_mine = {name: gid(name, row.id) for name, row in mine.items()}
        # when I ask for their ids and mine
        body = await api.gql(
            "query($a: [ID!]!, $b: [ID!]!) { theirs: nodes(ids: $a) { id } mine: nodes(ids: $b) { id } }",
            {"a": list(ids_theirs.values()) + [gid("FeatureFlag", flag.id)], "b": list(ids_mine.values())},
            token=token, workspace=mine_ws,
        )
        assert body.get("errors") is None, body
        # then none of theirs resolves, and all of mine do
        assert body["data"]["theirs"] == [None] * (len(ids_theirs) + 1)
        assert [n["id"] if n else None for n in body["data"]["mine"]] == list(ids_mine.values())
        # and single node(id:) agrees, for a sample
        one = await api.gql("query($id: ID!) { node(id: $id) { id } }", {"id": ids_theirs["Clip"]}, token=token, workspace=mine_ws)
        assert one["data"] == {"node": None}
        # and connections leave their rows out
        lists = await api.gql(
            "{ workspace { videos { totalCount } clips { totalCount } posts { totalCount } projects { totalCount } "
            "webhooks { totalCount } jobs { totalCount } auditLogs { totalCount } members { totalCount } } }",
            token=token, workspace=mine_ws,
        )
        counts = lists["data"]["workspace"]
        assert {k: v["totalCount"] for k, v in counts.items() if k != "auditLogs" and k != "members"} == {
            "videos": 1, "clips": 1, "posts": 1, "projects": 1, "webhooks": 1, "jobs": 1,
        }
        assert counts["members"]["totalCount"] == 1
        # and another workspace's id in X-Workspace-Id is refused outright
        refused = await api.gql("{ viewer { role } }", token=token, workspace=other_ws)
        assert refused["_status"] == 403 and refused["errors"][0]["extensions"]["reason"] == "NOT_A_MEMBER"
    finally:
        await committed.delete(flag)
        await committed.commit()
