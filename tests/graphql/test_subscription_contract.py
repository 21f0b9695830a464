"""What a subscription client sees, over a real websocket (uvicorn on a free port):

- one rule for every failure (``graphql.subscriptions``' docstring): a single ``error``
  message for the operation, then nothing more for its id, and nothing listened to;
- ``videoProgress`` sends the current state on subscribe, also while the video is processed;
- a refused connection's close code and reason reach the stock clients: the npm
  ``graphql-ws`` client (tests/clients, installed with ``npm ci`` on first use; skipped
  without node or when that fails) and Python's ``gql``.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import websockets

from clipflow_api.jobs.progress import job_channel, progress_event, publish_progress, video_channel
from clipflow_api.models import TeamMember
from tests.fixtures import builders
from tests.graphql.conftest import gid, until_subscribed

JOB_SUB = "subscription($id: ID!) { jobProgress(jobId: $id) { status progress message } }"
VIDEO_SUB = "subscription($id: ID!) { videoProgress(videoId: $id) { jobId videoId status step progress message error } }"
CLIENTS = Path(__file__).resolve().parents[1] / "clients"


async def _owner_with_job(committed: Any) -> dict[str, Any]:
    owner = await builders.user(committed)
    ws = await builders.workspace(committed, owner)
    await builders.subscribe(committed, ws, plan="pro")  # API keys need a plan with API access
    job = await builders.job(committed, ws, status="processing")
    out = {"owner": owner, "ws": ws, "job": job, "token": await builders.token(committed, owner)}
    await committed.commit()
    return out


async def _key(db: Any, user: Any, ws: Any, *, scopes: list[str], rate_limit: int = 1000) -> str:
    _, secret = await builders.api_key(db, user, ws, scopes=scopes, rate_limit=rate_limit)
    await db.commit()
    return secret


async def _connect(url: str, credential: str | None, ws: Any = None) -> Any:
    conn = await websockets.connect(url, subprotocols=["graphql-transport-ws"])
    payload: dict[str, str] = {}
    if credential:
        payload["authorization"] = f"Bearer {credential}"
    if ws is not None:
        payload["workspaceId"] = str(ws.id)
    await conn.send(json.dumps({"type": "connection_init", "payload": payload}))
    assert json.loads(await asyncio.wait_for(conn.recv(), 10))["type"] == "connection_ack"
    return conn


async def _refused(conn: Any, op_id: str, query: str, variables: dict) -> list[dict]:
    """Subscribe, then ping: every message that came for ``op_id`` before the pong."""
    await conn.send(json.dumps({"id": op_id, "type": "subscribe", "payload": {"query": query, "variables": variables}}))
    got = []
    while True:
        msg = json.loads(await asyncio.wait_for(conn.recv(), 10))
        if msg["type"] == "error":
            got.append(msg)
            # anything still due for this id would come before the pong
            await conn.send(json.dumps({"type": "ping"}))
        elif msg["type"] == "pong":
            return got
        else:
            got.append(msg)


def _error(op_id: str, message: str, code: str) -> list[dict]:
    return [{"id": op_id, "type": "error", "payload": [{"message": message, "extensions": {"code": code}}]}]


def _shape(msgs: list[dict]) -> list[dict]:
    """Messages with each error reduced to message and code (locations and paths aside)."""
    return [{**m, "payload": [{"message": e["message"], "extensions": {"code": e["extensions"]["code"]}} for e in m["payload"]]}
            if m["type"] == "error" else m for m in msgs]


async def _listeners(redis: Any, channel: str) -> int:
    [(_, n)] = await redis.pubsub_numsub(channel)
    return n


# --- one rule for every failure ------------------------------------------------------------

async def test_a_missing_job_and_another_workspaces_job_get_one_error_message(server, committed, redis) -> None:  # noqa: ANN001
    # given a job in another workspace
    theirs = await _owner_with_job(committed)
    mine = await _owner_with_job(committed)
    conn = await _connect(server, mine["token"], mine["ws"])
    try:
        # when a missing job, another workspace's job and a malformed id are subscribed to
        missing = await _refused(conn, "1", JOB_SUB, {"id": gid("Job", uuid.uuid4())})
        other = await _refused(conn, "2", JOB_SUB, {"id": gid("Job", theirs["job"].id)})
        wrong_type = await _refused(conn, "3", JOB_SUB, {"id": gid("Video", mine["job"].id)})
        no_video = await _refused(conn, "4", VIDEO_SUB, {"id": gid("Video", uuid.uuid4())})
    finally:
        await conn.close()
    # then each gets exactly one error message, the same for missing and foreign, and nothing is listened to
    assert _shape(missing) == _error("1", "No such job.", "NOT_FOUND")
    assert _shape(other) == _error("2", "No such job.", "NOT_FOUND")
    assert _shape(wrong_type) == _error("3", f"ID {gid('Video', mine['job'].id)} is not of type Job.", "BAD_REQUEST")
    assert _shape(no_video) == _error("4", "No such video.", "NOT_FOUND")
    assert await _listeners(redis, job_channel(theirs["job"].id)) == 0


async def test_a_missing_permission_gets_one_error_message(server, committed, redis) -> None:  # noqa: ANN001
    t = await _owner_with_job(committed)
    clips_only = await _key(committed, t["owner"], t["ws"], scopes=["clip:read"])
    # an API key without video:read, and a socket without credentials
    for op_id, credential in (("k", clips_only), ("anon", None)):
        conn = await _connect(server, credential, t["ws"] if credential else None)
        try:
            got = await _refused(conn, op_id, JOB_SUB, {"id": gid("Job", t["job"].id)})
        finally:
            await conn.close()
        assert _shape(got) == _error(op_id, "You need the video:read permission to do this.", "PERMISSION_DENIED")
    assert await _listeners(redis, job_channel(t["job"].id)) == 0


async def test_the_daily_limit_and_the_subscription_cap_get_one_error_message(server, committed, redis) -> None:  # noqa: ANN001
    from clipflow_api.config import get_settings

    t = await _owner_with_job(committed)
    # given a key allowed one operation a day, which it spends on a subscription
    secret = await _key(committed, t["owner"], t["ws"], scopes=["video:read"], rate_limit=1)
    conn = await _connect(server, secret)
    try:
        await conn.send(json.dumps({"id": "ok", "type": "subscribe", "payload": {"query": JOB_SUB, "variables": {"id": gid("Job", t["job"].id)}}}))
        first = json.loads(await asyncio.wait_for(conn.recv(), 10))
        # when it subscribes again
        limited = await _refused(conn, "over", JOB_SUB, {"id": gid("Job", t["job"].id)})
    finally:
        await conn.close()
    assert first == {"id": "ok", "type": "next", "payload": {"data": {"jobProgress": {"status": "processing", "progress": 0, "message": None}}}}
    [error] = limited
    assert (error["id"], error["type"], error["payload"][0]["extensions"]["code"]) == ("over", "error", "RATE_LIMITED")
    assert error["payload"][0]["message"].startswith("This API key has used its 1 requests for today")

    # given a user with as many subscriptions as the per-user cap, over sockets under strawberry's 20 each
    cap = get_settings().ws_max_subscriptions_per_user
    socks = [await _connect(server, t["token"], t["ws"]) for _ in range(cap // 20 + 1)]
    try:
        for i in range(cap):
            conn = socks[i % len(socks)]
            await conn.send(json.dumps({"id": f"s{i}", "type": "subscribe", "payload": {"query": JOB_SUB, "variables": {"id": gid("Job", t["job"].id)}}}))
            assert json.loads(await asyncio.wait_for(conn.recv(), 10))["type"] == "next"
        # when one more is asked for
        capped = await _refused(socks[0], "more", JOB_SUB, {"id": gid("Job", t["job"].id)})
    finally:
        for conn in socks:
            await conn.close()
    assert _shape(capped) == _error("more", f"Too many subscriptions: at most {cap} at once per user, across connections.",
                                    "TOO_MANY_SUBSCRIPTIONS")


async def test_the_legacy_protocol_follows_the_same_rule(server, committed) -> None:  # noqa: ANN001
    t = await _owner_with_job(committed)
    async with websockets.connect(server, subprotocols=["graphql-ws"]) as conn:
        await conn.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {t['token']}", "workspaceId": str(t["ws"].id)}}))
        assert json.loads(await asyncio.wait_for(conn.recv(), 10))["type"] == "connection_ack"
        await conn.send(json.dumps({"id": "1", "type": "start", "payload": {"query": JOB_SUB, "variables": {"id": gid("Job", uuid.uuid4())}}}))
        msg = json.loads(await asyncio.wait_for(conn.recv(), 10))
        # nothing else follows for the operation
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(conn.recv(), 0.5)
    assert (msg["type"], msg["id"], msg["payload"]["message"], msg["payload"]["extensions"]["code"]) == (
        "error", "1", "No such job.", "NOT_FOUND")


# --- videoProgress: the current state on subscribe ----------------------------------------

async def test_video_progress_sends_the_current_state_of_a_running_video_at_once(server, committed, redis) -> None:  # noqa: ANN001
    # given a video 35% through processing, its job at "Transcribing"
    owner = await builders.user(committed)
    ws = await builders.workspace(committed, owner)
    video = await builders.video(committed, ws, status="processing", processing_progress=35)
    job = await builders.job(committed, ws, type="video_process", video_id=video.id, status="processing", progress=35,
                             progress_message="Transcribing")
    token = await builders.token(committed, owner)
    await committed.commit()
    conn = await _connect(server, token, ws)
    try:
        # when a client subscribes, with no event published
        await conn.send(json.dumps({"id": "v", "type": "subscribe", "payload": {"query": VIDEO_SUB, "variables": {"id": gid("Video", video.id)}}}))
        first = json.loads(await asyncio.wait_for(conn.recv(), 5))
        # then it has where the video is at once, and later events follow
        await until_subscribed(redis, video_channel(video.id))
        await publish_progress(redis, progress_event(job_id=job.id, workspace_id=ws.id, video_id=video.id, status="completed",
                                                     step=None, progress=100, message="Done"))
        rest = [json.loads(await asyncio.wait_for(conn.recv(), 5)) for _ in range(2)]
    finally:
        await conn.close()
    ids = {"jobId": gid("Job", job.id), "videoId": gid("Video", video.id), "step": None, "error": None}
    assert first == {"id": "v", "type": "next", "payload": {"data": {"videoProgress": {
        **ids, "status": "processing", "progress": 35, "message": "Transcribing"}}}}
    assert rest == [
        {"id": "v", "type": "next", "payload": {"data": {"videoProgress": {**ids, "status": "completed", "progress": 100, "message": "Done"}}}},
        {"id": "v", "type": "complete"},
    ]


async def test_subscribers_of_one_channel_get_the_same_events_whatever_they_select(server, committed, redis) -> None:  # noqa: ANN001
    """Each distinct operation runs once per event and is fanned out: subscribers must still get their own selection."""
    t = await _owner_with_job(committed)
    queries = {"a": JOB_SUB, "b": JOB_SUB, "c": "subscription($id: ID!) { jobProgress(jobId: $id) { progress at } }"}
    conns = {op: await _connect(server, t["token"], t["ws"]) for op in queries}
    try:
        for op, query in queries.items():
            await conns[op].send(json.dumps({"id": op, "type": "subscribe", "payload": {"query": query, "variables": {"id": gid("Job", t["job"].id)}}}))
            assert json.loads(await asyncio.wait_for(conns[op].recv(), 10))["type"] == "next"
        event = progress_event(job_id=t["job"].id, workspace_id=t["ws"].id, status="completed", progress=100, message="Done")
        await publish_progress(redis, event)
        got = {op: [json.loads(await asyncio.wait_for(c.recv(), 5)) for _ in range(2)] for op, c in conns.items()}
    finally:
        for c in conns.values():
            await c.close()
    done = {"status": "completed", "progress": 100, "message": "Done"}
    assert got["a"] == [{"id": "a", "type": "next", "payload": {"data": {"jobProgress": done}}}, {"id": "a", "type": "complete"}]
    assert got["b"] == [{"id": "b", "type": "next", "payload": {"data": {"jobProgress": done}}}, {"id": "b", "type": "complete"}]
    assert got["c"] == [{"id": "c", "type": "next", "payload": {"data": {"jobProgress": {"progress": 100, "at": event["at"]}}}},
                        {"id": "c", "type": "complete"}]


# --- close reasons, as the stock clients report them -----------------------------------------

def _node_client() -> Path:
    """The graphql-ws client script, its packages installed from the lock file on first use."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are needed for the graphql-ws client")
    if not (CLIENTS / "node_modules" / "graphql-ws").is_dir():
        done = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=CLIENTS, capture_output=True, timeout=300)
        if done.returncode != 0:
            pytest.skip(f"npm ci in tests/clients failed: {done.stderr.decode()[-300:]}")
    return CLIENTS / "subscribe.mjs"


async def _graphql_ws_client(url: str, params: dict, query: str, variables: dict) -> list[dict]:
    script = _node_client()
    proc = await asyncio.create_subprocess_exec(
        "node", str(script), url, json.dumps(params), query, json.dumps(variables),
        cwd=CLIENTS, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, err.decode()
    return json.loads(out.decode().strip().splitlines()[-1])


async def _refusals(committed: Any) -> tuple[dict[str, Any], list[tuple[dict, int, str]]]:
    """A bad token (4401) and a member of another workspace (4403): connection params and the close expected."""
    t = await _owner_with_job(committed)
    stranger = await builders.user(committed)
    committed.add(TeamMember(workspace_id=(await builders.workspace(committed)).id, user_id=stranger.id, role="editor",
                             accepted_at=datetime.now(UTC)))
    stranger_token = await builders.token(committed, stranger)
    await committed.commit()
    return t, [
        ({"authorization": "Bearer not-a-token"}, 4401, "This session is not valid; sign in again."),
        ({"authorization": f"Bearer {stranger_token}", "workspaceId": str(t["ws"].id)}, 4403, "You are not a member of that workspace."),
    ]


async def test_the_graphql_ws_client_reports_the_close_code_and_reason(server, committed) -> None:  # noqa: ANN001
    _node_client()
    t, refusals = await _refusals(committed)
    for params, code, reason in refusals:
        reported = await _graphql_ws_client(server, params, JOB_SUB, {"id": gid("Job", t["job"].id)})
        assert reported == [{"closed": {"code": code, "reason": reason}}]
    # and an operation refused by the rule arrives as the client's errors, not as a result
    reported = await _graphql_ws_client(server, {"authorization": f"Bearer {t['token']}", "workspaceId": str(t["ws"].id)},
                                        JOB_SUB, {"id": gid("Job", uuid.uuid4())})
    assert [[(e["message"], e["extensions"]["code"]) for e in r["errors"]] for r in reported] == [[("No such job.", "NOT_FOUND")]]


async def test_gql_reports_the_close_code_and_reason(server, committed) -> None:  # noqa: ANN001
    from gql import Client, GraphQLRequest
    from gql.transport.exceptions import TransportConnectionFailed, TransportQueryError, TransportServerError
    from gql.transport.websockets import WebsocketsTransport

    t, refusals = await _refusals(committed)
    for params, code, reason in refusals:
        # graphql-transport-ws: the close frame is the only carrier; gql raises with it as the cause
        transport = WebsocketsTransport(url=server, init_payload=params, subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL])
        with pytest.raises(TransportConnectionFailed) as failed:
            async with Client(transport=transport):
                pass
        closed = failed.value.__cause__
        assert isinstance(closed, websockets.ConnectionClosed)
        assert (closed.rcvd.code, closed.rcvd.reason) == (code, reason)
        # the legacy protocol has a connection_error message: gql puts the reason in its error
        transport = WebsocketsTransport(url=server, init_payload=params, subprotocols=[WebsocketsTransport.APOLLO_SUBPROTOCOL])
        with pytest.raises(TransportServerError) as refused:
            async with Client(transport=transport):
                pass
        assert reason in str(refused.value)
    # an operation refused by the rule: TransportQueryError with the server's error
    transport = WebsocketsTransport(url=server, init_payload={"authorization": f"Bearer {t['token']}", "workspaceId": str(t["ws"].id)},
                                    subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL])
    async with Client(transport=transport) as session:
        with pytest.raises(TransportQueryError) as query_error:
            async for _ in session.subscribe(GraphQLRequest(JOB_SUB, variable_values={"id": gid("Job", uuid.uuid4())})):
                pass
    assert [(e["message"], e["extensions"]["code"]) for e in query_error.value.errors] == [("No such job.", "NOT_FOUND")]
