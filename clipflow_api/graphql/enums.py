"""The domain's enumerations (``models/enums.py``) as GraphQL enums of the same names.

Each class is registered once here; types and inputs annotate fields with the class
itself. Values are the stored strings, so a row's column serialises as it is.
"""

from __future__ import annotations

from enum import Enum

import strawberry

from ..models import enums as e

_DESCRIPTIONS: dict[type[Enum], str] = {
    e.Role: "A member's role in a workspace.",
    e.MemberStatus: "Whether a membership is current.",
    e.VideoSourceType: "Where a video came from.",
    e.VideoStatus: "Where a video is in the clip engine.",
    e.ClipStatus: "Where a clip is in review and publishing.",
    e.CaptionStyle: "A burned-in caption look.",
    e.CaptionPosition: "Where captions sit in the frame.",
    e.WatermarkPosition: "Where the brand kit's watermark sits (inside the platform's safe zone).",
    e.AssetType: "The kind of file an asset is.",
    e.UserMediaType: "The kind of file in the media library.",
    e.JobStatus: "Where a background job is.",
    e.Platform: "A social platform.",
    e.SocialAccountStatus: "Whether a connected social account can be used.",
    e.PostStatus: "Where a post is on its way to the platform.",
    e.PostMediaType: "What a post carries.",
    e.YouTubePrivacy: "Who sees a YouTube upload.",
    e.TikTokPrivacyLevel: "Who sees a TikTok post (each account offers some of these).",
    e.SubscriptionStatus: "The state of a billing subscription.",
    e.BillingCycle: "How often a subscription is billed.",
    e.CommentSentiment: "The tone of a comment.",
    e.ProjectStatus: "Where a studio project is in review.",
    e.CollaboratorRole: "A collaborator's role on a studio project.",
    e.TimelineElementType: "The kind of element on a studio timeline.",
    e.ExportStatus: "Where a studio export is.",
    e.TemplateType: "What a template makes.",
    e.TemplateVisibility: "Who can see a template.",
}

for _cls, _text in _DESCRIPTIONS.items():
    strawberry.enum(_cls, description=_text)

Role = e.Role
MemberStatus = e.MemberStatus
VideoSourceType = e.VideoSourceType
VideoStatus = e.VideoStatus
ClipStatus = e.ClipStatus
CaptionStyle = e.CaptionStyle
CaptionPosition = e.CaptionPosition
WatermarkPosition = e.WatermarkPosition
AssetType = e.AssetType
UserMediaType = e.UserMediaType
JobStatus = e.JobStatus
Platform = e.Platform
SocialAccountStatus = e.SocialAccountStatus
PostStatus = e.PostStatus
PostMediaType = e.PostMediaType
YouTubePrivacy = e.YouTubePrivacy
TikTokPrivacyLevel = e.TikTokPrivacyLevel
SubscriptionStatus = e.SubscriptionStatus
BillingCycle = e.BillingCycle
CommentSentiment = e.CommentSentiment
ProjectStatus = e.ProjectStatus
CollaboratorRole = e.CollaboratorRole
TimelineElementType = e.TimelineElementType
ExportStatus = e.ExportStatus
TemplateType = e.TemplateType
TemplateVisibility = e.TemplateVisibility
