"""jobProgress over a real websocket (uvicorn on a free port), both subprotocols."""

from __future__ import annotations

import asyncio
import json
import socket

import pytest
import uvicorn
import websockets
from sqlalchemy.pool import NullPool

from clipflow_api.config import get_settings
from clipflow_api.db import create_app_engine
from clipflow_api.jobs.progress import progress_event, publish_progress
from tests.graphql.conftest import gid, make_token, make_user, make_workspace

SUB = "subscription($id: ID!) { jobProgress(jobId: $id) { status progress message } }"


@pytest.fixture
async def server(migrated_database):  # noqa: ANN001, ANN201
    from clipflow_api.app import create_app

    engine = create_app_engine(poolclass=NullPool)
    app = create_app(get_settings(), engine=engine)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    task = asyncio.create_task(srv.serve())
    while not srv.started:
        await asyncio.sleep(0.05)
    yield f"ws://127.0.0.1:{port}/graphql"
    srv.should_exit = True
    await task
    await engine.dispose()


async def _job(committed):  # noqa: ANN001, ANN202
    from tests.fixtures import builders

    owner = await make_user(committed)
    ws = await make_workspace(committed, owner)
    job = await builders.job(committed, ws, status="processing")
    token = await make_token(committed, owner)
    await committed.commit()
    return ws, job, token


async def _publish_until_done(redis, ws, job) -> None:  # noqa: ANN001
    await asyncio.sleep(0.3)
    for status, progress in (("processing", 50), ("completed", 100)):
        await publish_progress(redis, progress_event(job_id=job.id, workspace_id=ws.id, status=status, progress=progress, message=f"{progress}%"))
        await asyncio.sleep(0.05)


async def test_graphql_transport_ws_streams_until_completed(server, committed, redis) -> None:  # noqa: ANN001
    ws, job, token = await _job(committed)
    async with websockets.connect(server, subprotocols=["graphql-transport-ws"]) as conn:
        await conn.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}", "workspaceId": str(ws.id)}}))
        assert json.loads(await conn.recv())["type"] == "connection_ack"
        await conn.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUB, "variables": {"id": gid("Job", job.id)}}}))
        publisher = asyncio.create_task(_publish_until_done(redis, ws, job))
        got = []
        while True:
            msg = json.loads(await asyncio.wait_for(conn.recv(), 10))
            if msg["type"] == "complete":
                break
            got.append(msg["payload"]["data"]["jobProgress"])
        await publisher
    assert got == [
        {"status": "processing", "progress": 0, "message": None},
        {"status": "processing", "progress": 50, "message": "50%"},
        {"status": "completed", "progress": 100, "message": "100%"},
    ]


async def test_another_workspaces_job_cannot_be_watched(server, committed) -> None:  # noqa: ANN001
    _, job, _ = await _job(committed)
    owner = await make_user(committed)
    mine = await make_workspace(committed, owner)
    token = await make_token(committed, owner)
    await committed.commit()
    async with websockets.connect(server, subprotocols=["graphql-transport-ws"]) as conn:
        await conn.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}", "workspaceId": str(mine.id)}}))
        assert json.loads(await conn.recv())["type"] == "connection_ack"
        await conn.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUB, "variables": {"id": gid("Job", job.id)}}}))
        msg = json.loads(await asyncio.wait_for(conn.recv(), 10))
    assert msg["type"] in ("error", "next")
    errors = msg["payload"] if msg["type"] == "error" else msg["payload"]["errors"]
    assert [e["message"] for e in errors] == ["No such job."]


async def test_legacy_graphql_ws_requires_auth(server, committed) -> None:  # noqa: ANN001
    ws, job, token = await _job(committed)
    # a bad token is refused at connection_init
    async with websockets.connect(server, subprotocols=["graphql-ws"]) as conn:
        await conn.send(json.dumps({"type": "connection_init", "payload": {"authorization": "Bearer nope"}}))
        msg = json.loads(await conn.recv())
        assert msg["type"] == "connection_error" and msg["payload"]["extensions"]["code"] == "UNAUTHENTICATED"
    # no connection_init at all: a start is refused (the auth-skip fix)
    async with websockets.connect(server, subprotocols=["graphql-ws"]) as conn:
        await conn.send(json.dumps({"id": "1", "type": "start", "payload": {"query": SUB, "variables": {"id": gid("Job", job.id)}}}))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(conn.recv(), 5)
        assert closed.value.rcvd.code == 4401
    # anonymous (init without credentials): the subscription is refused by its permission
    async with websockets.connect(server, subprotocols=["graphql-ws"]) as conn:
        await conn.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await conn.recv())["type"] == "connection_ack"
        await conn.send(json.dumps({"id": "1", "type": "start", "payload": {"query": SUB, "variables": {"id": gid("Job", job.id)}}}))
        msg = json.loads(await asyncio.wait_for(conn.recv(), 5))
        assert msg["type"] in ("error", "data")
        payload = msg["payload"]
        errors = [payload] if msg["type"] == "error" else payload["errors"]
        assert errors[0]["extensions"]["code"] == "PERMISSION_DENIED"
