"""node(id:) / nodes(ids:) apply the permission of the list each type is reached through:
a viewer cannot read a Webhook, an AuditLog or another member's ApiKey by id, and an API key
scoped to video:read reads videos and jobs, not posts."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select
import clipflow_api.graphql.nodes  # noqa: F401  (registers every node type)
from clipflow_api.graphql.relay import NODE_TYPES
from clipflow_api.graphql.workspaces.types import Workspace as WorkspaceType
from clipflow_api.models import FeatureFlag, SocialFormat, SubscriptionPlan, TemplateCategory
from clipflow_api.permissions import ROLE_PERMISSIONS
from tests.fixtures import builders
from tests.graphql.conftest import Api, gid
from tests.graphql.test_tenancy import _everything

# The permission of the list each type is reached through (Workspace.<list>, or its parent's).
NEEDS = {
    "Video": "video:read", "Job": "video:read", "Clip": "clip:read", "Caption": "clip:read",
    "Post": "post:read", "PostMetric": "post:read", "Comment": "post:read",
    "SocialAccount": "workspace:read", "AccountAnalytics": "workspace:read", "Asset": "workspace:read",
    "UserMedia": "workspace:read", "MediaFolder": "workspace:read", "BrandKit": "workspace:read",
    "Project": "project:read", "ProjectCollaborator": "project:read", "TimelineElement": "project:read",
    "AiTextGeneration": "project:read", "AiImageGeneration": "project:read", "ProjectExport": "project:read",
    "ProjectAnalyticsEvent": "project:read",
    "TeamMember": "member:read", "Invitation": "member:invite", "Webhook": "webhook:manage",
    "WebhookDelivery": "webhook:manage", "AuditLog": "audit:read", "ApiKey": "api_key:manage",
    "FeatureFlag": "feature_flag:admin",
}
# Readable by any member: catalogues, the workspace and its people, templates (Query.templates is open).
ALWAYS = {"User", "Workspace", "SocialFormat", "TemplateCategory", "SubscriptionPlan", "Template"}
# The workspace owner's own rows: nobody else sees them, whatever their role.
OWNERS_OWN = {"UserSession", "LinkedAccount", "Verification", "PlanSubscription", "UsageLog"}

QUERY = "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }"


async def _world(committed: Any) -> tuple[Any, Any, dict[str, str]]:
    owner = await builders.user(committed)
    ws = await builders.workspace(committed, owner)
    rows = await _everything(committed, ws, owner)
    flag = FeatureFlag(name=f"f-{uuid.uuid4().hex[:8]}")
    committed.add(flag)
    await committed.flush()
    rows["SocialFormat"] = (await committed.execute(select(SocialFormat).limit(1))).scalar_one()
    rows["SubscriptionPlan"] = (await committed.execute(select(SubscriptionPlan).limit(1))).scalar_one()
    rows["TemplateCategory"] = (await committed.execute(select(TemplateCategory).limit(1))).scalar_one()
    ids = {name: gid(name, row.id) for name, row in rows.items()}
    ids["FeatureFlag"] = gid("FeatureFlag", flag.id)
    return owner, ws, ids | {"_flag": flag}


def test_every_node_type_is_classified() -> None:
    assert set(NODE_TYPES) == set(NEEDS) | ALWAYS | OWNERS_OWN


@pytest.mark.parametrize("role", sorted(ROLE_PERMISSIONS))
async def test_a_member_reads_by_id_what_their_role_lists(api: Api, committed, role: str) -> None:  # noqa: ANN001
    # given one row of every type in a workspace, and a member with ``role`` (not its owner)
    _owner, ws, ids = await _world(committed)
    flag = ids.pop("_flag")
    _, token = await builders.member(committed, ws, role)
    await committed.commit()
    try:
        # when the member asks for every id at once
        names = list(ids)
        body = await api.gql(QUERY, {"ids": [ids[n] for n in names]}, token=token, workspace=ws)
        assert body.get("errors") is None, body
        visible = {name for name, node in zip(names, body["data"]["nodes"], strict=True) if node is not None}
        # then exactly the types whose lists the role may read resolve
        held = ROLE_PERMISSIONS[role]
        assert visible == ALWAYS | {t for t, p in NEEDS.items() if p in held}
        # and node(id:) agrees with nodes(ids:)
        for name in ("Webhook", "AuditLog", "ApiKey", "Invitation", "Video"):
            one = await api.gql("query($id: ID!) { node(id: $id) { id } }", {"id": ids[name]}, token=token, workspace=ws)
            assert one["data"]["node"] == ({"id": ids[name]} if name in visible else None), (name, one)
    finally:
        await committed.delete(flag)
        await committed.commit()


async def test_the_owner_reads_their_own_rows_and_a_refused_type_runs_no_sql(api: Api, committed) -> None:  # noqa: ANN001
    owner, ws, ids = await _world(committed)
    flag = ids.pop("_flag")
    token = await builders.token(committed, owner)
    _, viewer_token = await builders.member(committed, ws, "viewer")
    await committed.commit()
    try:
        names = list(ids)
        body = await api.gql(QUERY, {"ids": [ids[n] for n in names]}, token=token, workspace=ws)
        visible = {name for name, node in zip(names, body["data"]["nodes"], strict=True) if node is not None}
        assert visible == set(names) - {"FeatureFlag"}
        # a viewer's request for a webhook is refused by its type alone: no statement runs
        one, statements = await api.count("query($id: ID!) { node(id: $id) { id } }", {"id": ids["Webhook"]},
                                          token=viewer_token, workspace=ws)
        assert one["data"] == {"node": None} and statements == 0
    finally:
        await committed.delete(flag)
        await committed.commit()


async def test_an_api_keys_scopes_narrow_what_it_reads_by_id(api: Api, committed) -> None:  # noqa: ANN001
    owner, ws, ids = await _world(committed)
    flag = ids.pop("_flag")
    await builders.subscribe(committed, ws)  # API access is a paid feature
    _, secret = await builders.api_key(committed, owner, ws, scopes=["video:read"])
    await committed.commit()
    try:
        names = list(ids)
        body = await api.gql(QUERY, {"ids": [ids[n] for n in names]}, headers={"x-api-key": secret})
        assert body.get("errors") is None, body
        visible = {name for name, node in zip(names, body["data"]["nodes"], strict=True) if node is not None}
        # video:read lists videos and jobs; a key reads its user's membership and plan here, but not
        # their sign-in data (sessions, providers, pending links) nor keys (that needs api_key:manage)
        account_data = {"UserSession", "LinkedAccount", "Verification"}
        assert visible == ALWAYS | (OWNERS_OWN - account_data) | {"Video", "Job", "TeamMember"}
    finally:
        await committed.delete(flag)
        await committed.commit()


def test_node_rules_match_the_workspace_lists() -> None:
    # every permission-guarded list on Workspace: its node type needs the same permission by id
    mismatched = []
    for field in WorkspaceType.__strawberry_definition__.fields:
        wanted = set().union(*(getattr(p, "permissions", frozenset()) for p in field.permission_classes))
        if not wanted:
            continue
        item = field.type.__strawberry_definition__.type_var_map["T"]  # Connection[T]
        name = item.__strawberry_definition__.name
        assert name in NODE_TYPES, (field.name, name)
        rule = NODE_TYPES[name].rule
        if name == "Template":  # Query.templates lists a workspace's templates to every member
            assert rule.permission is None
            continue
        if rule.permission not in wanted:
            mismatched.append((field.name, name, rule.permission, sorted(wanted)))
    assert mismatched == []


async def test_edges_apply_the_same_rules_as_node(api: Api, committed) -> None:  # noqa: ANN001
    """A key scoped to video:read reads a video and its jobs, but not its clips, captions or
    the posts of those clips, whichever edge it follows."""
    owner, ws, ids = await _world(committed)
    flag = ids.pop("_flag")
    await builders.subscribe(committed, ws)  # API access is a paid feature
    _, secret = await builders.api_key(committed, owner, ws, scopes=["video:read"])
    from sqlalchemy import text

    from clipflow_api.graphql.relay import parse_global_id

    # the job points at the clip and the post too, so Job.clip / Job.post are real edges
    await committed.execute(text("UPDATE jobs SET clip_id = :c, post_id = :p WHERE id = :j"), {
        "c": parse_global_id(ids["Clip"])[1], "p": parse_global_id(ids["Post"])[1], "j": parse_global_id(ids["Job"])[1]})
    await committed.commit()
    query = """query($v: ID!, $j: ID!) {
      video: node(id: $v) { ... on Video { id clips(first: 10) { edges { node { id } } } jobs(first: 10) { edges { node { id } } } } }
      job: node(id: $j) { ... on Job { id clip { id } post { id } video { id } } }
    }"""
    try:
        body = await api.gql(query, {"v": ids["Video"], "j": ids["Job"]}, headers={"x-api-key": secret})
        assert body.get("errors") is None, body
        assert body["data"]["video"]["clips"] == {"edges": []}
        assert [e["node"]["id"] for e in body["data"]["video"]["jobs"]["edges"]] == [ids["Job"]]
        assert body["data"]["job"]["video"] == {"id": ids["Video"]}
        assert (body["data"]["job"]["clip"], body["data"]["job"]["post"]) == (None, None)
        # the owner, with clip:read and post:read, follows the same edges to the rows
        token = await builders.token(committed, owner)
        await committed.commit()
        full = await api.gql(query, {"v": ids["Video"], "j": ids["Job"]}, token=token, workspace=ws)
        assert [e["node"]["id"] for e in full["data"]["video"]["clips"]["edges"]] == [ids["Clip"]]
        assert (full["data"]["job"]["clip"], full["data"]["job"]["post"]) == ({"id": ids["Clip"]}, {"id": ids["Post"]})
    finally:
        await committed.delete(flag)
        await committed.commit()
