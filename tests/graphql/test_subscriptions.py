"""jobProgress and videoProgress over a real websocket (uvicorn on a free port), both subprotocols.

Events are published the way the worker publishes them (``jobs.progress.publish_progress``),
once the subscription is listening on its Redis channel."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
import websockets

from clipflow_api.jobs.progress import job_channel, progress_event, publish_progress, video_channel
from tests.fixtures import builders
from tests.graphql.conftest import gid, until_subscribed

SUB = "subscription($id: ID!) { jobProgress(jobId: $id) { status progress message } }"


async def _job(committed):  # noqa: ANN001, ANN202
    owner = await builders.user(committed)
    ws = await builders.workspace(committed, owner)
    job = await builders.job(committed, ws, status="processing")
    token = await builders.token(committed, owner)
    await committed.commit()
    return ws, job, token


async def _publish_until_done(redis, ws, job) -> None:  # noqa: ANN001
    await until_subscribed(redis, job_channel(job.id))
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
    owner = await builders.user(committed)
    mine = await builders.workspace(committed, owner)
    token = await builders.token(committed, owner)
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


VIDEO_SUB = "subscription($id: ID!) { videoProgress(videoId: $id) { jobId videoId status step progress message error } }"


async def test_video_progress_streams_the_workers_events_in_order_until_completed(server, committed, redis) -> None:  # noqa: ANN001
    # given a video being processed by a job
    owner = await builders.user(committed)
    ws = await builders.workspace(committed, owner)
    video = await builders.video(committed, ws, status="processing", processing_progress=10)
    job = await builders.job(committed, ws, type="video_process", video_id=video.id, status="processing")
    token = await builders.token(committed, owner)
    await committed.commit()
    steps = [("processing", "transcribe", 30, "Transcribing"), ("processing", "select", 60, "Finding the best moments"),
             ("processing", "render", 90, "Rendering clip 1 of 1"), ("completed", None, 100, "Done")]

    async def publish() -> None:
        await until_subscribed(redis, video_channel(video.id))
        # another video's event on its own channel is not seen
        await publish_progress(redis, progress_event(job_id=job.id, workspace_id=ws.id, video_id=uuid.uuid4(), status="failed",
                                                     progress=0, message="not mine"))
        for status, step, progress, message in steps:
            await publish_progress(redis, progress_event(job_id=job.id, workspace_id=ws.id, video_id=video.id, status=status,
                                                         step=step, progress=progress, message=message))

    async with websockets.connect(server, subprotocols=["graphql-transport-ws"]) as conn:
        await conn.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}", "workspaceId": str(ws.id)}}))
        assert json.loads(await conn.recv())["type"] == "connection_ack"
        # when the client subscribes and the worker publishes
        await conn.send(json.dumps({"id": "v", "type": "subscribe", "payload": {"query": VIDEO_SUB, "variables": {"id": gid("Video", video.id)}}}))
        publisher = asyncio.create_task(publish())
        got = []
        while True:
            msg = json.loads(await asyncio.wait_for(conn.recv(), 10))
            if msg["type"] == "complete":
                break
            assert msg["type"] == "next", msg
            got.append(msg["payload"]["data"]["videoProgress"])
        await publisher
    # then the current state comes first, every event arrives once, in order, and the stream ends at completed
    ids = {"jobId": gid("Job", job.id), "videoId": gid("Video", video.id), "error": None}
    assert got == [{**ids, "status": "processing", "step": None, "progress": 10, "message": None},
                   *({**ids, "status": s, "step": step, "progress": p, "message": m} for s, step, p, m in steps)]


async def test_a_finished_video_reports_its_state_and_ends(server, committed) -> None:  # noqa: ANN001
    owner = await builders.user(committed)
    ws = await builders.workspace(committed, owner)
    video = await builders.video(committed, ws, status="failed", processing_progress=40, error_message="The file has no audio track.")
    job = await builders.job(committed, ws, type="video_process", video_id=video.id, status="failed")
    token = await builders.token(committed, owner)
    await committed.commit()
    async with websockets.connect(server, subprotocols=["graphql-transport-ws"]) as conn:
        await conn.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}", "workspaceId": str(ws.id)}}))
        assert json.loads(await conn.recv())["type"] == "connection_ack"
        await conn.send(json.dumps({"id": "v", "type": "subscribe", "payload": {"query": VIDEO_SUB, "variables": {"id": gid("Video", video.id)}}}))
        first = json.loads(await asyncio.wait_for(conn.recv(), 10))
        done = json.loads(await asyncio.wait_for(conn.recv(), 10))
    assert first["payload"]["data"]["videoProgress"] == {
        "jobId": gid("Job", job.id), "videoId": gid("Video", video.id), "status": "failed", "step": None, "progress": 40,
        "message": None, "error": "The file has no audio track.",
    }
    assert done == {"id": "v", "type": "complete"}


async def test_a_real_job_s_progress_arrives_in_order(server, committed, redis, app_engine, arq_pool, tmp_path) -> None:  # noqa: ANN001
    """A worker runs a real probe job while a client watches jobProgress over the websocket."""
    from sqlalchemy.ext.asyncio import AsyncSession

    from clipflow_api.db import set_tenant
    from clipflow_api.jobs import service
    from tests.fixtures.lavfi import make_video
    from tests.fixtures.worker import run_media_worker

    owner = await builders.user(committed)
    ws = await builders.workspace(committed, owner)
    video = await builders.video(committed, ws, content=make_video(tmp_path / "v.mp4", seconds=1.0))
    token = await builders.token(committed, owner)
    await committed.commit()
    async with AsyncSession(app_engine, expire_on_commit=False) as s:
        set_tenant(s, workspace_id=ws.id)
        job = await service.create_job(s, workspace_id=ws.id, type="video_probe", video_id=video.id)
        await service.commit_and_enqueue(s, arq_pool)

    async def run_worker() -> None:
        await until_subscribed(redis, job_channel(job.id))
        await run_media_worker()

    async with websockets.connect(server, subprotocols=["graphql-transport-ws"]) as conn:
        await conn.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}", "workspaceId": str(ws.id)}}))
        assert json.loads(await conn.recv())["type"] == "connection_ack"
        await conn.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUB, "variables": {"id": gid("Job", job.id)}}}))
        worker = asyncio.create_task(run_worker())
        got = []
        while True:
            msg = json.loads(await asyncio.wait_for(conn.recv(), 60))
            if msg["type"] == "complete":
                break
            got.append(msg["payload"]["data"]["jobProgress"])
        await worker
    assert got == [
        {"status": "pending", "progress": 0, "message": None},
        {"status": "processing", "progress": 0, "message": "Started"},
        {"status": "processing", "progress": 10, "message": "Reading the video file"},
        {"status": "processing", "progress": 90, "message": "Video facts recorded"},
        {"status": "completed", "progress": 100, "message": "Done"},
    ]
