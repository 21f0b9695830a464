"""Media jobs. ``probe_video`` reads a stored video's facts into its row."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from clipflow_api.models import Video
from clipflow_worker.pipeline.probe import probe_media

from .runner import JobRun, UserFacingError, run_job


async def _load_video(run: JobRun) -> Video:
    async with run.session() as s:
        video = (await s.execute(select(Video).where(Video.id == run.video_id))).scalar_one_or_none()
    if video is None or video.deleted_at is not None:
        raise UserFacingError("The video was deleted before it could be processed.")
    return video


async def _probe(run: JobRun) -> dict[str, Any]:
    video = await _load_video(run)
    await run.progress(10, "Reading the video file", step="probe", video_status="processing")
    with run.ctx["storage"].local_copy(video.file_url) as path:
        info = await asyncio.to_thread(probe_media, path)
    async with run.session() as s:
        row = (await s.execute(select(Video).where(Video.id == run.video_id))).scalar_one()
        row.duration_seconds = round(info.duration)
        row.width, row.height = info.display_width, info.display_height
        row.fps = Decimal(f"{info.fps:.2f}")
        row.codec = info.video_codec
        row.file_size_bytes = info.size_bytes
        await s.commit()
    await run.progress(90, "Video facts recorded", step="probe")
    return info.to_dict()


async def probe_video(ctx: dict[str, Any], job_id: str, workspace_id: str) -> dict[str, Any] | None:
    """Probe a stored video (duration, size, fps, codec, rotation) into its row."""
    return await run_job(ctx, job_id, workspace_id, _probe)
