"""Every enumerated column's values, defined once.

The models, the services, the worker and the GraphQL schema (``graphql/enums.py`` exposes
each class as a GraphQL enum of the same name) all read these classes. They are
``StrEnum``s: a member equals the string stored in the column, so a row's plain string
serialises as the enum and comparisons with stored values need no conversion.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """A member's role in a workspace (permissions.ROLE_PERMISSIONS has a row for each)."""

    OWNER = "owner"
    ADMIN = "admin"
    EDITOR = "editor"
    SCHEDULER = "scheduler"
    VIEWER = "viewer"
    CLIENT = "client"


class MemberStatus(StrEnum):
    ACTIVE = "active"
    REMOVED = "removed"


class VideoSourceType(StrEnum):
    UPLOAD = "upload"
    URL = "url"
    YOUTUBE = "youtube"
    DRIVE = "drive"
    DROPBOX = "dropbox"


class VideoStatus(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    TRANSCRIBING = "transcribing"
    ANALYZING = "analyzing"
    GENERATING_CLIPS = "generating_clips"
    COMPLETED = "completed"
    FAILED = "failed"


class ClipStatus(StrEnum):
    GENERATED = "generated"
    EDITED = "edited"
    APPROVED = "approved"
    REJECTED = "rejected"
    PUBLISHED = "published"


class CaptionStyle(StrEnum):
    """The burned-in caption looks the worker can draw (pipeline/captions.CAPTION_STYLES)."""

    HORMOZI = "hormozi"
    MINIMAL = "minimal"
    BOLD = "bold"
    KARAOKE = "karaoke"


class CaptionPosition(StrEnum):
    TOP = "top"
    CENTER = "center"
    BOTTOM = "bottom"


class WatermarkPosition(StrEnum):
    TOP_LEFT = "top-left"
    TOP_RIGHT = "top-right"
    BOTTOM_LEFT = "bottom-left"
    BOTTOM_RIGHT = "bottom-right"
    CENTER = "center"


class AssetType(StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"
    FONT = "font"


class UserMediaType(StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"
    DOCUMENT = "document"


class JobStatus(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


ACTIVE_JOB_STATUSES = (JobStatus.PENDING, JobStatus.PROCESSING)


class Platform(StrEnum):
    INSTAGRAM = "instagram"
    TIKTOK = "tiktok"
    YOUTUBE = "youtube"
    FACEBOOK = "facebook"
    LINKEDIN = "linkedin"
    TWITTER = "twitter"
    PINTEREST = "pinterest"
    THREADS = "threads"


class SocialAccountStatus(StrEnum):
    """Whether the account can publish: a revoked or expired grant needs the user to connect again."""

    ACTIVE = "active"
    RECONNECT_REQUIRED = "reconnect_required"
    DISCONNECTED = "disconnected"


class PostStatus(StrEnum):
    """draft -> (pending_approval -> rejected | scheduled) -> scheduled -> publishing ->
    published | failed | unconfirmed; cancelled from any state before publishing."""

    DRAFT = "draft"
    PENDING_APPROVAL = "pending_approval"
    REJECTED = "rejected"
    SCHEDULED = "scheduled"
    PUBLISHING = "publishing"
    # the creating call may have reached the platform: reconciliation decides, never a blind retry
    UNCONFIRMED = "unconfirmed"
    PUBLISHED = "published"
    FAILED = "failed"
    CANCELLED = "cancelled"


class PostMediaType(StrEnum):
    VIDEO = "video"
    IMAGE = "image"
    CAROUSEL = "carousel"


class YouTubePrivacy(StrEnum):
    """Who sees a YouTube upload (the API's privacyStatus)."""

    PUBLIC = "public"
    UNLISTED = "unlisted"
    PRIVATE = "private"


class TikTokPrivacyLevel(StrEnum):
    """Who sees a TikTok post (the API's privacy_level; an account offers some of them: creator_info)."""

    PUBLIC_TO_EVERYONE = "PUBLIC_TO_EVERYONE"
    MUTUAL_FOLLOW_FRIENDS = "MUTUAL_FOLLOW_FRIENDS"
    FOLLOWER_OF_CREATOR = "FOLLOWER_OF_CREATOR"
    SELF_ONLY = "SELF_ONLY"


class SubscriptionStatus(StrEnum):
    ACTIVE = "active"
    TRIALING = "trialing"
    PAST_DUE = "past_due"
    CANCELED = "canceled"
    PAUSED = "paused"


class BillingCycle(StrEnum):
    MONTHLY = "monthly"
    YEARLY = "yearly"


class CommentSentiment(StrEnum):
    POSITIVE = "positive"
    NEUTRAL = "neutral"
    NEGATIVE = "negative"


LIVE_SUBSCRIPTION_STATUSES = (SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING, SubscriptionStatus.PAST_DUE)


class ProjectStatus(StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    FINAL = "final"


class CollaboratorRole(StrEnum):
    VIEWER = "viewer"
    EDITOR = "editor"
    ADMIN = "admin"


class TimelineElementType(StrEnum):
    TEXT = "text"
    IMAGE = "image"
    VIDEO = "video"
    SHAPE = "shape"
    AUDIO = "audio"


class ExportStatus(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"


class TemplateType(StrEnum):
    VIDEO = "video"
    CAPTION = "caption"
    POST = "post"
    CANVAS = "canvas"


class TemplateVisibility(StrEnum):
    PUBLIC = "public"
    PRIVATE = "private"
    TEAM = "team"
    PREMIUM = "premium"


class OutboxEventType(StrEnum):
    """Events written in the transaction that caused them; the webhooks worker delivers them."""

    POST_SCHEDULED = "post.scheduled"
    POST_PUBLISHED = "post.published"
    POST_FAILED = "post.failed"
    SOCIAL_ACCOUNT_RECONNECT_REQUIRED = "social_account.reconnect_required"
