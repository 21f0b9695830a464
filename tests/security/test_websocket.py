"""Issue 7, websockets and operation counting, replayed from outside against a real uvicorn
server (and, for revocations, a second app instance over HTTP, as another API process
would be). Findings 2 (identity frozen at connect), 9 (one Redis connection per
subscription; caps; idle sockets) and 13 (batches counted as one request)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
import websockets
from sqlalchemy import select

from clipflow_api.auth import ratelimit
from clipflow_api.jobs.progress import job_channel, progress_event, publish_progress
from clipflow_api.models import TeamMember, Video
from tests.fixtures import builders
from tests.graphql.conftest import (  # noqa: F401 - fixtures
    Api,
    api,
    gid,
    serve_app,
    server,
    until_subscribed,
)

VIEWER = "{ viewer { role } }"
RENAME = "mutation($id: ID!, $t: String!) { videoUpdate(id: $id, input: {title: $t}) { video { title } errors { code } } }"
JOB_SUB = "subscription($id: ID!) { jobProgress(jobId: $id) { status progress } }"


# --- helpers ------------------------------------------------------------------------------

@asynccontextmanager
async def connected(url: str, credential: str, workspace: Any = None) -> AsyncIterator[Any]:
    """A graphql-transport-ws socket past connection_ack."""
    payload = {"authorization": f"Bearer {credential}"}
    if workspace is not None:
        payload["workspaceId"] = str(workspace.id)
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as conn:
        await conn.send(json.dumps({"type": "connection_init", "payload": payload}))
        assert json.loads(await asyncio.wait_for(conn.recv(), 10))["type"] == "connection_ack"
        yield conn


async def operation(conn: Any, op_id: str, query: str, variables: dict | None = None) -> list[dict]:
    """Run one query or mutation on the socket: its messages up to complete or error."""
    await conn.send(json.dumps({"id": op_id, "type": "subscribe", "payload": {"query": query, "variables": variables or {}}}))
    got = []
    while True:
        msg = json.loads(await asyncio.wait_for(conn.recv(), 10))
        assert msg["id"] == op_id, msg
        got.append(msg)
        if msg["type"] in ("complete", "error"):
            return got


async def closed_with(conn: Any) -> tuple[int, str]:
    await asyncio.wait_for(conn.wait_closed(), 10)
    return conn.close_code, conn.close_reason


async def title_of(db: Any, video: Video) -> str:
    return (await db.execute(select(Video.title).where(Video.id == video.id))).scalar_one()


async def team(db: Any) -> dict[str, Any]:
    """An owner (session token) and an editor (session token and API key) in a workspace on Pro, with a video."""
    owner = await builders.user(db, email_verified=True)
    ws = await builders.workspace(db, owner)
    await builders.subscribe(db, ws, plan="pro")
    editor = await builders.user(db, email_verified=True)
    member = TeamMember(workspace_id=ws.id, user_id=editor.id, role="editor", accepted_at=datetime.now(UTC))
    db.add(member)
    video = await builders.video(db, ws, title="Original")
    key, secret = await builders.api_key(db, editor, ws, scopes=["video:read", "video:write"])
    out = {"owner": owner, "ws": ws, "editor": editor, "member": member, "video": video, "key": key, "secret": secret,
           "owner_token": await builders.token(db, owner), "editor_token": await builders.token(db, editor)}
    await db.commit()
    return out


# --- finding 2: identity re-checked per operation; revocations close sockets ---------------

async def test_a_key_limited_to_two_operations_runs_two_on_a_socket(server, committed, redis) -> None:  # noqa: ANN001
    # given a key allowed 2 operations a day
    t = await team(committed)
    key, secret = await builders.api_key(committed, t["editor"], t["ws"], scopes=["video:read", "video:write"], rate_limit=2)
    await committed.commit()
    async with connected(server, secret) as conn:
        # when it runs 3 operations on one socket (connecting costs nothing)
        first = await operation(conn, "1", VIEWER)
        second = await operation(conn, "2", VIEWER)
        third = await operation(conn, "3", RENAME, {"id": gid("Video", t["video"].id), "t": "Hijacked"})
        # then the third is refused and changed nothing; the socket stays usable for what is free
        await conn.send(json.dumps({"type": "ping"}))
        assert json.loads(await asyncio.wait_for(conn.recv(), 5)) == {"type": "pong"}
    assert [m["type"] for m in first] == ["next", "complete"]
    assert first[0]["payload"] == {"data": {"viewer": {"role": "EDITOR"}}}
    assert [m["type"] for m in second] == ["next", "complete"]
    assert [m["type"] for m in third] == ["error"]
    [error] = third[0]["payload"]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert error["message"].startswith("This API key has used its 2 requests for today")
    assert int(await redis.get(ratelimit.usage_key(key.id, datetime.now(UTC)))) == 3
    assert await title_of(committed, t["video"]) == "Original"


async def test_member_removed_over_http_has_their_socket_closed(server, api: Api, committed) -> None:  # noqa: ANN001
    t = await team(committed)
    async with connected(server, t["editor_token"], t["ws"]) as conn:
        # the socket works while the editor is a member
        ok = await operation(conn, "1", VIEWER)
        assert ok[0]["payload"] == {"data": {"viewer": {"role": "EDITOR"}}}
        # when the owner removes the editor through another API process
        removed = await api.gql("mutation($id: ID!) { memberRemove(id: $id) { member { status } errors { code } } }",
                                {"id": gid("TeamMember", t["member"].id)}, token=t["owner_token"], workspace=t["ws"])
        assert removed["data"]["memberRemove"] == {"member": {"status": "REMOVED"}, "errors": []}
        # then the open socket is closed, saying why
        assert await closed_with(conn) == (4403, "You are not a member of that workspace.")
        # and a further mutation goes nowhere
        with pytest.raises(websockets.ConnectionClosed):
            await operation(conn, "2", RENAME, {"id": gid("Video", t["video"].id), "t": "Hijacked"})
    assert await title_of(committed, t["video"]) == "Original"


async def test_log_out_over_http_closes_the_sessions_socket(server, api: Api, committed) -> None:  # noqa: ANN001
    t = await team(committed)
    async with connected(server, t["editor_token"], t["ws"]) as conn, \
            connected(server, t["owner_token"], t["ws"]) as bystander:
        assert (await operation(conn, "1", VIEWER))[0]["type"] == "next"
        out = await api.gql("mutation { logOut { errors { code } } }", token=t["editor_token"])
        assert out["data"]["logOut"] == {"errors": []}
        assert await closed_with(conn) == (4401, "This session is not valid; sign in again.")
        with pytest.raises(websockets.ConnectionClosed):
            await operation(conn, "2", RENAME, {"id": gid("Video", t["video"].id), "t": "Hijacked"})
        # another user's socket is untouched
        assert (await operation(bystander, "1", VIEWER))[0]["payload"] == {"data": {"viewer": {"role": "OWNER"}}}
    assert await title_of(committed, t["video"]) == "Original"


async def test_revoking_a_key_over_http_closes_its_socket(server, api: Api, committed) -> None:  # noqa: ANN001
    t = await team(committed)
    async with connected(server, t["secret"]) as conn:
        assert (await operation(conn, "1", VIEWER))[0]["type"] == "next"
        revoked = await api.gql("mutation($id: ID!) { apiKeyRevoke(id: $id) { errors { code } } }",
                                {"id": gid("ApiKey", t["key"].id)}, token=t["editor_token"], workspace=t["ws"])
        assert revoked["data"]["apiKeyRevoke"] == {"errors": []}
        assert await closed_with(conn) == (4401, "This API key has been revoked.")
        with pytest.raises(websockets.ConnectionClosed):
            await operation(conn, "2", RENAME, {"id": gid("Video", t["video"].id), "t": "Hijacked"})
    assert await title_of(committed, t["video"]) == "Original"


async def test_a_role_change_closes_the_members_socket(server, api: Api, committed) -> None:  # noqa: ANN001
    t = await team(committed)
    async with connected(server, t["editor_token"], t["ws"]) as conn:
        assert (await operation(conn, "1", VIEWER))[0]["type"] == "next"
        changed = await api.gql("mutation($id: ID!) { memberRoleUpdate(id: $id, role: VIEWER) { member { role } errors { code } } }",
                                {"id": gid("TeamMember", t["member"].id)}, token=t["owner_token"], workspace=t["ws"])
        assert changed["data"]["memberRoleUpdate"] == {"member": {"role": "VIEWER"}, "errors": []}
        assert await closed_with(conn) == (4403, "Your access to this workspace changed; reconnect.")
    # reconnecting gives the new role, which may not rename
    async with connected(server, t["editor_token"], t["ws"]) as conn:
        assert (await operation(conn, "1", VIEWER))[0]["payload"] == {"data": {"viewer": {"role": "VIEWER"}}}
        renamed = await operation(conn, "2", RENAME, {"id": gid("Video", t["video"].id), "t": "Hijacked"})
        assert renamed[0]["payload"]["errors"][0]["extensions"]["code"] == "PERMISSION_DENIED"
    assert await title_of(committed, t["video"]) == "Original"


async def test_an_unannounced_revocation_is_caught_by_the_next_operation(server, committed) -> None:  # noqa: ANN001
    # given a key revoked straight in the database: no announcement reaches the socket
    t = await team(committed)
    async with connected(server, t["secret"]) as conn:
        assert (await operation(conn, "1", VIEWER))[0]["type"] == "next"
        t["key"].revoked_at = datetime.now(UTC)
        await committed.commit()
        # when the socket sends a mutation
        await conn.send(json.dumps({"id": "2", "type": "subscribe", "payload": {
            "query": RENAME, "variables": {"id": gid("Video", t["video"].id), "t": "Hijacked"}}}))
        # then it is not run: the socket is closed instead
        assert await closed_with(conn) == (4401, "This API key has been revoked.")
    assert await title_of(committed, t["video"]) == "Original"


async def test_password_reset_closes_every_socket_of_the_user(server, api: Api, committed) -> None:  # noqa: ANN001
    # given the editor signed in twice, with a socket on each session
    t = await team(committed)
    other_session = await builders.token(committed, t["editor"])
    await committed.commit()
    async with connected(server, t["editor_token"], t["ws"]) as first, connected(server, other_session) as second, \
            connected(server, t["owner_token"], t["ws"]) as bystander:
        # when the password is reset (which ends every session)
        asked = await api.gql("mutation($e: String!) { passwordResetRequest(email: $e) { ok } }", {"e": t["editor"].email})
        assert asked["data"]["passwordResetRequest"] == {"ok": True}
        [mail] = [m for m in api.mailbox if m["kind"] == "password-reset"]
        reset = await api.gql("mutation($t: String!, $p: String!) { passwordReset(token: $t, newPassword: $p) { errors { code } } }",
                              {"t": mail["token"], "p": "a brand new passphrase 42!"})
        assert reset["data"]["passwordReset"] == {"errors": []}
        # then both sockets close; another user's does not
        assert await closed_with(first) == (4401, "This session is not valid; sign in again.")
        assert await closed_with(second) == (4401, "This session is not valid; sign in again.")
        assert (await operation(bystander, "1", VIEWER))[0]["payload"] == {"data": {"viewer": {"role": "OWNER"}}}


# --- finding 13: one operation, one count ---------------------------------------------------

async def test_a_batch_counts_each_operation(api: Api, committed, redis) -> None:  # noqa: ANN001
    # given a key allowed 2 operations a day
    t = await team(committed)
    key, secret = await builders.api_key(committed, t["editor"], t["ws"], scopes=["video:read", "video:write"], rate_limit=2)
    await committed.commit()
    rename = {"query": RENAME, "variables": {"id": gid("Video", t["video"].id), "t": "Hijacked"}}
    # when one batch carries 3 operations, the mutation last
    response = await api.client.post("/graphql", json=[{"query": VIEWER}, {"query": VIEWER}, rename],
                                     headers={"authorization": f"Bearer {secret}"})
    # then two run and the third is refused, unexecuted
    assert response.status_code == 200
    first, second, third = response.json()
    assert first == second == {"data": {"viewer": {"role": "EDITOR"}}}
    assert third["data"] is None
    assert [e["extensions"]["code"] for e in third["errors"]] == ["RATE_LIMITED"]
    assert await title_of(committed, t["video"]) == "Original"
    assert int(await redis.get(ratelimit.usage_key(key.id, datetime.now(UTC)))) == 3
    # and with nothing left, the next request (single or batch) is answered 429 as a whole
    single = await api.gql(VIEWER, headers={"authorization": f"Bearer {secret}"})
    assert (single["_status"], single["errors"][0]["extensions"]["code"]) == (429, "RATE_LIMITED")
    batch = await api.client.post("/graphql", json=[{"query": VIEWER}], headers={"authorization": f"Bearer {secret}"})
    assert batch.status_code == 429 and "retry-after" in batch.headers


async def test_single_requests_count_one_each(api: Api, committed) -> None:  # noqa: ANN001
    t = await team(committed)
    _, secret = await builders.api_key(committed, t["editor"], t["ws"], scopes=["video:read"], rate_limit=3)
    await committed.commit()
    statuses = [(await api.gql(VIEWER, headers={"x-api-key": secret}))["_status"] for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


# --- finding 9: one pub/sub connection per process, caps, idle sockets -----------------------

async def _redis_clients(redis: Any) -> tuple[int, int]:
    """(connections on the test database, of which pub/sub ones)."""
    db = redis.connection_pool.connection_kwargs.get("db", 0)
    clients = [c for c in await redis.client_list() if int(c.get("db", -1)) == int(db)]
    subscribed = [c for c in clients if int(c.get("sub", 0)) + int(c.get("psub", 0)) > 0]
    return len(clients), len(subscribed)


async def test_a_hundred_subscriptions_share_one_redis_connection(committed, redis) -> None:  # noqa: ANN001
    # given 5 users, each with a socket, and 4 running jobs
    owner = await builders.user(committed)
    ws = await builders.workspace(committed, owner)
    jobs = [await builders.job(committed, ws, status="processing") for _ in range(4)]
    tokens = [await builders.token(committed, owner)]
    for _ in range(4):
        user = await builders.user(committed)
        committed.add(TeamMember(workspace_id=ws.id, user_id=user.id, role="viewer", accepted_at=datetime.now(UTC)))
        tokens.append(await builders.token(committed, user))
    await committed.commit()
    async with serve_app() as url:
        await asyncio.sleep(0.2)
        before, pubsubs_before = await _redis_clients(redis)
        sockets = []
        try:
            for token in tokens:
                conn = await websockets.connect(url, subprotocols=["graphql-transport-ws"])
                sockets.append(conn)
                await conn.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}", "workspaceId": str(ws.id)}}))
                assert json.loads(await conn.recv())["type"] == "connection_ack"
                # when each socket opens 20 subscriptions (strawberry's per-socket maximum)
                for i in range(20):
                    job = jobs[i % 4]
                    await conn.send(json.dumps({"id": f"s{i}", "type": "subscribe", "payload": {"query": JOB_SUB, "variables": {"id": gid("Job", job.id)}}}))
            initial = [[json.loads(await asyncio.wait_for(c.recv(), 10)) for _ in range(20)] for c in sockets]
            assert all(m["type"] == "next" for ms in initial for m in ms)
            for job in jobs:
                await until_subscribed(redis, job_channel(job.id))
            during, pubsubs_during = await _redis_clients(redis)
            numsub = dict(await redis.pubsub_numsub(*(job_channel(j.id) for j in jobs)))
            # then Redis sees one subscription per channel, on the one connection it had before
            assert (pubsubs_before, pubsubs_during) == (1, 1)
            assert during - before <= 1, (before, during)
            assert sorted(numsub.values()) == [1, 1, 1, 1]
            # and every subscriber still gets every event, to the end
            for job in jobs:
                await publish_progress(redis, progress_event(job_id=job.id, workspace_id=ws.id, status="completed", progress=100, message="Done"))
            for conn in sockets:
                got = [json.loads(await asyncio.wait_for(conn.recv(), 10)) for _ in range(40)]
                assert sorted(m["type"] for m in got) == ["complete"] * 20 + ["next"] * 20
                assert {m["payload"]["data"]["jobProgress"]["status"] for m in got if m["type"] == "next"} == {"completed"}
            # the channels are given up with their last listener
            deadline = asyncio.get_running_loop().time() + 5
            while sum(dict(await redis.pubsub_numsub(*(job_channel(j.id) for j in jobs))).values()):
                assert asyncio.get_running_loop().time() < deadline
                await asyncio.sleep(0.05)
        finally:
            for conn in sockets:
                await conn.close()


async def test_sockets_and_subscriptions_per_user_are_capped(committed, redis) -> None:  # noqa: ANN001
    owner = await builders.user(committed)
    ws = await builders.workspace(committed, owner)
    job = await builders.job(committed, ws, status="processing")
    token = await builders.token(committed, owner)
    await committed.commit()
    sub = {"query": JOB_SUB, "variables": {"id": gid("Job", job.id)}}
    async with serve_app(ws_max_sockets_per_user=2, ws_max_subscriptions_per_user=3) as url, \
            connected(url, token, ws) as one, connected(url, token, ws) as two:
        # a third socket of the same user is refused at connection_init
        async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as three:
            await three.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}))
            assert await closed_with(three) == (4429, "Too many open connections: at most 2 per user. Close one and try again.")
        # subscriptions count across the user's sockets: 2 + 1 fit, the 4th does not
        for conn, op_id in ((one, "a"), (one, "b"), (two, "c")):
            await conn.send(json.dumps({"id": op_id, "type": "subscribe", "payload": sub}))
            assert json.loads(await asyncio.wait_for(conn.recv(), 10))["type"] == "next"
        await until_subscribed(redis, job_channel(job.id))
        refused = await operation(two, "d", JOB_SUB, sub["variables"])
        assert refused == [{"id": "d", "type": "error", "payload": [{
            "message": "Too many subscriptions: at most 3 at once per user, across connections.",
            "extensions": {"code": "TOO_MANY_SUBSCRIPTIONS"}}]}]
        # ending one frees its slot
        await one.send(json.dumps({"id": "a", "type": "complete"}))
        await asyncio.sleep(0.1)
        again = await operation(two, "e", VIEWER)
        assert [m["type"] for m in again] == ["next", "complete"]


async def test_idle_sockets_are_closed_but_busy_ones_are_not(committed) -> None:  # noqa: ANN001
    owner = await builders.user(committed)
    ws = await builders.workspace(committed, owner)
    job = await builders.job(committed, ws, status="processing")
    token = await builders.token(committed, owner)
    await committed.commit()
    async with serve_app(ws_idle_timeout_s=0.5) as url, connected(url, token, ws) as idle, connected(url, token, ws) as busy:
        await busy.send(json.dumps({"id": "s", "type": "subscribe", "payload": {"query": JOB_SUB, "variables": {"id": gid("Job", job.id)}}}))
        assert json.loads(await asyncio.wait_for(busy.recv(), 10))["type"] == "next"
        assert await closed_with(idle) == (4408, "Closed after 0.5 s without an operation.")
        await asyncio.sleep(0.6)
        # the socket with a running subscription is still open and answers
        await busy.send(json.dumps({"type": "ping"}))
        assert json.loads(await asyncio.wait_for(busy.recv(), 5)) == {"type": "pong"}


async def test_legacy_protocol_gets_the_same_checks(server, api: Api, committed) -> None:  # noqa: ANN001
    t = await team(committed)
    async with websockets.connect(server, subprotocols=["graphql-ws"]) as conn:
        await conn.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {t['secret']}"}}))
        assert json.loads(await conn.recv())["type"] == "connection_ack"
        revoked = await api.gql("mutation($id: ID!) { apiKeyRevoke(id: $id) { errors { code } } }",
                                {"id": gid("ApiKey", t["key"].id)}, token=t["owner_token"], workspace=t["ws"])
        assert revoked["data"]["apiKeyRevoke"] == {"errors": []}
        assert await closed_with(conn) == (4401, "This API key has been revoked.")
    # a revoked key is refused at connect with the reason, on both protocols
    async with websockets.connect(server, subprotocols=["graphql-ws"]) as conn:
        await conn.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {t['secret']}"}}))
        error = json.loads(await conn.recv())
        assert error["type"] == "connection_error"
        assert error["payload"]["extensions"]["code"] == "UNAUTHENTICATED"
        assert await closed_with(conn) == (4401, "This API key has been revoked.")
    async with websockets.connect(server, subprotocols=["graphql-transport-ws"]) as conn:
        await conn.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {t['secret']}"}}))
        assert await closed_with(conn) == (4401, "This API key has been revoked.")


def test_close_reasons_fit_the_protocol_limit() -> None:
    from clipflow_api.graphql.sockets import SocketRefused

    refused = SocketRefused(4403, "é" * 100, {})
    assert len(refused.reason.encode()) <= 123 and refused.reason.endswith("...")


async def test_a_deeply_nested_message_closes_the_socket_without_parsing_it(server, committed) -> None:  # noqa: ANN001
    # given a signed-in socket
    t = await team(committed)
    async with connected(server, t["editor_token"], t["ws"]) as conn:
        # when a message nests 10 000 levels deep (json.loads would recurse once per level)
        deep = '{"type": "subscribe", "id": "1", "payload": {"query": "{ __typename }", "variables": {"x": ' \
            + "[" * 10_000 + "]" * 10_000 + "}}}"
        await conn.send(deep)
        # then the socket is closed as an invalid message, as any non-JSON message is
        assert await closed_with(conn) == (4400, "WebSocket message must be valid JSON")
