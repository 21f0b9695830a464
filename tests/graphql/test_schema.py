"""schema.graphql is generated from the code; every field and argument is described."""

from __future__ import annotations

from pathlib import Path

from graphql import GraphQLInputObjectType, GraphQLInterfaceType, GraphQLObjectType

from clipflow_api.graphql.permissions import USED_PERMISSIONS
from clipflow_api.graphql.schema import build_schema, export_sdl
from clipflow_api.db import Base
import clipflow_api.models  # noqa: F401  (registers every table)
from clipflow_api.permissions import PERMISSIONS

ROOT = Path(__file__).resolve().parents[2]


def test_schema_graphql_is_up_to_date() -> None:
    committed = (ROOT / "schema.graphql").read_text()
    assert committed == export_sdl(), "schema.graphql is stale: run `clipflow export-schema -o schema.graphql`"


def test_every_field_and_argument_has_a_description() -> None:
    schema = build_schema()._schema
    missing = []
    for name, t in schema.type_map.items():
        if name.startswith("__") or not isinstance(t, (GraphQLObjectType, GraphQLInterfaceType, GraphQLInputObjectType)):
            continue
        for fname, f in t.fields.items():
            if not f.description:
                missing.append(f"{name}.{fname}")
            for aname, a in getattr(f, "args", {}).items():
                if not a.description:
                    missing.append(f"{name}.{fname}({aname})")
    assert missing == []


def test_every_table_has_a_node_type() -> None:
    from clipflow_api.graphql.relay import NODE_TYPES

    # Written by hand: a new table needs a node type here (or a reason in NOT_NODES).
    expected = {
        "users": "User", "sessions": "UserSession", "accounts": "LinkedAccount", "verifications": "Verification",
        "api_keys": "ApiKey", "workspaces": "Workspace", "team_members": "TeamMember", "invitations": "Invitation",
        "videos": "Video", "clips": "Clip", "captions": "Caption", "assets": "Asset", "user_media": "UserMedia",
        "media_folders": "MediaFolder", "brand_kits": "BrandKit", "projects": "Project",
        "project_collaborators": "ProjectCollaborator", "timeline_elements": "TimelineElement",
        "ai_text_generations": "AiTextGeneration", "ai_image_generations": "AiImageGeneration",
        "project_exports": "ProjectExport", "project_analytics": "ProjectAnalyticsEvent",
        "social_accounts": "SocialAccount", "posts": "Post", "post_metrics": "PostMetric", "comments": "Comment",
        "account_analytics": "AccountAnalytics", "jobs": "Job", "webhooks": "Webhook",
        "webhook_logs": "WebhookDelivery", "audit_logs": "AuditLog", "feature_flags": "FeatureFlag",
        "social_formats": "SocialFormat", "template_categories": "TemplateCategory", "templates": "Template",
        "subscription_plans": "SubscriptionPlan", "subscriptions": "PlanSubscription", "usage_logs": "UsageLog",
    }  # fmt: skip
    NOT_NODES: dict[str, str] = {  # table -> why it has no node type
        "outbox_events": "internal: events reach clients as signed webhooks, not through the graph",
    }
    # The real mapping: the table each node type's loader reads, and the type it maps rows to.
    actual = {spec.loader.model.__tablename__: name for name, spec in NODE_TYPES.items()}
    assert actual == expected
    assert len(NODE_TYPES) == len(expected)  # no two node types read one table
    assert set(Base.metadata.tables) == set(expected) | set(NOT_NODES)


def test_permission_names_exist() -> None:
    build_schema()
    assert USED_PERMISSIONS and USED_PERMISSIONS <= PERMISSIONS


def test_no_secret_is_exposed() -> None:
    sdl = export_sdl()
    import re

    for secret in ("passwordHash", "tokenHash", "keyHash", "accessToken", "refreshToken", "idToken", "stripeCustomerId"):
        assert not re.search(rf"^\s+{secret}\b[(:]", sdl, re.M), secret
    # a secret is shown once, in the payload of the mutation that creates it, nowhere else
    schema = build_schema()._schema
    holders = sorted(n for n, t in schema.type_map.items() if isinstance(t, GraphQLObjectType) and "secret" in t.fields)
    assert holders == ["ApiKeyCreatePayload", "WebhookSecretPayload"]
