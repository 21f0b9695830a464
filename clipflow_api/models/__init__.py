"""SQLAlchemy models, one module per aggregate. Importing this package registers every table."""

from .accounts import Account, ApiKey, User, UserSession, Verification
from .billing import Subscription, SubscriptionPlan, UsageLog
from .media import Asset, BrandKit, Caption, Clip, MediaFolder, UserMedia, Video
from .projects import (
    AiImageGeneration,
    AiTextGeneration,
    Project,
    ProjectAnalytics,
    ProjectCollaborator,
    ProjectExport,
    TimelineElement,
)
from .social import AccountAnalytics, Comment, OutboxEvent, Post, PostMetric, SocialAccount
from .system import AuditLog, FeatureFlag, Job, Webhook, WebhookLog
from .templates import SocialFormat, Template, TemplateCategory
from .workspaces import Invitation, TeamMember, Workspace

# Tables that hold one workspace's data: Row-Level Security is enabled and forced on each.
# Rows with a NULL workspace_id in ``SHARED_READ_TABLES`` are global (system assets and
# templates) and readable by every workspace, but writable by none through the app role.
TENANT_TABLES: tuple[str, ...] = (
    "api_keys",
    "team_members",
    "invitations",
    "social_accounts",
    "videos",
    "clips",
    "captions",
    "posts",
    "post_metrics",
    "comments",
    "account_analytics",
    "assets",
    "templates",
    "brand_kits",
    "jobs",
    "webhooks",
    "webhook_logs",
    "audit_logs",
    "projects",
    "project_collaborators",
    "timeline_elements",
    "ai_text_generations",
    "ai_image_generations",
    "user_media",
    "media_folders",
    "project_exports",
    "project_analytics",
    "outbox_events",
)
SHARED_READ_TABLES: tuple[str, ...] = ("assets", "templates")

__all__ = [
    "Account", "AccountAnalytics", "AiImageGeneration", "AiTextGeneration", "ApiKey", "Asset", "AuditLog",
    "BrandKit", "Caption", "Clip", "Comment", "FeatureFlag", "Invitation", "Job", "MediaFolder", "Post",
    "OutboxEvent", "PostMetric", "Project", "ProjectAnalytics", "ProjectCollaborator", "ProjectExport", "SocialAccount",
    "SocialFormat", "Subscription", "SubscriptionPlan", "TeamMember", "Template", "TemplateCategory",
    "TimelineElement", "UsageLog", "User", "UserMedia", "UserSession", "Verification", "Video", "Webhook",
    "WebhookLog", "Workspace", "SHARED_READ_TABLES", "TENANT_TABLES",
]
