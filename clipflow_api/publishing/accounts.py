"""Connected social accounts: connect (OAuth 2), reconnect, disconnect, and their tokens.

- ``start_connect`` keeps a single-use ``state`` in Redis (with the PKCE verifier) bound to
  the user, the workspace, the platform and a short expiry, and returns the consent URL.
- ``finish_consent`` (the callback route) takes that state back, checks the user may still
  manage accounts there, exchanges the code and reads the profile, but stores no account: the
  consent link can be forwarded, so whoever approved at the platform is not known to be the
  user who started. It parks the result (the tokens encrypted) in Redis under a random
  one-time pending id, for a few minutes, and the browser goes back to the app with that id.
- ``complete_connect`` (``socialAccountConnectComplete``, called by the signed-in app) takes
  the parked result (GETDEL: once, even when refused), checks the caller is the user and
  workspace the state was issued to and still holds social_account:manage, then upserts the
  account on (workspace, platform, platform user id): a reconnect keeps the row, so its
  posts and history stay. Parked tokens nobody claims expire with their Redis key; they are
  not revoked at the platform (revoking there ends the user's whole grant to ClipFlow, which
  may serve the same platform account connected elsewhere).
- ``access_token`` is what publishing calls: a token about to expire is refreshed first,
  under the row's lock (``SELECT ... FOR UPDATE``), so two refreshes never race and a
  rotated refresh token (TikTok) is written in the same statement as the new access token.
- A dead grant (``invalid_grant``, revoked) marks the account ``reconnect_required`` with
  the reason, an outbox event and an audit entry; the network, a 5xx or a 429 raise
  ``PlatformUnavailable`` and change nothing.

Tokens are stored only encrypted (``crypto.encrypt_token``, bound to the row and column).
Services flush, never commit; the caller's boundary commits.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from .. import audit, clock
from ..auth.principal import Principal
from ..auth.tokens import hash_token
from ..billing.plans import plan_of_workspace
from ..config import Settings, get_settings
from ..crypto import DecryptionError, decrypt_token, encrypt_token
from ..errors import (
    Conflict,
    DomainError,
    ErrorCode,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from ..events.outbox import emit
from ..models import SocialAccount
from ..models.enums import OutboxEventType, Platform, SocialAccountStatus
from ..permissions import effective_permissions
from ..workspaces.repository import acting_as, get_active_membership
from . import accounts_repository as repository
from . import oauth
from .oauth import OAuthFailed, PlatformUnavailable, ReconnectRequired

__all__ = [
    "Consented", "OAuthFailed", "ParkedConnect", "PendingConnect", "PlatformUnavailable", "ReconnectRequired",
    "access_token", "complete_connect", "disconnect", "finish_consent", "mark_reconnect_required", "park", "refresh_account",
    "start_connect",
]

log = logging.getLogger(__name__)

PERMISSION = "social_account:manage"
STATE_KEY_PREFIX = "clipflow:social_oauth:"
PARKED_KEY_PREFIX = "clipflow:social_connect_pending:"
MAX_SECRET_LENGTH = 512  # a state or pending id longer than this is not one we issued


@dataclass(frozen=True)
class PendingConnect:
    """A connect the user started: who, where, which platform, until when (kept in Redis under the state)."""

    platform: Platform
    user_id: uuid.UUID
    workspace_id: uuid.UUID
    code_verifier: str | None
    expires_at: datetime

    def dumps(self) -> str:
        return json.dumps({"platform": self.platform.value, "user_id": str(self.user_id),
                           "workspace_id": str(self.workspace_id), "code_verifier": self.code_verifier,
                           "expires_at": self.expires_at.isoformat()})

    @classmethod
    def loads(cls, raw: str | bytes) -> PendingConnect:
        data = json.loads(raw)
        return cls(Platform(data["platform"]), uuid.UUID(data["user_id"]), uuid.UUID(data["workspace_id"]),
                   data.get("code_verifier"), datetime.fromisoformat(data["expires_at"]))


@dataclass(frozen=True)
class ParkedConnect:
    """A consent the platform granted, waiting in Redis (under the pending id) for its user to finish it.

    ``access_token`` and ``refresh_token`` are sealed (``crypto.encrypt_token``) with associated data
    naming the pending key, the platform, the user, the workspace and the platform account: a value
    moved to another key or edited in Redis does not decrypt."""

    platform: Platform
    user_id: uuid.UUID
    workspace_id: uuid.UUID
    profile: oauth.Profile
    access_token: str
    refresh_token: str | None
    token_expires_at: datetime | None
    scopes: list[str] | None
    expires_at: datetime

    def dumps(self) -> str:
        return json.dumps({
            "platform": self.platform.value, "user_id": str(self.user_id), "workspace_id": str(self.workspace_id),
            "profile": dataclasses.asdict(self.profile), "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "token_expires_at": self.token_expires_at.isoformat() if self.token_expires_at else None,
            "scopes": self.scopes, "expires_at": self.expires_at.isoformat(),
        })

    @classmethod
    def loads(cls, raw: str | bytes) -> ParkedConnect:
        data = json.loads(raw)
        token_expires_at = data.get("token_expires_at")
        return cls(Platform(data["platform"]), uuid.UUID(data["user_id"]), uuid.UUID(data["workspace_id"]),
                   oauth.Profile(**data["profile"]), data["access_token"], data.get("refresh_token"),
                   datetime.fromisoformat(token_expires_at) if token_expires_at else None, data.get("scopes"),
                   datetime.fromisoformat(data["expires_at"]))

    def _aad(self, key_hash: str, kind: str) -> str:
        return (f"social_connect_pending:{key_hash}:{self.platform.value}:{self.user_id}:{self.workspace_id}:"
                f"{self.profile.platform_user_id}:{kind}")

    def sealed(self, key_hash: str, tokens: oauth.TokenSet, settings: Settings) -> ParkedConnect:
        """This parked connect holding ``tokens``, encrypted for the key ``key_hash``."""
        def seal(kind: str, plain: str) -> str:
            return encrypt_token(plain, associated_data=self._aad(key_hash, kind), settings=settings)

        return dataclasses.replace(self, access_token=seal("access", tokens.access_token),
                                   refresh_token=seal("refresh", tokens.refresh_token) if tokens.refresh_token else None)

    def tokens(self, key_hash: str, settings: Settings) -> oauth.TokenSet:
        """The tokens, decrypted (``DecryptionError`` when the value was moved or altered)."""
        def unseal(kind: str, value: str) -> str:
            return decrypt_token(value, associated_data=self._aad(key_hash, kind), settings=settings)

        return oauth.TokenSet(
            access_token=unseal("access", self.access_token),
            refresh_token=unseal("refresh", self.refresh_token) if self.refresh_token else None,
            expires_at=self.token_expires_at, scopes=self.scopes, platform_user_id=self.profile.platform_user_id,
        )


@dataclass(frozen=True)
class Consented:
    """What the callback tells the app: the pending id to finish with, and what was approved (nothing secret)."""

    pending_id: str
    platform: Platform
    workspace_id: uuid.UUID
    profile: oauth.Profile


def _state_key(state: str) -> str:
    return STATE_KEY_PREFIX + hash_token(state)

def _client(platform: str, settings: Settings) -> oauth.PlatformClient:
    try:
        value = Platform(platform)
    except ValueError:
        raise ValidationError(ErrorCode.INVALID, f"Unknown platform {platform!r}.", "platform") from None
    if value not in oauth.CONNECTABLE:
        raise ValidationError(ErrorCode.INVALID, f"{value.value.title()} accounts cannot be connected yet.", "platform")
    client = oauth.get_client(value, settings)
    if client is None:
        raise ValidationError(
            ErrorCode.INVALID, f"Connecting {oauth.PLATFORM_NAMES[value]} accounts is not set up on this server.", "platform"
        )
    return client


def _expires_soon(expires_at: datetime | None, ahead_s: int) -> bool:
    return expires_at is not None and expires_at <= clock.now() + timedelta(seconds=ahead_s)


# --- tokens at rest -------------------------------------------------------------------------


def _aad(account_id: uuid.UUID, kind: str) -> str:
    return f"social_account:{account_id}:{kind}"


def _seal(account_id: uuid.UUID, kind: str, plain: str, settings: Settings) -> str:
    return encrypt_token(plain, associated_data=_aad(account_id, kind), settings=settings)


def _open(account: SocialAccount, kind: str, settings: Settings) -> str | None:
    value = account.access_token if kind == "access" else account.refresh_token
    if not value:
        return None
    return decrypt_token(value, associated_data=_aad(account.id, kind), settings=settings)


def _token_values(account_id: uuid.UUID, tokens: oauth.TokenSet, platform: Platform, settings: Settings) -> dict[str, Any]:
    values: dict[str, Any] = {
        "access_token": _seal(account_id, "access", tokens.access_token, settings),
        "token_expires_at": tokens.expires_at,
    }
    if tokens.refresh_token:
        values["refresh_token"] = _seal(account_id, "refresh", tokens.refresh_token, settings)
    elif platform == Platform.INSTAGRAM:
        values["refresh_token"] = None  # the long-lived token refreshes itself
    if tokens.scopes:
        values["scopes"] = tokens.scopes
    return values


# --- connect --------------------------------------------------------------------------------


async def start_connect(
    session: AsyncSession, principal: Principal, platform: str, *, redis: Redis, settings: Settings | None = None
) -> str:
    """The platform's consent URL for connecting an account to the principal's workspace."""
    settings = settings or get_settings()
    workspace_id = principal.require(PERMISSION, needs_user=True)
    client = _client(platform, settings)
    plan = await plan_of_workspace(session, workspace_id)
    if await repository.count_connected(session, workspace_id) >= plan.social_accounts and not (
        await repository.has_account_to_reconnect(session, workspace_id, client.platform.value)
    ):
        raise Conflict(
            ErrorCode.PLAN_LIMIT_REACHED,
            f"The {plan.display_name} plan allows {plan.social_accounts} connected account(s); "
            "disconnect one or upgrade to connect another.",
            "platform",
        )
    state = secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64) if client.pkce else None  # 86 characters: within PKCE's 43-128
    assert principal.user_id is not None  # _require checked it
    pending = PendingConnect(client.platform, principal.user_id, workspace_id, verifier,
                             clock.now() + timedelta(seconds=settings.social_connect_state_ttl_s))
    await redis.set(_state_key(state), pending.dumps(), ex=settings.social_connect_state_ttl_s)
    return oauth.authorization_url(client, settings, state=state, code_verifier=verifier)


async def take_pending(redis: Redis, platform: str, state: str) -> PendingConnect:
    """The connect ``state`` stands for, used up (single use); refused when unknown, expired or for another platform."""
    stale = ValidationError(ErrorCode.OAUTH_FAILED, "This connection request expired or is not valid; please start again.")
    if not state or len(state) > MAX_SECRET_LENGTH:
        raise stale
    raw = await redis.getdel(_state_key(state))
    if raw is None:
        raise stale
    try:
        pending = PendingConnect.loads(raw)
    except (ValueError, KeyError, TypeError):
        raise stale from None
    if pending.platform.value != platform:
        raise ValidationError(ErrorCode.OAUTH_FAILED, "This connection request was made for another platform.")
    if pending.expires_at <= clock.now():
        raise stale
    return pending


async def _acting_principal(session: AsyncSession, pending: PendingConnect, ip: str | None, user_agent: str | None) -> Principal:
    """The user who started the connect, as they are now: still a member, still allowed."""
    member = await get_active_membership(session, pending.workspace_id, pending.user_id)
    permissions = effective_permissions(member.role, member.custom_permissions) if member else frozenset()
    principal = Principal(user_id=pending.user_id, workspace_id=pending.workspace_id,
                          role=member.role if member else None, permissions=permissions, ip_address=ip,
                          user_agent=user_agent)
    principal.require(PERMISSION, needs_user=True)
    return principal


async def _plan_slot(session: AsyncSession, workspace_id: uuid.UUID) -> None:
    plan = await plan_of_workspace(session, workspace_id)
    if await repository.count_connected(session, workspace_id) >= plan.social_accounts:
        raise Conflict(
            ErrorCode.PLAN_LIMIT_REACHED,
            f"The {plan.display_name} plan allows {plan.social_accounts} connected account(s); "
            "disconnect one or upgrade to connect another.",
        )


async def finish_consent(
    session: AsyncSession, *, redis: Redis, platform: str, state: str, code: str, settings: Settings | None = None,
    ip: str | None = None, user_agent: str | None = None,
) -> Consented:
    """The platform's callback: exchange the code, read the profile, and park both for the user to finish.

    Stores no account (the person who approved may not be the one who started: consent links can
    be forwarded); ``complete_connect`` does, for the signed-in user the state was issued to."""
    settings = settings or get_settings()
    pending = await take_pending(redis, platform, state)
    client = _client(platform, settings)
    if not code:
        raise ValidationError(ErrorCode.OAUTH_FAILED, f"{client.name} sent no authorization code.")
    async with acting_as(session, workspace_id=pending.workspace_id, user_id=pending.user_id):
        # refuse early (before the platform is asked anything) when the starter lost the right
        await _acting_principal(session, pending, ip, user_agent)
    tokens = await oauth.exchange_code(client, settings, code=code, code_verifier=pending.code_verifier)
    profile = await oauth.read_profile(client, settings, tokens)
    pending_id = await park(redis, pending, tokens, profile, settings)
    return Consented(pending_id, client.platform, pending.workspace_id, profile)


async def park(
    redis: Redis, pending: PendingConnect, tokens: oauth.TokenSet, profile: oauth.Profile, settings: Settings
) -> str:
    """Keep the consent's result (tokens encrypted) under a new random pending id for a few minutes; that id."""
    pending_id = secrets.token_urlsafe(32)
    key_hash = hash_token(pending_id)  # Redis holds the id's hash only
    ttl = settings.social_connect_pending_ttl_s
    parked = ParkedConnect(pending.platform, pending.user_id, pending.workspace_id, profile, "", None,
                           tokens.expires_at, tokens.scopes, clock.now() + timedelta(seconds=ttl))
    parked = parked.sealed(key_hash, tokens, settings)
    if not await redis.set(PARKED_KEY_PREFIX + key_hash, parked.dumps(), ex=ttl, nx=True):  # pragma: no cover
        raise OAuthFailed(message="The connection could not be kept; please start again.")  # a 256-bit id collided
    return pending_id


async def complete_connect(
    session: AsyncSession, principal: Principal, pending_id: str, *, redis: Redis, settings: Settings | None = None
) -> SocialAccount:
    """Store the account a consent parked (socialAccountConnectComplete); a reconnect keeps its row.

    Only the user who started the connect, in the workspace they started it in, while they may
    manage accounts there. The pending id works once: it is used up by the first attempt, even a
    refused one (a forwarded link's parked tokens are discarded by the victim's own app)."""
    settings = settings or get_settings()
    workspace_id = principal.require(PERMISSION, needs_user=True)
    stale = ValidationError(ErrorCode.OAUTH_FAILED,
                            "This connection expired or was already finished; connect the account again.", "pending_id")
    if not pending_id or len(pending_id) > MAX_SECRET_LENGTH:
        raise stale
    key_hash = hash_token(pending_id)
    raw = await redis.getdel(PARKED_KEY_PREFIX + key_hash)
    if raw is None:
        raise stale
    try:
        parked = ParkedConnect.loads(raw)
    except (ValueError, KeyError, TypeError):
        raise stale from None
    if parked.expires_at <= clock.now():
        raise stale
    name = oauth.platform_name(parked.platform)
    if parked.user_id != principal.user_id:
        log.warning("social connect %s of user %s (workspace %s) refused: finished by user %s", key_hash[:12],
                    parked.user_id, parked.workspace_id, principal.user_id)
        raise PermissionDenied(
            ErrorCode.PERMISSION_DENIED,
            f"This {name} connection was started by another ClipFlow user, so it was not added and ClipFlow "
            f"discarded the access it was given. If you did not expect it, remove ClipFlow from the connected apps "
            f"in your {name} account settings.",
        )
    if parked.workspace_id != workspace_id:
        raise PermissionDenied(
            ErrorCode.PERMISSION_DENIED,
            f"This {name} connection was started in another workspace; connect the account again from the "
            "workspace it should belong to.",
        )
    try:
        tokens = parked.tokens(key_hash, settings)
    except DecryptionError:
        log.warning("social connect %s: the parked tokens do not decrypt", key_hash[:12])
        raise stale from None
    return await _store(session, principal, parked.platform, tokens, parked.profile, settings)


async def _store(
    session: AsyncSession, principal: Principal, platform: Platform, tokens: oauth.TokenSet, profile: oauth.Profile,
    settings: Settings,
) -> SocialAccount:
    assert principal.workspace_id is not None
    workspace_id = principal.workspace_id
    account = await repository.find_by_platform_user(session, workspace_id, platform.value, profile.platform_user_id, lock=True)
    reconnected = account is not None
    if account is None:
        await _plan_slot(session, workspace_id)
        new_id = await repository.insert_account(session, {
            "workspace_id": workspace_id, "platform": platform.value, "platform_user_id": profile.platform_user_id,
            "access_token": "",  # sealed below, once the row's id is known
        })
        if new_id is not None:
            account = await repository.get_account(session, workspace_id, new_id, lock=True)
        else:  # a concurrent callback for the same account inserted it first
            account = await repository.find_by_platform_user(
                session, workspace_id, platform.value, profile.platform_user_id, lock=True
            )
            reconnected = True
        if account is None:  # pragma: no cover - the row exists by now
            raise NotFound(ErrorCode.NOT_FOUND, "The account could not be stored.")
    elif account.status == SocialAccountStatus.DISCONNECTED:
        await _plan_slot(session, workspace_id)  # coming back takes a slot again

    values: dict[str, Any] = {
        "username": profile.username,
        "display_name": profile.display_name,
        "profile_image_url": profile.avatar_url,
        "account_type": profile.account_type,
        "follower_count": profile.follower_count,
        "platform_data": {**(account.platform_data or {}), **profile.platform_data},
        "status": SocialAccountStatus.ACTIVE.value,
        "last_error": None,
        "last_sync_at": clock.now(),
        **_token_values(account.id, tokens, platform, settings),
    }
    await repository.update_account(session, account, **values)
    await audit.record(
        session, principal, "social_account.reconnect" if reconnected else "social_account.connect",
        resource_type="social_account", resource_id=account.id,
        details={"platform": platform.value, "username": profile.username},
    )
    return account


# --- disconnect -----------------------------------------------------------------------------


async def disconnect(
    session: AsyncSession, principal: Principal, account_id: uuid.UUID, *, settings: Settings | None = None
) -> SocialAccount:
    """Revoke the grant at the platform where it offers that, then forget the tokens (status disconnected).

    The account row stays, with its posts and history; connecting it again revives it."""
    settings = settings or get_settings()
    workspace_id = principal.require(PERMISSION, needs_user=True)
    account = await repository.get_account(session, workspace_id, account_id, lock=True)
    if account is None:
        raise NotFound(ErrorCode.NOT_FOUND, "No such social account.", "id")
    if account.status == SocialAccountStatus.DISCONNECTED:
        return account
    revoked, problem = False, None
    name = oauth.platform_name(account.platform)
    client = oauth.get_client(account.platform, settings)
    if client is None:
        problem = f"{name} is not set up on this server"
    else:
        try:
            revoked = await oauth.revoke(
                client, access_token=_open(account, "access", settings), refresh_token=_open(account, "refresh", settings)
            )
        except PlatformUnavailable as exc:  # its message promises a retry; nothing retries a disconnect
            problem = exc.fact
        except DomainError as exc:
            problem = exc.message.rstrip(".")
        except DecryptionError:
            problem = "ClipFlow could not read the stored tokens"
    if problem:
        # The user asked to disconnect: do it here even when the platform cannot be told. Say so.
        problem = (f"{problem}, so ClipFlow's access was not revoked at {name}. Nothing will retry: ClipFlow deleted "
                   f"its copy of the tokens; the access ends when it expires at {name} or when the account's owner "
                   f"removes ClipFlow in the {name} settings.")
        log.warning("revoking social account %s at %s failed: %s", account.id, account.platform, problem)
    await repository.update_account(
        session, account, status=SocialAccountStatus.DISCONNECTED.value, access_token="", refresh_token=None,
        token_expires_at=None, last_error=None,
    )
    details: dict[str, Any] = {"platform": account.platform, "revoked": revoked}
    if problem:
        details["revoke_error"] = problem
    await audit.record(session, principal, "social_account.disconnect", resource_type="social_account",
                       resource_id=account.id, details=details)
    return account


# --- tokens for publishing ------------------------------------------------------------------


async def access_token(session: AsyncSession, account: SocialAccount, *, settings: Settings | None = None) -> str:
    """The account's access token, refreshed first when it expires within SOCIAL_TOKEN_REFRESH_AHEAD_S.

    Refreshing locks the row: a second caller waits, then finds the fresh token and uses it.
    Raises ``ReconnectRequired`` (the account is marked, flushed: commit it) when the grant is
    dead, ``PlatformUnavailable`` (nothing changed) when the platform cannot answer now."""
    settings = settings or get_settings()
    _usable(account)
    if _expires_soon(account.token_expires_at, settings.social_token_refresh_ahead_s):
        account = await _refresh_if_due(session, account, settings, ahead_s=settings.social_token_refresh_ahead_s)
    return await _plain_access(session, account, settings)


async def refresh_account(
    session: AsyncSession, account_id: uuid.UUID, workspace_id: uuid.UUID, *, ahead_s: int,
    settings: Settings | None = None,
) -> SocialAccount | None:
    """Refresh the account's tokens if they expire within ``ahead_s`` seconds (the cron); None when gone or not active."""
    settings = settings or get_settings()
    account = await repository.get_account(session, workspace_id, account_id)
    if account is None or account.status != SocialAccountStatus.ACTIVE:
        return None
    return await _refresh_if_due(session, account, settings, ahead_s=ahead_s)


def _usable(account: SocialAccount) -> None:
    if account.status == SocialAccountStatus.DISCONNECTED:
        raise Conflict(ErrorCode.RECONNECT_REQUIRED, "This account was disconnected; connect it again to publish.")
    if account.status != SocialAccountStatus.ACTIVE:
        raise ReconnectRequired(message=account.last_error or "This account needs to be connected again.")


async def _plain_access(session: AsyncSession, account: SocialAccount, settings: Settings) -> str:
    try:
        token = _open(account, "access", settings)
    except DecryptionError:
        token = None
    if not token:
        reason = "ClipFlow could not read the account's stored authorization; connect it again."
        await mark_reconnect_required(session, account, reason)
        raise ReconnectRequired(message=reason)
    return token


async def _refresh_if_due(session: AsyncSession, account: SocialAccount, settings: Settings, *, ahead_s: int) -> SocialAccount:
    locked = await repository.get_account(session, account.workspace_id, account.id, lock=True)
    if locked is None:
        raise NotFound(ErrorCode.NOT_FOUND, "No such social account.")
    _usable(locked)
    if not _expires_soon(locked.token_expires_at, ahead_s):
        return locked  # refreshed by someone else while we waited for the lock
    platform = Platform(locked.platform)
    client = oauth.get_client(platform, settings)
    if client is None:
        raise OAuthFailed(message=f"Refreshing {platform.value} tokens is not set up on this server.")
    try:
        current, refresh = _open(locked, "access", settings), _open(locked, "refresh", settings)
    except DecryptionError:
        current = refresh = None
    try:
        if current is None:
            raise ReconnectRequired(message="ClipFlow could not read the account's stored authorization; connect it again.")
        tokens = await oauth.refresh(client, settings, access_token=current, refresh_token=refresh)
    except ReconnectRequired as exc:
        await mark_reconnect_required(session, locked, exc.message)
        raise
    # one UPDATE: the new access token and (TikTok) the rotated refresh token land together
    await repository.update_account(session, locked, **_token_values(locked.id, tokens, platform, settings))
    return locked


async def mark_reconnect_required(session: AsyncSession, account: SocialAccount, reason: str) -> SocialAccount:
    """The grant is dead: say why on the account, emit social_account.reconnect_required, audit it."""
    if account.status == SocialAccountStatus.DISCONNECTED:
        return account
    if account.status == SocialAccountStatus.RECONNECT_REQUIRED and account.last_error == reason:
        return account  # already said
    await repository.update_account(session, account, status=SocialAccountStatus.RECONNECT_REQUIRED.value, last_error=reason)
    await emit(session, account.workspace_id, OutboxEventType.SOCIAL_ACCOUNT_RECONNECT_REQUIRED, {
        "social_account_id": str(account.id), "platform": account.platform, "username": account.username,
        "reason": reason,
    })
    await audit.record(session, Principal(workspace_id=account.workspace_id), "social_account.reconnect_required",
                       resource_type="social_account", resource_id=account.id, details={"reason": reason})
    return account
