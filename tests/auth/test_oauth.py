"""OAuth sign-in through the real routes and authlib client, against a local provider."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from clipflow_api.auth import service
from clipflow_api.auth.principal import resolve_principal
from clipflow_api.auth.routes import routes
from clipflow_api.config import Settings
from clipflow_api.crypto import get_cipher
from clipflow_api.permissions import ROLE_PERMISSIONS

from .helpers import STRONG_PASSWORD, about, sha256
from tests.fixtures.builders import email
from .oauth_server import Client, ProviderServer, ProviderState

APP_BASE = "http://testserver"


@pytest.fixture(scope="module")
def provider() -> Iterator[ProviderServer]:
    states = {
        shape: ProviderState(
            shape=shape,
            client=Client(
                f"{shape}-client", f"{shape}-secret-{uuid.uuid4().hex}", f"{APP_BASE}/auth/oauth/{shape}/callback"
            ),
        )
        for shape in ("google", "github")
    }
    with ProviderServer(states) as server:
        yield server


def _settings(server: ProviderServer, **overrides: object) -> Settings:
    g, h = server.providers["google"].client, server.providers["github"].client
    values: dict[str, object] = {
        "public_base_url": APP_BASE,
        "oauth_google_client_id": g.client_id,
        "oauth_google_client_secret": g.client_secret,
        "oauth_google_authorize_url": f"{server.base_url}/google/authorize",
        "oauth_google_token_url": f"{server.base_url}/google/token",
        "oauth_google_userinfo_url": f"{server.base_url}/google/userinfo",
        "oauth_github_client_id": h.client_id,
        "oauth_github_client_secret": h.client_secret,
        "oauth_github_authorize_url": f"{server.base_url}/github/authorize",
        "oauth_github_token_url": f"{server.base_url}/github/token",
        "oauth_github_user_url": f"{server.base_url}/github/user",
        "oauth_github_emails_url": f"{server.base_url}/github/user/emails",
    }
    values.update(overrides)
    return Settings(**values)


class Browser:
    """The user's browser: the app's routes in-process (ASGI), the provider over HTTP."""

    def __init__(self, app: Starlette) -> None:
        self.app_client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=("203.0.113.5", 4000)), base_url=APP_BASE
        )
        self.web = httpx.AsyncClient()

    async def start(self, provider: str) -> httpx.Response:
        return await self.app_client.get(f"/auth/oauth/{provider}/start", headers={"User-Agent": "browser/1"})

    async def consent(self, authorize_url: str) -> str:
        response = await self.web.get(authorize_url)
        assert response.status_code == 302, response.text
        return response.headers["location"]

    async def callback(self, url: str) -> httpx.Response:
        return await self.app_client.get(url, headers={"User-Agent": "browser/1"})

    async def sign_in(self, provider: str) -> httpx.Response:
        started = await self.start(provider)
        assert started.status_code == 302
        return await self.callback(await self.consent(started.headers["location"]))

    async def close(self) -> None:
        await self.app_client.aclose()
        await self.web.aclose()


@pytest.fixture
async def make_browser(provider, factory, redis) -> AsyncIterator:
    browsers: list[Browser] = []

    def make(**overrides: object) -> Browser:
        app = Starlette(routes=routes)
        app.state.settings = _settings(provider, **overrides)
        app.state.session_factory = factory
        app.state.redis = redis
        browser = Browser(app)
        browsers.append(browser)
        return browser

    yield make
    for b in browsers:
        await b.close()


def _google(server: ProviderServer, address: str, *, verified: bool = True, sub: str | None = None) -> str:
    sub = sub or str(uuid.uuid4().int)[:21]
    server.providers["google"].profile = {
        "sub": sub,
        "email": address,
        "email_verified": verified,
        "name": "Grace Hopper",
        "picture": "https://lh3.example/photo.jpg",
    }
    server.providers["google"].deny = False
    return sub


async def _count_users(owner_engine: AsyncEngine, address: str) -> int:
    async with owner_engine.connect() as conn:
        return (
            await conn.execute(text("SELECT count(*) FROM users WHERE email = :e"), {"e": address.lower()})
        ).scalar()


async def test_start_redirects_with_state_and_pkce(make_browser, provider, redis) -> None:
    browser = make_browser()
    response = await browser.start("google")
    assert response.status_code == 302
    url = urlsplit(response.headers["location"])
    q = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{provider.base_url}/google/authorize"
    assert q["client_id"] == "google-client"
    assert q["redirect_uri"] == f"{APP_BASE}/auth/oauth/google/callback"
    assert q["response_type"] == "code"
    assert q["scope"] == "openid email profile"
    assert q["code_challenge_method"] == "S256"
    assert len(q["code_challenge"]) == 43
    # the state is bound to this browser by an HttpOnly cookie, and its verifier waits in Redis
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"cf_oauth_state={q['state']};") and "HttpOnly" in cookie and "SameSite=lax" in cookie
    stored = json.loads(await redis.get(f"clipflow:oauth_state:{sha256(q['state'])}"))
    assert stored["provider"] == "google" and 43 <= len(stored["verifier"]) <= 128
    assert 0 < await redis.ttl(f"clipflow:oauth_state:{sha256(q['state'])}") <= 600


async def test_google_sign_in_creates_a_user_with_encrypted_tokens(
    make_browser, provider, factory, redis, user_domain, owner_engine: AsyncEngine
) -> None:
    address = email("Grace", user_domain)
    sub = _google(provider, address.upper())
    # when
    response = await make_browser().sign_in("google")
    # then
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["created"] is True and response.headers["cache-control"] == "no-store"
    async with owner_engine.connect() as conn:
        user = (
            await conn.execute(
                text(
                    "SELECT id, email, name, email_verified, google_id, github_id, password_hash, avatar_url FROM users WHERE id = :u"
                ),
                {"u": uuid.UUID(body["user_id"])},
            )
        ).one()
        account = (
            await conn.execute(
                text(
                    "SELECT id, provider_id, account_id, access_token, refresh_token, id_token, access_token_expires_at, scope "
                    "FROM accounts WHERE user_id = :u"
                ),
                {"u": user.id},
            )
        ).one()
    assert tuple(user)[1:] == (address.lower(), "Grace Hopper", True, sub, None, None, "https://lh3.example/photo.jpg")
    assert (account.provider_id, account.account_id, account.scope) == ("google", sub, "openid email profile")
    # tokens are stored encrypted, bound to the row, and decrypt to what the provider issued
    cipher = get_cipher()
    issued = provider.providers["google"].tokens
    access = cipher.decrypt(account.access_token, associated_data=f"accounts.access_token:{account.id}")
    assert access in issued and account.access_token.startswith("1:") and access not in account.access_token
    assert cipher.decrypt(account.refresh_token, associated_data=f"accounts.refresh_token:{account.id}").startswith(
        "1//refresh-"
    )
    assert cipher.decrypt(account.id_token, associated_data=f"accounts.id_token:{account.id}").startswith(
        "eyJ.fake-id-token."
    )
    assert about(datetime.now(UTC) + timedelta(seconds=3599), account.access_token_expires_at, 10)
    # the PKCE verifier went to the token endpoint, with the client's secret
    last = provider.providers["google"].token_requests[-1]
    assert last["client_id"] == "google-client" and len(last["code_verifier"]) == 86
    # and the session token works, in the new personal workspace
    principal = await resolve_principal(
        headers={"Authorization": f"Bearer {body['token']}"}, client_ip=None, session_factory=factory, redis=redis
    )
    assert (principal.user_id, principal.role, principal.permissions) == (user.id, "owner", ROLE_PERMISSIONS["owner"])
    async with owner_engine.connect() as conn:
        audit = (
            await conn.execute(
                text(
                    "SELECT action, details->>'method', host(ip_address), user_agent FROM audit_logs "
                    "WHERE user_id = :u AND workspace_id IS NULL"
                ),
                {"u": user.id},
            )
        ).all()
    assert [tuple(a) for a in audit] == [("user.signup", "google", "203.0.113.5", "browser/1")]


async def test_second_google_sign_in_finds_the_same_user_and_keeps_the_refresh_token(
    make_browser, provider, user_domain, owner_engine: AsyncEngine
) -> None:
    address = email("again", user_domain)
    _google(provider, address)
    first = (await make_browser().sign_in("google")).json()
    async with owner_engine.connect() as conn:
        before = (
            await conn.execute(
                text("SELECT id, access_token, refresh_token FROM accounts WHERE user_id = :u"),
                {"u": uuid.UUID(first["user_id"])},
            )
        ).one()
    second = (await make_browser().sign_in("google")).json()
    assert (second["user_id"], second["created"]) == (first["user_id"], False)
    async with owner_engine.connect() as conn:
        rows = (
            await conn.execute(
                text("SELECT id, access_token, refresh_token FROM accounts WHERE user_id = :u"),
                {"u": uuid.UUID(first["user_id"])},
            )
        ).all()
    assert len(rows) == 1
    assert rows[0].id == before.id and rows[0].access_token != before.access_token
    assert rows[0].refresh_token == before.refresh_token  # the provider sent none the second time
    assert await _count_users(owner_engine, address) == 1


async def test_github_sign_in_uses_the_primary_verified_email(
    make_browser, provider, user_domain, owner_engine
) -> None:
    primary, other = email("octo", user_domain), email("other", user_domain)
    github = provider.providers["github"]
    github.profile = {
        "id": 583231,
        "login": "octocat",
        "name": None,
        "avatar_url": "https://gh.example/a.png",
        "email": None,
    }
    github.emails = [
        {"email": other, "primary": False, "verified": True, "visibility": None},
        {"email": primary.upper(), "primary": True, "verified": True, "visibility": "private"},
    ]
    response = await make_browser().sign_in("github")
    assert response.status_code == 200, response.text
    async with owner_engine.connect() as conn:
        user = (
            await conn.execute(
                text("SELECT email, name, github_id, google_id FROM users WHERE id = :u"),
                {"u": uuid.UUID(response.json()["user_id"])},
            )
        ).one()
        account = (
            await conn.execute(
                text(
                    "SELECT provider_id, account_id, refresh_token, access_token_expires_at FROM accounts "
                    "WHERE provider_id = 'github' AND account_id = '583231'"
                )
            )
        ).one()
    assert tuple(user) == (primary.lower(), "octocat", "583231", None)
    assert tuple(account) == ("github", "583231", None, None)
    sent = github.token_requests[-1]
    assert sent["client_id"] == "github-client" and sent["client_secret"] == github.client.client_secret


async def test_existing_verified_user_is_linked_and_keeps_the_password(
    make_browser, provider, factory, user_domain, owner_engine
) -> None:
    address = email("linked", user_domain)
    async with factory() as s:
        user, _ = await service.sign_up(s, email=address, password=STRONG_PASSWORD, name="Linked")
        await service.verify_email(s, token=(await service.request_email_verification(s, user_id=user.id)).token)
        await s.commit()
    sub = _google(provider, address)
    response = await make_browser().sign_in("google")
    assert response.json()["user_id"] == str(user.id) and response.json()["created"] is False
    async with factory() as s:
        again, _ = await service.log_in(s, email=address, password=STRONG_PASSWORD)
        assert (again.id, again.google_id) == (user.id, sub)
        await s.rollback()


async def test_linking_an_unverified_account_drops_its_password_and_sessions(
    make_browser, provider, factory, user_domain, owner_engine
) -> None:
    # given someone registered the address without proving they own it
    address = email("squatted", user_domain)
    async with factory() as s:
        squatter, _ = await service.sign_up(s, email=address, password=STRONG_PASSWORD, name="Squatter")
        await s.commit()
    # when the real owner signs in with Google
    _google(provider, address)
    response = await make_browser().sign_in("google")
    # then they get the account, and the squatter's password and sessions are gone
    assert response.json()["user_id"] == str(squatter.id)
    async with owner_engine.connect() as conn:
        row = (
            await conn.execute(
                text("SELECT password_hash, email_verified FROM users WHERE id = :u"), {"u": squatter.id}
            )
        ).one()
        sessions = (
            await conn.execute(text("SELECT count(*) FROM sessions WHERE user_id = :u"), {"u": squatter.id})
        ).scalar()
    assert tuple(row) == (None, True)
    assert sessions == 1  # only the one just opened by the Google sign-in


async def test_unverified_provider_email_is_refused(make_browser, provider, user_domain, owner_engine) -> None:
    address = email("unverified", user_domain)
    _google(provider, address, verified=False)
    response = await make_browser().sign_in("google")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "EMAIL_NOT_VERIFIED"
    assert await _count_users(owner_engine, address) == 0


async def test_callback_from_another_browser_is_refused(make_browser, provider, user_domain, owner_engine) -> None:
    address = email("csrf", user_domain)
    _google(provider, address)
    victim, attacker = make_browser(), make_browser()
    started = await attacker.start("google")
    callback = await attacker.consent(started.headers["location"])
    # the attacker makes the victim's browser open the callback (no state cookie there)
    response = await victim.callback(callback)
    assert (response.status_code, response.json()["error"]["code"]) == (400, "OAUTH_FAILED")
    assert await _count_users(owner_engine, address) == 0


async def test_state_is_single_use(make_browser, provider, user_domain) -> None:
    _google(provider, email("once", user_domain))
    browser = make_browser()
    started = await browser.start("google")
    callback = await browser.consent(started.headers["location"])
    assert (await browser.callback(callback)).status_code == 200
    browser.app_client.cookies.set("cf_oauth_state", parse_qs(urlsplit(callback).query)["state"][0], path="/auth/oauth")
    replay = await browser.callback(callback)
    assert (replay.status_code, replay.json()["error"]["code"]) == (400, "OAUTH_FAILED")
    assert "expired" in replay.json()["error"]["message"]


async def test_wrong_pkce_verifier_is_refused_by_the_provider(
    make_browser, provider, redis, user_domain, owner_engine
) -> None:
    address = email("pkce", user_domain)
    _google(provider, address)
    browser = make_browser()
    started = await browser.start("google")
    state = parse_qs(urlsplit(started.headers["location"]).query)["state"][0]
    key = f"clipflow:oauth_state:{sha256(state)}"
    await redis.set(key, json.dumps({"provider": "google", "verifier": "x" * 64}))
    response = await browser.callback(await browser.consent(started.headers["location"]))
    assert (response.status_code, response.json()["error"]["code"]) == (401, "OAUTH_FAILED")
    assert await _count_users(owner_engine, address) == 0


async def test_wrong_client_secret_is_refused_by_the_provider(
    make_browser, provider, user_domain, owner_engine
) -> None:
    address = email("secret", user_domain)
    _google(provider, address)
    response = await make_browser(oauth_google_client_secret="not-the-secret").sign_in("google")
    assert (response.status_code, response.json()["error"]["code"]) == (401, "OAUTH_FAILED")
    assert await _count_users(owner_engine, address) == 0


async def test_denied_consent(make_browser, provider) -> None:
    provider.providers["google"].deny = True
    try:
        response = await make_browser().sign_in("google")
    finally:
        provider.providers["google"].deny = False
    assert (response.status_code, response.json()["error"]["code"]) == (400, "OAUTH_FAILED")
    assert "cancelled" in response.json()["error"]["message"]


async def test_unknown_or_unconfigured_provider_is_404(make_browser) -> None:
    browser = make_browser(oauth_github_client_id=None)
    assert (await browser.start("myspace")).status_code == 404
    assert (await browser.start("github")).status_code == 404


async def test_success_url_mode_redirects_with_the_token_in_the_fragment(
    make_browser, provider, factory, redis, user_domain
) -> None:
    _google(provider, email("redirect", user_domain))
    response = await make_browser(oauth_success_url="https://app.example/signed-in").sign_in("google")
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("https://app.example/signed-in#token=")
    token = location.split("#token=", 1)[1]
    principal = await resolve_principal(
        headers={"Authorization": f"Bearer {token}"}, client_ip=None, session_factory=factory, redis=redis
    )
    assert principal.role == "owner"
