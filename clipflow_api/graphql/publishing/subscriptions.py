"""``postProgress``: a post's state and upload percentage, live, from the worker's Redis channel.

As ``jobProgress``: the post is looked up under the caller's workspace first (another
workspace's id reads as missing); the subscription listens before it reads the post, so
nothing published in between is lost; the current state goes out first, then every event,
until the post is published, failed or cancelled (``publishing.progress``).
"""

from __future__ import annotations

import functools
import json
from collections.abc import AsyncGenerator
from typing import Annotated, Any, Self

import strawberry

from ...models import Post as PostRow
from ...models.enums import PostStatus as PostStatusValue
from ...publishing import service as posts
from ...publishing.progress import FINAL_STATUSES, post_channel
from ..base import desc
from ..context import Info
from ..enums import PostStatus
from ..permissions import Require
from ..relay import global_id, parse_global_id
from ..subscriptions import progress_stream, read_visible
from ..social.types import Post


@strawberry.type(description="Where a post is on its way to the platform.")
class PostProgressEvent:
    post_id: strawberry.ID = desc("The post's global id.")
    status: PostStatus = desc("The post's state.")
    upload_progress: int = desc("How much of the video the platform has, 0-100.")
    message: str | None = desc("What is happening, for people.")
    error: str | None = desc("Why publishing failed.")
    at: str | None = desc("When the event was published (ISO 8601).")

    @classmethod
    def from_row(cls, row: PostRow) -> Self:
        return cls(
            post_id=strawberry.ID(global_id(Post, row.id)), status=PostStatusValue(row.status), upload_progress=row.upload_progress,
            message=None, error=row.publish_error, at=row.updated_at.isoformat() if row.updated_at else None,
        )

    @classmethod
    def from_event(cls, event: dict[str, Any]) -> Self | None:
        try:
            status = PostStatusValue(str(event.get("status")))
        except ValueError:
            return None
        return cls(
            post_id=strawberry.ID(global_id(Post, event["postId"])), status=status,
            upload_progress=int(event.get("uploadProgress") or 0), message=event.get("message"), error=event.get("error"),
            at=event.get("at"),
        )


def _decode(data: bytes) -> PostProgressEvent | None:
    try:
        event = json.loads(data)
    except (TypeError, ValueError):
        return None
    if not isinstance(event, dict) or not event.get("postId"):
        return None
    return PostProgressEvent.from_event(event)


def _final(event: PostProgressEvent) -> bool:
    return event.status in FINAL_STATUSES


@strawberry.type
class PostSubscriptions:
    @strawberry.subscription(
        description="A post's state and upload percentage until it is published, fails or is cancelled.",
        permission_classes=[Require("post:read")],
    )
    async def post_progress(
        self, info: Info, post_id: Annotated[strawberry.ID, strawberry.argument(description="The post's id.")]
    ) -> AsyncGenerator[PostProgressEvent, None]:
        # checked before the stream starts: a refusal is the operation's `error` message (graphql.subscriptions)
        _, pid = parse_global_id(post_id, expected=Post)
        load = functools.partial(posts.visible_post, principal=info.context.principal)
        await read_visible(info, load, pid)

        async def current() -> PostProgressEvent:
            return PostProgressEvent.from_row(await read_visible(info, load, pid))

        return progress_stream(info, post_channel(pid), current, _decode, _final)
