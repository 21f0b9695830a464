"""Migration 0005: the SECURITY DEFINER lookups that run before a tenant is known."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from clipflow_api.auth import repository, service
from clipflow_api.auth.tokens import hash_token
from clipflow_api.config import get_settings
from clipflow_api.models import ApiKey
from clipflow_api.workspaces import repository as workspaces_repository
from clipflow_api.workspaces import service as workspaces

from tests.fixtures import builders

from .helpers import principal

FUNCTIONS = ("clipflow_api_key_by_hash(text)", "clipflow_invitation_by_token(text)")


@pytest.mark.parametrize("signature", FUNCTIONS)
async def test_definer_with_pinned_search_path_executable_by_the_app_role_only(
    connection: AsyncConnection, signature: str
) -> None:
    name = signature.split("(")[0]
    row = (
        await connection.execute(
            text("SELECT prosecdef, proconfig FROM pg_proc WHERE proname = :n"),
            {"n": name},
        )
    ).one()
    assert tuple(row) == (True, ["search_path=public, pg_temp"])
    app_role = get_settings().db_app_role
    await connection.execute(text("CREATE ROLE clipflow_test_stranger NOLOGIN"))  # rolled back with the test
    can = (
        await connection.execute(
            text(
                "SELECT has_function_privilege(:app, :sig, 'EXECUTE'), "
                "has_function_privilege('clipflow_test_stranger', :sig, 'EXECUTE')"
            ),
            {"app": app_role, "sig": signature},
        )
    ).one()
    assert tuple(can) == (True, False)


async def test_app_role_finds_a_key_and_an_invitation_only_through_the_functions(
    app_db: AsyncSession,
) -> None:
    owner = await builders.user(app_db, email_verified=True)
    await builders.subscribe(app_db, owner.id, "pro")
    ws = await workspaces.create_workspace(app_db, owner_id=owner.id, name="Hidden")
    key, secret = await service.create_api_key(app_db, principal(owner.id, ws.id, "owner"), name="k", scopes=["video:read"])
    invitation, token = await workspaces.invite(
        app_db, principal(owner.id, ws.id, "owner"), email="hidden@example.com", role="viewer"
    )
    # with no tenant the rows are invisible to plain queries...
    assert app_db.info["workspace_id"] is None
    assert (await app_db.execute(select(ApiKey))).all() == []
    # ...but found by the hash of their secret, with only what authentication needs
    found = await repository.find_api_key_by_hash(app_db, hash_token(secret))
    assert (found.id, found.workspace_id, found.user_id, found.scopes, found.rate_limit) == (
        key.id,
        ws.id,
        owner.id,
        ["video:read"],
        1000,
    )
    assert await repository.find_api_key_by_hash(app_db, hash_token("cf_live_other")) is None
    inv = await workspaces_repository.find_invitation_by_token_hash(app_db, hash_token(token))
    assert (inv.id, inv.workspace_id, inv.email, inv.role, inv.accepted_at) == (
        invitation.id,
        ws.id,
        "hidden@example.com",
        "viewer",
        None,
    )
    # and the functions are read-only windows: the tables stay closed to writes without a tenant
    with pytest.raises(ProgrammingError, match="row-level security"):
        async with app_db.begin_nested():
            await app_db.execute(
                text(
                    "INSERT INTO api_keys (user_id, workspace_id, name, key_hash, key_prefix) VALUES (:u, :w, 'x', 'h', 'p')"
                ),
                {"u": owner.id, "w": ws.id},
            )
