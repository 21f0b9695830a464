"""Account mutations over clipflow_api.auth.service: sign up and in, verification, password
reset, API keys. Tokens that prove an inbox are emailed (``ctx.mailer``), never returned."""

from __future__ import annotations

from typing import Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from ...auth import ratelimit
from ...auth import revocations
from ...auth import service as auth
from ...auth.client_ip import client_ip
from ..base import desc
from ..context import Info
from ..errors import MutationError
from ..mutations import node_id, run, send_email
from ..permissions import IsAuthenticated, NotApiKey
from .inputs import ApiKeyCreateInput, LogInInput, SignUpInput
from .loaders import UserByIdLoader
from .types import ApiKey, User


@strawberry.type(description="A refused account action.")
class AccountError(MutationError):
    pass


@strawberry.type(description="A refused API key action.")
class ApiKeyError(MutationError):
    pass


@strawberry.type(description="The result of signUp or logIn.")
class AuthPayload:
    user: User | None = desc("The signed-in user.", default=None)
    token: str | None = desc("A session token: send it as `Authorization: Bearer <token>`.", default=None)
    errors: list[AccountError] = desc("Why it was refused; empty on success.", default_factory=list)


@strawberry.type(description="The result of an account action.")
class AccountPayload:
    user: User | None = desc("The user after the change.", default=None)
    errors: list[AccountError] = desc("Why it was refused; empty on success.", default_factory=list)


@strawberry.type(description="The result of a request that sends an email.")
class EmailSentPayload:
    ok: bool = desc("Whether the request was taken (true even when no account matches, to not reveal accounts).", default=False)
    errors: list[AccountError] = desc("Why it was refused; empty on success.", default_factory=list)


@strawberry.type(description="The result of apiKeyCreate: the key's secret is shown here once.")
class ApiKeyCreatePayload:
    api_key: ApiKey | None = desc("The new key.", default=None)
    secret: str | None = desc("The key itself (cf_live_...). Store it now: it is never shown again.", default=None)
    errors: list[ApiKeyError] = desc("Why it was refused; empty on success.", default_factory=list)


@strawberry.type(description="The result of apiKeyRevoke.")
class ApiKeyRevokePayload:
    api_key: ApiKey | None = desc("The revoked key.", default=None)
    errors: list[ApiKeyError] = desc("Why it was refused; empty on success.", default_factory=list)


def _client(info: Info) -> tuple[str | None, str | None]:
    p = info.context.principal
    request = info.context.request
    ip = p.ip_address or (client_ip(request) if request is not None else None)
    ua = p.user_agent or (request.headers.get("user-agent") if request is not None else None)
    return ip, ua


def _bearer(info: Info) -> str | None:
    request = info.context.request
    header = request.headers.get("authorization", "") if request is not None else ""
    if not header and info.context.connection_params:
        header = str(info.context.connection_params.get("authorization") or "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


@strawberry.type
class AccountMutations:
    @strawberry.mutation(description="Create an account (with a personal workspace) and sign in.")
    async def sign_up(
        self, info: Info, input: Annotated[SignUpInput, strawberry.argument(description="The new account.")]
    ) -> AuthPayload | None:
        ip, ua = _client(info)

        async def work(session: AsyncSession) -> tuple[User, str]:
            user, token = await auth.sign_up(session, email=input.email, password=input.password, name=input.name, ip=ip, user_agent=ua)
            return User.from_row(user), token

        payload: AuthPayload = await run(info, AuthPayload, AccountError, ("user", "token"), work)
        return payload

    @strawberry.mutation(description="Sign in with email and password.")
    async def log_in(
        self, info: Info, input: Annotated[LogInInput, strawberry.argument(description="Credentials.")]
    ) -> AuthPayload | None:
        ip, ua = _client(info)
        redis = info.context.redis

        async def work(session: AsyncSession) -> tuple[User, str]:
            async with ratelimit.login_attempt(redis, email=input.email, ip=ip):
                user, token = await auth.log_in(session, email=input.email, password=input.password, ip=ip, user_agent=ua)
            return User.from_row(user), token

        payload: AuthPayload = await run(info, AuthPayload, AccountError, ("user", "token"), work)
        return payload

    @strawberry.mutation(description="End the session whose token authenticates this request.", permission_classes=[IsAuthenticated])
    async def log_out(self, info: Info) -> AccountPayload | None:
        p = info.context.principal
        token = _bearer(info)

        async def work(session: AsyncSession) -> None:
            await auth.log_out(session, p, token=token)

        result: AccountPayload = await run(info, AccountPayload, AccountError, "user", work)
        if result.errors:
            return result
        await revocations.announce(info.context.redis, user_id=p.user_id, session_id=p.session_id)  # its open sockets close
        row = await info.context.loader(UserByIdLoader).load(p.user_id)
        return AccountPayload(user=User.from_row(row) if row else None, errors=[])

    @strawberry.mutation(description="Email yourself a link that verifies your address.", permission_classes=[IsAuthenticated, NotApiKey])
    async def email_verification_request(self, info: Info) -> EmailSentPayload | None:
        sent: list[auth.EmailedToken] = []

        async def work(session: AsyncSession) -> bool:
            sent.append(await auth.request_email_verification(session, user_id=info.context.principal.user_id))
            return True

        result: EmailSentPayload = await run(info, EmailSentPayload, AccountError, "ok", work)
        for mail in sent:  # after the commit: the emailed token works
            await send_email(info, kind="email-verify", to=mail.to, token=mail.token)
        return EmailSentPayload(ok=bool(result.ok), errors=result.errors)

    @strawberry.mutation(description="Verify your email address with the emailed token.")
    async def email_verify(
        self, info: Info, token: Annotated[str, strawberry.argument(description="The token from the email.")]
    ) -> AccountPayload | None:
        async def work(session: AsyncSession) -> User:
            return User.from_row(await auth.verify_email(session, token=token))

        result: AccountPayload = await run(info, AccountPayload, AccountError, "user", work)
        return result

    @strawberry.mutation(description="Email a password reset link (answers the same whether or not the account exists).")
    async def password_reset_request(
        self, info: Info, email: Annotated[str, strawberry.argument(description="The account's email address.")]
    ) -> EmailSentPayload | None:
        sent: list[auth.EmailedToken] = []

        async def work(session: AsyncSession) -> bool:
            mail = await auth.request_password_reset(session, email=email)
            if mail is not None:
                sent.append(mail)
            return True

        result: EmailSentPayload = await run(info, EmailSentPayload, AccountError, "ok", work)
        for mail in sent:
            await send_email(info, kind="password-reset", to=mail.to, token=mail.token)
        return EmailSentPayload(ok=bool(result.ok), errors=result.errors)

    @strawberry.mutation(description="Set a new password with the emailed token; signs you out everywhere.")
    async def password_reset(
        self,
        info: Info,
        token: Annotated[str, strawberry.argument(description="The token from the email.")],
        new_password: Annotated[str, strawberry.argument(description="The new password.")],
    ) -> AccountPayload | None:
        async def work(session: AsyncSession) -> User:
            return User.from_row(await auth.reset_password(session, token=token, new_password=new_password))

        result: AccountPayload = await run(info, AccountPayload, AccountError, "user", work)
        if result.user is not None:  # every session ended: so do the sockets they opened
            await revocations.announce(info.context.redis, user_id=result.user.id)
        return result

    @strawberry.mutation(
        description="Create an API key for the current workspace (needs api_key:manage) or a personal one. The secret is returned once.",
        permission_classes=[IsAuthenticated],
    )
    async def api_key_create(
        self, info: Info, input: Annotated[ApiKeyCreateInput, strawberry.argument(description="The key.")]
    ) -> ApiKeyCreatePayload | None:
        async def work(session: AsyncSession) -> tuple[ApiKey, str]:
            key, secret = await auth.create_api_key(
                session, info.context.principal, personal=bool(input.personal), name=input.name,
                scopes=list(input.scopes), expires_at=input.expires_at, rate_limit=input.rate_limit,
            )
            return ApiKey.from_row(key), secret

        result: ApiKeyCreatePayload = await run(info, ApiKeyCreatePayload, ApiKeyError, ("api_key", "secret"), work)
        return result

    @strawberry.mutation(description="Revoke an API key (yours, or any of the workspace's with api_key:manage).", permission_classes=[IsAuthenticated])
    async def api_key_revoke(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The key's id.")]
    ) -> ApiKeyRevokePayload | None:
        async def work(session: AsyncSession) -> ApiKey:
            key = await auth.revoke_api_key(session, info.context.principal, key_id=node_id(id, ApiKey))
            return ApiKey.from_row(key)

        result: ApiKeyRevokePayload = await run(info, ApiKeyRevokePayload, ApiKeyError, "api_key", work)
        if result.api_key is not None:  # sockets opened with the key close
            await revocations.announce(info.context.redis, api_key_id=result.api_key.id)
        return result
