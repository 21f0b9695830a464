"""OAuth 2 for connecting social accounts: YouTube (Google), TikTok (Login Kit v2), Instagram.

The authorization-code flow over httpx, one adapter per platform behind the same functions
(``authorization_url``, ``exchange_code``, ``refresh``, ``revoke``, ``read_profile``).
Every endpoint is a setting, so tests and staging run the same code against local servers.

What the platforms document, and what this follows:
- Google: PKCE (S256), ``access_type=offline`` + ``prompt=consent`` so a reconnect gets a
  refresh token again; refresh tokens do not rotate; ``/revoke`` ends the grant.
- TikTok Login Kit for Web: no PKCE (``code_verifier`` is for mobile and desktop apps only);
  scopes comma-separated; every refresh returns a new refresh token and retires the old one
  (it must be saved with the new access token); ``/v2/oauth/revoke/``.
- Instagram API with Instagram Login: no PKCE; the code gives a short-lived token, exchanged
  at once for a long-lived one (60 days, ``ig_exchange_token``), refreshed with
  ``ig_refresh_token`` (the token refreshes itself: there is no refresh token); no revoke
  endpoint. Only professional (business or creator) accounts can publish.

Failures are classified once, here: a dead grant (``invalid_grant``, a revoked or expired
token) is ``ReconnectRequired``; the network, a 5xx or a 429 is ``PlatformUnavailable``
(retry later, never disconnect); anything else is ``OAuthFailed``.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx

from .. import clock
from ..config import Settings
from ..errors import Conflict, DomainError, ErrorCode, ValidationError
from ..models.enums import Platform

log = logging.getLogger(__name__)

HTTP_TIMEOUT_SECONDS = 15.0
CONNECTABLE = (Platform.YOUTUBE, Platform.TIKTOK, Platform.INSTAGRAM)
PLATFORM_NAMES = {Platform.YOUTUBE: "YouTube", Platform.TIKTOK: "TikTok", Platform.INSTAGRAM: "Instagram"}

YOUTUBE_SCOPES = (
    "https://www.googleapis.com/auth/youtube.upload",
    "https://www.googleapis.com/auth/youtube.readonly",
)
TIKTOK_SCOPES = ("user.info.basic", "user.info.profile", "user.info.stats", "video.publish", "video.list")
INSTAGRAM_SCOPES = (
    "instagram_business_basic",
    "instagram_business_content_publish",
    "instagram_business_manage_comments",
)
TIKTOK_USER_FIELDS = "open_id,union_id,avatar_url,display_name,username,follower_count"
INSTAGRAM_PROFILE_FIELDS = "id,user_id,username,name,account_type,profile_picture_url,followers_count"


# --- errors ---------------------------------------------------------------------------------


class ReconnectRequired(Conflict):
    """The platform no longer honours the grant (revoked, expired, reused): the user must connect again."""

    default_code = ErrorCode.RECONNECT_REQUIRED


class PlatformUnavailable(DomainError):
    """The platform could not be reached or asked us to wait (network, 5xx, 429): retry later.

    Never a reason to disconnect an account. ``retry_after`` is the platform's hint in seconds;
    ``fact`` says what happened without the promise to retry that ``message`` makes (for callers
    that do not retry, such as a disconnect's revoke)."""

    default_code = ErrorCode.PLATFORM_UNAVAILABLE
    retryable = True

    def __init__(self, code: str | None = None, message: str = "", field: str | None = None, *,
                 retry_after: float | None = None, fact: str | None = None) -> None:
        super().__init__(code, message, field)
        self.retry_after = retry_after
        self.fact = fact or self.message


class OAuthFailed(DomainError):
    """The platform refused for another reason (a misconfigured app, a malformed answer)."""

    default_code = ErrorCode.OAUTH_FAILED


# --- data -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlatformClient:
    """One platform's OAuth configuration (from settings)."""

    platform: Platform
    client_id: str
    client_secret: str
    authorize_url: str
    token_url: str
    revoke_url: str | None
    scopes: tuple[str, ...]
    scope_separator: str
    pkce: bool

    @property
    def name(self) -> str:
        return PLATFORM_NAMES[self.platform]


@dataclass(frozen=True)
class TokenSet:
    """What a token endpoint granted. ``refresh_token`` None: the platform sent none (keep the old one)."""

    access_token: str
    refresh_token: str | None = None
    expires_at: datetime | None = None
    scopes: list[str] | None = None
    platform_user_id: str | None = None  # TikTok's open_id, Instagram's user_id


@dataclass(frozen=True)
class Profile:
    """Who the connected account is on the platform."""

    platform_user_id: str
    username: str | None
    display_name: str | None
    avatar_url: str | None
    account_type: str | None
    follower_count: int | None
    platform_data: dict[str, Any] = field(default_factory=dict)  # never a secret


# --- configuration --------------------------------------------------------------------------


def get_client(platform: str | Platform, settings: Settings) -> PlatformClient | None:
    """The platform's OAuth configuration, or None when it is not configured (or not connectable)."""
    s = settings
    if platform == Platform.YOUTUBE and s.youtube_client_id and s.youtube_client_secret:
        return PlatformClient(Platform.YOUTUBE, s.youtube_client_id, s.youtube_client_secret,
                              s.youtube_oauth_authorize_url, s.youtube_oauth_token_url, s.google_oauth_revoke_url,
                              YOUTUBE_SCOPES, " ", pkce=True)
    if platform == Platform.TIKTOK and s.tiktok_client_key and s.tiktok_client_secret:
        return PlatformClient(Platform.TIKTOK, s.tiktok_client_key, s.tiktok_client_secret,
                              s.tiktok_oauth_authorize_url, s.tiktok_oauth_token_url, s.tiktok_oauth_revoke_url,
                              TIKTOK_SCOPES, ",", pkce=False)
    if platform == Platform.INSTAGRAM and s.instagram_app_id and s.instagram_app_secret:
        return PlatformClient(Platform.INSTAGRAM, s.instagram_app_id, s.instagram_app_secret,
                              s.instagram_oauth_authorize_url, s.instagram_oauth_token_url, None,
                              INSTAGRAM_SCOPES, ",", pkce=False)
    return None


def platform_name(platform: str) -> str:
    """The platform's name as its users write it ("TikTok"); the value title-cased for one not listed."""
    return next((name for p, name in PLATFORM_NAMES.items() if p.value == platform), platform.title())


def callback_url(settings: Settings, platform: str) -> str:
    return f"{settings.public_base_url.rstrip('/')}/oauth/social/{platform}/callback"


def code_challenge(verifier: str) -> str:
    """PKCE S256: base64url(sha256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorization_url(client: PlatformClient, settings: Settings, *, state: str, code_verifier: str | None) -> str:
    """The consent page to send the user to."""
    redirect_uri = callback_url(settings, client.platform.value)
    scope = client.scope_separator.join(client.scopes)
    params: dict[str, str]
    if client.platform == Platform.TIKTOK:
        params = {"client_key": client.client_id, "response_type": "code", "scope": scope,
                  "redirect_uri": redirect_uri, "state": state}
    else:
        params = {"client_id": client.client_id, "response_type": "code", "scope": scope,
                  "redirect_uri": redirect_uri, "state": state}
    if client.platform == Platform.YOUTUBE:
        # offline: a refresh token; consent: one again on every reconnect (Google sends it only then)
        params.update({"access_type": "offline", "prompt": "consent", "include_granted_scopes": "true"})
    if client.pkce:
        if not code_verifier:
            raise ValueError(f"{client.name} needs a PKCE code verifier")
        params.update({"code_challenge": code_challenge(code_verifier), "code_challenge_method": "S256"})
    separator = "&" if "?" in client.authorize_url else "?"
    return f"{client.authorize_url}{separator}{urlencode(params)}"


# --- HTTP and classification ----------------------------------------------------------------


def _http() -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=HTTP_TIMEOUT_SECONDS, follow_redirects=False)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


_DEAD_GRANT_CODES = frozenset({"invalid_grant", "access_token_invalid", "invalid_token", "token_revoked",
                               "access_token_expired", "refresh_token_invalid", "refresh_token_expired"})


def _error_of(body: dict[str, Any]) -> tuple[str | None, str | None, int | None]:
    """(code, description, Meta's numeric code) from any of the three platforms' error shapes."""
    error = body.get("error")
    if isinstance(error, dict):  # TikTok's envelope {"error": {"code": "ok"}} or Meta's {"error": {...}}
        code = error.get("code")
        if code == "ok":
            return None, None, None
        numeric = code if isinstance(code, int) else None
        text = error.get("error_user_msg") or error.get("message")
        return (str(code) if not isinstance(code, int) else error.get("type")), text, numeric
    if isinstance(error, str):  # RFC 6749: Google, TikTok's token endpoint
        return error, body.get("error_description"), None
    if body.get("error_type"):  # Instagram's token endpoint
        return str(body.get("error_type")), body.get("error_message"), body.get("code") if isinstance(body.get("code"), int) else None
    return None, None, None


def _check(client_name: str, response: httpx.Response, body: dict[str, Any], *, what: str) -> None:
    """Raise the classified error when ``response`` is not a success."""
    code, description, numeric = _error_of(body)
    if response.status_code == 429 or code == "rate_limit_exceeded" or numeric in (4, 17, 32, 613):
        raise PlatformUnavailable(message=f"{client_name} asked us to slow down; we will try again shortly.",
                                  retry_after=_retry_after(response),
                                  fact=f"{client_name} asked us to slow down (HTTP {response.status_code})")
    if response.status_code >= 500:
        raise PlatformUnavailable(message=f"{client_name} is not answering properly right now; we will try again.",
                                  retry_after=_retry_after(response),
                                  fact=f"{client_name} answered with an error (HTTP {response.status_code})")
    if response.is_success and code is None:
        return
    if code in _DEAD_GRANT_CODES or numeric == 190 or response.status_code == 401 and code != "invalid_client":
        reason = description or "the authorization was revoked or has expired"
        raise ReconnectRequired(message=f"{client_name} no longer accepts ClipFlow's access ({reason}); "
                                        "connect the account again.")
    log.warning("%s %s refused: HTTP %s %s %s", client_name, what, response.status_code, code, description)
    raise OAuthFailed(message=f"{client_name} refused the request ({what}: {code or response.status_code}).")


async def _send(client_name: str, method: str, url: str, *, what: str, **kwargs: Any) -> dict[str, Any]:
    try:
        async with _http() as http:
            response = await http.request(method, url, **kwargs)
    except httpx.HTTPError as exc:
        raise PlatformUnavailable(message=f"{client_name} could not be reached; we will try again.",
                                  fact=f"{client_name} could not be reached") from exc
    body = _json(response)
    _check(client_name, response, body, what=what)
    return body


def _expires_at(expires_in: Any) -> datetime | None:
    try:
        seconds = int(expires_in)
    except (TypeError, ValueError):
        return None
    return clock.now() + timedelta(seconds=seconds)


def _scopes(value: Any, separator: str) -> list[str] | None:
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, str) and value.strip():
        return [s for s in value.replace(",", " ").split() if s] if separator == "," else value.split()
    return None


def _token_set(client: PlatformClient, body: dict[str, Any]) -> TokenSet:
    data = body.get("data")
    if isinstance(data, list) and data and isinstance(data[0], dict):  # Instagram's code exchange
        body = data[0]
    token = body.get("access_token")
    if not isinstance(token, str) or not token:
        raise OAuthFailed(message=f"{client.name} sent no access token.")
    refresh = body.get("refresh_token")
    user = body.get("open_id") or body.get("user_id")
    return TokenSet(
        access_token=token,
        refresh_token=refresh if isinstance(refresh, str) and refresh else None,
        expires_at=_expires_at(body.get("expires_in")),
        scopes=_scopes(body.get("scope") or body.get("permissions"), client.scope_separator),
        platform_user_id=str(user) if user is not None else None,
    )


# --- the flow -------------------------------------------------------------------------------


async def exchange_code(client: PlatformClient, settings: Settings, *, code: str, code_verifier: str | None) -> TokenSet:
    """Trade the authorization code for tokens (Instagram: then for a long-lived token)."""
    redirect_uri = callback_url(settings, client.platform.value)
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
            "client_secret": client.client_secret}
    form["client_key" if client.platform == Platform.TIKTOK else "client_id"] = client.client_id
    if client.pkce and code_verifier:
        form["code_verifier"] = code_verifier
    body = await _send(client.name, "POST", client.token_url, what="code exchange", data=form,
                       headers={"Accept": "application/json"})
    tokens = _token_set(client, body)
    if client.platform != Platform.INSTAGRAM:
        return tokens
    # The code gives a one-hour token; publishing needs the 60-day one.
    long_lived = await _send(client.name, "GET", settings.instagram_oauth_exchange_url, what="long-lived token",
                             params={"grant_type": "ig_exchange_token", "client_secret": client.client_secret,
                                     "access_token": tokens.access_token})
    exchanged = _token_set(client, long_lived)
    return TokenSet(access_token=exchanged.access_token, refresh_token=None, expires_at=exchanged.expires_at,
                    scopes=tokens.scopes, platform_user_id=tokens.platform_user_id)


async def refresh(client: PlatformClient, settings: Settings, *, access_token: str, refresh_token: str | None) -> TokenSet:
    """New tokens from the grant. TikTok returns a new refresh token every time (the old one dies);
    Google keeps its refresh token; Instagram refreshes the long-lived access token itself."""
    if client.platform == Platform.INSTAGRAM:
        body = await _send(client.name, "GET", settings.instagram_oauth_refresh_url, what="token refresh",
                           params={"grant_type": "ig_refresh_token", "access_token": access_token})
        return _token_set(client, body)
    if not refresh_token:
        raise ReconnectRequired(message=f"ClipFlow holds no refresh token for this {client.name} account; "
                                        "connect it again.")
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_secret": client.client_secret}
    form["client_key" if client.platform == Platform.TIKTOK else "client_id"] = client.client_id
    body = await _send(client.name, "POST", client.token_url, what="token refresh", data=form,
                       headers={"Accept": "application/json"})
    return _token_set(client, body)


async def revoke(client: PlatformClient, *, access_token: str | None, refresh_token: str | None) -> bool:
    """End the grant at the platform where it offers that; False when it offers nothing (Instagram).

    A token the platform already forgot counts as revoked."""
    if client.revoke_url is None:
        return False
    if client.platform == Platform.YOUTUBE:
        # revoking the refresh token ends the whole grant, its access tokens included
        form = {"token": refresh_token or access_token or ""}
    else:
        form = {"client_key": client.client_id, "client_secret": client.client_secret, "token": access_token or ""}
    try:
        await _send(client.name, "POST", client.revoke_url, what="revoke", data=form)
    except ReconnectRequired:
        pass  # already dead there (Google answers invalid_token for a token it no longer knows)
    return True


async def read_profile(client: PlatformClient, settings: Settings, tokens: TokenSet) -> Profile:
    """The account behind ``tokens``; Instagram personal accounts are refused (UNSUPPORTED_ACCOUNT)."""
    headers = {"Authorization": f"Bearer {tokens.access_token}", "Accept": "application/json"}
    if client.platform == Platform.YOUTUBE:
        body = await _send(client.name, "GET", f"{settings.youtube_api_url.rstrip('/')}/channels", what="profile",
                           params={"part": "snippet,statistics,contentDetails", "mine": "true"}, headers=headers)
        return _youtube_profile(body)
    if client.platform == Platform.TIKTOK:
        body = await _send(client.name, "GET", f"{settings.tiktok_api_url.rstrip('/')}/v2/user/info/", what="profile",
                           params={"fields": TIKTOK_USER_FIELDS}, headers=headers)
        return _tiktok_profile(body, tokens)
    body = await _send(client.name, "GET", f"{settings.instagram_api_url.rstrip('/')}/me", what="profile",
                       params={"fields": INSTAGRAM_PROFILE_FIELDS}, headers=headers)
    return _instagram_profile(body, tokens)


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _youtube_profile(body: dict[str, Any]) -> Profile:
    items = body.get("items") or []
    if not items:
        raise ValidationError(ErrorCode.UNSUPPORTED_ACCOUNT,
                              "This Google account has no YouTube channel; create one on YouTube and connect again.")
    channel = items[0]
    snippet = channel.get("snippet") or {}
    stats = channel.get("statistics") or {}
    thumbs = snippet.get("thumbnails") or {}
    avatar = next((thumbs[k]["url"] for k in ("high", "medium", "default") if isinstance(thumbs.get(k), dict)), None)
    uploads = ((channel.get("contentDetails") or {}).get("relatedPlaylists") or {}).get("uploads")
    return Profile(
        platform_user_id=str(channel["id"]),
        username=snippet.get("customUrl"),
        display_name=snippet.get("title"),
        avatar_url=avatar,
        account_type="creator",
        follower_count=None if stats.get("hiddenSubscriberCount") else _int(stats.get("subscriberCount")),
        platform_data={"channel_id": str(channel["id"]), **({"uploads_playlist_id": uploads} if uploads else {})},
    )


def _tiktok_profile(body: dict[str, Any], tokens: TokenSet) -> Profile:
    user = (body.get("data") or {}).get("user") or {}
    open_id = user.get("open_id") or tokens.platform_user_id
    if not open_id:
        raise OAuthFailed(message="TikTok did not say which account was connected.")
    return Profile(
        platform_user_id=str(open_id),
        username=user.get("username"),
        display_name=user.get("display_name"),
        avatar_url=user.get("avatar_url"),
        account_type=None,  # TikTok's API does not tell personal from business accounts
        follower_count=_int(user.get("follower_count")),
        platform_data={k: user[k] for k in ("union_id",) if user.get(k)},
    )


_INSTAGRAM_TYPES = {"business": "business", "media_creator": "creator", "creator": "creator"}


def _instagram_profile(body: dict[str, Any], tokens: TokenSet) -> Profile:
    kind = str(body.get("account_type") or "").lower()
    username = body.get("username")
    if kind not in _INSTAGRAM_TYPES:
        who = f"@{username}" if username else "This account"
        raise ValidationError(
            ErrorCode.UNSUPPORTED_ACCOUNT,
            f"{who} is a personal Instagram account. Only business and creator accounts can publish: switch it "
            "to a professional account in the Instagram app (Settings > Account type and tools) and connect again.",
        )
    user_id = body.get("user_id") or tokens.platform_user_id or body.get("id")
    if not user_id:
        raise OAuthFailed(message="Instagram did not say which account was connected.")
    return Profile(
        platform_user_id=str(user_id),
        username=username,
        display_name=body.get("name"),
        avatar_url=body.get("profile_picture_url"),
        account_type=_INSTAGRAM_TYPES[kind],
        follower_count=_int(body.get("followers_count")),
        platform_data={"ig_user_id": str(user_id)},
    )
