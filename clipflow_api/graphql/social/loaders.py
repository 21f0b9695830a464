"""Loaders for social accounts, posts, their metrics and comments, account analytics."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.dialects.postgresql import distinct_on

from ...models import AccountAnalytics, Comment, Post, PostMetric, SocialAccount
from ..loaders import ByIdLoader, ConnectionByKeyLoader, ListQuery, Loader
from ..relay import SortKey, descending, parse_global_id


@dataclass(frozen=True)
class PostFilterKey:
    status: tuple[str, ...] | None = None
    scheduled_after: datetime | None = None
    scheduled_before: datetime | None = None
    social_account_id: uuid.UUID | None = None

    @classmethod
    def of(cls, f: Any) -> PostFilterKey | None:
        if f is None:
            return None
        from .types import SocialAccount as SocialAccountType

        return cls(
            status=tuple(s.value for s in f.status) if f.status else None,
            scheduled_after=f.scheduled_after,
            scheduled_before=f.scheduled_before,
            social_account_id=parse_global_id(f.social_account_id, expected=SocialAccountType)[1] if f.social_account_id else None,
        )

    def where(self) -> list[Any]:
        out: list[Any] = []
        if self.status:
            out.append(Post.status.in_(self.status))
        if self.scheduled_after:
            out.append(Post.scheduled_at >= self.scheduled_after)
        if self.scheduled_before:
            out.append(Post.scheduled_at < self.scheduled_before)
        if self.social_account_id:
            out.append(Post.social_account_id == self.social_account_id)
        return out


@dataclass(frozen=True)
class CommentFilterKey:
    is_read: bool | None = None
    is_archived: bool | None = None
    is_spam: bool | None = None

    @classmethod
    def of(cls, f: Any) -> CommentFilterKey | None:
        return None if f is None else cls(is_read=f.is_read, is_archived=f.is_archived, is_spam=f.is_spam)

    def where(self) -> list[Any]:
        out: list[Any] = []
        for column, value in ((Comment.is_read, self.is_read), (Comment.is_archived, self.is_archived), (Comment.is_spam, self.is_spam)):
            if value is not None:
                out.append(column.is_(value))
        return out


class SocialAccountByIdLoader(ByIdLoader):
    model = SocialAccount


class SocialAccountsByWorkspaceIdLoader(ConnectionByKeyLoader):
    model = SocialAccount
    key = SocialAccount.workspace_id


class PostByIdLoader(ByIdLoader):
    model = Post


class _PostList(ConnectionByKeyLoader):
    model = Post

    def base(self, query: ListQuery) -> Select:
        f: PostFilterKey | None = query.filter  # type: ignore[assignment]
        return super().base(query).where(*(f.where() if f else []))


class PostsByWorkspaceIdLoader(_PostList):
    key = Post.workspace_id


class PostsByClipIdLoader(_PostList):
    key = Post.clip_id


class PostsBySocialAccountIdLoader(_PostList):
    key = Post.social_account_id


class PostMetricByIdLoader(ByIdLoader):
    model = PostMetric


class PostMetricsByPostIdLoader(ConnectionByKeyLoader):
    model = PostMetric
    key = PostMetric.post_id

    def order(self, query: ListQuery) -> tuple[SortKey, ...]:
        return (descending(PostMetric.recorded_at),)


class LatestPostMetricByPostIdLoader(Loader):
    """The newest metrics snapshot of each post: one DISTINCT ON statement per batch."""

    async def batch_load(self, keys: list[uuid.UUID]) -> Sequence[Any]:
        stmt = (
            select(PostMetric)
            .where(PostMetric.post_id.in_(keys))
            .ext(distinct_on(PostMetric.post_id))
            .order_by(PostMetric.post_id, PostMetric.recorded_at.desc(), PostMetric.id.desc())
        )
        async with self.ctx.session() as session:
            rows = (await session.execute(stmt)).scalars().all()
        by_post = {r.post_id: r for r in rows}
        return [by_post.get(k) for k in keys]


class CommentByIdLoader(ByIdLoader):
    model = Comment


class _CommentList(ConnectionByKeyLoader):
    model = Comment

    def base(self, query: ListQuery) -> Select:
        f: CommentFilterKey | None = query.filter  # type: ignore[assignment]
        return super().base(query).where(*(f.where() if f else []))

    def order(self, query: ListQuery) -> tuple[SortKey, ...]:
        return (descending(Comment.posted_at),)


class CommentsByPostIdLoader(_CommentList):
    key = Comment.post_id


class CommentsByWorkspaceIdLoader(_CommentList):
    key = Comment.workspace_id


class CommentsByParentCommentIdLoader(_CommentList):
    key = Comment.parent_comment_id


class AccountAnalyticsByIdLoader(ByIdLoader):
    model = AccountAnalytics


class AccountAnalyticsBySocialAccountIdLoader(ConnectionByKeyLoader):
    model = AccountAnalytics
    key = AccountAnalytics.social_account_id

    def order(self, query: ListQuery) -> tuple[SortKey, ...]:
        return (descending(AccountAnalytics.date),)
