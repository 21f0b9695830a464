"""Publishing types: social accounts (tokens never exposed), posts, metrics, comments, analytics."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

import strawberry
from strawberry import relay

from .inputs import CommentFilterInput, PostFilterInput
from ..base import JSON, RowType, desc
from ..context import Info
from ..enums import CommentSentiment, Platform, PostMediaType, PostStatus, SocialAccountStatus
from ..loaders import ToOne, load_connection, load_one, related
from ..relay import AfterArg, BeforeArg, Connection, FirstArg, LastArg


@strawberry.type(description="A connected social media account (its OAuth tokens are never exposed).")
class SocialAccount(relay.Node, RowType):
    id: relay.NodeID[uuid.UUID]
    platform: Platform = desc("The platform the account is on.")
    platform_user_id: str = desc("The account's id on the platform.")
    username: str | None = desc("Handle on the platform.")
    display_name: str | None = desc("Display name on the platform.")
    profile_image_url: str | None = desc("Avatar on the platform.")
    token_expires_at: dt.datetime | None = desc("When the platform's authorisation expires.")
    account_type: str | None = desc("personal, business or creator.")
    follower_count: int | None = desc("Followers at the last sync.")
    status: SocialAccountStatus = desc("Whether the account can be used (expired or revoked: connect it again).")
    last_error: str | None = desc("Last problem talking to the platform.")
    last_sync_at: dt.datetime | None = desc("Last successful sync.")
    created_at: dt.datetime = desc("When the account was connected.")
    updated_at: dt.datetime = desc("Last change.")

    @strawberry.field(description="Posts to this account.")
    async def posts(
        self,
        info: Info,
        filter: Annotated[PostFilterInput | None, strawberry.argument(description="Narrow the list.")] = None,
        first: FirstArg = None,
        after: AfterArg = None,
        last: LastArg = None,
        before: BeforeArg = None,
    ) -> Connection[Post]:
        return await load_connection(
            info, PostsBySocialAccountIdLoader, Post, self.id, first=first, after=after, last=last, before=before,
            filter=PostFilterKey.of(filter),
        )

    @strawberry.field(description="Daily analytics, newest first.")
    async def analytics(
        self, info: Info, first: FirstArg = None, after: AfterArg = None, last: LastArg = None, before: BeforeArg = None
    ) -> Connection[AccountAnalytics]:
        return await load_connection(
            info, AccountAnalyticsBySocialAccountIdLoader, AccountAnalytics, self.id, first=first, after=after, last=last, before=before
        )


@strawberry.type(description="A post to one social account, scheduled or published.")
class Post(relay.Node, RowType):
    id: relay.NodeID[uuid.UUID]
    social_account_id: strawberry.Private[uuid.UUID]
    clip_id: strawberry.Private[uuid.UUID | None]
    created_by: strawberry.Private[uuid.UUID]
    approved_by: strawberry.Private[uuid.UUID | None]
    group_uuid: strawberry.Private[uuid.UUID | None]  # the row's group_id (served as an ID below)
    caption: str | None = desc("Text of the post.")
    hashtags: list[str] | None = desc("Hashtags.")
    mentions: list[str] | None = desc("Mentioned accounts.")
    media_urls: list[str] = desc("Media files of the post.")
    media_type: PostMediaType = desc("What the post carries.")
    thumbnail_url: str | None = desc("Cover image.")
    platform_options: JSON = desc("Platform-specific settings.")
    status: PostStatus = desc("Where the post is on its way to the platform.")
    scheduled_at: dt.datetime | None = desc("When the post goes out.")
    published_at: dt.datetime | None = desc("When it went out.")
    platform_post_id: str | None = desc("The post's id on the platform.")
    platform_url: str | None = desc("Link to the post on the platform.")
    publish_error: str | None = desc("Why publishing failed.")
    needs_approval: bool = desc("Whether a client must approve before publishing.")
    approved_at: dt.datetime | None = desc("When it was approved.")
    approval_comment: str | None = desc("Why a reviewer sent it back (rejected posts).")
    upload_progress: int = desc("How much of the video the platform has, 0-100 (while publishing).")
    next_attempt_at: dt.datetime | None = desc("When publishing is tried again after the platform asked to wait.")
    publish_attempts: int = desc("How many times publishing was started.")
    last_metrics_sync: dt.datetime | None = desc("Last metrics download.")
    created_at: dt.datetime = desc("When the post was created.")
    updated_at: dt.datetime = desc("Last change.")

    _row_aliases = {"group_uuid": "group_id"}
    # loaded with the page of posts when the query asks for it (graphql.loaders.ToOne)
    _to_one = {"socialAccount": ToOne("social_account_id", "SocialAccount")}

    @strawberry.field(description="What posts made together (one per account) share: a client shows them as one.")
    def group_id(self) -> strawberry.ID | None:
        return strawberry.ID(str(self.group_uuid)) if self.group_uuid is not None else None

    @strawberry.field(description="The account the post goes to.")
    def social_account(self, info: Info) -> SocialAccount | None:
        # the account loaded with the page of posts, else an awaitable load (graphql-core awaits it)
        return related(self, info, "socialAccount", SocialAccountByIdLoader, SocialAccount, self.social_account_id)

    @strawberry.field(description="The clip published.")
    async def clip(self, info: Info) -> Clip | None:
        return await load_one(info, ClipByIdLoader, Clip, self.clip_id)

    @strawberry.field(description="Who created the post.")
    async def created_by_user(self, info: Info) -> User | None:
        return await load_one(info, UserByIdLoader, User, self.created_by)

    @strawberry.field(description="Who approved the post.")
    async def approved_by_user(self, info: Info) -> User | None:
        return await load_one(info, UserByIdLoader, User, self.approved_by)

    @strawberry.field(description="The newest metrics snapshot.")
    async def latest_metrics(self, info: Info) -> PostMetric | None:
        return await load_one(info, LatestPostMetricByPostIdLoader, PostMetric, self.id)

    @strawberry.field(description="Metrics snapshots, newest first.")
    async def metrics(
        self, info: Info, first: FirstArg = None, after: AfterArg = None, last: LastArg = None, before: BeforeArg = None
    ) -> Connection[PostMetric]:
        return await load_connection(
            info, PostMetricsByPostIdLoader, PostMetric, self.id, first=first, after=after, last=last, before=before
        )

    @strawberry.field(description="Comments on the post, newest first.")
    async def comments(
        self,
        info: Info,
        filter: Annotated[CommentFilterInput | None, strawberry.argument(description="Narrow the list.")] = None,
        first: FirstArg = None,
        after: AfterArg = None,
        last: LastArg = None,
        before: BeforeArg = None,
    ) -> Connection[Comment]:
        return await load_connection(
            info, CommentsByPostIdLoader, Comment, self.id, first=first, after=after, last=last, before=before,
            filter=CommentFilterKey.of(filter),
        )


@strawberry.type(description="A snapshot of a post's numbers at one time.")
class PostMetric(relay.Node, RowType):
    id: relay.NodeID[uuid.UUID]
    post_id: strawberry.Private[uuid.UUID]
    recorded_at: dt.datetime = desc("When the numbers were read.")
    views: float = desc("Views.")
    likes: int = desc("Likes.")
    comments: int = desc("Comments.")
    shares: int = desc("Shares.")
    saves: int = desc("Saves.")
    watch_time_seconds: float = desc("Total watch time in seconds.")
    avg_watch_percent: float | None = desc("Average share of the video watched.")
    impressions: float = desc("Impressions.")
    reach: float = desc("Unique accounts reached.")
    profile_visits: int = desc("Profile visits from the post.")
    follows: int = desc("Follows from the post.")
    link_clicks: int = desc("Link clicks.")
    created_at: dt.datetime = desc("When the snapshot was stored.")

    @strawberry.field(description="The post measured.")
    async def post(self, info: Info) -> Post | None:
        return await load_one(info, PostByIdLoader, Post, self.post_id)


@strawberry.type(description="A comment on a post, pulled from the platform.")
class Comment(relay.Node, RowType):
    id: relay.NodeID[uuid.UUID]
    post_id: strawberry.Private[uuid.UUID]
    social_account_id: strawberry.Private[uuid.UUID]
    parent_comment_id: strawberry.Private[uuid.UUID | None]
    replied_by: strawberry.Private[uuid.UUID | None]
    platform_comment_id: str = desc("The comment's id on the platform.")
    author_id: str | None = desc("The author's id on the platform.")
    author_username: str | None = desc("The author's handle.")
    author_display_name: str | None = desc("The author's display name.")
    author_avatar_url: str | None = desc("The author's avatar.")
    text: str = desc("What the comment says.")
    sentiment: CommentSentiment | None = desc("The comment's tone (null: not analysed yet).")
    sentiment_score: float | None = desc("Sentiment, -1 to 1.")
    is_read: bool = desc("Whether someone read it.")
    is_archived: bool = desc("Whether it was archived.")
    is_spam: bool = desc("Whether it was marked as spam.")
    replied: bool = desc("Whether the workspace replied.")
    replied_at: dt.datetime | None = desc("When the reply went out.")
    reply_text: str | None = desc("The reply.")
    posted_at: dt.datetime = desc("When it was posted.")
    created_at: dt.datetime = desc("When it was pulled.")

    @strawberry.field(description="The post commented on.")
    async def post(self, info: Info) -> Post | None:
        return await load_one(info, PostByIdLoader, Post, self.post_id)

    @strawberry.field(description="The comment this one answers.")
    async def parent(self, info: Info) -> Comment | None:
        return await load_one(info, CommentByIdLoader, Comment, self.parent_comment_id)

    @strawberry.field(description="Who replied from the workspace.")
    async def replied_by_user(self, info: Info) -> User | None:
        return await load_one(info, UserByIdLoader, User, self.replied_by)

    @strawberry.field(description="Answers to this comment.")
    async def replies(
        self, info: Info, first: FirstArg = None, after: AfterArg = None, last: LastArg = None, before: BeforeArg = None
    ) -> Connection[Comment]:
        return await load_connection(
            info, CommentsByParentCommentIdLoader, Comment, self.id, first=first, after=after, last=last, before=before
        )


@strawberry.type(description="One day of a social account's numbers.")
class AccountAnalytics(relay.Node, RowType):
    id: relay.NodeID[uuid.UUID]
    social_account_id: strawberry.Private[uuid.UUID]
    date: dt.date = desc("The day.")
    followers: int | None = desc("Followers at the end of the day.")
    followers_gained: int | None = desc("Followers gained.")
    followers_lost: int | None = desc("Followers lost.")
    total_views: float | None = desc("Views.")
    total_likes: int | None = desc("Likes.")
    total_comments: int | None = desc("Comments.")
    total_shares: int | None = desc("Shares.")
    posts_published: int | None = desc("Posts published that day.")
    engagement_rate: float | None = desc("Engagement rate in percent.")
    demographics: JSON | None = desc("Audience breakdown.")
    created_at: dt.datetime = desc("When the day was recorded.")

    @strawberry.field(description="The account measured.")
    async def social_account(self, info: Info) -> SocialAccount | None:
        return await load_one(info, SocialAccountByIdLoader, SocialAccount, self.social_account_id)


from ..auth.loaders import UserByIdLoader  # noqa: E402
from ..auth.types import User  # noqa: E402
from ..media.loaders import ClipByIdLoader  # noqa: E402
from ..media.types import Clip  # noqa: E402
from .loaders import (  # noqa: E402
    AccountAnalyticsBySocialAccountIdLoader,
    CommentByIdLoader,
    CommentFilterKey,
    CommentsByParentCommentIdLoader,
    CommentsByPostIdLoader,
    LatestPostMetricByPostIdLoader,
    PostByIdLoader,
    PostFilterKey,
    PostMetricsByPostIdLoader,
    PostsBySocialAccountIdLoader,
    SocialAccountByIdLoader,
)
