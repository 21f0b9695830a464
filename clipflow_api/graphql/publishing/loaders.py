"""Loaders of the publishing read paths: the post calendar."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select

from ...models import Post
from ...publishing.repository import CalendarWindow
from ..loaders import ConnectionByKeyLoader, ListQuery
from ..relay import SortKey, ascending


class PostsCalendarByWorkspaceIdLoader(ConnectionByKeyLoader):
    """A workspace's posts due within a ``CalendarWindow`` (the list's filter), earliest first."""

    model = Post
    key = Post.workspace_id

    def base(self, query: ListQuery) -> Select:
        window: CalendarWindow = query.filter  # type: ignore[assignment]  # ListQuery.filter is any hashable
        return super().base(query).where(*window.where())

    def order(self, query: ListQuery) -> Sequence[SortKey]:
        return (ascending(Post.scheduled_at),)
