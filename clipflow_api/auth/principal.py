"""Who is calling: a user (session token or API key) acting in one workspace, or nobody.

``resolve_principal`` turns request headers into a ``Principal``:

- ``Authorization: Bearer <session token>``: the user's session (sliding expiry, within an absolute
  lifetime of SESSION_MAX_AGE_DAYS from sign-in).
- ``Authorization: Bearer cf_live_...`` or ``X-Api-Key: cf_live_...``: an API key. Its
  permissions are the member's, narrowed to the key's scopes, and each operation counts
  against a daily limit (the key's ``rate_limit``, capped by the workspace plan's
  ``api_requests_daily``; ``count_operations``).
- ``X-Workspace-Id``: the workspace to act in, by its global id (a raw UUID is still
  accepted). Default: an API key's own workspace; for a session (or a personal key), the
  oldest workspace the user owns, else the oldest joined.

No credential: ``ANONYMOUS``. A bad credential: ``AuthError``; not a member of the chosen
workspace: ``PermissionDenied``; over the daily limit: ``RateLimited``; a malformed
``X-Workspace-Id``: ``ValidationError``. (HTTP: 401, 403, 429, 400.)
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from strawberry.relay import GlobalID

from ..billing.plans import PlanFeatureRequired, require_feature
from ..config import get_settings
from ..db import apply_tenant, set_tenant
from ..errors import AuthError, ErrorCode, PermissionDenied, ValidationError
from ..permissions import SYSTEM_PERMISSIONS, effective_permissions
from ..workspaces import repository as workspaces
from . import ratelimit, repository, tokens


@dataclass(frozen=True)
class Principal:
    """The caller of one request.

    ``workspace_id`` is the workspace the request acts in (chosen by the client, checked
    against membership); ``role`` and ``permissions`` are the caller's there, after
    ``custom_permissions`` overrides. An API key narrows ``permissions`` to its ``scopes``.
    """

    user_id: uuid.UUID | None = None
    workspace_id: uuid.UUID | None = None
    role: str | None = None
    permissions: frozenset[str] = field(default_factory=frozenset)
    session_id: uuid.UUID | None = None
    api_key_id: uuid.UUID | None = None
    ip_address: str | None = None
    user_agent: str | None = None
    # An API key's operations a day (the key's rate_limit capped by the plan); each GraphQL
    # operation counts one (``count_operations``).
    daily_limit: int | None = field(default=None, compare=False)

    @property
    def is_authenticated(self) -> bool:
        return self.user_id is not None

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    def require(self, permission: str, *, needs_user: bool = False) -> uuid.UUID:
        """The workspace the caller acts in, when they hold ``permission`` there; PermissionDenied otherwise.

        The one permission rule every service applies (jobs and GraphQL alike); ``needs_user``
        when the action is recorded as someone's (an upload, a connected account)."""
        if self.workspace_id is None or not self.can(permission) or (needs_user and self.user_id is None):
            raise PermissionDenied(ErrorCode.PERMISSION_DENIED, f"You need the {permission} permission in this workspace.")
        return self.workspace_id


ANONYMOUS = Principal()

# Touch api_keys.last_used_at at most this often, so a busy key is not a write per request.
_LAST_USED_RESOLUTION = timedelta(minutes=1)


def _workspace_choice(value: str | None) -> uuid.UUID | None:
    """The workspace ``X-Workspace-Id`` names: its global id, or (still accepted) a raw UUID."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return uuid.UUID(value)
    except ValueError:
        pass
    try:
        gid = GlobalID.from_id(value)
        if gid.type_name == "Workspace":
            return uuid.UUID(gid.node_id)
    except (ValueError, TypeError):
        pass
    raise ValidationError(
        ErrorCode.INVALID, "X-Workspace-Id must be a workspace's id (the `id` of a Workspace).", "X-Workspace-Id"
    )


def _credential(headers: Mapping[str, str]) -> tuple[str | None, bool]:
    """(credential, came from X-Api-Key)."""
    authorization = (headers.get("authorization") or "").strip()
    api_key = (headers.get("x-api-key") or "").strip()
    if authorization:
        scheme, _, value = authorization.partition(" ")
        value = value.strip()
        if scheme.lower() != "bearer" or not value:
            raise AuthError(ErrorCode.TOKEN_INVALID, "Send 'Authorization: Bearer <token>'.")
        if api_key and api_key != value:
            raise AuthError(
                ErrorCode.TOKEN_INVALID, "Send one credential: Authorization or X-Api-Key, not two different ones."
            )
        return value, False
    if api_key:
        return api_key, True
    return None, False


async def resolve_principal(
    *, headers: Mapping[str, str], client_ip: str | None, session_factory: Any, redis: Any, operations: int = 1
) -> Principal:
    """The request's caller, checked against sessions, API keys and memberships (commits its own session).

    ``operations``: how many to count against an API key's daily limit now (GraphQL passes
    0 and counts each operation itself with ``count_operations``).
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    credential, from_api_key_header = _credential(lowered)
    if credential is None:
        return ANONYMOUS
    requested = _workspace_choice(lowered.get("x-workspace-id"))
    user_agent = lowered.get("user-agent")
    is_api_key = tokens.looks_like_api_key(credential)
    if is_api_key and not tokens.api_key_is_well_formed(credential):  # a typo never reaches the database
        raise AuthError(ErrorCode.API_KEY_INVALID, "This API key is malformed; check it was copied whole.")
    if from_api_key_header and not is_api_key:
        raise AuthError(ErrorCode.API_KEY_INVALID, "This is not a ClipFlow API key (they start with cf_live_).")
    async with session_factory() as session:
        if is_api_key:
            principal = await _from_api_key(
                session, redis, credential, requested=requested, client_ip=client_ip, user_agent=user_agent,
                operations=operations,
            )
        else:
            principal = await _from_session(
                session, credential, requested=requested, client_ip=client_ip, user_agent=user_agent
            )
        await session.commit()
    return principal


async def _from_session(
    session: Any, token: str, *, requested: uuid.UUID | None, client_ip: str | None, user_agent: str | None
) -> Principal:
    found = await repository.get_session_with_user(session, tokens.hash_token(token))
    if found is None:
        raise AuthError(ErrorCode.TOKEN_INVALID, "This session is not valid; sign in again.")
    user_session, user = found
    now = datetime.now(UTC)
    settings = get_settings()
    # Sliding keeps an active user signed in, but never past the absolute lifetime.
    ends_at = user_session.created_at + timedelta(days=settings.session_max_age_days)
    if user_session.expires_at <= now or ends_at <= now:
        await repository.delete_session(session, user_session.id)
        await session.commit()
        raise AuthError(ErrorCode.TOKEN_EXPIRED, "Your session has expired; sign in again.")
    if user.deleted_at is not None:
        raise AuthError(ErrorCode.TOKEN_INVALID, "This account has been closed.")
    ttl = timedelta(days=settings.session_ttl_days)
    if user_session.expires_at - now < ttl / 2 and user_session.expires_at < ends_at:
        await repository.extend_session(session, user_session.id, min(now + ttl, ends_at))

    set_tenant(session, workspace_id=None, user_id=user.id)
    await apply_tenant(session)
    if requested is not None:
        member = await workspaces.get_active_membership(session, requested, user.id)
        if member is None:
            raise PermissionDenied(ErrorCode.NOT_A_MEMBER, "You are not a member of that workspace.")
    else:
        member = await workspaces.default_membership(session, user.id)
    return Principal(
        user_id=user.id,
        workspace_id=member.workspace_id if member else None,
        role=member.role if member else None,
        permissions=(effective_permissions(member.role, member.custom_permissions) if member else frozenset())
        | _staff_permissions(user),
        session_id=user_session.id,
        ip_address=client_ip,
        user_agent=user_agent,
    )


def _staff_permissions(user: Any) -> frozenset[str]:
    """Platform staff (PLATFORM_ADMINS, verified email, signed in; never through an API key)."""
    admins = {e.strip().lower() for e in get_settings().platform_admins}
    return SYSTEM_PERMISSIONS if user.email_verified and user.email.lower() in admins else frozenset()


async def _from_api_key(
    session: Any, redis: Any, key: str, *, requested: uuid.UUID | None, client_ip: str | None, user_agent: str | None,
    operations: int,
) -> Principal:
    row = await repository.find_api_key_by_hash(session, tokens.hash_token(key))
    if row is None:
        raise AuthError(ErrorCode.API_KEY_INVALID, "Unknown API key.")
    now = datetime.now(UTC)
    if row.revoked_at is not None:
        raise AuthError(ErrorCode.API_KEY_REVOKED, "This API key has been revoked.")
    if row.expires_at is not None and row.expires_at <= now:
        raise AuthError(ErrorCode.API_KEY_EXPIRED, "This API key has expired.")
    # users sit behind RLS: the key's user reads their own row
    set_tenant(session, workspace_id=None, user_id=row.user_id)
    await apply_tenant(session)
    user = await repository.get_user(session, row.user_id)
    if user is None:
        raise AuthError(ErrorCode.API_KEY_INVALID, "This API key's account has been closed.")
    if row.workspace_id is not None and requested not in (None, row.workspace_id):
        raise PermissionDenied(ErrorCode.PERMISSION_DENIED, "This API key belongs to another workspace.")
    chosen = row.workspace_id or requested

    set_tenant(session, workspace_id=chosen, user_id=user.id)
    await apply_tenant(session)
    member = (
        await workspaces.get_active_membership(session, chosen, user.id)
        if chosen is not None
        else await workspaces.default_membership(session, user.id)
    )
    if member is None:
        raise PermissionDenied(ErrorCode.NOT_A_MEMBER, "The key's user is not a member of that workspace.")
    if chosen is None:
        set_tenant(session, workspace_id=member.workspace_id, user_id=user.id)
        await apply_tenant(session)

    # a key that outlived its workspace's paid plan stops working (and costs no request)
    try:
        plan = await require_feature(session, member.workspace_id, "api_access")
    except PlanFeatureRequired as exc:  # a refusal to act, here: 403, not a mutation's payload error
        raise PermissionDenied(exc.code, exc.message) from None
    limit = row.rate_limit
    if plan.api_requests_daily is not None:
        limit = min(limit, plan.api_requests_daily)
    if operations:
        await ratelimit.count_operations(redis, key_id=row.id, limit=limit, operations=operations, now=now)
    if row.last_used_at is None or now - row.last_used_at >= _LAST_USED_RESOLUTION:
        await repository.touch_api_key(session, row.id, now)

    permissions = effective_permissions(member.role, member.custom_permissions) & frozenset(row.scopes)
    return Principal(
        user_id=user.id,
        workspace_id=member.workspace_id,
        role=member.role,
        permissions=permissions,
        api_key_id=row.id,
        ip_address=client_ip,
        user_agent=user_agent,
        daily_limit=limit,
    )


async def count_operations(redis: Any, principal: Principal, operations: int = 1) -> int:
    """How many of ``operations`` GraphQL operations the caller may run now (all, without an API key).

    The single rule of the daily limit: one operation, one count, whether it came alone,
    in an HTTP batch or over a websocket. RateLimited when none fit.
    """
    if principal.api_key_id is None or principal.daily_limit is None:
        return operations
    return await ratelimit.count_operations(
        redis, key_id=principal.api_key_id, limit=principal.daily_limit, operations=operations
    )
