"""Social account mutations over clipflow_api.publishing.accounts: connect (OAuth 2: start, then complete
after the platform's consent) and disconnect."""

from __future__ import annotations

from typing import Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from ...publishing import accounts
from ..base import IdArg
from ..context import Info
from ..enums import Platform
from ..errors import MutationError
from ..mutations import node_id, run
from ..permissions import Require
from ..social.types import SocialAccount


@strawberry.type(description="A refused social account change.")
class SocialAccountError(MutationError):
    pass


@strawberry.type(description="The result of socialAccountConnect: where to send the user to approve the connection.")
class SocialAccountConnectPayload:
    authorization_url: str | None = strawberry.field(
        default=None,
        description="The platform's consent page; open it in the browser. The platform sends it back to ClipFlow, "
        "which sends it on to the app with a pending id to finish with socialAccountConnectComplete. Valid for a "
        "few minutes, once.",
    )
    errors: list[SocialAccountError] = strawberry.field(
        default_factory=list, description="Why it was refused; empty on success."
    )


@strawberry.type(description="The result of a social account mutation.")
class SocialAccountPayload:
    social_account: SocialAccount | None = strawberry.field(
        default=None, description="The account after the change (null when refused)."
    )
    errors: list[SocialAccountError] = strawberry.field(
        default_factory=list, description="Why the change was refused; empty on success."
    )


@strawberry.type
class SocialAccountMutations:
    @strawberry.mutation(
        description="Start connecting (or reconnecting) an account on a platform: returns its consent page URL.",
        permission_classes=[Require("social_account:manage")],
    )
    async def social_account_connect(
        self, info: Info, platform: Annotated[Platform, strawberry.argument(description="The platform.")]
    ) -> SocialAccountConnectPayload | None:
        async def work(session: AsyncSession) -> str:
            ctx = info.context
            return await accounts.start_connect(session, ctx.principal, platform, redis=ctx.redis, settings=ctx.settings)

        return await run(info, SocialAccountConnectPayload, SocialAccountError, "authorization_url", work)

    @strawberry.mutation(
        description="Finish connecting (or reconnecting) an account after the platform's consent: stores it in "
        "the workspace the connect was started in (a reconnect keeps its posts). Only the user who started the "
        "connect, in that workspace, may finish it; the pending id works once and for a few minutes.",
        permission_classes=[Require("social_account:manage")],
    )
    async def social_account_connect_complete(
        self,
        info: Info,
        pending_id: Annotated[str, strawberry.argument(
            description="The pending id the callback gave the app (the return URL's pending parameter).")],
    ) -> SocialAccountPayload | None:
        async def work(session: AsyncSession) -> SocialAccount:
            ctx = info.context
            row = await accounts.complete_connect(session, ctx.principal, pending_id, redis=ctx.redis,
                                                  settings=ctx.settings)
            return SocialAccount.from_row(row)

        return await run(info, SocialAccountPayload, SocialAccountError, "social_account", work)

    @strawberry.mutation(
        description="Disconnect an account: its authorization is revoked at the platform where it allows that, and "
        "ClipFlow forgets the tokens. Its posts and history stay; connecting it again revives it.",
        permission_classes=[Require("social_account:manage")],
    )
    async def social_account_disconnect(self, info: Info, id: IdArg) -> SocialAccountPayload | None:
        async def work(session: AsyncSession) -> SocialAccount:
            row = await accounts.disconnect(
                session, info.context.principal, node_id(id, SocialAccount), settings=info.context.settings
            )
            return SocialAccount.from_row(row)

        return await run(info, SocialAccountPayload, SocialAccountError, "social_account", work)
