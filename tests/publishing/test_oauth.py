"""Connecting social accounts over HTTP: the GraphQL mutation, the platform's consent page (the
fake), the callback route (which only parks the result), socialAccountConnectComplete (which
stores it, for the user who started only), and what ends up in the database (encrypted tokens,
the profile). The forwarded-consent attack: a consent link approved by someone else never lands
in the starter's workspace.

The app runs in-process with its settings pointed at the three fake platforms; data is
committed (the app uses its own connections) and deleted afterwards by ``committed``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select, text

from clipflow_api import clock
from clipflow_api.config import Settings, get_settings
from clipflow_api.crypto import decrypt_token
from clipflow_api.models import SocialAccount
from clipflow_api.publishing import accounts as accounts_service
from tests.fixtures import builders
from tests.fixtures.platforms import Creator, FakeInstagram, FakeTikTok, FakeYouTube
from tests.graphql.conftest import Api, gid, open_api

APP = "http://test"  # the in-process app's base URL (httpx.ASGITransport)
CHANNEL = "UCconnect0000000000000001"
OPEN_ID = "tt-open-id-connect-1"
IG_USER = "17841400000000777"

CONNECT = """mutation($p: Platform!) { socialAccountConnect(platform: $p) { authorizationUrl errors { field message code } } }"""
DISCONNECT = """mutation($id: ID!) { socialAccountDisconnect(id: $id) {
  socialAccount { id status username } errors { field message code } } }"""
COMPLETE = """mutation($p: String!) { socialAccountConnectComplete(pendingId: $p) {
  socialAccount { id platform platformUserId status username } errors { field message code } } }"""
STALE = {"field": "pendingId", "code": "OAUTH_FAILED",
         "message": "This connection expired or was already finished; connect the account again."}


@dataclass
class Fakes:
    youtube: FakeYouTube
    tiktok: FakeTikTok
    instagram: FakeInstagram

    def of(self, platform: str) -> Any:
        return getattr(self, platform)

    def settings(self, **overrides: Any) -> Settings:
        values: dict[str, Any] = {"public_base_url": APP, "social_connect_return_url": None,
                                  **self.youtube.oauth_settings(), **self.tiktok.oauth_settings(),
                                  **self.instagram.oauth_settings(), **overrides}
        return get_settings().model_copy(update=values)


@pytest.fixture(scope="module")
def _servers() -> Iterator[Fakes]:
    with FakeYouTube() as yt, FakeTikTok() as tt, FakeInstagram() as ig:
        yield Fakes(yt, tt, ig)


@pytest.fixture
def fakes(_servers: Fakes) -> Fakes:
    """The three fakes, fresh, each with one account that will approve on the consent page."""
    for fake in (_servers.youtube, _servers.tiktok, _servers.instagram):
        fake.state.reset()
    _servers.youtube.state.oauth.consenting = CHANNEL
    _servers.youtube.state.subscribers[CHANNEL] = 1234
    _servers.tiktok.state.creators[OPEN_ID] = Creator(open_id=OPEN_ID, username="clip.maker", nickname="Clip Maker",
                                                      follower_count=5678)
    _servers.tiktok.state.oauth.consenting = OPEN_ID
    _servers.instagram.state.oauth.consenting = IG_USER
    _servers.instagram.state.followers[IG_USER] = 910
    return _servers


@dataclass
class World:
    owner: Any
    workspace: Any
    token: str


async def make_world(committed: Any, plan: str | None = "pro") -> World:
    owner = await builders.user(committed)
    ws = await builders.workspace(committed, owner)
    if plan:
        await builders.subscribe(committed, ws, plan)
    token = await builders.token(committed, owner)
    await committed.commit()
    return World(owner, ws, token)


async def start(api: Api, world: World, platform: str, token: str | None = None) -> dict[str, Any]:
    return await api.gql(CONNECT, {"p": platform.upper()}, token=token or world.token, workspace=world.workspace.id)


async def consent(url: str) -> str:
    """The browser at the platform's consent page: where the platform sends it back (path and query)."""
    async with httpx.AsyncClient() as http:
        response = await http.get(url)
    assert response.status_code == 302, response.text
    target = urlsplit(response.headers["location"])
    assert f"{target.scheme}://{target.netloc}" == APP
    return f"{target.path}?{target.query}"


async def callback(api: Api, world: World, platform: str, token: str | None = None) -> httpx.Response:
    """Start as ``token`` (default: the world's owner), approve at the platform, come back: the callback's answer."""
    body = await start(api, world, platform, token)
    payload = body["data"]["socialAccountConnect"]
    assert payload["errors"] == []
    return await api.client.get(await consent(payload["authorizationUrl"]))


async def complete(api: Api, pending: str, token: str | None, workspace: Any) -> dict[str, Any]:
    """The signed-in app finishing the connect (``token`` None: nobody signed in)."""
    return await api.gql(COMPLETE, {"p": pending}, token=token, workspace=workspace)


async def connect(api: Api, world: World, platform: str) -> httpx.Response:
    """The whole flow as the world's owner: the callback's answer (the account is stored by then)."""
    response = await callback(api, world, platform)
    if response.status_code == 200:
        body = await complete(api, response.json()["pending"], world.token, world.workspace.id)
        assert body["data"]["socialAccountConnectComplete"]["errors"] == [], body
    return response


def pending_of(location: str) -> str:
    [pending] = parse_qs(urlsplit(location).query)["pending"]
    return pending


async def parked_keys(api: Api) -> list[bytes]:
    return await api.app.state.redis.keys(accounts_service.PARKED_KEY_PREFIX + "*")


async def accounts_of(committed: Any, workspace_id: uuid.UUID) -> list[SocialAccount]:
    rows = await committed.execute(
        select(SocialAccount).where(SocialAccount.workspace_id == workspace_id)
        .order_by(SocialAccount.created_at).execution_options(populate_existing=True)
    )
    result = list(rows.scalars())
    await committed.commit()
    return result


def plain(account: SocialAccount, kind: str = "access") -> str:
    value = account.access_token if kind == "access" else account.refresh_token
    assert value is not None
    return decrypt_token(value, associated_data=f"social_account:{account.id}:{kind}")


# --- the connect flow -----------------------------------------------------------------------


async def test_youtube_connect_flow_stores_the_channel_with_encrypted_tokens(committed, fakes: Fakes) -> None:  # noqa: ANN001
    world = await make_world(committed)
    async with open_api(fakes.settings()) as api:
        # when the user asks to connect, consents at Google and comes back
        body = await start(api, world, "youtube")
        url = body["data"]["socialAccountConnect"]["authorizationUrl"]
        query = parse_qs(urlsplit(url).query)
        response = await api.client.get(await consent(url))
        # then the callback parked the result (tokens encrypted, the id hashed) and stored nothing yet
        assert await accounts_of(committed, world.workspace.id) == []
        [key] = await parked_keys(api)
        parked = await api.app.state.redis.get(key)
        ttl = await api.app.state.redis.ttl(key)
        # and the signed-in app finishes the connect
        done = await complete(api, response.json()["pending"], world.token, world.workspace.id)

    # then the consent URL asked for offline access with PKCE, and the account is stored
    assert url.startswith(fakes.youtube.url + "/o/oauth2/v2/auth?")
    assert query["client_id"] == ["fake-client-id"]
    assert query["redirect_uri"] == [f"{APP}/oauth/social/youtube/callback"]
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43
    assert query["access_type"] == ["offline"] and query["prompt"] == ["consent"]
    assert query["scope"] == ["https://www.googleapis.com/auth/youtube.upload https://www.googleapis.com/auth/youtube.readonly"]
    [account] = await accounts_of(committed, world.workspace.id)
    assert response.status_code == 200
    pending = response.json()["pending"]
    assert response.json() == {"platform": "youtube", "pending": pending, "workspace": gid("Workspace", world.workspace.id),
                               "username": f"@{CHANNEL.lower()}", "displayName": f"Channel {CHANNEL}"}
    assert response.headers["cache-control"] == "no-store" and response.headers["referrer-policy"] == "no-referrer"
    assert len(pending) >= 43 and pending.encode() not in key and 0 < ttl <= 600
    assert done["data"]["socialAccountConnectComplete"] == {"errors": [], "socialAccount": {
        "id": gid("SocialAccount", account.id), "platform": "YOUTUBE", "platformUserId": CHANNEL, "status": "ACTIVE",
        "username": f"@{CHANNEL.lower()}"}}
    assert (account.platform, account.platform_user_id, account.status) == ("youtube", CHANNEL, "active")
    assert (account.username, account.display_name, account.follower_count, account.account_type) == (
        f"@{CHANNEL.lower()}", f"Channel {CHANNEL}", 1234, "creator")
    assert account.profile_image_url == f"https://yt3.ggpht.com/{CHANNEL}=s800"
    assert account.platform_data == {"channel_id": CHANNEL, "uploads_playlist_id": "UU" + CHANNEL}
    assert account.scopes == ["https://www.googleapis.com/auth/youtube.upload",
                              "https://www.googleapis.com/auth/youtube.readonly"]
    # tokens: ciphertext in the columns, the fake's own tokens once decrypted
    access, refresh = plain(account), plain(account, "refresh")
    assert account.access_token != access and access not in account.access_token
    assert account.refresh_token != refresh and refresh not in (account.refresh_token or "")
    # nor did Redis ever hold them in clear
    assert access.encode() not in parked and refresh.encode() not in parked
    key_hash = key.decode().removeprefix(accounts_service.PARKED_KEY_PREFIX)
    held = accounts_service.ParkedConnect.loads(parked).tokens(key_hash, get_settings())
    assert (held.access_token, held.refresh_token) == (access, refresh)
    assert fakes.youtube.state.tokens[access] == CHANNEL
    assert fakes.youtube.state.oauth.refresh_tokens[refresh] == CHANNEL
    assert account.token_expires_at is not None
    assert timedelta(minutes=55) < account.token_expires_at - clock.now() <= timedelta(seconds=3599)
    [entry] = (await committed.execute(
        text("SELECT action, details FROM audit_logs WHERE resource_id = :id"), {"id": account.id})).all()
    assert entry == ("social_account.connect", {"platform": "youtube", "username": f"@{CHANNEL.lower()}"})
    await committed.commit()


async def test_tiktok_connect_flow_without_pkce(committed, fakes: Fakes) -> None:  # noqa: ANN001
    world = await make_world(committed)
    async with open_api(fakes.settings()) as api:
        body = await start(api, world, "tiktok")
        url = body["data"]["socialAccountConnect"]["authorizationUrl"]
        response = await api.client.get(await consent(url))
        done = await complete(api, response.json()["pending"], world.token, world.workspace.id)
    assert done["data"]["socialAccountConnectComplete"]["errors"] == []
    query = parse_qs(urlsplit(url).query)
    assert query["client_key"] == ["fake-client-id"] and "code_challenge" not in query
    assert query["scope"] == ["user.info.basic,user.info.profile,user.info.stats,video.publish,video.list"]
    [account] = await accounts_of(committed, world.workspace.id)
    assert response.status_code == 200
    assert (account.platform, account.platform_user_id, account.username, account.display_name) == (
        "tiktok", OPEN_ID, "clip.maker", "Clip Maker")
    assert (account.follower_count, account.account_type) == (5678, None)
    assert account.profile_image_url == f"https://p16.tiktokcdn.com/{OPEN_ID}.jpeg"
    assert fakes.tiktok.state.tokens[plain(account)] == OPEN_ID
    assert fakes.tiktok.state.oauth.refresh_tokens[plain(account, "refresh")] == OPEN_ID


async def test_instagram_connect_exchanges_for_a_long_lived_token(committed, fakes: Fakes) -> None:  # noqa: ANN001
    world = await make_world(committed)
    async with open_api(fakes.settings()) as api:
        response = await connect(api, world, "instagram")
    [account] = await accounts_of(committed, world.workspace.id)
    assert response.status_code == 200
    assert (account.platform_user_id, account.username, account.display_name, account.account_type) == (
        IG_USER, "ig_0777", "Instagram 0777", "business")
    assert account.follower_count == 910 and account.refresh_token is None
    assert account.platform_data == {"ig_user_id": IG_USER}
    assert fakes.instagram.state.calls[:3] == ["token", "exchange", "me"]
    # the stored token is the long-lived one (issued second), not the code's short-lived one
    assert plain(account) == fakes.instagram.state.oauth.access[IG_USER][1]
    assert account.token_expires_at is not None and account.token_expires_at - clock.now() > timedelta(days=59)


async def test_instagram_personal_account_is_refused_with_a_clear_error(committed, fakes: Fakes) -> None:  # noqa: ANN001
    world = await make_world(committed)
    fakes.instagram.state.account_types[IG_USER] = "PERSONAL"
    async with open_api(fakes.settings()) as api:
        response = await connect(api, world, "instagram")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "UNSUPPORTED_ACCOUNT"
    assert response.json()["error"]["message"].startswith(
        "@ig_0777 is a personal Instagram account. Only business and creator accounts can publish")
    assert await accounts_of(committed, world.workspace.id) == []


async def test_callback_redirects_to_the_app_when_configured(committed, fakes: Fakes) -> None:  # noqa: ANN001
    world = await make_world(committed)
    async with open_api(fakes.settings(social_connect_return_url="https://app.example.com/accounts")) as api:
        ok = await callback(api, world, "tiktok")
        # the app finishes with the pending id from its return URL
        done = await complete(api, pending_of(ok.headers["location"]), world.token, world.workspace.id)
        fakes.tiktok.state.oauth.consenting = None  # the user declines the second time
        body = await start(api, world, "tiktok")
        declined = await api.client.get(await consent(body["data"]["socialAccountConnect"]["authorizationUrl"]))
    [account] = await accounts_of(committed, world.workspace.id)
    assert ok.status_code == 303
    pending = pending_of(ok.headers["location"])
    assert ok.headers["location"] == (
        f"https://app.example.com/accounts?platform=tiktok&pending={pending}"
        f"&workspace={gid('Workspace', world.workspace.id).replace('=', '%3D')}")
    assert done["data"]["socialAccountConnectComplete"]["socialAccount"]["id"] == gid("SocialAccount", account.id)
    assert declined.status_code == 303
    assert declined.headers["location"] == "https://app.example.com/accounts?platform=tiktok&error=OAUTH_FAILED"


# --- the state: tampering, expiry, another platform, a user who lost the right -----------------


async def test_tampered_state_is_refused_and_the_real_one_still_works(committed, fakes: Fakes) -> None:  # noqa: ANN001
    world = await make_world(committed)
    async with open_api(fakes.settings()) as api:
        body = await start(api, world, "tiktok")
        back = await consent(body["data"]["socialAccountConnect"]["authorizationUrl"])
        params = parse_qs(urlsplit(back).query)
        state, code = params["state"][0], params["code"][0]
        forged = state[:-1] + ("A" if state[-1] != "A" else "B")
        refused = await api.client.get("/oauth/social/tiktok/callback", params={"state": forged, "code": code})
        missing = await api.client.get("/oauth/social/tiktok/callback", params={"code": code})
        assert await accounts_of(committed, world.workspace.id) == []
        ok = await api.client.get("/oauth/social/tiktok/callback", params={"state": state, "code": code})
        replay = await api.client.get("/oauth/social/tiktok/callback", params={"state": state, "code": code})
        assert len(await parked_keys(api)) == 1
    for response in (refused, missing, replay):
        assert response.status_code == 400
        assert response.json()["error"] == {
            "code": "OAUTH_FAILED", "message": "This connection request expired or is not valid; please start again."}
    assert ok.status_code == 200 and ok.json()["pending"]
    assert fakes.tiktok.state.oauth.exchanges == 1  # the refused callbacks never reached TikTok


async def test_state_for_another_platform_is_refused(committed, fakes: Fakes) -> None:  # noqa: ANN001
    world = await make_world(committed)
    async with open_api(fakes.settings()) as api:
        body = await start(api, world, "tiktok")
        back = await consent(body["data"]["socialAccountConnect"]["authorizationUrl"])
        response = await api.client.get(back.replace("/tiktok/", "/youtube/"))
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "This connection request was made for another platform."
    assert await accounts_of(committed, world.workspace.id) == []


async def test_expired_state_is_refused(committed, fakes: Fakes, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    world = await make_world(committed)
    async with open_api(fakes.settings()) as api:
        body = await start(api, world, "youtube")
        back = await consent(body["data"]["socialAccountConnect"]["authorizationUrl"])
        later = clock.now() + timedelta(seconds=601)
        monkeypatch.setattr(clock, "now", lambda: later)
        response = await api.client.get(back)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "OAUTH_FAILED"
    assert await accounts_of(committed, world.workspace.id) == []
    assert fakes.youtube.state.oauth.exchanges == 0


async def test_a_user_who_lost_the_permission_cannot_finish(committed, fakes: Fakes) -> None:  # noqa: ANN001
    # given an admin who starts a connect, then is demoted to editor before coming back
    world = await make_world(committed)
    admin, admin_token = await builders.member(committed, world.workspace, "admin")
    await committed.commit()
    async with open_api(fakes.settings()) as api:
        body = await start(api, world, "tiktok", token=admin_token)
        back = await consent(body["data"]["socialAccountConnect"]["authorizationUrl"])
        await committed.execute(text("UPDATE team_members SET role = 'editor' WHERE user_id = :u"), {"u": admin.id})
        await committed.commit()
        response = await api.client.get(back)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "PERMISSION_DENIED"
    assert await accounts_of(committed, world.workspace.id) == []
    assert fakes.tiktok.state.oauth.exchanges == 0


async def test_member_without_the_permission_is_refused_over_http(committed, fakes: Fakes, redis) -> None:  # noqa: ANN001
    world = await make_world(committed)
    account = await _connected(committed, fakes, world)
    _, editor_token = await builders.member(committed, world.workspace, "editor")
    await committed.commit()
    before = await accounts_of(committed, world.workspace.id)
    async with open_api(fakes.settings()) as api:
        connect_body = await start(api, world, "youtube", token=editor_token)
        disconnect_body = await api.gql(DISCONNECT, {"id": gid("SocialAccount", account.id)}, token=editor_token,
                                        workspace=world.workspace.id)
        keys = await api.app.state.redis.keys("clipflow:social_oauth:*")
    for body, field in ((connect_body, "socialAccountConnect"), (disconnect_body, "socialAccountDisconnect")):
        assert body["data"] == {field: None}
        assert [e["extensions"]["code"] for e in body["errors"]] == ["PERMISSION_DENIED"]
    assert keys == []
    after = await accounts_of(committed, world.workspace.id)
    assert [(a.status, a.access_token, a.refresh_token) for a in after] == [
        (a.status, a.access_token, a.refresh_token) for a in before]
    assert "revoke" not in fakes.tiktok.state.calls


async def test_plan_limit_on_connected_accounts(committed, fakes: Fakes) -> None:  # noqa: ANN001
    # given a free workspace (one account) with TikTok connected
    world = await make_world(committed, plan=None)
    await _connected(committed, fakes, world)
    async with open_api(fakes.settings()) as api:
        body = await start(api, world, "youtube")
    assert body["data"]["socialAccountConnect"] == {"authorizationUrl": None, "errors": [{
        "field": "platform", "code": "PLAN_LIMIT_REACHED",
        "message": "The Free plan allows 1 connected account(s); disconnect one or upgrade to connect another."}]}


# --- finishing: only the user who started, in that workspace, once, in time -------------------


def refused_with(body: dict[str, Any]) -> list[str]:
    assert body["data"] == {"socialAccountConnectComplete": None}, body
    return [e["extensions"]["code"] for e in body["errors"]]


@pytest.mark.parametrize("victim", ["owner_of_another_workspace", "member_of_the_same_workspace", "anonymous"])
async def test_a_forwarded_consent_link_never_lands_in_the_starters_workspace(committed, fakes: Fakes, victim: str) -> None:  # noqa: ANN001
    # given an attacker who starts a YouTube connect in their workspace and forwards the consent link
    attacker = await make_world(committed)
    other: World | None = None
    if victim == "owner_of_another_workspace":
        other = await make_world(committed)
        token, workspace = other.token, other.workspace.id
    elif victim == "member_of_the_same_workspace":
        _, token = await builders.member(committed, attacker.workspace, "admin")
        await committed.commit()
        workspace = attacker.workspace.id
    else:
        token, workspace = None, None
    async with open_api(fakes.settings(social_connect_return_url="https://app.example.com/accounts")) as api:
        body = await start(api, attacker, "youtube")
        # when the victim, signed in at YouTube, approves: their browser lands in the app with a pending id
        landed = await api.client.get(await consent(body["data"]["socialAccountConnect"]["authorizationUrl"]))
        pending = pending_of(landed.headers["location"])
        # and the victim's app finishes it as the victim (or nobody is signed in)
        refused = await complete(api, pending, token, workspace)
        # and, had the attacker got hold of the pending id afterwards
        late = await complete(api, pending, attacker.token, attacker.workspace.id) if token else None
    # then it is refused, the victim's channel is in no workspace, and a signed-in refusal spends the id
    assert refused_with(refused) == ["PERMISSION_DENIED"]
    assert await accounts_of(committed, attacker.workspace.id) == []
    if other is not None:
        assert await accounts_of(committed, other.workspace.id) == []
    if token:
        assert refused["errors"][0]["message"].startswith(
            "This YouTube connection was started by another ClipFlow user, so it was not added")
        assert late is not None and late["data"]["socialAccountConnectComplete"] == {"socialAccount": None, "errors": [STALE]}
    rows = (await committed.execute(text("SELECT count(*) FROM social_accounts WHERE platform_user_id = :c"),
                                    {"c": CHANNEL})).scalar_one()
    await committed.commit()
    assert rows == 0


async def test_a_pending_id_finishes_once(committed, fakes: Fakes) -> None:  # noqa: ANN001
    world = await make_world(committed)
    async with open_api(fakes.settings()) as api:
        response = await callback(api, world, "tiktok")
        pending = response.json()["pending"]
        first = await complete(api, pending, world.token, world.workspace.id)
        replay = await complete(api, pending, world.token, world.workspace.id)
        assert await parked_keys(api) == []
    assert first["data"]["socialAccountConnectComplete"]["errors"] == []
    assert replay["data"]["socialAccountConnectComplete"] == {"socialAccount": None, "errors": [STALE]}
    [account] = await accounts_of(committed, world.workspace.id)
    actions = (await committed.execute(text("SELECT action FROM audit_logs WHERE resource_id = :id"),
                                       {"id": account.id})).scalars().all()
    await committed.commit()
    assert actions == ["social_account.connect"]
    assert fakes.tiktok.state.oauth.exchanges == 1


async def test_an_expired_pending_id_is_refused(committed, fakes: Fakes, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    world = await make_world(committed)
    async with open_api(fakes.settings()) as api:
        response = await callback(api, world, "instagram")
        [key] = await parked_keys(api)
        assert 0 < await api.app.state.redis.ttl(key) <= 600  # Redis drops it by itself, too
        later = clock.now() + timedelta(seconds=601)
        monkeypatch.setattr(clock, "now", lambda: later)
        body = await complete(api, response.json()["pending"], world.token, world.workspace.id)
        assert await parked_keys(api) == []
    assert body["data"]["socialAccountConnectComplete"] == {"socialAccount": None, "errors": [STALE]}
    assert await accounts_of(committed, world.workspace.id) == []


async def test_permission_lost_between_start_and_complete(committed, fakes: Fakes) -> None:  # noqa: ANN001
    # given an admin whose consent came back, demoted to editor before the app finishes
    world = await make_world(committed)
    admin, admin_token = await builders.member(committed, world.workspace, "admin")
    await committed.commit()
    async with open_api(fakes.settings()) as api:
        response = await callback(api, world, "tiktok", token=admin_token)
        assert response.status_code == 200
        await committed.execute(text("UPDATE team_members SET role = 'editor' WHERE user_id = :u"), {"u": admin.id})
        await committed.commit()
        body = await complete(api, response.json()["pending"], admin_token, world.workspace.id)
    assert refused_with(body) == ["PERMISSION_DENIED"]
    assert await accounts_of(committed, world.workspace.id) == []


async def test_the_starter_cannot_finish_in_another_workspace(committed, fakes: Fakes) -> None:  # noqa: ANN001
    world = await make_world(committed)
    second = await builders.workspace(committed, world.owner)
    await committed.commit()
    async with open_api(fakes.settings()) as api:
        response = await callback(api, world, "tiktok")
        body = await complete(api, response.json()["pending"], world.token, second.id)
    assert refused_with(body) == ["PERMISSION_DENIED"]
    assert body["errors"][0]["message"] == ("This TikTok connection was started in another workspace; connect the "
                                            "account again from the workspace it should belong to.")
    assert await accounts_of(committed, world.workspace.id) == [] and await accounts_of(committed, second.id) == []


async def test_a_parked_connect_edited_in_redis_does_not_decrypt(committed, fakes: Fakes) -> None:  # noqa: ANN001
    # given someone who rewrites the parked value in Redis to name another user of the workspace
    world = await make_world(committed)
    admin, admin_token = await builders.member(committed, world.workspace, "admin")
    await committed.commit()
    async with open_api(fakes.settings()) as api:
        response = await callback(api, world, "tiktok")
        redis = api.app.state.redis
        [key] = await parked_keys(api)
        value = json.loads(await redis.get(key))
        await redis.set(key, json.dumps({**value, "user_id": str(admin.id)}), ex=60)
        body = await complete(api, response.json()["pending"], admin_token, world.workspace.id)
    # then the tokens, bound to the original user, do not open: nothing is stored
    assert body["data"]["socialAccountConnectComplete"] == {"socialAccount": None, "errors": [STALE]}
    assert await accounts_of(committed, world.workspace.id) == []


# --- reconnect and disconnect ---------------------------------------------------------------


async def _connected(committed: Any, fakes: Fakes, world: World, platform: str = "tiktok") -> SocialAccount:
    async with open_api(fakes.settings()) as api:
        response = await connect(api, world, platform)
    assert response.status_code == 200, response.text
    [account] = [a for a in await accounts_of(committed, world.workspace.id) if a.platform == platform]
    return account


async def test_reconnect_keeps_the_account_row_and_its_posts(committed, fakes: Fakes) -> None:  # noqa: ANN001
    # given a TikTok account with a post, marked reconnect_required
    world = await make_world(committed)
    account = await _connected(committed, fakes, world)
    post = await builders.post(committed, account, created_by=world.owner.id, caption="keep me")
    await committed.execute(text("UPDATE social_accounts SET status = 'reconnect_required', last_error = 'revoked' "
                                 "WHERE id = :id"), {"id": account.id})
    await committed.commit()
    old_access = plain(account)
    # when the user connects the same TikTok account again
    fakes.tiktok.state.creators[OPEN_ID].follower_count = 6000
    async with open_api(fakes.settings()) as api:
        response = await connect(api, world, "tiktok")
    # then it is the same row, active again, with new tokens and its post
    [again] = await accounts_of(committed, world.workspace.id)
    assert response.status_code == 200
    assert again.id == account.id
    assert (again.status, again.last_error, again.follower_count) == ("active", None, 6000)
    assert plain(again) != old_access and fakes.tiktok.state.tokens[plain(again)] == OPEN_ID
    posts = (await committed.execute(text("SELECT id, caption FROM posts WHERE social_account_id = :id"),
                                     {"id": account.id})).all()
    assert posts == [(post.id, "keep me")]
    actions = (await committed.execute(text("SELECT action FROM audit_logs WHERE resource_id = :id ORDER BY created_at"),
                                       {"id": account.id})).scalars().all()
    assert actions == ["social_account.connect", "social_account.reconnect"]
    await committed.commit()


@pytest.mark.parametrize("platform", ["youtube", "tiktok"])
async def test_disconnect_revokes_at_the_platform_and_wipes_the_tokens(committed, fakes: Fakes, platform: str) -> None:  # noqa: ANN001
    world = await make_world(committed)
    account = await _connected(committed, fakes, world, platform)
    access, refresh = plain(account), plain(account, "refresh")
    async with open_api(fakes.settings()) as api:
        body = await api.gql(DISCONNECT, {"id": gid("SocialAccount", account.id)}, token=world.token,
                             workspace=world.workspace.id)
    assert body["data"]["socialAccountDisconnect"] == {
        "socialAccount": {"id": gid("SocialAccount", account.id), "status": "DISCONNECTED",
                          "username": account.username}, "errors": []}
    [row] = await accounts_of(committed, world.workspace.id)
    assert (row.status, row.access_token, row.refresh_token, row.token_expires_at) == ("disconnected", "", None, None)
    fake = fakes.of(platform)
    # Google is told the refresh token (the whole grant); TikTok the access token
    assert fake.state.oauth.revoked == [refresh if platform == "youtube" else access]
    assert refresh not in fake.state.oauth.refresh_tokens and access in fake.state.expired
    [details] = (await committed.execute(text("SELECT details FROM audit_logs WHERE resource_id = :id AND "
                                              "action = 'social_account.disconnect'"), {"id": account.id})).scalars()
    assert details == {"platform": platform, "revoked": True}
    await committed.commit()


async def test_disconnect_instagram_has_nothing_to_revoke(committed, fakes: Fakes) -> None:  # noqa: ANN001
    world = await make_world(committed)
    account = await _connected(committed, fakes, world, "instagram")
    async with open_api(fakes.settings()) as api:
        body = await api.gql(DISCONNECT, {"id": gid("SocialAccount", account.id)}, token=world.token,
                             workspace=world.workspace.id)
    assert body["data"]["socialAccountDisconnect"]["errors"] == []
    [row] = await accounts_of(committed, world.workspace.id)
    assert (row.status, row.access_token) == ("disconnected", "")
    assert fakes.instagram.state.oauth.revoked == []


async def test_platforms_that_cannot_be_connected_are_payload_errors(committed, fakes: Fakes) -> None:  # noqa: ANN001
    world = await make_world(committed)
    async with open_api(fakes.settings(youtube_client_id=None)) as api:
        facebook = await start(api, world, "facebook")
        youtube = await start(api, world, "youtube")
    assert facebook["data"]["socialAccountConnect"] == {"authorizationUrl": None, "errors": [
        {"field": "platform", "code": "INVALID", "message": "Facebook accounts cannot be connected yet."}]}
    assert youtube["data"]["socialAccountConnect"] == {"authorizationUrl": None, "errors": [
        {"field": "platform", "code": "INVALID", "message": "Connecting YouTube accounts is not set up on this server."}]}
