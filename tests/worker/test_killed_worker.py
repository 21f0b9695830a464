"""A worker killed mid-job (SIGKILL, no chance to clean up): the sweeper hands the job to
arq again under a fresh id, it runs again, and every clip exists once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from arq.worker import create_worker
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clipflow_api.db import set_tenant
from clipflow_api.jobs import service
from clipflow_api.models import Clip, Job, Video
from clipflow_worker.settings import MediaWorker, redis_settings
from clipflow_worker.tasks.context import shutdown, startup
from clipflow_worker.tasks.maintenance import sweep_jobs
from tests.fixtures import builders

SPEECH = Path(__file__).resolve().parents[1] / "fixtures" / "media" / "speech_15s.mp4"
pytestmark = pytest.mark.slow


async def _row(committed: AsyncSession, model: Any, id_: uuid.UUID) -> Any:
    return (await committed.execute(select(model).where(model.id == id_).execution_options(populate_existing=True))).scalar_one()


async def _wait_for(predicate, timeout: float, what: str) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not await predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)


async def test_a_killed_worker_s_job_runs_again_and_makes_each_clip_once(committed, app_engine, arq_pool, redis) -> None:
    # given a queued job for a 15 s talk, asking for clips of 4-8 s
    ws = await builders.workspace(committed)
    v = await builders.video(committed, ws, content=SPEECH)
    await committed.commit()
    async with AsyncSession(app_engine, expire_on_commit=False) as s:
        set_tenant(s, workspace_id=ws.id)
        job = await service.create_job(s, workspace_id=ws.id, type="video_process", video_id=v.id,
                                       input_data={"max_clips": 2, "min_duration": 4, "max_duration": 8})
        await service.commit_and_enqueue(s, arq_pool)

    # when a worker process takes it and is SIGKILLed once it has started rendering clips
    worker = subprocess.Popen([sys.executable, "-m", "clipflow_api.cli", "worker", "--queue", "media"],
                              env=os.environ.copy(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        async def rendering() -> bool:
            return (await _row(committed, Video, v.id)).status == "generating_clips"

        await _wait_for(rendering, 120, "the first worker to start rendering")
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    stuck = await _row(committed, Job, job.id)
    assert (stuck.status, stuck.attempts) == ("processing", 1)

    # and the sweeper runs (with "no progress for 0 s" counting as stalled)
    ctx: dict[str, Any] = {"redis": arq_pool}
    await startup(ctx)
    ctx["settings"] = ctx["settings"].model_copy(update={"job_stale_processing_s": 0})
    try:
        assert await sweep_jobs(ctx) == 1
        assert await sweep_jobs(ctx) == 0  # the same rerun id: queued once
    finally:
        await shutdown(ctx)

    # then a new worker runs it to the end
    fresh = create_worker(MediaWorker, redis_settings=redis_settings(), handle_signals=False, poll_delay=0.05)
    task = asyncio.ensure_future(fresh.async_run())
    try:
        async def done() -> bool:
            return (await _row(committed, Job, job.id)).status in ("completed", "failed")

        await _wait_for(done, 180, "the rerun to finish")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await fresh.close()
    row = await _row(committed, Job, job.id)
    assert (row.status, row.attempts, row.error) == ("completed", 2, None)
    assert (await _row(committed, Video, v.id)).status == "completed"
    clips = (await committed.execute(select(Clip).where(Clip.video_id == v.id))).scalars().all()
    assert 1 <= len(clips) <= 2
    assert len({(c.start_time, c.end_time) for c in clips}) == len(clips)
    assert all(set(c.file_urls) == {"9:16", "1:1", "16:9"} for c in clips)
