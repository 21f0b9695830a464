"""API keys: format, storage, verification, scopes, revocation, expiry and the daily limit."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from clipflow_api.auth import ratelimit, service, tokens
from clipflow_api.auth.principal import Principal, resolve_principal
from clipflow_api.db import set_tenant
from clipflow_api.errors import (
    AuthError,
    NotFound,
    PermissionDenied,
    RateLimited,
    ValidationError,
)
from clipflow_api.models import TeamMember
from clipflow_api.permissions import ROLE_PERMISSIONS
from clipflow_api.workspaces import service as workspaces

from tests.fixtures import builders

from .helpers import STRONG_PASSWORD, principal, sha256
from tests.fixtures.builders import email, use_tenant

KEY_SHAPE = re.compile(r"^cf_live_[0-9A-Za-z]{46}$")


# -- format -------------------------------------------------------------------------------------


def test_key_format_and_checksum() -> None:
    key = tokens.new_api_key()
    assert KEY_SHAPE.match(key)
    assert tokens.api_key_is_well_formed(key)
    assert tokens.api_key_display_prefix(key) == key[:16]
    # every single-character typo in the secret is caught by the checksum
    secret_part = range(8, 8 + tokens.API_KEY_SECRET_LENGTH)
    for i in secret_part:
        replacement = "A" if key[i] != "A" else "B"
        assert not tokens.api_key_is_well_formed(key[:i] + replacement + key[i + 1 :]), i
    assert not tokens.api_key_is_well_formed(key[:-1])
    assert not tokens.api_key_is_well_formed(key + "0")
    assert not tokens.api_key_is_well_formed("cf_test_" + key[8:])
    assert not tokens.api_key_is_well_formed(key[:20] + "-" + key[21:])


def test_checksum_is_crc32_in_base62() -> None:
    import zlib

    secret = "0" * 40
    n = zlib.crc32(secret.encode())
    digits = tokens.api_key_checksum(secret)
    value = 0
    for ch in digits:
        value = value * 62 + tokens.BASE62.index(ch)
    assert (len(digits), value) == (6, n)


# -- creation (app role, rolled back) -----------------------------------------------------------


async def _owner_with_workspace(db: AsyncSession):
    user = await builders.user(db, email_verified=True)
    await builders.subscribe(db, user.id, "pro")  # API access
    ws = await workspaces.create_workspace(db, owner_id=user.id, name="Keys Inc")
    return user, ws


async def test_create_stores_only_hash_and_prefix(app_db: AsyncSession, owner_sql) -> None:
    user, ws = await _owner_with_workspace(app_db)
    key, secret = await service.create_api_key(
        app_db,
        principal(user.id, ws.id, "owner"),
        name=" CI deploy ",
        scopes=["video:read", "clip:write", "video:read"],
    )
    assert KEY_SHAPE.match(secret)
    assert (key.name, key.scopes, key.rate_limit, key.revoked_at, key.expires_at) == (
        "CI deploy",
        ["video:read", "clip:write"],
        1000,
        None,
        None,
    )
    row = (await owner_sql("SELECT key_hash, key_prefix, workspace_id, user_id FROM api_keys WHERE id = :k", k=key.id))[
        0
    ]
    assert tuple(row) == (sha256(secret), secret[:16], ws.id, user.id)
    # the secret appears nowhere in the database row
    dump = await owner_sql("SELECT row_to_json(k)::text FROM api_keys k WHERE id = :k", k=key.id)
    assert secret[16:] not in dump[0][0]
    audit = await owner_sql("SELECT action, workspace_id FROM audit_logs WHERE resource_id = :k", k=key.id)
    assert [tuple(a) for a in audit] == [("api_key.create", ws.id)]


@pytest.mark.parametrize(
    ("kwargs", "code", "field"),
    [
        ({"scopes": []}, "REQUIRED", "scopes"),
        ({"scopes": ["video:fly"]}, "INVALID_SCOPE", "scopes"),
        ({"scopes": ["feature_flag:admin"]}, "INVALID_SCOPE", "scopes"),
        ({"scopes": ["video:read"], "expires_at": datetime.now(UTC) - timedelta(seconds=1)}, "INVALID", "expires_at"),
        ({"scopes": ["video:read"], "expires_at": datetime(2999, 1, 1)}, "INVALID", "expires_at"),
        ({"scopes": ["video:read"], "rate_limit": 0}, "INVALID", "rate_limit"),
        ({"scopes": ["video:read"], "name": ""}, "REQUIRED", "name"),
        ({"scopes": ["video:read"] * 51}, "INVALID", "scopes"),  # input lists are capped before they are checked
    ],
)
async def test_invalid_input_is_refused(app_db: AsyncSession, owner_sql, kwargs, code, field) -> None:
    user, ws = await _owner_with_workspace(app_db)
    args = {"name": "k", **kwargs}
    with pytest.raises(ValidationError) as err:
        await service.create_api_key(app_db, principal(user.id, ws.id, "owner"), **args)
    assert (err.value.code, err.value.field) == (code, field)
    assert await owner_sql("SELECT count(*) FROM api_keys WHERE user_id = :u", u=user.id) == [(0,)]


@pytest.mark.parametrize(
    ("key_scopes", "refused"),
    [(None, False), (frozenset({"api_key:manage", "video:read"}), False), (frozenset({"video:read"}), True)],
    ids=["session", "key-with-api_key:manage", "key-without"],
)
def test_only_a_key_without_api_key_manage_may_not_list_keys(key_scopes, refused) -> None:
    user_id, ws_id = uuid.uuid4(), uuid.uuid4()
    caller = (
        principal(user_id, ws_id, "owner")
        if key_scopes is None
        else Principal(user_id=user_id, workspace_id=ws_id, role="owner", permissions=key_scopes, api_key_id=uuid.uuid4())
    )
    if not refused:
        assert service.require_key_listing(caller) is None
        return
    with pytest.raises(PermissionDenied) as err:
        service.require_key_listing(caller)
    assert (err.value.code, err.value.message) == ("PERMISSION_DENIED", "This API key needs the api_key:manage scope to list keys.")


async def test_only_managers_create_workspace_keys_within_their_permissions(app_db: AsyncSession, owner_sql) -> None:
    owner, ws = await _owner_with_workspace(app_db)
    editor, admin, stranger = [await builders.user(app_db, email_verified=True) for _ in range(3)]
    await use_tenant(app_db, ws.id, owner.id)
    app_db.add_all(
        [
            TeamMember(workspace_id=ws.id, user_id=editor.id, role="editor"),
            TeamMember(workspace_id=ws.id, user_id=admin.id, role="admin"),
        ]
    )
    await app_db.flush()
    with pytest.raises(PermissionDenied) as err:
        await service.create_api_key(app_db, principal(editor.id, ws.id, "editor"), name="k", scopes=["video:read"])
    assert err.value.code == "PERMISSION_DENIED"
    with pytest.raises(PermissionDenied) as err:
        await service.create_api_key(app_db, principal(stranger.id, ws.id, "viewer"), name="k", scopes=["video:read"])
    assert err.value.code == "NOT_A_MEMBER"
    with pytest.raises(ValidationError) as verr:
        await service.create_api_key(app_db, principal(admin.id, ws.id, "admin"), name="k", scopes=["billing:manage"])
    assert (verr.value.code, verr.value.field) == ("INVALID_SCOPE", "scopes")
    assert await owner_sql("SELECT count(*) FROM api_keys WHERE workspace_id = :w", w=ws.id) == [(0,)]
    key, _ = await service.create_api_key(app_db, principal(admin.id, ws.id, "admin"), name="k", scopes=["webhook:manage"])
    assert key.workspace_id == ws.id


async def test_revoke_rules(app_db: AsyncSession, owner_sql) -> None:
    owner, ws = await _owner_with_workspace(app_db)
    editor = await builders.user(app_db)
    await use_tenant(app_db, ws.id, owner.id)
    app_db.add(TeamMember(workspace_id=ws.id, user_id=editor.id, role="editor"))
    await app_db.flush()
    key, _ = await service.create_api_key(app_db, principal(owner.id, ws.id, "owner"), name="k", scopes=["video:read"])
    # an editor of the workspace may not revoke the owner's key
    with pytest.raises(PermissionDenied):
        await service.revoke_api_key(app_db, principal(editor.id, ws.id, "editor"), key_id=key.id)
    assert await owner_sql("SELECT revoked_at FROM api_keys WHERE id = :k", k=key.id) == [(None,)]
    # an unknown key is not found
    with pytest.raises(NotFound):
        await service.revoke_api_key(app_db, principal(owner.id, ws.id, "owner"), key_id=uuid.uuid4())
    # the owner may; revoking twice changes nothing
    revoked = await service.revoke_api_key(app_db, principal(owner.id, ws.id, "owner"), key_id=key.id)
    first = revoked.revoked_at
    assert first is not None
    again = await service.revoke_api_key(app_db, principal(owner.id, ws.id, "owner"), key_id=key.id)
    assert again.revoked_at == first
    assert await owner_sql(
        "SELECT count(*) FROM audit_logs WHERE resource_id = :k AND action = 'api_key.revoke'", k=key.id
    ) == [(1,)]


async def test_keys_of_another_workspace_are_invisible(app_db: AsyncSession) -> None:
    owner_a, ws_a = await _owner_with_workspace(app_db)
    owner_b, ws_b = await _owner_with_workspace(app_db)
    key, _ = await service.create_api_key(app_db, principal(owner_a.id, ws_a.id, "owner"), name="k", scopes=["video:read"])
    await use_tenant(app_db, ws_b.id, owner_b.id)
    with pytest.raises(NotFound):
        await service.revoke_api_key(app_db, principal(owner_b.id, ws_b.id, "owner"), key_id=key.id)


# -- use (committed, real Redis) -----------------------------------------------------------------


async def _setup(factory, domain: str, **key_kwargs):
    async with factory() as s:
        user, _ = await service.sign_up(s, email=email("k", domain), password=STRONG_PASSWORD, name="Keyholder")
        [(member, ws)] = await workspaces.list_memberships(s, user_id=user.id)
        await service.repository.set_user_fields(s, user, email_verified=True)
        await builders.subscribe(s, user.id, "pro")  # API access
        key, secret = await service.create_api_key(
            s,
            principal(user.id, ws.id, "owner"),
            personal=key_kwargs.pop("personal", False),
            name="key",
            scopes=key_kwargs.pop("scopes", ["video:read", "clip:write"]),
            **key_kwargs,
        )
        await s.commit()
    return user, ws, key, secret


async def _resolve(factory, redis, **headers: str):
    return await resolve_principal(headers=headers, client_ip="192.0.2.1", session_factory=factory, redis=redis)


async def test_key_resolves_with_scopes_narrowing_permissions(
    factory, redis, user_domain, owner_engine: AsyncEngine
) -> None:
    user, ws, key, secret = await _setup(factory, user_domain)
    p = await _resolve(factory, redis, Authorization=f"Bearer {secret}")
    assert (p.user_id, p.workspace_id, p.role, p.api_key_id, p.session_id) == (user.id, ws.id, "owner", key.id, None)
    assert p.permissions == frozenset({"video:read", "clip:write"})
    # X-Api-Key works as well
    q = await _resolve(factory, redis, **{"X-Api-Key": secret})
    assert q.api_key_id == key.id
    async with owner_engine.connect() as conn:
        used = (await conn.execute(text("SELECT last_used_at FROM api_keys WHERE id = :k"), {"k": key.id})).scalar()
    assert used is not None


async def test_scopes_never_exceed_the_member_role(factory, redis, user_domain) -> None:
    # given a personal key asking for video:delete, used in a workspace where the user is a viewer
    alice, alice_ws, _, _ = await _setup(factory, user_domain)
    bob, _, _, bob_key = await _setup(factory, user_domain, personal=True, scopes=["video:read", "video:delete"])
    async with factory() as s:
        set_tenant(s, workspace_id=alice_ws.id, user_id=alice.id)
        s.add(TeamMember(workspace_id=alice_ws.id, user_id=bob.id, role="viewer"))
        await s.commit()
    p = await _resolve(factory, redis, Authorization=f"Bearer {bob_key}", **{"X-Workspace-Id": str(alice_ws.id)})
    assert (p.workspace_id, p.role, p.permissions) == (alice_ws.id, "viewer", frozenset({"video:read"}))
    assert ROLE_PERMISSIONS["viewer"] >= p.permissions


async def test_typo_is_refused_without_touching_the_database(redis) -> None:
    key = tokens.new_api_key()
    typo = key[:10] + ("x" if key[10] != "x" else "y") + key[11:]

    def no_database():
        raise AssertionError("a malformed key must not reach the database")

    with pytest.raises(AuthError) as err:
        await resolve_principal(
            headers={"Authorization": f"Bearer {typo}"}, client_ip=None, session_factory=no_database, redis=redis
        )
    assert err.value.code == "API_KEY_INVALID"
    with pytest.raises(AuthError) as err:
        await resolve_principal(
            headers={"X-Api-Key": "sk_something"}, client_ip=None, session_factory=no_database, redis=redis
        )
    assert err.value.code == "API_KEY_INVALID"


async def test_well_formed_unknown_key_is_refused(factory, redis) -> None:
    with pytest.raises(AuthError) as err:
        await _resolve(factory, redis, Authorization=f"Bearer {tokens.new_api_key()}")
    assert (err.value.code, err.value.message) == ("API_KEY_INVALID", "Unknown API key.")


async def test_revoked_and_expired_keys_are_refused(factory, redis, user_domain, owner_engine: AsyncEngine) -> None:
    user, ws, key, secret = await _setup(factory, user_domain)
    _, _, key2, secret2 = await _setup(factory, user_domain, expires_at=datetime.now(UTC) + timedelta(days=1))
    async with factory() as s:
        set_tenant(s, workspace_id=ws.id, user_id=user.id)
        await service.revoke_api_key(s, principal(user.id, ws.id, "owner"), key_id=key.id)
        await s.commit()
    with pytest.raises(AuthError) as err:
        await _resolve(factory, redis, Authorization=f"Bearer {secret}")
    assert err.value.code == "API_KEY_REVOKED"
    assert (await _resolve(factory, redis, Authorization=f"Bearer {secret2}")).api_key_id == key2.id
    async with owner_engine.begin() as conn:
        await conn.execute(
            text("UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = :k"), {"k": key2.id}
        )
    with pytest.raises(AuthError) as err:
        await _resolve(factory, redis, Authorization=f"Bearer {secret2}")
    assert err.value.code == "API_KEY_EXPIRED"


async def test_workspace_key_cannot_act_elsewhere(factory, redis, user_domain) -> None:
    _, _, _, secret = await _setup(factory, user_domain)
    with pytest.raises(PermissionDenied) as err:
        await _resolve(factory, redis, Authorization=f"Bearer {secret}", **{"X-Workspace-Id": str(uuid.uuid4())})
    assert err.value.code == "PERMISSION_DENIED"


async def test_daily_limit_counts_in_redis(factory, redis, user_domain) -> None:
    # given a key allowed 3 requests a day
    _, _, key, secret = await _setup(factory, user_domain, rate_limit=3)
    for _ in range(3):
        await _resolve(factory, redis, Authorization=f"Bearer {secret}")
    # when the 4th comes
    with pytest.raises(RateLimited) as err:
        await _resolve(factory, redis, Authorization=f"Bearer {secret}")
    # then it is refused until the next UTC midnight
    now = datetime.now(UTC)
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    assert err.value.code == "RATE_LIMITED"
    assert err.value.reset_at == midnight
    assert err.value.message == (
        f"This API key has used its 3 requests for today; the limit resets at {midnight:%Y-%m-%d %H:%M} UTC."
    )
    counter = ratelimit.usage_key(key.id, now)
    assert int(await redis.get(counter)) == 4
    ttl = await redis.ttl(counter)
    assert (midnight - now).total_seconds() + 3600 - 5 <= ttl <= (midnight - now).total_seconds() + 3600 + 1


async def test_plan_caps_the_daily_limit(factory, redis, user_domain, owner_engine: AsyncEngine) -> None:
    # given a plan allowing 2 API requests a day and a key that asks for 10
    plan_name = f"tiny-{uuid.uuid4().hex[:6]}"
    async with owner_engine.begin() as conn:
        plan_id = (
            await conn.execute(
                text(
                    "INSERT INTO subscription_plans (name, display_name, price_monthly, videos_per_month, max_video_duration, "
                    "export_quality, social_accounts, team_members, api_requests_daily, storage_gb, features) "
                    "VALUES (:n, 'Tiny', 0, 1, 60, '720p', 1, 1, 2, 1, '{\"api_access\": true}') RETURNING id"
                ),
                {"n": plan_name},
            )
        ).scalar()
    try:
        user, _, _, secret = await _setup(factory, user_domain, rate_limit=10)
        # the newest live subscription is the plan (subscriptions sit behind RLS: written as the owner role)
        async with owner_engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO subscriptions (user_id, plan_id, current_period_start, current_period_end, created_at) "
                    "VALUES (:u, :p, now(), now() + interval '30 days', now() + interval '1 second')"
                ),
                {"u": user.id, "p": plan_id},
            )
        await _resolve(factory, redis, Authorization=f"Bearer {secret}")
        await _resolve(factory, redis, Authorization=f"Bearer {secret}")
        with pytest.raises(RateLimited) as err:
            await _resolve(factory, redis, Authorization=f"Bearer {secret}")
        assert "its 2 requests" in err.value.message
    finally:
        async with owner_engine.begin() as conn:
            await conn.execute(text("DELETE FROM subscriptions WHERE plan_id = :p"), {"p": plan_id})
            await conn.execute(text("DELETE FROM subscription_plans WHERE id = :p"), {"p": plan_id})


async def test_free_plan_applies_without_a_subscription(app_db: AsyncSession) -> None:
    from clipflow_api.billing.plans import plan_of_workspace

    user, ws = await _owner_with_workspace(app_db)
    plan = await plan_of_workspace(app_db, ws.id)
    assert (plan.name, plan.team_members, plan.api_requests_daily) == ("free", 1, 100)
