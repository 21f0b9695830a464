"""OAuth 2.0 sign-in with Google and GitHub: the provider adapters (authlib's httpx client).

Authorization-code flow with ``state`` and PKCE (S256). Google's identity comes from its
OpenID userinfo endpoint; GitHub's from ``/user`` plus ``/user/emails`` (the primary,
verified address: the profile's public email may be absent or unverified). Endpoints are
settings, so tests run the same code against a local server that speaks the protocol.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from authlib.integrations.base_client import OAuthError
from authlib.integrations.httpx_client import AsyncOAuth2Client

from ..config import Settings
from ..errors import AuthError, ErrorCode

PROVIDERS = ("google", "github")

# authlib's client is built on httpx2 when installed, else httpx: a transport error may come from either.
try:
    import httpx2

    _HTTP_ERRORS: tuple[type[Exception], ...] = (httpx.HTTPError, httpx2.HTTPError)
except ImportError:  # pragma: no cover - depends on the environment
    _HTTP_ERRORS = (httpx.HTTPError,)
HTTP_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class OAuthProvider:
    name: str
    client_id: str
    client_secret: str
    authorize_url: str
    token_url: str
    userinfo_url: str
    emails_url: str | None
    scope: str
    token_endpoint_auth_method: str


@dataclass(frozen=True)
class OAuthProfile:
    """Who the provider says signed in."""

    provider: str
    provider_user_id: str
    email: str | None
    email_verified: bool
    name: str | None
    avatar_url: str | None


def get_provider(name: str, settings: Settings) -> OAuthProvider | None:
    """The provider's configuration, or None when unknown or not configured."""
    if name == "google" and settings.oauth_google_client_id and settings.oauth_google_client_secret:
        return OAuthProvider(
            name="google",
            client_id=settings.oauth_google_client_id,
            client_secret=settings.oauth_google_client_secret,
            authorize_url=settings.oauth_google_authorize_url,
            token_url=settings.oauth_google_token_url,
            userinfo_url=settings.oauth_google_userinfo_url,
            emails_url=None,
            scope="openid email profile",
            token_endpoint_auth_method="client_secret_post",
        )
    if name == "github" and settings.oauth_github_client_id and settings.oauth_github_client_secret:
        return OAuthProvider(
            name="github",
            client_id=settings.oauth_github_client_id,
            client_secret=settings.oauth_github_client_secret,
            authorize_url=settings.oauth_github_authorize_url,
            token_url=settings.oauth_github_token_url,
            userinfo_url=settings.oauth_github_user_url,
            emails_url=settings.oauth_github_emails_url,
            scope="read:user user:email",
            token_endpoint_auth_method="client_secret_post",
        )
    return None


def callback_url(settings: Settings, provider: str) -> str:
    return f"{settings.public_base_url.rstrip('/')}/auth/oauth/{provider}/callback"


def _client(provider: OAuthProvider, settings: Settings, **kwargs: Any) -> AsyncOAuth2Client:
    return AsyncOAuth2Client(
        client_id=provider.client_id,
        client_secret=provider.client_secret,
        scope=provider.scope,
        redirect_uri=callback_url(settings, provider.name),
        code_challenge_method="S256",
        token_endpoint_auth_method=provider.token_endpoint_auth_method,
        timeout=HTTP_TIMEOUT_SECONDS,
        follow_redirects=False,
        **kwargs,
    )


def authorization_url(provider: OAuthProvider, settings: Settings, *, state: str, code_verifier: str) -> str:
    client = _client(provider, settings)
    extra = {"prompt": "select_account"} if provider.name == "google" else {}
    url, _ = client.create_authorization_url(provider.authorize_url, state=state, code_verifier=code_verifier, **extra)
    return url


def _google_profile(info: dict[str, Any]) -> OAuthProfile:
    return OAuthProfile(
        provider="google",
        provider_user_id=str(info["sub"]),
        email=info.get("email"),
        email_verified=info.get("email_verified") is True,
        name=info.get("name"),
        avatar_url=info.get("picture"),
    )


def _github_profile(user: dict[str, Any], emails: list[dict[str, Any]]) -> OAuthProfile:
    primary = next((e for e in emails if e.get("primary") and e.get("verified")), None)
    chosen = primary or next((e for e in emails if e.get("verified")), None)
    return OAuthProfile(
        provider="github",
        provider_user_id=str(user["id"]),
        email=chosen["email"] if chosen else None,
        email_verified=chosen is not None,
        name=user.get("name") or user.get("login"),
        avatar_url=user.get("avatar_url"),
    )


async def exchange_code(
    provider: OAuthProvider, settings: Settings, *, code: str, code_verifier: str
) -> tuple[dict[str, Any], OAuthProfile]:
    """Trade the authorization code (with the PKCE verifier) for tokens, then read the profile."""
    try:
        async with _client(provider, settings) as client:
            token = await client.fetch_token(
                provider.token_url, grant_type="authorization_code", code=code, code_verifier=code_verifier
            )
            headers = {"Accept": "application/json"}
            if provider.name == "github":
                headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
            info = await client.get(provider.userinfo_url, headers=headers)
            info.raise_for_status()
            if provider.name == "google":
                return dict(token), _google_profile(info.json())
            emails = await client.get(provider.emails_url or "", headers=headers)
            emails.raise_for_status()
            return dict(token), _github_profile(info.json(), emails.json())
    except (OAuthError, *_HTTP_ERRORS, ValueError, KeyError, TypeError) as exc:
        raise AuthError(
            ErrorCode.OAUTH_FAILED, f"Signing in with {provider.name.title()} failed; please try again."
        ) from exc
