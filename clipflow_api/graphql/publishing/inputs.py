"""Inputs of the post mutations and the calendar's filter."""

from __future__ import annotations

import strawberry

from ..enums import Platform, PostStatus, TikTokPrivacyLevel, YouTubePrivacy
from ..inputcheck import bounds


@strawberry.input(description="YouTube settings of a post (YouTube Shorts).")
class YouTubeOptionsInput:
    title: str | None = strawberry.field(default=strawberry.UNSET, description="The video's title (at most 100 characters, no < or >; default: the clip's title).")
    description: str | None = strawberry.field(default=strawberry.UNSET, description="The video's description (at most 5,000 bytes; default: the caption).")
    privacy: YouTubePrivacy | None = strawberry.field(default=strawberry.UNSET, description="Who sees the video (default: private).")
    category_id: str | None = strawberry.field(default=strawberry.UNSET, description="The YouTube category's number, e.g. 22 (People & Blogs, the default).")
    made_for_kids: bool | None = strawberry.field(default=strawberry.UNSET, description="Whether the video is made for children (default: false).")


@strawberry.input(description="TikTok settings of a post.")
class TikTokOptionsInput:
    privacy_level: TikTokPrivacyLevel | None = strawberry.field(
        default=strawberry.UNSET, description="Who sees the post: one of the levels the account offers (default: the most private offered)."
    )
    disable_duet: bool | None = strawberry.field(default=strawberry.UNSET, description="Turn duets off.")
    disable_stitch: bool | None = strawberry.field(default=strawberry.UNSET, description="Turn stitches off.")
    disable_comment: bool | None = strawberry.field(default=strawberry.UNSET, description="Turn comments off.")


@strawberry.input(description="Instagram settings of a post (Reels).")
class InstagramOptionsInput:
    share_to_feed: bool | None = strawberry.field(default=strawberry.UNSET, description="Also show the reel in the feed (default: true).")
    thumb_offset_ms: int | None = strawberry.field(
        default=strawberry.UNSET, description="The cover frame: milliseconds from the start of the video.", metadata=bounds(0, 15 * 60 * 1000)
    )
    first_comment: str | None = strawberry.field(default=strawberry.UNSET, description="A comment posted right after the reel (at most 2,200 characters).")


@strawberry.input(description="Posts of one clip to one or several accounts.")
class PostCreateInput:
    clip_id: strawberry.ID = strawberry.field(description="The clip to publish (its rendering in each platform's format is used).")
    social_account_ids: list[strawberry.ID] = strawberry.field(description="The accounts to post to: one post each (at most 20).")
    caption: str | None = strawberry.field(default=strawberry.UNSET, description="The text of the posts.")
    hashtags: list[str] | None = strawberry.field(default=strawberry.UNSET, description="Hashtags, with or without # (letters, numbers, underscores).")
    mentions: list[str] | None = strawberry.field(default=strawberry.UNSET, description="Accounts to mention, with or without @.")
    youtube: YouTubeOptionsInput | None = strawberry.field(default=strawberry.UNSET, description="Settings of the YouTube posts.")
    tiktok: TikTokOptionsInput | None = strawberry.field(default=strawberry.UNSET, description="Settings of the TikTok posts.")
    instagram: InstagramOptionsInput | None = strawberry.field(default=strawberry.UNSET, description="Settings of the Instagram posts.")


@strawberry.input(description="Changes to a post (after an approval, it needs approval again).")
class PostUpdateInput:
    caption: str | None = strawberry.field(default=strawberry.UNSET, description="New text (null clears it).")
    hashtags: list[str] | None = strawberry.field(default=strawberry.UNSET, description="New hashtags (null clears them).")
    mentions: list[str] | None = strawberry.field(default=strawberry.UNSET, description="New mentions (null clears them).")
    youtube: YouTubeOptionsInput | None = strawberry.field(default=strawberry.UNSET, description="YouTube settings to change (null clears them all).")
    tiktok: TikTokOptionsInput | None = strawberry.field(default=strawberry.UNSET, description="TikTok settings to change (null clears them all).")
    instagram: InstagramOptionsInput | None = strawberry.field(default=strawberry.UNSET, description="Instagram settings to change (null clears them all).")


@strawberry.input(description="Narrow the calendar.")
class PostCalendarFilterInput:
    social_account_ids: list[strawberry.ID] | None = strawberry.field(default=None, description="Only posts to these accounts.")
    statuses: list[PostStatus] | None = strawberry.field(default=None, description="Only posts in one of these states.")
    platforms: list[Platform] | None = strawberry.field(default=None, description="Only posts to accounts on these platforms.")
