"""End to end through arq and Redis: enqueue after commit, run, row updated, progress received."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from clipflow_api.db import set_tenant
from clipflow_api.jobs import service
from clipflow_api.jobs.progress import job_channel
from clipflow_api.models import Job, Video
from clipflow_worker.tasks.maintenance import sweep_jobs
from tests.fixtures import builders
from tests.fixtures.lavfi import make_video
from tests.fixtures.worker import run_media_worker_collecting


async def _stored_video(committed: AsyncSession, tmp_path: Path, content: bytes | None = None):
    ws = await builders.workspace(committed)
    src = tmp_path / "source.mp4"
    if content is None:
        make_video(src, seconds=2.0, size="320x240")
    else:
        src.write_bytes(content)
    v = await builders.video(committed, ws, content=src)
    await committed.commit()
    return ws, v


async def _create_job_as_app(app_engine: AsyncEngine, ws, v, arq_pool) -> Job:
    async with AsyncSession(app_engine, expire_on_commit=False) as s:
        set_tenant(s, workspace_id=ws.id, user_id=ws.owner_id)
        job = await service.create_job(s, workspace_id=ws.id, type="video_probe", video_id=v.id)
        handed = await service.commit_and_enqueue(s, arq_pool)
    assert handed == 1
    return job


async def test_probe_job_runs_end_to_end(committed, app_engine, arq_pool, redis, tmp_path) -> None:
    # given a stored 2 s 320x240 video and a job created inside a committed request
    ws, v = await _stored_video(committed, tmp_path)
    job = await _create_job_as_app(app_engine, ws, v, arq_pool)
    # when the media worker drains its queue
    events = await run_media_worker_collecting(redis, job_channel(job.id), wait=0.2)
    # then the job row is complete, the video row has its facts, and progress arrived in order
    row = (await committed.execute(select(Job).where(Job.id == job.id).execution_options(populate_existing=True))).scalar_one()
    assert (row.status, row.progress, row.attempts, row.error) == ("completed", 100, 1, None)
    assert row.output_data["width"] == 320 and row.output_data["height"] == 240
    video = (await committed.execute(select(Video).where(Video.id == v.id).execution_options(populate_existing=True))).scalar_one()
    assert (video.width, video.height, video.duration_seconds, video.codec) == (320, 240, 2, "h264")
    assert [(e["status"], e["progress"], e["message"]) for e in events] == [
        ("processing", 0, "Started"),
        ("processing", 10, "Reading the video file"),
        ("processing", 90, "Video facts recorded"),
        ("completed", 100, "Done"),
    ]
    assert {e["videoId"] for e in events} == {str(v.id)}


async def test_a_corrupt_file_fails_with_a_clear_message(committed, app_engine, arq_pool, redis, tmp_path) -> None:
    ws, v = await _stored_video(committed, tmp_path, content=b"this is not a video at all" * 100)
    job = await _create_job_as_app(app_engine, ws, v, arq_pool)
    events = await run_media_worker_collecting(redis, job_channel(job.id), wait=0.2)
    row = (await committed.execute(select(Job).where(Job.id == job.id).execution_options(populate_existing=True))).scalar_one()
    msg = "This file is not a video we can read (it may be corrupt or in an unsupported format)."
    assert (row.status, row.error) == ("failed", msg)
    video = (await committed.execute(select(Video).where(Video.id == v.id).execution_options(populate_existing=True))).scalar_one()
    assert (video.status, video.error_message) == ("failed", msg)
    assert events[-1]["status"] == "failed" and events[-1]["error"] == msg


async def test_a_job_of_another_workspace_is_not_run(committed, app_engine, arq_pool, redis, tmp_path) -> None:
    ws, v = await _stored_video(committed, tmp_path)
    other = await builders.workspace(committed)
    await committed.commit()
    job = await _create_job_as_app(app_engine, ws, v, arq_pool)
    # a forged message naming the wrong workspace finds no job under that tenant
    from clipflow_worker.tasks.context import shutdown, startup
    from clipflow_worker.tasks.media import probe_video

    ctx: dict[str, Any] = {}
    await startup(ctx)
    try:
        assert await probe_video(ctx, str(job.id), str(other.id)) is None
    finally:
        await shutdown(ctx)
    row = (await committed.execute(select(Job).where(Job.id == job.id))).scalar_one()
    assert (row.status, row.attempts) == ("pending", 0)


async def test_sweeper_re_enqueues_jobs_arq_never_got(committed, app_engine, arq_pool, redis, tmp_path) -> None:
    # given a pending job that was committed but never enqueued (no arq pool at the boundary)
    ws, v = await _stored_video(committed, tmp_path)
    async with AsyncSession(app_engine, expire_on_commit=False) as s:
        set_tenant(s, workspace_id=ws.id)
        job = await service.create_job(s, workspace_id=ws.id, type="video_probe", video_id=v.id)
        assert await service.commit_and_enqueue(s, None) == 0
    await committed.execute(text("UPDATE jobs SET updated_at = now() - interval '2 minutes' WHERE id = :id"), {"id": job.id})
    await committed.commit()
    # when the sweeper runs twice
    from clipflow_worker.tasks.context import shutdown, startup

    ctx: dict[str, Any] = {"redis": arq_pool}
    await startup(ctx)
    try:
        first = await sweep_jobs(ctx)
        second = await sweep_jobs(ctx)
    finally:
        await shutdown(ctx)
    # then it was handed to arq exactly once, under the job's own id
    assert (first, second) == (1, 0)
    queued = await arq_pool.queued_jobs(queue_name=service.MEDIA_QUEUE)
    assert [(j.function, j.job_id, j.args) for j in queued] == [
        ("probe_video", f"probe_video:{job.id}", (str(job.id), str(ws.id)))
    ]
    await asyncio.sleep(0)


async def test_sweeper_fails_a_job_whose_every_attempt_died(committed, app_engine, arq_pool, redis, tmp_path) -> None:
    from clipflow_worker.tasks.context import shutdown, startup
    from clipflow_worker.tasks.runner import ABANDONED

    # given a job left processing by its last allowed attempt, long without progress
    ws, v = await _stored_video(committed, tmp_path)
    job = await builders.job(committed, ws, type="video_process", video_id=v.id, status="processing", attempts=3,
                             max_attempts=3, progress=40)
    await committed.execute(text("UPDATE videos SET status = 'transcribing' WHERE id = :id"), {"id": v.id})
    await committed.commit()
    await committed.execute(text("UPDATE jobs SET updated_at = now() - interval '2 hours' WHERE id = :id"), {"id": job.id})
    await committed.commit()
    # when the sweeper runs
    ctx: dict[str, Any] = {"redis": arq_pool}
    await startup(ctx)
    try:
        assert await sweep_jobs(ctx) == 0
    finally:
        await shutdown(ctx)
    # then it is failed, with its video, in words a user understands, and nothing was queued
    row = (await committed.execute(select(Job).where(Job.id == job.id).execution_options(populate_existing=True))).scalar_one()
    video = (await committed.execute(select(Video).where(Video.id == v.id).execution_options(populate_existing=True))).scalar_one()
    assert (row.status, row.error) == ("failed", ABANDONED)
    assert (video.status, video.error_message) == ("failed", ABANDONED)
    assert await arq_pool.queued_jobs(queue_name=service.MEDIA_QUEUE) == []
