"""Root fields of publishing: the post calendar."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from graphql import GraphQLError

from ...errors import ValidationError
from ...publishing import service as publishing
from ..context import Info
from ..errors import camel
from ..loaders import load_connection
from ..permissions import Require
from ..relay import AfterArg, BeforeArg, Connection, FirstArg, LastArg, parse_global_id
from ..social.types import Post, SocialAccount
from .inputs import PostCalendarFilterInput
from .loaders import PostsCalendarByWorkspaceIdLoader


@strawberry.type
class PostQueries:
    @strawberry.field(
        description="The calendar: the workspace's posts due between two times (at most 366 days apart), earliest first.",
        permission_classes=[Require("post:read")],
    )
    async def posts_calendar(
        self,
        info: Info,
        from_: Annotated[datetime, strawberry.argument(name="from", description="The start (inclusive), with its UTC offset.")],
        to: Annotated[datetime, strawberry.argument(description="The end (exclusive), with its UTC offset.")],
        filter: Annotated[PostCalendarFilterInput | None, strawberry.argument(description="Narrow the calendar.")] = None,
        first: FirstArg = None,
        after: AfterArg = None,
        last: LastArg = None,
        before: BeforeArg = None,
    ) -> Connection[Post]:
        f = filter or PostCalendarFilterInput()
        try:
            window = publishing.calendar_window(
                info.context.principal, from_, to,
                account_ids=[parse_global_id(i, expected=SocialAccount)[1] for i in f.social_account_ids] if f.social_account_ids else None,
                statuses=list(f.statuses) if f.statuses else None,
                platforms_=list(f.platforms) if f.platforms else None,
            )
        except ValidationError as exc:
            raise GraphQLError(exc.message, extensions={"code": "BAD_REQUEST", "field": camel(exc.field)}) from None
        return await load_connection(
            info, PostsCalendarByWorkspaceIdLoader, Post, window.workspace_id,
            first=first, after=after, last=last, before=before, filter=window,
        )
