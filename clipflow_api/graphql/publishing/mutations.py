"""Post mutations: adapters over ``clipflow_api.publishing.service``.

Each parses ids, calls the service with the caller and a typed input, and maps the post (or
the refusal, through ``run``). Scheduling checks the media in storage (``ctx.storage``).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from ...publishing import service as publishing
from ..base import IdArg
from ..context import Info
from ..errors import MutationError
from ..media.types import Clip
from ..mutations import node_id, run, to_domain
from ..permissions import Require
from ..social.types import Post, SocialAccount
from .inputs import (
    InstagramOptionsInput,
    PostCreateInput,
    PostUpdateInput,
    TikTokOptionsInput,
    YouTubeOptionsInput,
)

_WHY = "Why the change was refused; empty on success."

AtArg = Annotated[datetime, strawberry.argument(description="When the post goes out, with its UTC offset (at most a year ahead).")]


@strawberry.type(description="A refused post change.")
class PostError(MutationError):
    pass


@strawberry.type(description="The result of a post mutation.")
class PostPayload:
    post: Post | None = strawberry.field(default=None, description="The post after the change (null when refused).")
    errors: list[PostError] = strawberry.field(default_factory=list, description=_WHY)


@strawberry.type(description="The result of postCreate: one draft per account, in one group.")
class PostCreatePayload:
    posts: list[Post] | None = strawberry.field(default=None, description="The drafts, in the order of the accounts (null when refused).")
    group_id: strawberry.ID | None = strawberry.field(default=None, description="What the drafts share: a client shows them as one (null when refused).")
    errors: list[PostError] = strawberry.field(default_factory=list, description=_WHY)


def _options(data: PostCreateInput | PostUpdateInput) -> dict[str, Any]:
    """The per-platform blocks as the service's typed options (sent null stays null, not sent stays UNSET)."""
    out: dict[str, Any] = {}
    for name, cls in (("youtube", publishing.YouTubeOptions), ("tiktok", publishing.TikTokOptions),
                      ("instagram", publishing.InstagramOptions)):
        block: YouTubeOptionsInput | TikTokOptionsInput | InstagramOptionsInput | None = getattr(data, name)
        if block is not strawberry.UNSET:
            out[name] = None if block is None else to_domain(block, cls)
    return out


def _account_ids(ids: list[strawberry.ID]) -> list[uuid.UUID]:
    return [node_id(i, SocialAccount, "socialAccountIds") for i in ids]


@strawberry.type
class PostMutations:
    @strawberry.mutation(
        description="Make drafts from a clip: one post per account, grouped, each with the clip's rendering in its platform's format.",
        permission_classes=[Require("post:write")],
    )
    async def post_create(
        self, info: Info, input: Annotated[PostCreateInput, strawberry.argument(description="The clip, the accounts and the text.")]
    ) -> PostCreatePayload | None:
        async def work(session: AsyncSession) -> tuple[list[Post], strawberry.ID]:
            data = to_domain(
                input, publishing.PostCreateInput, clip_id=node_id(input.clip_id, Clip, "clipId"),
                social_account_ids=_account_ids(input.social_account_ids), **_options(input),
            )
            group = await publishing.create_posts(session, info.context.principal, data)
            return [Post.from_row(p) for p in group.posts], strawberry.ID(str(group.group_id))

        return await run(info, PostCreatePayload, PostError, ("posts", "group_id"), work)

    @strawberry.mutation(
        description="Edit a post's text or settings (an approved post needs approval again; a rejected one is sent again).",
        permission_classes=[Require("post:write")],
    )
    async def post_update(
        self, info: Info, id: IdArg, input: Annotated[PostUpdateInput, strawberry.argument(description="The changes.")]
    ) -> PostPayload | None:
        async def work(session: AsyncSession) -> Post:
            changes = to_domain(input, publishing.PostChanges, **_options(input))
            return Post.from_row(await publishing.update_post(session, info.context.principal, node_id(id, Post), changes))

        return await run(info, PostPayload, PostError, "post", work)

    @strawberry.mutation(
        description="Schedule a draft (its video and the account's limits are checked first); where the workspace "
                    "requires approval, it waits for approval instead.",
        permission_classes=[Require("post:schedule")],
    )
    async def post_schedule(self, info: Info, id: IdArg, at: AtArg) -> PostPayload | None:
        ctx = info.context

        async def work(session: AsyncSession) -> Post:
            return Post.from_row(await publishing.schedule_post(session, ctx.principal, node_id(id, Post), at, storage=ctx.storage))

        return await run(info, PostPayload, PostError, "post", work)

    @strawberry.mutation(description="Publish a draft or a scheduled post as soon as possible.", permission_classes=[Require("post:schedule")])
    async def post_publish_now(self, info: Info, id: IdArg) -> PostPayload | None:
        ctx = info.context

        async def work(session: AsyncSession) -> Post:
            return Post.from_row(await publishing.publish_now(session, ctx.principal, node_id(id, Post), storage=ctx.storage))

        return await run(info, PostPayload, PostError, "post", work)

    @strawberry.mutation(description="Move a scheduled (or waiting) post to another time.", permission_classes=[Require("post:schedule")])
    async def post_reschedule(self, info: Info, id: IdArg, at: AtArg) -> PostPayload | None:
        async def work(session: AsyncSession) -> Post:
            return Post.from_row(await publishing.reschedule_post(session, info.context.principal, node_id(id, Post), at))

        return await run(info, PostPayload, PostError, "post", work)

    @strawberry.mutation(description="Cancel a post that has not started publishing.", permission_classes=[Require("post:schedule")])
    async def post_cancel(self, info: Info, id: IdArg) -> PostPayload | None:
        async def work(session: AsyncSession) -> Post:
            return Post.from_row(await publishing.cancel_post(session, info.context.principal, node_id(id, Post)))

        return await run(info, PostPayload, PostError, "post", work)

    @strawberry.mutation(
        description="Schedule a failed post again once its cause is fixed (now, or at its time if that is still ahead).",
        permission_classes=[Require("post:schedule")],
    )
    async def post_retry(self, info: Info, id: IdArg) -> PostPayload | None:
        ctx = info.context

        async def work(session: AsyncSession) -> Post:
            return Post.from_row(await publishing.retry_post(session, ctx.principal, node_id(id, Post), storage=ctx.storage))

        return await run(info, PostPayload, PostError, "post", work)

    @strawberry.mutation(description="Approve a post waiting for approval: it is scheduled at its time.", permission_classes=[Require("post:approve")])
    async def post_approve(self, info: Info, id: IdArg) -> PostPayload | None:
        async def work(session: AsyncSession) -> Post:
            return Post.from_row(await publishing.approve_post(session, info.context.principal, node_id(id, Post)))

        return await run(info, PostPayload, PostError, "post", work)

    @strawberry.mutation(description="Send a post waiting for approval back, saying why.", permission_classes=[Require("post:approve")])
    async def post_reject(
        self, info: Info, id: IdArg,
        comment: Annotated[str, strawberry.argument(description="What to change (shown to the team; at most 2,000 characters).")],
    ) -> PostPayload | None:
        async def work(session: AsyncSession) -> Post:
            return Post.from_row(await publishing.reject_post(session, info.context.principal, node_id(id, Post), comment))

        return await run(info, PostPayload, PostError, "post", work)
