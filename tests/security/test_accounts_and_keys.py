"""Issue 7, accounts and keys: each attack replayed over HTTP against the real app, refused,
and nothing changed by it. Findings 1 (keys minting keys), 3 (pre-registered accounts),
5 (a removed inviter's invitations), 6 (sign-in throttling, client address), 12 (keys
reading account data) and 18b (absolute session lifetime)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select, text

from clipflow_api.auth.tokens import hash_token
from clipflow_api.config import get_settings
from clipflow_api.models import ApiKey, AuditLog, Invitation, TeamMember, UserSession, Workspace
from clipflow_api.permissions import PERMISSIONS, SYSTEM_PERMISSIONS
from tests.auth.oauth_server import Client, ProviderServer, ProviderState
from tests.fixtures import builders
from tests.graphql.conftest import (  # noqa: F401 - fixtures
    Api,
    api,
    cheap_password_hashing,
    errors_of,
    gid,
    open_api,
)

PASSWORD = "a long passphrase 42!"
EVERY_SCOPE = sorted(PERMISSIONS - SYSTEM_PERMISSIONS)
SIGN_UP = "mutation($i: SignUpInput!) { signUp(input: $i) { token user { id } errors { code } } }"
LOG_IN = "mutation($e: String!, $p: String!) { logIn(input: {email: $e, password: $p}) { token errors { code } } }"
KEY_CREATE = (
    "mutation($n: String!, $s: [String!]!, $p: Boolean!) { apiKeyCreate(input: {name: $n, scopes: $s, personal: $p}) "
    "{ secret apiKey { id scopes workspace { id } } errors { field code } } }"
)
KEY_REVOKE = "mutation($id: ID!) { apiKeyRevoke(id: $id) { apiKey { revokedAt } errors { field code } } }"
INVITE = "mutation($e: String!) { invitationCreate(input: {email: $e, role: EDITOR}) { invitation { id } errors { code } } }"
ACCEPT = "mutation($t: String!) { invitationAccept(token: $t) { member { role } errors { code } } }"
REQUEST_RESET = "mutation($e: String!) { passwordResetRequest(email: $e) { ok errors { code } } }"
RESET = "mutation($t: String!, $p: String!) { passwordReset(token: $t, newPassword: $p) { user { emailVerified } errors { code } } }"


async def _verified_owner(db, *, plan: str | None = "pro"):  # noqa: ANN001, ANN202
    """A verified user owning a workspace on a paid plan (API access), with a session token."""
    owner = await builders.user(db, email_verified=True)
    ws = await builders.workspace(db, owner)
    if plan:
        await builders.subscribe(db, ws, plan=plan)
    token = await builders.token(db, owner)
    await db.commit()
    return owner, ws, token


async def _key_count(db, user_id: uuid.UUID) -> int:  # noqa: ANN001
    return (await db.execute(select(func.count()).select_from(ApiKey).where(ApiKey.user_id == user_id))).scalar_one()


async def _make_key(api: Api, token: str, ws: Workspace, scopes: list[str], *, personal: bool = False) -> dict:
    body = await api.gql(KEY_CREATE, {"n": "k", "s": scopes, "p": personal}, token=token, workspace=ws)
    payload = body["data"]["apiKeyCreate"]
    assert payload["errors"] == [], body
    return payload


# -- 1. a narrow API key mints broad keys ---------------------------------------------------------


async def test_a_narrow_key_cannot_mint_list_or_revoke_keys(api: Api, committed) -> None:  # noqa: ANN001
    # given an owner with a video:read key and another key of theirs
    owner, ws, session = await _verified_owner(committed)
    narrow = await _make_key(api, session, ws, ["video:read"])
    other = await _make_key(api, session, ws, ["clip:read"])
    before = await _key_count(committed, owner.id)
    # when the narrow key asks for a personal key with every scope, or a workspace one
    for personal in (True, False):
        minted = await api.gql(KEY_CREATE, {"n": "x", "s": EVERY_SCOPE, "p": personal}, token=narrow["secret"])
        # then it is refused and no key exists afterwards
        assert minted["data"] == {"apiKeyCreate": None}
        assert errors_of(minted) == ["PERMISSION_DENIED"]
    assert await _key_count(committed, owner.id) == before
    # nor may it list keys or revoke the other one
    listed = await api.gql("{ viewer { apiKeys { edges { node { id } } } } }", token=narrow["secret"])
    assert errors_of(listed) == ["PERMISSION_DENIED"] and listed["data"] == {"viewer": None}
    revoked = await api.gql(KEY_REVOKE, {"id": other["apiKey"]["id"]}, token=narrow["secret"])
    assert errors_of(revoked) == ["PERMISSION_DENIED"] and revoked["data"] == {"apiKeyRevoke": None}
    rows = (await committed.execute(select(ApiKey.scopes, ApiKey.revoked_at).where(ApiKey.user_id == owner.id).order_by(ApiKey.created_at))).all()
    assert [(r.scopes, r.revoked_at) for r in rows] == [(["video:read"], None), (["clip:read"], None)]


async def test_a_managing_key_creates_only_workspace_keys_within_its_own_scopes(api: Api, committed) -> None:  # noqa: ANN001
    owner, ws, session = await _verified_owner(committed)
    personal_of_user = await _make_key(api, session, ws, ["video:read"], personal=True)
    manager = await _make_key(api, session, ws, ["api_key:manage", "video:read"])
    before = await _key_count(committed, owner.id)
    # a scope beyond the calling key's own is refused, though the owner's role holds it
    beyond = await api.gql(KEY_CREATE, {"n": "x", "s": ["video:read", "webhook:manage"], "p": False}, token=manager["secret"])
    assert beyond["data"]["apiKeyCreate"] == {"secret": None, "apiKey": None, "errors": [{"field": "scopes", "code": "INVALID_SCOPE"}]}
    # a personal key is never made by a key
    personal = await api.gql(KEY_CREATE, {"n": "x", "s": ["video:read"], "p": True}, token=manager["secret"])
    assert errors_of(personal) == ["PERMISSION_DENIED"]
    assert await _key_count(committed, owner.id) == before
    # the user's personal key is out of its reach
    hidden = await api.gql(KEY_REVOKE, {"id": personal_of_user["apiKey"]["id"]}, token=manager["secret"])
    assert hidden["data"]["apiKeyRevoke"] == {"apiKey": None, "errors": [{"field": "keyId", "code": "NOT_FOUND"}]}
    # within its scopes it works, for its own workspace
    made = await _make_key(api, manager["secret"], ws, ["video:read"])
    assert made["apiKey"]["scopes"] == ["video:read"] and made["apiKey"]["workspace"] == {"id": gid("Workspace", ws.id)}
    listed = await api.gql("{ viewer { apiKeys { edges { node { id } } } } }", token=manager["secret"])
    ids = {e["node"]["id"] for e in listed["data"]["viewer"]["apiKeys"]["edges"]}
    assert personal_of_user["apiKey"]["id"] not in ids and {manager["apiKey"]["id"], made["apiKey"]["id"]} <= ids


async def test_a_session_gives_keys_only_what_its_role_holds(api: Api, committed) -> None:  # noqa: ANN001
    # given an editor (no api_key:manage) in a paid workspace
    owner, ws, _ = await _verified_owner(committed)
    editor = await builders.user(committed, email_verified=True)
    committed.add(TeamMember(workspace_id=ws.id, user_id=editor.id, role="editor", accepted_at=datetime.now(UTC)))
    token = await builders.token(committed, editor)
    await committed.commit()
    # a personal key with the owner's powers is refused; one within the editor's role is not
    refused = await api.gql(KEY_CREATE, {"n": "x", "s": ["webhook:manage"], "p": True}, token=token, workspace=ws)
    assert refused["data"]["apiKeyCreate"]["errors"] == [{"field": "scopes", "code": "INVALID_SCOPE"}]
    workspace_key = await api.gql(KEY_CREATE, {"n": "x", "s": ["video:read"], "p": False}, token=token, workspace=ws)
    assert errors_of(workspace_key) == ["PERMISSION_DENIED"]
    assert await _key_count(committed, editor.id) == 0
    made = await _make_key(api, token, ws, ["video:read", "clip:write"], personal=True)
    assert made["apiKey"]["scopes"] == ["video:read", "clip:write"]


# -- 3. pre-registered accounts keep their access -------------------------------------------------


async def _squat(api: Api, db, address: str) -> dict:  # noqa: ANN001
    """Someone registers ``address`` without owning it, and builds access under it."""
    from clipflow_api.auth.tokens import api_key_display_prefix, new_api_key

    body = await api.gql(SIGN_UP, {"i": {"email": address, "password": PASSWORD, "name": "Squatter"}})
    session = body["data"]["signUp"]["token"]
    user_id = uuid.UUID(str((await db.execute(text("SELECT id FROM users WHERE email = :e"), {"e": address})).scalar_one()))
    own_ws = (await db.execute(select(Workspace).where(Workspace.owner_id == user_id))).scalar_one()
    await builders.subscribe(db, own_ws, plan="pro")
    await db.commit()
    # today an unverified account can neither make keys nor invite anyone
    key = await api.gql(KEY_CREATE, {"n": "x", "s": ["video:read"], "p": True}, token=session)
    assert key["data"]["apiKeyCreate"]["errors"] == [{"field": None, "code": "EMAIL_NOT_VERIFIED"}]
    invite = await api.gql(INVITE, {"e": f"friend-{uuid.uuid4().hex[:6]}@example.com"}, token=session)
    assert invite["data"]["invitationCreate"] == {"invitation": None, "errors": [{"code": "EMAIL_NOT_VERIFIED"}]}
    assert await _key_count(db, user_id) == 0
    assert (await db.execute(select(func.count()).select_from(Invitation).where(Invitation.invited_by == user_id))).scalar_one() == 0
    # what such an account could build before: a personal key, a friend in its workspace, a
    # membership elsewhere, and invitations out of both
    secret = new_api_key()
    db.add(ApiKey(user_id=user_id, workspace_id=None, name="old", key_hash=hash_token(secret),
                  key_prefix=api_key_display_prefix(secret), scopes=EVERY_SCOPE))
    friend = await builders.user(db, email_verified=True)
    db.add(TeamMember(workspace_id=own_ws.id, user_id=friend.id, role="admin", accepted_at=datetime.now(UTC)))
    friend_token = await builders.token(db, friend)
    elsewhere = await builders.workspace(db)
    db.add(TeamMember(workspace_id=elsewhere.id, user_id=user_id, role="admin", accepted_at=datetime.now(UTC)))
    for ws in (own_ws, elsewhere):
        db.add(Invitation(workspace_id=ws.id, email=f"pal-{uuid.uuid4().hex[:6]}@example.com", role="editor",
                          token=hash_token(uuid.uuid4().hex), invited_by=user_id, expires_at=datetime.now(UTC) + timedelta(days=7)))
    # an invitation the rightful owner of `elsewhere` sent stays
    db.add(Invitation(workspace_id=elsewhere.id, email=f"kept-{uuid.uuid4().hex[:6]}@example.com", role="viewer",
                      token=hash_token(uuid.uuid4().hex), invited_by=elsewhere.owner_id, expires_at=datetime.now(UTC) + timedelta(days=7)))
    await db.commit()
    assert (await api.gql("{ viewer { role } }", token=secret))["_status"] == 200
    return {"user_id": user_id, "session": session, "key": secret, "own_ws": own_ws, "friend": friend,
            "friend_token": friend_token, "elsewhere": elsewhere}


async def _assert_squatter_is_out(api: Api, db, squat: dict) -> None:  # noqa: ANN001
    user_id = squat["user_id"]
    assert (await api.gql("{ viewer { role } }", token=squat["key"]))["_status"] == 401
    assert (await api.gql("{ viewer { role } }", token=squat["session"]))["_status"] == 401
    assert (await db.execute(select(func.count()).select_from(ApiKey).where(ApiKey.user_id == user_id, ApiKey.revoked_at.is_(None)))).scalar_one() == 0
    members = dict((await db.execute(select(TeamMember.workspace_id, TeamMember.status).where(TeamMember.user_id == user_id))).all())
    assert members == {squat["own_ws"].id: "active", squat["elsewhere"].id: "removed"}
    friend = (await db.execute(select(TeamMember.status).where(TeamMember.user_id == squat["friend"].id))).scalar_one()
    assert friend == "removed"
    refused = await api.gql("{ viewer { role } }", token=squat["friend_token"], workspace=squat["own_ws"])
    assert refused["_status"] == 403
    left = (await db.execute(select(Invitation.workspace_id, Invitation.invited_by).where(
        Invitation.workspace_id.in_([squat["own_ws"].id, squat["elsewhere"].id])))).all()
    assert left == [(squat["elsewhere"].id, squat["elsewhere"].owner_id)]


async def test_password_reset_ends_a_squatters_keys_sessions_memberships_and_invitations(
    api: Api, committed, user_domain: str, cheap_password_hashing  # noqa: ANN001
) -> None:
    address = f"victim-{uuid.uuid4().hex[:6]}@{user_domain}"
    squat = await _squat(api, committed, address)
    # when the owner of the inbox resets the password
    await api.gql(REQUEST_RESET, {"e": address})
    [mail] = [m for m in api.mailbox if m["kind"] == "password-reset"]
    reset = await api.gql(RESET, {"t": mail["token"], "p": "the rightful owner 77"})
    assert reset["data"]["passwordReset"] == {"user": {"emailVerified": True}, "errors": []}
    # then nothing the squatter built reaches the account any more
    await _assert_squatter_is_out(api, committed, squat)
    owner = (await api.gql(LOG_IN, {"e": address, "p": "the rightful owner 77"}))["data"]["logIn"]["token"]
    seen = await api.gql("{ viewer { workspaces { id } } }", token=owner)
    assert seen["data"]["viewer"]["workspaces"] == [{"id": gid("Workspace", squat["own_ws"].id)}]


async def test_a_verified_accounts_password_reset_revokes_its_keys_and_keeps_its_workspaces(
    api: Api, committed, cheap_password_hashing  # noqa: ANN001
) -> None:
    owner, ws, session = await _verified_owner(committed)
    other_ws = await builders.workspace(committed)
    committed.add(TeamMember(workspace_id=other_ws.id, user_id=owner.id, role="admin", accepted_at=datetime.now(UTC)))
    await builders.subscribe(committed, other_ws, plan="pro")
    await committed.commit()
    keys = [await _make_key(api, session, ws, ["video:read"]), await _make_key(api, session, ws, ["video:read"], personal=True),
            await _make_key(api, session, other_ws, ["video:read"])]
    await api.gql(REQUEST_RESET, {"e": owner.email})
    [mail] = [m for m in api.mailbox if m["kind"] == "password-reset"]
    assert (await api.gql(RESET, {"t": mail["token"], "p": "a fresh passphrase 11"}))["data"]["passwordReset"]["errors"] == []
    for key in keys:
        assert (await api.gql("{ viewer { role } }", token=key["secret"]))["_status"] == 401
    assert (await api.gql("{ viewer { role } }", token=session))["_status"] == 401
    members = sorted((await committed.execute(select(TeamMember.status).where(TeamMember.user_id == owner.id))).scalars())
    assert members == ["active", "active"]


@pytest.fixture(scope="module")
def google() -> Iterator[ProviderServer]:
    state = ProviderState(shape="google", client=Client("google-client", f"secret-{uuid.uuid4().hex}", "http://test/auth/oauth/google/callback"))
    with ProviderServer({"google": state}) as server:
        yield server


async def test_google_sign_in_to_a_squatted_address_ends_the_squatters_access(
    migrated_database, committed, google: ProviderServer, user_domain: str, cheap_password_hashing  # noqa: ANN001
) -> None:
    import httpx

    g = google.providers["google"]
    settings = get_settings().model_copy(update={
        "public_base_url": "http://test",
        "oauth_google_client_id": g.client.client_id, "oauth_google_client_secret": g.client.client_secret,
        "oauth_google_authorize_url": f"{google.base_url}/google/authorize",
        "oauth_google_token_url": f"{google.base_url}/google/token",
        "oauth_google_userinfo_url": f"{google.base_url}/google/userinfo",
    })
    address = f"victim-{uuid.uuid4().hex[:6]}@{user_domain}"
    async with open_api(settings) as api:
        squat = await _squat(api, committed, address)
        # when the owner of the address signs in with Google, which vouches for it
        g.profile = {"sub": str(uuid.uuid4().int)[:21], "email": address, "email_verified": True, "name": "Victim"}
        g.deny = False
        started = await api.client.get("/auth/oauth/google/start")
        async with httpx.AsyncClient() as web:
            consent = await web.get(started.headers["location"])
        back = urlsplit(consent.headers["location"])
        done = await api.client.get(f"{back.path}?{back.query}")
        assert done.status_code == 200, done.text
        assert done.json()["created"] is False
        # then the squatter is out, and the audit trail says so
        await _assert_squatter_is_out(api, committed, squat)
        claimed = (await committed.execute(select(AuditLog.details).where(
            AuditLog.user_id == squat["user_id"], AuditLog.action == "user.unverified_account_claimed"))).scalar_one()
        assert claimed == {"method": "google", "sessions_ended": 1, "api_keys_revoked": 1, "memberships_dropped": 1,
                           "members_removed": 1, "invitations_withdrawn": 2}
        viewer = await api.gql("{ viewer { workspaces { id } } }", token=done.json()["token"])
        assert viewer["data"]["viewer"]["workspaces"] == [{"id": gid("Workspace", squat["own_ws"].id)}]


# -- 5. a removed admin's pending invitations stay valid -------------------------------------------


@pytest.mark.parametrize("how", ["removed", "demoted"])
async def test_an_inviter_who_loses_the_right_takes_their_pending_invitations_along(
    api: Api, committed, how: str  # noqa: ANN001
) -> None:
    # given an admin who invited someone
    owner, ws, owner_token = await _verified_owner(committed)
    admin = await builders.user(committed, email_verified=True)
    membership = TeamMember(workspace_id=ws.id, user_id=admin.id, role="admin", accepted_at=datetime.now(UTC))
    committed.add(membership)
    admin_token = await builders.token(committed, admin)
    invitee = await builders.user(committed, email_verified=True)
    invitee_token = await builders.token(committed, invitee)
    await committed.commit()
    sent = await api.gql(INVITE, {"e": invitee.email}, token=admin_token, workspace=ws)
    assert sent["data"]["invitationCreate"]["errors"] == []
    [mail] = [m for m in api.mailbox if m["kind"] == "invitation"]
    # when the owner removes the admin, or makes them an editor (who may not invite)
    if how == "removed":
        done = await api.gql("mutation($id: ID!) { memberRemove(id: $id) { member { status } errors { code } } }",
                             {"id": gid("TeamMember", membership.id)}, token=owner_token, workspace=ws)
        assert done["data"]["memberRemove"] == {"member": {"status": "REMOVED"}, "errors": []}
    else:
        done = await api.gql("mutation($id: ID!) { memberRoleUpdate(id: $id, role: EDITOR) { member { role } errors { code } } }",
                             {"id": gid("TeamMember", membership.id)}, token=owner_token, workspace=ws)
        assert done["data"]["memberRoleUpdate"] == {"member": {"role": "EDITOR"}, "errors": []}
    # then the emailed link no longer lets anyone in
    accepted = await api.gql(ACCEPT, {"t": mail["token"]}, token=invitee_token)
    assert accepted["data"]["invitationAccept"] == {"member": None, "errors": [{"code": "TOKEN_INVALID"}]}
    assert (await committed.execute(select(func.count()).select_from(Invitation).where(Invitation.workspace_id == ws.id))).scalar_one() == 0
    assert (await committed.execute(select(func.count()).select_from(TeamMember).where(TeamMember.user_id == invitee.id))).scalar_one() == 0


async def test_an_inviter_who_keeps_the_right_keeps_their_invitations(api: Api, committed) -> None:  # noqa: ANN001
    owner, ws, owner_token = await _verified_owner(committed)
    admin = await builders.user(committed, email_verified=True)
    membership = TeamMember(workspace_id=ws.id, user_id=admin.id, role="admin", accepted_at=datetime.now(UTC),
                            custom_permissions={"grant": [], "revoke": ["webhook:manage"]})
    committed.add(membership)
    admin_token = await builders.token(committed, admin)
    await committed.commit()
    assert (await api.gql(INVITE, {"e": f"x-{uuid.uuid4().hex[:6]}@example.com"}, token=admin_token, workspace=ws))["data"]["invitationCreate"]["errors"] == []
    # a change of role that keeps member:invite (admin -> admin is a no-op; owner keeps everything)
    done = await api.gql("mutation($id: ID!) { memberRoleUpdate(id: $id, role: OWNER) { member { role } errors { code } } }",
                         {"id": gid("TeamMember", membership.id)}, token=owner_token, workspace=ws)
    assert done["data"]["memberRoleUpdate"] == {"member": {"role": "OWNER"}, "errors": []}
    assert (await committed.execute(select(func.count()).select_from(Invitation).where(Invitation.workspace_id == ws.id))).scalar_one() == 1


# -- 6. sign-in throttling ------------------------------------------------------------------------


async def _sign_up(api: Api, address: str, *, headers: dict | None = None) -> str:
    body = await api.gql(SIGN_UP, {"i": {"email": address, "password": PASSWORD, "name": "Ann"}}, headers=headers)
    assert body["data"]["signUp"]["errors"] == [], body
    return body["data"]["signUp"]["token"]


async def test_concurrent_wrong_passwords_get_exactly_the_limit(
    api: Api, committed, user_domain: str, cheap_password_hashing  # noqa: ANN001
) -> None:
    from clipflow_api.auth.ratelimit import LOGIN_FAILURES_PER_ACCOUNT

    target, bystander = f"target-{uuid.uuid4().hex[:6]}@{user_domain}", f"bystander-{uuid.uuid4().hex[:6]}@{user_domain}"
    await _sign_up(api, target)
    await _sign_up(api, bystander)
    # when 60 wrong passwords arrive at once from one address
    answers = await asyncio.gather(*(api.gql(LOG_IN, {"e": target, "p": f"guess number {i}"}) for i in range(60)))
    codes = [a["data"]["logIn"]["errors"][0]["code"] for a in answers]
    # then exactly the limit were checked, and the rest refused unchecked
    assert codes.count("INVALID_CREDENTIALS") == LOGIN_FAILURES_PER_ACCOUNT == 10
    assert codes.count("RATE_LIMITED") == 50
    assert all(a["data"]["logIn"]["token"] is None for a in answers)
    # the target is locked from that address, even with its password
    assert (await api.gql(LOG_IN, {"e": target, "p": PASSWORD}))["data"]["logIn"] == {"token": None, "errors": [{"code": "RATE_LIMITED"}]}
    # but another account's right password from the same address goes through
    ok = await api.gql(LOG_IN, {"e": bystander, "p": PASSWORD})
    assert ok["data"]["logIn"]["errors"] == [] and ok["data"]["logIn"]["token"]


async def test_spraying_many_accounts_is_capped_per_address_but_known_sign_ins_go_through(
    api: Api, committed, user_domain: str, cheap_password_hashing  # noqa: ANN001
) -> None:
    from clipflow_api.auth.ratelimit import LOGIN_FAILURES_PER_ADDRESS

    regular, stranger = f"regular-{uuid.uuid4().hex[:6]}@{user_domain}", f"stranger-{uuid.uuid4().hex[:6]}@{user_domain}"
    await _sign_up(api, regular)
    await _sign_up(api, stranger)
    assert (await api.gql(LOG_IN, {"e": regular, "p": PASSWORD}))["data"]["logIn"]["errors"] == []  # signs in from here
    # when one address sprays a password over many accounts, up to the per-address cap
    spray = [f"sprayed-{i}@{user_domain}" for i in range(LOGIN_FAILURES_PER_ADDRESS)]
    answers = await asyncio.gather(*(api.gql(LOG_IN, {"e": e, "p": "Summer2026!"}) for e in spray))
    assert {a["data"]["logIn"]["errors"][0]["code"] for a in answers} == {"INVALID_CREDENTIALS"}
    # then further guesses at new accounts are refused unchecked, even a right one
    more = await api.gql(LOG_IN, {"e": f"one-more@{user_domain}", "p": "Summer2026!"})
    assert more["data"]["logIn"]["errors"] == [{"code": "RATE_LIMITED"}]
    assert (await api.gql(LOG_IN, {"e": stranger, "p": PASSWORD}))["data"]["logIn"]["errors"] == [{"code": "RATE_LIMITED"}]
    # while an account that signed in from this address before still signs in
    ok = await api.gql(LOG_IN, {"e": regular, "p": PASSWORD})
    assert ok["data"]["logIn"]["errors"] == [] and ok["data"]["logIn"]["token"]


async def _session_ip(db, token: str) -> str | None:  # noqa: ANN001
    row = (await db.execute(select(UserSession.ip_address).where(UserSession.token_hash == hash_token(token)))).scalar_one()
    return str(row) if row is not None else None


async def test_forwarded_for_from_an_untrusted_peer_is_ignored(
    api: Api, committed, user_domain: str, cheap_password_hashing  # noqa: ANN001
) -> None:
    from clipflow_api.auth.ratelimit import LOGIN_FAILURES_PER_ACCOUNT

    address = f"xff-{uuid.uuid4().hex[:6]}@{user_domain}"
    # the in-process client's peer is 127.0.0.1, and no proxy is configured
    token = await _sign_up(api, address, headers={"x-forwarded-for": "198.51.100.7"})
    assert await _session_ip(committed, token) == "127.0.0.1"
    # a guesser rotating X-Forwarded-For is still one address
    for i in range(LOGIN_FAILURES_PER_ACCOUNT):
        wrong = await api.gql(LOG_IN, {"e": address, "p": "nope nope"}, headers={"x-forwarded-for": f"198.51.100.{i}"})
        assert wrong["data"]["logIn"]["errors"] == [{"code": "INVALID_CREDENTIALS"}]
    locked = await api.gql(LOG_IN, {"e": address, "p": PASSWORD}, headers={"x-forwarded-for": "198.51.100.200"})
    assert locked["data"]["logIn"]["errors"] == [{"code": "RATE_LIMITED"}]


async def test_forwarded_for_from_a_trusted_proxy_is_honoured(
    migrated_database, committed, user_domain: str, cheap_password_hashing  # noqa: ANN001
) -> None:
    from clipflow_api.auth.ratelimit import LOGIN_FAILURES_PER_ACCOUNT

    settings = get_settings().model_copy(update={"forwarded_allow_ips": [__import__("ipaddress").ip_network("127.0.0.0/8")]})
    address = f"proxied-{uuid.uuid4().hex[:6]}@{user_domain}"
    async with open_api(settings) as api:
        # the client's address is the one the proxy appended (what the client wrote before it is not)
        token = await _sign_up(api, address, headers={"x-forwarded-for": "203.0.113.99, 198.51.100.7"})
        assert await _session_ip(committed, token) == "198.51.100.7"
        # one client behind the proxy locks itself out, not a different client behind it
        for _ in range(LOGIN_FAILURES_PER_ACCOUNT):
            await api.gql(LOG_IN, {"e": address, "p": "nope nope"}, headers={"x-forwarded-for": "198.51.100.7"})
        locked = await api.gql(LOG_IN, {"e": address, "p": PASSWORD}, headers={"x-forwarded-for": "198.51.100.7"})
        assert locked["data"]["logIn"]["errors"] == [{"code": "RATE_LIMITED"}]
        ok = await api.gql(LOG_IN, {"e": address, "p": PASSWORD}, headers={"x-forwarded-for": "198.51.100.8"})
        assert ok["data"]["logIn"]["errors"] == []
        assert await _session_ip(committed, ok["data"]["logIn"]["token"]) == "198.51.100.8"


def test_client_address_reads_the_chain_from_the_right() -> None:
    import ipaddress

    from clipflow_api.auth.client_ip import client_address

    proxies = [ipaddress.ip_network("10.0.0.0/8")]
    xff = {"X-Forwarded-For": "1.2.3.4, 203.0.113.9, 10.0.0.7"}
    assert client_address("10.0.0.1", xff, proxies) == "203.0.113.9"
    assert client_address("192.0.2.1", xff, proxies) == "192.0.2.1"  # not our proxy: its header is the client's word
    assert client_address("10.0.0.1", {}, proxies) == "10.0.0.1"
    assert client_address("10.0.0.1", {"x-forwarded-for": "10.0.0.2, 10.0.0.3"}, proxies) == "10.0.0.2"
    assert client_address("10.0.0.1", {"x-forwarded-for": "junk, 203.0.113.9"}, proxies) == "203.0.113.9"
    assert client_address("10.0.0.1", {"x-forwarded-for": "203.0.113.9, junk"}, proxies) == "10.0.0.1"
    assert client_address("10.0.0.1", xff, []) == "10.0.0.1"


# -- 12. keys read account-level data -------------------------------------------------------------


@pytest.mark.parametrize("personal", [False, True])
async def test_a_key_sees_only_the_workspace_it_acts_in(api: Api, committed, personal: bool) -> None:  # noqa: ANN001
    # given a user in two workspaces, signed in, with a key holding every scope
    owner, ws, session = await _verified_owner(committed)
    second = await builders.workspace(committed)
    committed.add(TeamMember(workspace_id=second.id, user_id=owner.id, role="admin", accepted_at=datetime.now(UTC)))
    await committed.commit()
    key = (await _make_key(api, session, ws, EVERY_SCOPE, personal=personal))["secret"]
    own_session = (await committed.execute(select(UserSession.id).where(UserSession.user_id == owner.id))).scalar_one()
    # when the key reads the user's devices, sign-in providers and pending links
    for field in ("sessions { ipAddress }", "linkedAccounts { providerId }", "pendingVerifications { purpose }",
                  "subscription { status }"):
        body = await api.gql(f"{{ viewer {{ {field} }} }}", token=key, workspace=ws)
        # then it is refused
        # (a nullable field is nulled where it stands; a list nulls the viewer)
        refused = {"viewer": {"subscription": None}} if field.startswith("subscription") else {"viewer": None}
        assert errors_of(body) == ["PERMISSION_DENIED"] and body["data"] == refused, field
    assert (await api.gql("query($id: ID!) { node(id: $id) { id } }", {"id": gid("UserSession", own_session)}, token=key))["data"] == {"node": None}
    # and sees the workspace it acts in, not the user's others
    seen = await api.gql("{ viewer { workspaces { id } memberships { workspace { id } } } }", token=key, workspace=ws)
    assert seen["data"]["viewer"] == {"workspaces": [{"id": gid("Workspace", ws.id)}], "memberships": [{"workspace": {"id": gid("Workspace", ws.id)}}]}
    assert (await api.gql("query($id: ID!) { node(id: $id) { id } }", {"id": gid("Workspace", second.id)}, token=key))["data"] == {"node": None}
    # nor may it create workspaces
    count = (await committed.execute(select(func.count()).select_from(Workspace).where(Workspace.owner_id == owner.id))).scalar_one()
    made = await api.gql('mutation { workspaceCreate(input: {name: "Shadow"}) { workspace { id } errors { code } } }', token=key)
    assert errors_of(made) == ["PERMISSION_DENIED"] and made["data"] == {"workspaceCreate": None}
    assert (await committed.execute(select(func.count()).select_from(Workspace).where(Workspace.owner_id == owner.id))).scalar_one() == count
    # nor act for the person: join workspaces, ask for verification links
    joined = await api.gql(ACCEPT, {"t": "whatever"}, token=key)
    asked = await api.gql("mutation { emailVerificationRequest { ok } }", token=key)
    assert errors_of(joined) == errors_of(asked) == ["PERMISSION_DENIED"]
    assert (joined["data"], asked["data"]) == ({"invitationAccept": None}, {"emailVerificationRequest": None})
    # while the session still sees everything it is entitled to
    full = await api.gql("{ viewer { workspaces { id } sessions { id } } }", token=session)
    assert {w["id"] for w in full["data"]["viewer"]["workspaces"]} == {gid("Workspace", ws.id), gid("Workspace", second.id)}
    assert full["data"]["viewer"]["sessions"] == [{"id": gid("UserSession", own_session)}]


# -- 18b. sessions slide forever ------------------------------------------------------------------


async def test_a_session_ends_at_its_absolute_lifetime_however_active(api: Api, committed) -> None:  # noqa: ANN001
    from clipflow_api.auth.tokens import new_token

    user = await builders.user(committed)
    await builders.workspace(committed, user)
    max_age = timedelta(days=get_settings().session_max_age_days)
    now = datetime.now(UTC)
    old, young = new_token(), new_token()
    # one opened just past the lifetime (kept alive by sliding), one a day before it ends
    committed.add(UserSession(user_id=user.id, token_hash=hash_token(old), created_at=now - max_age - timedelta(minutes=1),
                              expires_at=now + timedelta(days=20)))
    committed.add(UserSession(user_id=user.id, token_hash=hash_token(young), created_at=now - max_age + timedelta(days=1),
                              expires_at=now + timedelta(hours=12)))
    await committed.commit()
    expired = await api.gql("{ viewer { role } }", token=old)
    assert expired["_status"] == 401 and errors_of(expired) == ["UNAUTHENTICATED"]
    assert expired["errors"][0]["extensions"]["reason"] == "TOKEN_EXPIRED"
    assert (await committed.execute(select(func.count()).select_from(UserSession).where(UserSession.token_hash == hash_token(old)))).scalar_one() == 0
    # the young one works, and sliding stops at the lifetime instead of adding 30 days
    assert (await api.gql("{ viewer { role } }", token=young))["data"] == {"viewer": {"role": "OWNER"}}
    row = (await committed.execute(select(UserSession.created_at, UserSession.expires_at).where(UserSession.token_hash == hash_token(young)))).one()
    assert row.expires_at == row.created_at + max_age
