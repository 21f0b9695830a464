"""Issue 7, findings 15, 16 and 18a: RLS on identity tables, the worker role, plan features,
unshared media folders.

As the app role (RLS applies) a user reaches only their own identity rows, never a
password hash; only the worker role may run the cross-tenant job sweeper; over HTTP a
free workspace gets no API keys, webhooks or brand kits (and its old key stops working);
an unshared folder and the files in it are its creator's (and the owners' and admins').
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import ProgrammingError

from clipflow_api.config import get_settings
from clipflow_api.models import (
    Account, ApiKey, BrandKit, MediaFolder, Subscription, User, UserMedia, UserSession, Verification, Webhook,
)
from tests.fixtures.builders import use_tenant
from tests.fixtures import builders
from tests.graphql.conftest import Api, api, gid  # noqa: F401 - fixtures

# --- identity rows as the app role ---------------------------------------------------------


async def _identity(db: Any, owner_sql: Any) -> tuple[User, User]:
    """Two users, each with a password, a session, a linked account, a verification token and a subscription."""
    users = []
    for _ in range(2):
        user = await builders.user(db, name="Test User", password_hash="$argon2id$v=19$secret")
        await owner_sql(
            "INSERT INTO sessions (user_id, token_hash, expires_at) VALUES (:u, :h, now() + interval '1 day');"
            "", u=user.id, h=uuid.uuid4().hex,
        )
        await owner_sql(
            "INSERT INTO accounts (account_id, provider_id, user_id) VALUES (:a, 'github', :u)", a=uuid.uuid4().hex, u=user.id
        )
        await owner_sql(
            "INSERT INTO verifications (identifier, value, expires_at) VALUES (:i, :v, now() + interval '1 day')",
            i=f"email-verify:{user.id}:{user.email}", v=uuid.uuid4().hex,
        )
        await builders.subscribe(db, user.id, "pro")
        users.append(user)
    return users[0], users[1]


async def test_a_user_reads_only_their_own_identity_rows(app_db, owner_sql) -> None:  # noqa: ANN001
    # given two users with a full set of identity rows each
    a, b = await _identity(app_db, owner_sql)
    # when A is the session's user (no workspace)
    await use_tenant(app_db, None, a.id)
    # then every identity table shows A's rows only
    for model, column in ((User, User.id), (UserSession, UserSession.user_id), (Account, Account.user_id),
                          (Subscription, Subscription.user_id)):
        owners = {r for r in (await app_db.execute(select(column).where(column.in_([a.id, b.id])))).scalars()}
        assert owners == {a.id}, model.__name__
    identifiers = (await app_db.execute(select(Verification.identifier).where(
        Verification.identifier.in_([f"email-verify:{a.id}:{a.email}", f"email-verify:{b.id}:{b.email}"])))).scalars().all()
    assert identifiers == [f"email-verify:{a.id}:{a.email}"]
    # and writing into B's rows changes nothing
    await app_db.execute(text("UPDATE users SET name = 'hijacked' WHERE id = :b"), {"b": b.id})
    await app_db.execute(text("DELETE FROM sessions WHERE user_id = :b"), {"b": b.id})
    assert await owner_sql("SELECT name FROM users WHERE id = :b", b=b.id) == [("Test User",)]
    assert await owner_sql("SELECT count(*) FROM sessions WHERE user_id = :b", b=b.id) == [(1,)]


async def test_no_password_hash_is_readable_by_the_app_role(app_db, owner_sql) -> None:  # noqa: ANN001
    a, _b = await _identity(app_db, owner_sql)
    await use_tenant(app_db, None, a.id)
    # not even one's own: only the sign-in function reads it, for one address
    with pytest.raises(ProgrammingError, match="permission denied for table users"):
        async with app_db.begin_nested():
            await app_db.execute(text("SELECT password_hash FROM users"))
    found = (await app_db.execute(text("SELECT id, password_hash FROM clipflow_user_for_sign_in(:e)"), {"e": a.email})).one()
    assert tuple(found) == (a.id, "$argon2id$v=19$secret")


async def test_fellow_members_are_visible_and_strangers_are_not(app_db, owner_sql) -> None:  # noqa: ANN001
    a, b = await _identity(app_db, owner_sql)
    stranger = await builders.user(app_db)
    ws = uuid.uuid4()
    await owner_sql("INSERT INTO workspaces (id, name, slug, owner_id) VALUES (:w, 'W', :s, :a)", w=ws, s=f"w-{ws.hex[:8]}", a=a.id)
    for user, role in ((a, "owner"), (b, "editor")):
        await owner_sql("INSERT INTO team_members (workspace_id, user_id, role) VALUES (:w, :u, :r)", w=ws, u=user.id, r=role)
    # when B acts in the workspace
    await use_tenant(app_db, ws, b.id)
    seen = set((await app_db.execute(select(User.id).where(User.id.in_([a.id, b.id, stranger.id])))).scalars())
    assert seen == {a.id, b.id}
    # and the workspace's plan (A's subscription) is readable, A's sessions are not
    assert (await app_db.execute(select(Subscription.user_id).where(Subscription.user_id == a.id))).scalars().all() == [a.id]
    assert (await app_db.execute(select(UserSession.id).where(UserSession.user_id == a.id))).all() == []


async def test_feature_flags_are_read_by_all_and_written_only_on_the_staff_path(app_db, owner_sql) -> None:  # noqa: ANN001
    name = f"flag-{uuid.uuid4().hex[:8]}"
    await owner_sql("INSERT INTO feature_flags (name) VALUES (:n)", n=name)
    assert (await app_db.execute(text("SELECT count(*) FROM feature_flags WHERE name = :n"), {"n": name})).scalar() == 1
    updated = await app_db.execute(text("UPDATE feature_flags SET is_enabled = true WHERE name = :n"), {"n": name})
    assert updated.rowcount == 0
    with pytest.raises(ProgrammingError, match="row-level security"):
        async with app_db.begin_nested():
            await app_db.execute(text("INSERT INTO feature_flags (name) VALUES (:n)"), {"n": name + "-2"})
    assert await owner_sql("SELECT is_enabled FROM feature_flags WHERE name = :n", n=name) == [(False,)]


# --- the job sweeper belongs to the worker role --------------------------------------------


async def test_only_the_worker_role_runs_the_job_sweeper(connection) -> None:  # noqa: ANN001
    settings = get_settings()
    sweep = text("SELECT count(*) FROM clipflow_due_jobs(0, 0, 10)")
    await connection.execute(text(f'SET LOCAL ROLE "{settings.db_app_role}"'))
    with pytest.raises(ProgrammingError, match="permission denied for function clipflow_due_jobs"):
        async with connection.begin_nested():
            await connection.execute(sweep)
    await connection.execute(text("RESET ROLE"))
    await connection.execute(text(f'SET LOCAL ROLE "{settings.db_worker_role}"'))
    assert (await connection.execute(sweep)).scalar() >= 0
    # the worker is no superuser either: RLS applies to it
    row = (await connection.execute(text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"))).one()
    assert tuple(row) == (False, False)
    await connection.execute(text("RESET ROLE"))
    public = (await connection.execute(text(
        "SELECT has_function_privilege('public', 'clipflow_due_jobs(integer, integer, integer)', 'EXECUTE')"
    ))).scalar()
    assert public is False


# --- plan features over HTTP ---------------------------------------------------------------

API_KEY_CREATE = 'mutation { r: apiKeyCreate(input: {name: "ci", scopes: ["video:read"]}) { secret apiKey { id } errors { code message } } }'
WEBHOOK_CREATE = 'mutation { r: webhookCreate(input: {url: "https://hooks.example.com/x", events: ["clip.generated"]}) { secret webhook { id } errors { code message } } }'
BRAND_KIT_CREATE = 'mutation { r: brandKitCreate(input: {name: "B", primaryColor: "#112233"}) { brandKit { id } errors { code message } } }'


async def _owner(committed: Any) -> tuple[Any, Any, str]:
    owner = await builders.user(committed, email_verified=True)
    ws = await builders.workspace(committed, owner)
    token = await builders.token(committed, owner)
    return owner, ws, token


async def _count(db: Any, model: Any, ws: Any) -> int:
    return len((await db.execute(select(model.id).where(model.workspace_id == ws.id))).all())


@pytest.mark.parametrize(
    ("query", "model", "feature", "upgrade"),
    [(API_KEY_CREATE, ApiKey, "API access", "Pro"), (WEBHOOK_CREATE, Webhook, "webhooks", "Pro"),
     (BRAND_KIT_CREATE, BrandKit, "the brand kit", "Starter")],
)
async def test_a_free_workspace_cannot_create_paid_features_and_a_pro_one_can(
    api: Api, committed, query: str, model: Any, feature: str, upgrade: str  # noqa: ANN001
) -> None:
    # given the owner of a workspace on the free plan
    _owner_user, ws, token = await _owner(committed)
    await committed.commit()
    # when they create the paid feature
    body = await api.gql(query, token=token, workspace=ws)
    # then it is refused with a code and a sentence naming the plan to upgrade to, and nothing is written
    assert body["data"]["r"]["errors"] == [
        {"code": "PLAN_FEATURE_REQUIRED", "message": f"The Free plan does not include {feature}; upgrade to {upgrade} or above."}
    ]
    assert await _count(committed, model, ws) == 0
    # and once the workspace is on Pro it works
    await builders.subscribe(committed, ws, plan="pro")
    await committed.commit()
    body = await api.gql(query, token=token, workspace=ws)
    assert body["data"]["r"]["errors"] == []
    assert await _count(committed, model, ws) == 1


async def test_a_key_of_a_workspace_that_lost_its_plan_is_refused(api: Api, committed) -> None:  # noqa: ANN001
    # given a workspace key made while on Pro, whose subscription has since been canceled
    owner, ws, _token = await _owner(committed)
    sub = await builders.subscribe(committed, ws, plan="pro")
    _, secret = await builders.api_key(committed, owner, ws, scopes=["video:read"])
    await committed.commit()
    ok = await api.gql("{ viewer { role } }", headers={"x-api-key": secret})
    assert ok["data"] == {"viewer": {"role": "OWNER"}}
    sub.status = "canceled"
    await committed.commit()
    # when it is used
    body = await api.gql("{ viewer { role } }", headers={"x-api-key": secret})
    # then it is refused
    assert body["_status"] == 403
    assert body["errors"][0]["extensions"]["code"] == "PLAN_FEATURE_REQUIRED"
    assert body["errors"][0]["message"] == "The Free plan does not include API access; upgrade to Pro or above."


async def test_a_user_cannot_read_another_users_session_or_row_by_id(api: Api, committed) -> None:  # noqa: ANN001
    # given two users of different workspaces
    a, _ws_a, token_a = await _owner(committed)
    b, _ws_b, token_b = await _owner(committed)
    b_session = (await committed.execute(select(UserSession.id).where(UserSession.user_id == b.id))).scalar_one()
    await committed.commit()
    query = "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }"
    body = await api.gql(query, {"ids": [gid("User", b.id), gid("UserSession", b_session), gid("User", a.id)]}, token=token_a)
    assert body["data"]["nodes"] == [None, None, {"__typename": "User", "id": gid("User", a.id)}]


# --- unshared folders and the files in them ------------------------------------------------

FOLDERS = "query($ws: ID!) { node(id: $ws) { ... on Workspace { mediaFolders(first: 50) { edges { node { id name } } } userMedia(first: 50) { edges { node { id originalName } } } } } }"


def _media(ws: Any, user: Any, name: str, folder: Any) -> UserMedia:
    return UserMedia(workspace_id=ws.id, user_id=user.id, filename=name, original_name=name, mime_type="image/png",
                     file_size=1, storage_provider="local", storage_key=f"{ws.id}/{name}", public_url=f"/m/{name}",
                     media_type="image", folder_id=folder.id if folder else None)


async def test_unshared_folders_and_their_files_are_their_creators(api: Api, committed) -> None:  # noqa: ANN001
    # given editor A's private folder with a file, a shared folder with a file, and a loose file
    owner, ws, owner_token = await _owner(committed)
    a, token_a = await builders.member(committed, ws, "editor")
    b, token_b = await builders.member(committed, ws, "editor")
    private = MediaFolder(workspace_id=ws.id, user_id=a.id, name="private", is_shared=False)
    shared = MediaFolder(workspace_id=ws.id, user_id=a.id, name="shared", is_shared=True)
    committed.add_all([private, shared])
    await committed.flush()
    hidden, open_, loose = _media(ws, a, "hidden.png", private), _media(ws, a, "open.png", shared), _media(ws, a, "loose.png", None)
    committed.add_all([hidden, open_, loose])
    await committed.commit()

    async def listing(token: str) -> tuple[set[str], set[str]]:
        body = await api.gql(FOLDERS, {"ws": gid("Workspace", ws.id)}, token=token, workspace=ws)
        assert body.get("errors") is None, body
        node = body["data"]["node"]
        return ({e["node"]["name"] for e in node["mediaFolders"]["edges"]},
                {e["node"]["originalName"] for e in node["userMedia"]["edges"]})

    # then member B sees the shared folder and its file, and the loose file, in the lists...
    assert await listing(token_b) == ({"shared"}, {"open.png", "loose.png"})
    # ...and nothing private by id
    ids = [gid("MediaFolder", private.id), gid("UserMedia", hidden.id), gid("MediaFolder", shared.id), gid("UserMedia", open_.id)]
    body = await api.gql("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ids}, token=token_b, workspace=ws)
    assert body["data"]["nodes"] == [None, None, {"id": ids[2]}, {"id": ids[3]}]
    # nor can B rename the private folder
    renamed = await api.gql('mutation($id: ID!) { r: mediaFolderUpdate(id: $id, input: {name: "mine"}) { mediaFolder { id } errors { code } } }',
                            {"id": ids[0]}, token=token_b, workspace=ws)
    assert renamed["data"]["r"]["errors"][0]["code"] == "NOT_FOUND"
    await committed.refresh(private)
    assert private.name == "private"
    # while A, its creator, and the workspace owner see everything
    everything = ({"private", "shared"}, {"hidden.png", "open.png", "loose.png"})
    assert await listing(token_a) == everything
    assert await listing(owner_token) == everything


async def test_rls_hides_unshared_folders_from_other_members(app_db, owner_sql) -> None:  # noqa: ANN001
    # the database backs the loaders up: a query without their filter still sees nothing private
    a, b, owner = await builders.user(app_db), await builders.user(app_db), await builders.user(app_db)
    ws = uuid.uuid4()
    await owner_sql("INSERT INTO workspaces (id, name, slug, owner_id) VALUES (:w, 'W', :s, :o)", w=ws, s=f"w-{ws.hex[:8]}", o=owner.id)
    for user, role in ((owner, "owner"), (a, "editor"), (b, "editor")):
        await owner_sql("INSERT INTO team_members (workspace_id, user_id, role) VALUES (:w, :u, :r)", w=ws, u=user.id, r=role)
    folder = uuid.uuid4()
    await owner_sql("INSERT INTO media_folders (id, workspace_id, user_id, name) VALUES (:f, :w, :a, 'private')", f=folder, w=ws, a=a.id)
    await owner_sql(
        "INSERT INTO user_media (workspace_id, user_id, filename, original_name, mime_type, file_size, storage_provider,"
        " storage_key, public_url, media_type, folder_id) VALUES (:w, :a, 'x', 'x', 'image/png', 1, 'local', 'k', 'u', 'image', :f)",
        w=ws, a=a.id, f=folder,
    )
    counts = "SELECT (SELECT count(*) FROM media_folders), (SELECT count(*) FROM user_media)"
    for user, seen in ((b, (0, 0)), (a, (1, 1)), (owner, (1, 1))):
        await use_tenant(app_db, ws, user.id)
        assert tuple((await app_db.execute(text(counts))).one()) == seen
