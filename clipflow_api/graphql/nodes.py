"""``node(id:)`` / ``nodes(ids:)``: every Node type, the loader that fetches it by id, and
who may read it.

A global id names its type; the type picks the loader, and the loader applies Row-Level
Security (or, on global tables, its own visibility rule), so another workspace's id
resolves to null. On top of that each type carries the permission its lists require
(``Workspace.webhooks`` needs webhook:manage, so ``node(id:)`` of a Webhook does too): a
caller without it gets null, as for an id that does not exist. An unknown type name or a
malformed id also resolves to null.
"""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay

from .auth import loaders as acc_l
from .auth import types as acc_t
from .billing import loaders as bil_l
from .billing import types as bil_t
from .errors import BadRequestError
from .media import loaders as med_l
from .media import types as med_t
from .projects import loaders as prj_l
from .projects import types as prj_t
from ..permissions import PERMISSIONS
from .context import Info
from .relay import MAX_PAGE_SIZE, NODE_TYPES, NodeRule, RowMatch, register_node, resolve_node
from .social import loaders as soc_l
from .social import types as soc_t
from .audit import loaders as aud_l
from .audit import types as aud_t
from .feature_flags import loaders as ff_l
from .feature_flags import types as ff_t
from .jobs import loaders as job_l
from .jobs import types as job_t
from .webhooks import loaders as wh_l
from .webhooks import types as wh_t
from .templates import loaders as tpl_l
from .templates import types as tpl_t
from .workspaces import loaders as ws_l
from .workspaces import types as ws_t

def _own(column: str) -> RowMatch:
    return RowMatch(column, "user_id")


_system = RowMatch("workspace_id")  # NULL workspace: a system row


OPEN = NodeRule()  # the loader's visibility is the whole rule (own rows, catalogues)
WORKSPACE = NodeRule("workspace:read")
VIDEO = NodeRule("video:read")
CLIP = NodeRule("clip:read")
POST = NodeRule("post:read")
PROJECT = NodeRule("project:read")
WEBHOOK = NodeRule("webhook:manage")

# (type, loader, rule): each rule is the permission of the list the type is reached through.
_NODES: list[tuple[type, type, NodeRule]] = [
    (acc_t.User, acc_l.UserByIdLoader, OPEN),  # yourself and the members of your workspace
    (acc_t.UserSession, acc_l.UserSessionByIdLoader, OPEN),  # your own (Viewer.sessions)
    (acc_t.LinkedAccount, acc_l.AccountByIdLoader, OPEN),  # your own (Viewer.linkedAccounts)
    (acc_t.Verification, acc_l.VerificationByIdLoader, OPEN),  # your own (Viewer.pendingVerifications)
    (acc_t.ApiKey, acc_l.ApiKeyByIdLoader, NodeRule("api_key:manage", unless=_own("user_id"))),  # Viewer.apiKeys: your own
    (ws_t.Workspace, ws_l.WorkspaceByIdLoader, OPEN),  # Viewer.workspaces
    (ws_t.TeamMember, ws_l.TeamMemberByIdLoader, NodeRule("member:read", unless=_own("user_id"))),  # Viewer.memberships
    (ws_t.Invitation, ws_l.InvitationByIdLoader, NodeRule("member:invite")),
    (med_t.Video, med_l.VideoByIdLoader, VIDEO),
    (med_t.Clip, med_l.ClipByIdLoader, CLIP),
    (med_t.Caption, med_l.CaptionByIdLoader, CLIP),  # Clip.captions
    (med_t.Asset, med_l.AssetByIdLoader, NodeRule("workspace:read", unless=_system)),  # Query.systemAssets: open
    (med_t.UserMedia, med_l.UserMediaByIdLoader, WORKSPACE),
    (med_t.MediaFolder, med_l.MediaFolderByIdLoader, WORKSPACE),
    (med_t.BrandKit, med_l.BrandKitByIdLoader, WORKSPACE),
    (prj_t.Project, prj_l.ProjectByIdLoader, PROJECT),
    (prj_t.ProjectCollaborator, prj_l.ProjectCollaboratorByIdLoader, PROJECT),
    (prj_t.TimelineElement, prj_l.TimelineElementByIdLoader, PROJECT),
    (prj_t.AiTextGeneration, prj_l.AiTextGenerationByIdLoader, PROJECT),
    (prj_t.AiImageGeneration, prj_l.AiImageGenerationByIdLoader, PROJECT),
    (prj_t.ProjectExport, prj_l.ProjectExportByIdLoader, PROJECT),
    (prj_t.ProjectAnalyticsEvent, prj_l.ProjectAnalyticsByIdLoader, PROJECT),
    (soc_t.SocialAccount, soc_l.SocialAccountByIdLoader, WORKSPACE),
    (soc_t.Post, soc_l.PostByIdLoader, POST),
    (soc_t.PostMetric, soc_l.PostMetricByIdLoader, POST),  # Post.metrics
    (soc_t.Comment, soc_l.CommentByIdLoader, POST),  # Workspace.comments
    (soc_t.AccountAnalytics, soc_l.AccountAnalyticsByIdLoader, WORKSPACE),  # SocialAccount.analytics
    (job_t.Job, job_l.JobByIdLoader, VIDEO),  # Workspace.jobs
    (wh_t.Webhook, wh_l.WebhookByIdLoader, WEBHOOK),
    (wh_t.WebhookDelivery, wh_l.WebhookLogByIdLoader, WEBHOOK),  # Webhook.deliveries
    (aud_t.AuditLog, aud_l.AuditLogByIdLoader, NodeRule("audit:read")),
    (ff_t.FeatureFlag, ff_l.FeatureFlagByIdLoader, NodeRule(ff_l.FEATURE_FLAG_PERMISSION)),
    (tpl_t.SocialFormat, tpl_l.SocialFormatByIdLoader, OPEN),
    (tpl_t.TemplateCategory, tpl_l.TemplateCategoryByIdLoader, OPEN),
    (tpl_t.Template, tpl_l.TemplateByIdLoader, OPEN),  # Query.templates: yours, system and public ones
    (bil_t.SubscriptionPlan, bil_l.SubscriptionPlanByIdLoader, OPEN),
    (bil_t.Subscription, bil_l.SubscriptionByIdLoader, OPEN),  # your own (Viewer.subscription)
    (bil_t.UsageLog, bil_l.UsageLogByIdLoader, OPEN),  # your own
]
for _type, _loader, _rule in _NODES:
    assert _rule.permission is None or _rule.permission in PERMISSIONS, _rule.permission
    register_node(_type, _loader, _rule)

NODE_CLASSES = [t for t, _, _ in _NODES]


@strawberry.type
class NodeQueries:
    @strawberry.field(description="Any object by its global id; null when it does not exist or is not visible to you.")
    async def node(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="A global id.")]
    ) -> relay.Node | None:
        return await resolve_node(info.context, id)

    @strawberry.field(description=f"Objects by their global ids, in order (at most {MAX_PAGE_SIZE}); null where not visible.")
    async def nodes(
        self,
        info: Info,
        ids: Annotated[list[strawberry.ID], strawberry.argument(description=f"Global ids (at most {MAX_PAGE_SIZE}).")],
    ) -> list[relay.Node | None]:
        if len(ids) > MAX_PAGE_SIZE:
            raise BadRequestError(f"`ids` must hold at most {MAX_PAGE_SIZE} ids (got {len(ids)}).")
        import asyncio

        return list(await asyncio.gather(*(resolve_node(info.context, i) for i in ids)))


assert len(NODE_TYPES) == len(_NODES)
