"""Accounts: sign-up, sign-in (password and OAuth), sessions, email verification, password
reset and API keys. Services flush, never commit; a refused action writes nothing.

Bearer secrets (session tokens, verification tokens, API keys) are returned once and only
their SHA-256 is stored. Everything the user does is written to the audit trail.
"""

from __future__ import annotations

import asyncio

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from .. import clock
from .. import audit
from ..billing.plans import require_feature
from ..config import get_settings
from ..crypto import get_cipher
from ..errors import (
    AuthError,
    Conflict,
    ErrorCode,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from ..models import Account, ApiKey, User, Verification
from ..permissions import (
    SYSTEM_PERMISSIONS,
    check_permission_names,
    effective_permissions,
)
from ..rows import is_unique_violation
from ..workspaces import repository as workspaces_repository
from ..workspaces.repository import acting_as
from ..workspaces.service import create_workspace, drop_unproven_access, revoke_all_api_keys
from . import repository
from .oauth import OAuthProfile
from .passwords import check_strength, hash_password, needs_rehash, verify_password
from .principal import Principal
from .tokens import api_key_display_prefix, hash_token, new_api_key, new_token
from ..validation import check_list, clean_name, normalize_email

EMAIL_VERIFY = "email-verify"
PASSWORD_RESET = "password-reset"
MAX_PASSWORD_INPUT = 1024  # longer input is refused before hashing: no CPU bomb via log_in
MAX_API_KEY_RATE_LIMIT = 10_000_000
PENDING_VERIFICATIONS_SHOWN = 20


class EmailedToken(NamedTuple):
    """A token to email (never to return to the caller) and the address it goes to."""

    to: str
    token: str


def _personal_workspace_name(name: str) -> str:
    return f"{name[:80]}'s workspace"


async def _start_session(session: AsyncSession, user: User, *, ip: str | None, user_agent: str | None) -> str:
    token = new_token()
    await repository.add_session(
        session,
        user_id=user.id,
        token_hash=hash_token(token),
        ip_address=audit.valid_ip(ip),
        user_agent=user_agent[:1000] if user_agent else None,
        expires_at=clock.now() + timedelta(days=min(get_settings().session_ttl_days, get_settings().session_max_age_days)),
    )
    return token


async def _audit_user(
    session: AsyncSession,
    user_id: uuid.UUID,
    action: str,
    *,
    ip: str | None = None,
    user_agent: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """An entry in the user's own trail (no workspace)."""
    async with acting_as(session, workspace_id=None, user_id=user_id):
        await audit.record(
            session,
            Principal(user_id=user_id, ip_address=ip, user_agent=user_agent),
            action,
            resource_type="user",
            resource_id=user_id,
            details=details,
        )


async def _add_user(session: AsyncSession, **values: Any) -> User:
    try:
        async with session.begin_nested():
            return await repository.add_user(session, **values)
    except IntegrityError as exc:
        if is_unique_violation(exc, "uq_users_email"):
            raise Conflict(ErrorCode.EMAIL_TAKEN, "An account with this email already exists.", "email") from None
        raise


# -- password accounts -----------------------------------------------------------------------


async def sign_up(
    session: AsyncSession, *, email: str, password: str, name: str, ip: str | None = None, user_agent: str | None = None
) -> tuple[User, str]:
    """Create a user with a password and a personal workspace; returns the user and a session token."""
    email = normalize_email(email)
    name = clean_name(name)
    check_strength(password, email=email)
    if await repository.email_exists(session, email):
        raise Conflict(ErrorCode.EMAIL_TAKEN, "An account with this email already exists.", "email")
    user = await _add_user(session, email=email, name=name, password_hash=await asyncio.to_thread(hash_password, password), last_login_at=clock.now())
    await create_workspace(session, owner_id=user.id, name=_personal_workspace_name(name))
    token = await _start_session(session, user, ip=ip, user_agent=user_agent)
    await _audit_user(session, user.id, "user.signup", ip=ip, user_agent=user_agent, details={"method": "password"})
    return user, token


async def log_in(
    session: AsyncSession, *, email: str, password: str, ip: str | None = None, user_agent: str | None = None
) -> tuple[User, str]:
    """Check the password and open a session; INVALID_CREDENTIALS whatever was wrong."""
    wrong = AuthError(ErrorCode.INVALID_CREDENTIALS, "Wrong email or password.")
    if len(password or "") > MAX_PASSWORD_INPUT:
        raise wrong
    try:
        email = normalize_email(email)
    except ValidationError:
        await asyncio.to_thread(verify_password, None, password or "")
        raise wrong from None
    found = await repository.find_user_for_sign_in(session, email)
    if not await asyncio.to_thread(verify_password, found.password_hash if found else None, password or ""):
        raise wrong
    assert found is not None and found.password_hash is not None
    await repository.as_user(session, found.id)
    user = await repository.get_user(session, found.id)
    if user is None:
        raise wrong
    changes: dict[str, Any] = {"last_login_at": clock.now()}
    if needs_rehash(found.password_hash):
        changes["password_hash"] = await asyncio.to_thread(hash_password, password)
    await repository.set_user_fields(session, user, **changes)
    token = await _start_session(session, user, ip=ip, user_agent=user_agent)
    await _audit_user(session, user.id, "user.login", ip=ip, user_agent=user_agent, details={"method": "password"})
    return user, token


async def log_out(session: AsyncSession, principal: Principal, *, token: str | None) -> None:
    """End the caller's session with its token (nothing happens for an unknown token); API keys are revoked instead."""
    if not token or principal.session_id is None:
        raise ValidationError(ErrorCode.INVALID, "Sign out with the session token (API keys are revoked instead).")
    ended = await repository.delete_session_by_hash(session, hash_token(token))
    if ended is not None:
        await _audit_user(session, ended.user_id, "user.logout")


async def _issue_verification(
    session: AsyncSession, *, purpose: str, user: User, ttl: timedelta, bind_email: bool
) -> str:
    prefix = f"{purpose}:{user.id}:"
    await repository.delete_verifications(session, identifier_prefix=prefix)  # only the newest link works
    token = new_token()
    await repository.add_verification(
        session,
        identifier=prefix + (user.email if bind_email else ""),
        value=hash_token(token),
        expires_at=clock.now() + ttl,
    )
    return token


async def _live_verification(session: AsyncSession, *, purpose: str, token: str) -> tuple[uuid.UUID, str, uuid.UUID]:
    """(user id, bound value, row id) of a live token for ``purpose``; raises TOKEN_INVALID / TOKEN_EXPIRED."""
    invalid = ValidationError(
        ErrorCode.TOKEN_INVALID, "This link is not valid (it may have been used already).", "token"
    )
    row = await repository.get_verification_by_value(session, hash_token(token or ""))
    if row is None:
        raise invalid
    kind, _, rest = row.identifier.partition(":")
    user_part, _, bound = rest.partition(":")
    if kind != purpose:
        raise invalid
    if row.expires_at <= clock.now():
        raise ValidationError(ErrorCode.TOKEN_EXPIRED, "This link has expired; ask for a new one.", "token")
    try:
        user_id = uuid.UUID(user_part)
    except ValueError:
        raise invalid from None
    return user_id, bound, row.id


async def request_email_verification(session: AsyncSession, *, user_id: uuid.UUID | None) -> EmailedToken:
    """A token proving the user reads their current address, and that address (the caller emails it)."""
    user = None
    if user_id is not None:
        await repository.as_user(session, user_id)
        user = await repository.get_user(session, user_id)
    if user is None:
        raise NotFound(ErrorCode.NOT_FOUND, "No such user.")
    if user.email_verified:
        raise Conflict(ErrorCode.ALREADY_VERIFIED, "This email address is already verified.")
    token = await _issue_verification(
        session,
        purpose=EMAIL_VERIFY,
        user=user,
        ttl=timedelta(hours=get_settings().email_verification_ttl_hours),
        bind_email=True,
    )
    return EmailedToken(to=user.email, token=token)


async def pending_verifications(session: AsyncSession, *, user_id: uuid.UUID) -> list[Verification]:
    """The user's unexpired email verifications and password resets, newest first (at most 20)."""
    return await repository.list_live_verifications(session, user_id, clock.now(), limit=PENDING_VERIFICATIONS_SHOWN)


async def verify_email(session: AsyncSession, *, token: str) -> User:
    """Mark the address verified; the token works once, and only for the address it was sent to."""
    user_id, email, row_id = await _live_verification(session, purpose=EMAIL_VERIFY, token=token)
    user = await repository.get_user(session, user_id)
    if user is None or user.email != email:
        raise ValidationError(
            ErrorCode.TOKEN_INVALID, "This link is not valid (it may have been used already).", "token"
        )
    await repository.delete_verification(session, row_id)
    await repository.set_user_fields(session, user, email_verified=True)
    await _audit_user(session, user.id, "user.email_verified", details={"email": email})
    return user


async def _user_by_address(session: AsyncSession, email: str) -> User | None:
    """The live user with this address, who becomes the session's user (RLS), or None."""
    found = await repository.find_user_for_sign_in(session, email)
    if found is None:
        return None
    await repository.as_user(session, found.id)
    return await repository.get_user(session, found.id)


async def request_password_reset(session: AsyncSession, *, email: str) -> EmailedToken | None:
    """A reset token to email to the address's user, or None when there is none (answer the same either way)."""
    try:
        email = normalize_email(email)
    except ValidationError:
        return None
    user = await _user_by_address(session, email)
    if user is None:
        return None
    token = await _issue_verification(
        session,
        purpose=PASSWORD_RESET,
        user=user,
        ttl=timedelta(minutes=get_settings().password_reset_ttl_minutes),
        bind_email=False,
    )
    await _audit_user(session, user.id, "user.password_reset_requested")
    return EmailedToken(to=user.email, token=token)


async def reset_password(session: AsyncSession, *, token: str, new_password: str) -> User:
    """Set a new password from a reset token, and sign the user out everywhere."""
    user_id, _, _row_id = await _live_verification(session, purpose=PASSWORD_RESET, token=token)
    user = await repository.get_user(session, user_id)
    if user is None:
        raise ValidationError(
            ErrorCode.TOKEN_INVALID, "This link is not valid (it may have been used already).", "token"
        )
    check_strength(new_password, email=user.email, field="new_password")
    proven_now = not user.email_verified
    # The reset link reached the inbox, which proves the address too.
    await repository.set_user_fields(session, user, password_hash=await asyncio.to_thread(hash_password, new_password), email_verified=True)
    await repository.delete_verifications(session, identifier_prefix=f"{PASSWORD_RESET}:{user.id}:")
    ended = await _end_access(session, user.id, drop_unproven=proven_now)
    await _audit_user(session, user.id, "user.password_reset", details=ended)
    return user


async def _end_access(session: AsyncSession, user_id: uuid.UUID, *, drop_unproven: bool) -> dict[str, int]:
    """Whoever held the password may not be whoever holds the inbox: sign out everywhere and
    revoke every key; when the address is proven only now, also undo what was done under it."""
    async with acting_as(session, workspace_id=None, user_id=user_id):
        ended = {"sessions_ended": await repository.delete_user_sessions(session, user_id)}
    ended["api_keys_revoked"] = await revoke_all_api_keys(session, user_id=user_id)
    if drop_unproven:
        ended.update(await drop_unproven_access(session, user_id=user_id))
    return ended


# -- OAuth -----------------------------------------------------------------------------------


def _expiry(token: Mapping[str, Any]) -> datetime | None:
    if token.get("expires_at"):
        return datetime.fromtimestamp(int(token["expires_at"]), UTC)
    if token.get("expires_in"):
        return clock.now() + timedelta(seconds=int(token["expires_in"]))
    return None


async def _store_provider_tokens(session: AsyncSession, account: Account, token: Mapping[str, Any]) -> None:
    """Provider tokens at rest: AES-256-GCM bound to the row and column."""
    cipher = get_cipher()

    def seal(column: str, value: str | None) -> str | None:
        return cipher.encrypt(value, associated_data=f"accounts.{column}:{account.id}") if value else None

    account.access_token = seal("access_token", token.get("access_token"))
    if token.get("refresh_token"):  # providers send it on first consent only: keep the old one otherwise
        account.refresh_token = seal("refresh_token", token.get("refresh_token"))
    if token.get("id_token"):
        account.id_token = seal("id_token", token.get("id_token"))
    account.access_token_expires_at = _expiry(token)
    account.scope = token.get("scope") or account.scope
    await session.flush()


def _provider_column(provider: str) -> str:
    return {"google": "google_id", "github": "github_id"}[provider]


async def sign_in_with_oauth(
    session: AsyncSession,
    *,
    profile: OAuthProfile,
    token: Mapping[str, Any],
    ip: str | None = None,
    user_agent: str | None = None,
) -> tuple[User, str, bool]:
    """Find the user by provider account, then provider id, then verified email; or create one.

    Returns (user, session token, created). Linking to an existing account whose email was
    never verified drops its password, sessions, API keys, the workspaces it joined, the
    people it brought in and its invitations: whoever registered it did not prove they own
    the address, the provider just did.
    """
    provider, column = profile.provider, _provider_column(profile.provider)
    created = False
    account = await repository.get_account(session, provider, profile.provider_user_id)
    if account is not None:
        user = await repository.get_user(session, account.user_id)
        if user is None:
            raise AuthError(ErrorCode.OAUTH_FAILED, "This account has been closed.")
    else:
        linked_id = await repository.find_user_id_by_provider(session, provider, profile.provider_user_id)
        user = None
        if linked_id is not None:
            await repository.as_user(session, linked_id)
            user = await repository.get_user(session, linked_id)
        if user is None:
            if not profile.email or not profile.email_verified:
                raise AuthError(
                    ErrorCode.EMAIL_NOT_VERIFIED,
                    f"Your {provider.title()} account has no verified email address; verify one there and try again.",
                )
            try:
                email = normalize_email(profile.email)
            except ValidationError:
                raise AuthError(ErrorCode.OAUTH_FAILED, f"{provider.title()} sent an unusable email address.") from None
            user = await _user_by_address(session, email)
            if user is None:
                if await repository.email_exists(session, email):
                    raise AuthError(ErrorCode.OAUTH_FAILED, "This account has been closed.")
                name = clean_name(profile.name or email.partition("@")[0])
                user = await _add_user(
                    session,
                    email=email,
                    name=name,
                    email_verified=True,
                    avatar_url=profile.avatar_url,
                    **{column: profile.provider_user_id},
                )
                await create_workspace(session, owner_id=user.id, name=_personal_workspace_name(name))
                created = True
            else:
                if getattr(user, column) not in (None, profile.provider_user_id):
                    raise AuthError(
                        ErrorCode.OAUTH_FAILED,
                        f"This email is already linked to another {provider.title()} account.",
                    )
                if not user.email_verified:
                    await repository.set_user_fields(session, user, password_hash=None, email_verified=True)
                    taken_over = await _end_access(session, user.id, drop_unproven=True)
                    await _audit_user(session, user.id, "user.unverified_account_claimed",
                                      details={"method": provider, **taken_over})
        account = await repository.add_account(
            session, id=uuid.uuid4(), provider_id=provider, account_id=profile.provider_user_id, user_id=user.id
        )
    changes: dict[str, Any] = {"last_login_at": clock.now()}
    if getattr(user, column) is None:
        changes[column] = profile.provider_user_id
    if not user.avatar_url and profile.avatar_url:
        changes["avatar_url"] = profile.avatar_url
    await repository.set_user_fields(session, user, **changes)
    await _store_provider_tokens(session, account, token)
    session_token = await _start_session(session, user, ip=ip, user_agent=user_agent)
    await _audit_user(
        session,
        user.id,
        "user.signup" if created else "user.login",
        ip=ip,
        user_agent=user_agent,
        details={"method": provider},
    )
    return user, session_token, created


# -- API keys --------------------------------------------------------------------------------


def _key_permissions(principal: Principal, member: Any) -> frozenset[str]:
    """What a key made by ``principal`` may be given in ``member``'s workspace: the member's
    permissions now, narrowed by the calling key's scopes when a key is calling."""
    held = effective_permissions(member.role, member.custom_permissions) if member is not None else frozenset()
    if principal.api_key_id is not None:
        held &= principal.permissions
    return held - SYSTEM_PERMISSIONS


async def _require_verified(session: AsyncSession, user_id: uuid.UUID | None, action: str) -> User:
    user = None
    if user_id is not None:
        async with acting_as(session, workspace_id=None, user_id=user_id):
            user = await repository.get_user(session, user_id)
    if user is None:
        raise NotFound(ErrorCode.NOT_FOUND, "No such user.")
    if not user.email_verified:
        # Until the address is proven, the account may belong to someone squatting it.
        raise Conflict(ErrorCode.EMAIL_NOT_VERIFIED, f"Verify your email address before {action}.")
    return user


async def create_api_key(
    session: AsyncSession,
    principal: Principal,
    *,
    personal: bool = False,
    name: str,
    scopes: list[str],
    expires_at: datetime | None = None,
    rate_limit: int | None = None,
) -> tuple[ApiKey, str]:
    """A key for the principal's workspace, or (``personal``) one that acts in any of the user's workspaces.

    Workspace keys need ``api_key:manage`` there. A key's scopes never exceed what its creator
    holds in the workspace they act in (a calling key: its own scopes within the role). An API
    key never makes a personal key, and makes workspace keys only with ``api_key:manage``.
    Returns the row and the key, which is shown once and never stored.
    """
    user_id = principal.user_id
    workspace_id = None if personal else principal.workspace_id
    name = clean_name(name)
    check_list(scopes, "scopes")
    try:
        scopes = check_permission_names(scopes or [], field="scopes")
    except ValidationError as exc:
        raise ValidationError(ErrorCode.INVALID_SCOPE, exc.message, "scopes") from None
    if not scopes:
        raise ValidationError(ErrorCode.REQUIRED, "Choose at least one scope.", "scopes")
    if SYSTEM_PERMISSIONS.intersection(scopes):
        raise ValidationError(ErrorCode.INVALID_SCOPE, "That scope is not available to API keys.", "scopes")
    now = clock.now()
    if expires_at is not None and (expires_at.tzinfo is None or expires_at <= now):
        raise ValidationError(
            ErrorCode.INVALID, "The expiry must be a time in the future (with a time zone).", "expires_at"
        )
    if rate_limit is not None and not 1 <= rate_limit <= MAX_API_KEY_RATE_LIMIT:
        raise ValidationError(
            ErrorCode.INVALID, f"The daily limit must be 1 to {MAX_API_KEY_RATE_LIMIT}.", "rate_limit"
        )
    if principal.api_key_id is not None:
        if personal:
            # A personal key reaches every workspace of the user: far beyond the calling key.
            raise PermissionDenied(ErrorCode.PERMISSION_DENIED, "An API key cannot create personal keys.")
        if not principal.can("api_key:manage"):
            raise PermissionDenied(ErrorCode.PERMISSION_DENIED, "This API key needs the api_key:manage scope.")
    if principal.workspace_id is None:
        raise PermissionDenied(ErrorCode.PERMISSION_DENIED, "Choose a workspace to act in (the X-Workspace-Id header).")
    await _require_verified(session, user_id, "creating API keys")

    async with acting_as(session, workspace_id=principal.workspace_id, user_id=user_id):
        member = await workspaces_repository.get_active_membership(session, principal.workspace_id, user_id)
        if member is None:
            raise PermissionDenied(ErrorCode.NOT_A_MEMBER, "You are not a member of this workspace.")
        held = _key_permissions(principal, member)
        if not personal and "api_key:manage" not in held:
            raise PermissionDenied(
                ErrorCode.PERMISSION_DENIED, "You need the api_key:manage permission in this workspace."
            )
        beyond = [s for s in scopes if s not in held]
        if beyond:
            raise ValidationError(
                ErrorCode.INVALID_SCOPE, f"You cannot give a key {beyond[0]}, which you do not hold.", "scopes"
            )
        # a personal key too: it would act here, and is refused here when used anyway
        await require_feature(session, principal.workspace_id, "api_access")

    async with acting_as(session, workspace_id=workspace_id, user_id=user_id):
        secret = new_api_key()
        values: dict[str, Any] = {
            "user_id": user_id,
            "workspace_id": workspace_id,
            "name": name,
            "key_hash": hash_token(secret),
            "key_prefix": api_key_display_prefix(secret),
            "scopes": scopes,
            "expires_at": expires_at,
        }
        if rate_limit is not None:
            values["rate_limit"] = rate_limit
        key = await repository.add_api_key(session, **values)
        await audit.record(
            session,
            Principal(user_id=user_id, workspace_id=workspace_id, api_key_id=principal.api_key_id,
                      ip_address=principal.ip_address, user_agent=principal.user_agent),
            "api_key.create",
            resource_type="api_key",
            resource_id=key.id,
            details={"name": name, "scopes": scopes},
        )
    return key, secret


def require_key_listing(principal: Principal) -> None:
    """An API key lists keys only with ``api_key:manage`` (a session always lists its own)."""
    if principal.api_key_id is not None and not principal.can("api_key:manage"):
        raise PermissionDenied(ErrorCode.PERMISSION_DENIED, "This API key needs the api_key:manage scope to list keys.")


async def revoke_api_key(session: AsyncSession, principal: Principal, *, key_id: uuid.UUID) -> ApiKey:
    """Revoke a key: its creator may, and so may anyone with ``api_key:manage`` in its workspace.

    The key is looked up in the principal's workspace (and, for a session, the user's
    personal keys). An API key needs ``api_key:manage`` and reaches only its workspace's keys.
    Revoking a revoked key returns it unchanged.
    """
    user_id = principal.user_id
    by_key = principal.api_key_id is not None
    if by_key and not principal.can("api_key:manage"):
        raise PermissionDenied(ErrorCode.PERMISSION_DENIED, "This API key needs the api_key:manage scope.")
    async with acting_as(session, workspace_id=principal.workspace_id, user_id=user_id):
        key = await repository.get_api_key(session, key_id, for_update=True)
        if key is None or (by_key and (key.workspace_id is None or key.workspace_id != principal.workspace_id)):
            raise NotFound(ErrorCode.NOT_FOUND, "No such API key.", "key_id")
        if key.user_id != user_id:
            member = (
                await workspaces_repository.get_active_membership(session, key.workspace_id, user_id)
                if key.workspace_id is not None
                else None
            )
            if member is None or "api_key:manage" not in _key_permissions(principal, member):
                raise PermissionDenied(
                    ErrorCode.PERMISSION_DENIED, "You need the api_key:manage permission to revoke this key."
                )
        if key.revoked_at is None:
            key.revoked_at = clock.now()
            await session.flush()
            await audit.record(
                session,
                Principal(user_id=user_id, workspace_id=key.workspace_id, api_key_id=principal.api_key_id),
                "api_key.revoke",
                resource_type="api_key",
                resource_id=key.id,
                details={"name": key.name},
            )
    return key
