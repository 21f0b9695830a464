"""Filters for posts and comments."""

from __future__ import annotations

from datetime import datetime

import strawberry

from ..enums import PostStatus


@strawberry.input(description="Narrow a list of posts.")
class PostFilterInput:
    status: list[PostStatus] | None = strawberry.field(default=None, description="Only posts in one of these states.")
    scheduled_after: datetime | None = strawberry.field(default=None, description="Only posts scheduled at or after this time.")
    scheduled_before: datetime | None = strawberry.field(default=None, description="Only posts scheduled before this time.")
    social_account_id: strawberry.ID | None = strawberry.field(default=None, description="Only posts to this account.")


@strawberry.input(description="Narrow a list of comments.")
class CommentFilterInput:
    is_read: bool | None = strawberry.field(default=None, description="true: read only; false: unread only.")
    is_archived: bool | None = strawberry.field(default=None, description="true: archived only; false: inbox only.")
    is_spam: bool | None = strawberry.field(default=None, description="true: spam only; false: no spam.")
