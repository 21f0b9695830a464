"""resolve_principal with session tokens: committed data, app-role connections."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from clipflow_api.auth import service
from clipflow_api.auth.principal import ANONYMOUS, Principal, resolve_principal
from clipflow_api.db import set_tenant
from clipflow_api.errors import AuthError, PermissionDenied, ValidationError
from clipflow_api.models import TeamMember
from clipflow_api.permissions import ROLE_PERMISSIONS
from clipflow_api.workspaces import service as workspaces

from tests.fixtures import builders

from .helpers import STRONG_PASSWORD, about, sha256
from tests.fixtures.builders import email


async def _signed_up(factory, domain: str, tag: str = "p"):
    async with factory() as s:
        user, token = await service.sign_up(s, email=email(tag, domain), password=STRONG_PASSWORD, name=tag.title())
        await s.commit()
    async with factory() as s:
        [(member, ws)] = await workspaces.list_memberships(s, user_id=user.id)
    return user, token, ws


async def _resolve(factory, redis, **headers: str):
    return await resolve_principal(headers=headers, client_ip="198.51.100.7", session_factory=factory, redis=redis)


async def test_no_credentials_is_anonymous(factory, redis) -> None:
    assert await _resolve(factory, redis) is ANONYMOUS
    assert await _resolve(factory, redis, **{"User-Agent": "x"}) is ANONYMOUS


async def test_session_token_resolves_to_the_personal_workspace(factory, redis, user_domain) -> None:
    user, token, ws = await _signed_up(factory, user_domain)
    p = await _resolve(factory, redis, Authorization=f"Bearer {token}", **{"User-Agent": "cli/2"})
    assert (p.user_id, p.workspace_id, p.role, p.api_key_id) == (user.id, ws.id, "owner", None)
    assert p.permissions == ROLE_PERMISSIONS["owner"]
    assert p.session_id is not None
    assert (p.ip_address, p.user_agent) == ("198.51.100.7", "cli/2")
    # header names are case-insensitive
    q = await _resolve(factory, redis, authorization=f"bearer {token}")
    assert q.user_id == user.id


@pytest.mark.parametrize("header", ["Bearer not-a-real-token", "Basic dXNlcjpwYXNz", "Bearer", "Token abc"])
async def test_bad_credentials_raise(factory, redis, header: str) -> None:
    with pytest.raises(AuthError) as err:
        await _resolve(factory, redis, Authorization=header)
    assert err.value.code == "TOKEN_INVALID"


async def test_expired_session_is_refused_and_deleted(factory, redis, user_domain, owner_engine: AsyncEngine) -> None:
    user, token, _ = await _signed_up(factory, user_domain)
    async with owner_engine.begin() as conn:
        await conn.execute(
            text("UPDATE sessions SET expires_at = now() - interval '1 second' WHERE user_id = :u"), {"u": user.id}
        )
    with pytest.raises(AuthError) as err:
        await _resolve(factory, redis, Authorization=f"Bearer {token}")
    assert (err.value.code, err.value.message) == ("TOKEN_EXPIRED", "Your session has expired; sign in again.")
    async with owner_engine.connect() as conn:
        left = (
            await conn.execute(text("SELECT count(*) FROM sessions WHERE token_hash = :h"), {"h": sha256(token)})
        ).scalar()
    assert left == 0


async def test_sliding_expiry_extends_a_half_spent_session(
    factory, redis, user_domain, owner_engine: AsyncEngine
) -> None:
    user, token, _ = await _signed_up(factory, user_domain)
    async with owner_engine.begin() as conn:
        await conn.execute(
            text("UPDATE sessions SET expires_at = now() + interval '1 day' WHERE user_id = :u"), {"u": user.id}
        )
    await _resolve(factory, redis, Authorization=f"Bearer {token}")
    async with owner_engine.connect() as conn:
        expires = (
            await conn.execute(text("SELECT expires_at FROM sessions WHERE user_id = :u"), {"u": user.id})
        ).scalar()
    assert about(datetime.now(UTC) + timedelta(days=30), expires)


async def test_logged_out_token_no_longer_works(factory, redis, user_domain) -> None:
    _, token, _ = await _signed_up(factory, user_domain)
    signed_in = await _resolve(factory, redis, Authorization=f"Bearer {token}")
    async with factory() as s:
        await service.log_out(s, signed_in, token=token)
        await s.commit()
    with pytest.raises(AuthError) as err:
        await _resolve(factory, redis, Authorization=f"Bearer {token}")
    assert err.value.code == "TOKEN_INVALID"


async def test_workspace_header_picks_a_membership_and_its_role(factory, redis, user_domain) -> None:
    # given Bob, an editor in Alice's workspace
    alice, _, alice_ws = await _signed_up(factory, user_domain, "alice")
    bob, bob_token, bob_ws = await _signed_up(factory, user_domain, "bob")
    async with factory() as s:
        set_tenant(s, workspace_id=alice_ws.id, user_id=alice.id)
        s.add(TeamMember(workspace_id=alice_ws.id, user_id=bob.id, role="editor", accepted_at=datetime.now(UTC)))
        await s.commit()
    # when Bob names Alice's workspace
    p = await _resolve(factory, redis, Authorization=f"Bearer {bob_token}", **{"X-Workspace-Id": str(alice_ws.id)})
    assert (p.user_id, p.workspace_id, p.role, p.permissions) == (
        bob.id,
        alice_ws.id,
        "editor",
        ROLE_PERMISSIONS["editor"],
    )
    # without the header he lands in his own
    p = await _resolve(factory, redis, Authorization=f"Bearer {bob_token}")
    assert (p.workspace_id, p.role) == (bob_ws.id, "owner")


async def test_workspace_header_for_a_stranger_is_refused(factory, redis, user_domain) -> None:
    _, _, alice_ws = await _signed_up(factory, user_domain, "alice")
    _, bob_token, _ = await _signed_up(factory, user_domain, "bob")
    with pytest.raises(PermissionDenied) as err:
        await _resolve(factory, redis, Authorization=f"Bearer {bob_token}", **{"X-Workspace-Id": str(alice_ws.id)})
    assert err.value.code == "NOT_A_MEMBER"
    with pytest.raises(PermissionDenied):
        await _resolve(factory, redis, Authorization=f"Bearer {bob_token}", **{"X-Workspace-Id": str(uuid.uuid4())})
    with pytest.raises(ValidationError) as verr:
        await _resolve(factory, redis, Authorization=f"Bearer {bob_token}", **{"X-Workspace-Id": "nope"})
    assert (verr.value.code, verr.value.field) == ("INVALID", "X-Workspace-Id")


async def test_platform_staff_get_system_permissions_only_when_verified_and_signed_in(
    factory, redis, user_domain, owner_engine: AsyncEngine, monkeypatch
) -> None:
    from clipflow_api.config import get_settings
    from clipflow_api.permissions import SYSTEM_PERMISSIONS

    user, token, ws = await _signed_up(factory, user_domain, "staff")
    monkeypatch.setattr(get_settings(), "platform_admins", [user.email.upper()])
    # unverified: an email alone proves nothing
    p = await _resolve(factory, redis, Authorization=f"Bearer {token}")
    assert p.permissions == ROLE_PERMISSIONS["owner"]
    async with owner_engine.begin() as conn:
        await conn.execute(text("UPDATE users SET email_verified = true WHERE id = :id"), {"id": user.id})
    p = await _resolve(factory, redis, Authorization=f"Bearer {token}")
    assert p.permissions == ROLE_PERMISSIONS["owner"] | SYSTEM_PERMISSIONS
    # the same user's API key never carries staff powers
    async with factory() as s:
        set_tenant(s, workspace_id=ws.id, user_id=user.id)
        await builders.subscribe(s, user.id, "pro")  # API access
        _key, secret = await service.create_api_key(
            s, Principal(user_id=user.id, workspace_id=ws.id, role="owner", permissions=ROLE_PERMISSIONS["owner"]),
            name="k", scopes=["video:read"],
        )
        await s.commit()
    k = await _resolve(factory, redis, Authorization=f"Bearer {secret}")
    assert not (k.permissions & SYSTEM_PERMISSIONS)
