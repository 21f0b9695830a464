"""The clip engine as a job is honest about speech: a short line becomes one clip, speech the
model cannot transcribe is recorded and kept out of clips, and no clips comes with a reason
the job, the video row and the API all give."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clipflow_api.db import set_tenant
from clipflow_api.graphql.media.types import Video as VideoType
from clipflow_api.jobs import service
from clipflow_api.models import Clip, Job, Video
from clipflow_worker.pipeline.language import shipped_multilingual_model
from clipflow_worker.tasks.context import shutdown, startup
from clipflow_worker.tasks.media import process_video
from tests.fixtures import builders

MEDIA = Path(__file__).resolve().parents[1] / "fixtures" / "media" / "language"
MANIFEST = json.loads((MEDIA / "manifest.json").read_text())


@pytest.fixture
async def worker_ctx() -> Any:
    ctx: dict[str, Any] = {}
    await startup(ctx)
    yield ctx
    await shutdown(ctx)


async def _run(committed, app_engine, worker_ctx, content: Path, input_data: dict[str, Any]) -> tuple[dict[str, Any], Video, Job]:
    ws = await builders.workspace(committed)
    v = await builders.video(committed, ws, content=content)
    await committed.commit()
    async with AsyncSession(app_engine, expire_on_commit=False) as s:
        set_tenant(s, workspace_id=ws.id)
        job = await service.create_job(s, workspace_id=ws.id, type="video_process", video_id=v.id, input_data=input_data)
        await s.commit()
    result = await process_video(worker_ctx, str(job.id), str(ws.id))
    video = (await committed.execute(select(Video).where(Video.id == v.id).execution_options(populate_existing=True))).scalar_one()
    row = (await committed.execute(select(Job).where(Job.id == job.id).execution_options(populate_existing=True))).scalar_one()
    return result, video, row


async def test_french_after_english_is_recorded_and_no_clip_says_why(committed, app_engine, worker_ctx) -> None:
    # given English then French, and clips of at least 30 s (the English part lasts 25 s)
    result, video, job = await _run(committed, app_engine, worker_ctx, MEDIA / "english_french.mp4",
                                    {"max_clips": 2, "min_duration": 30, "max_duration": 60})

    # then the job and the video completed without clips, and say why
    reason = result["no_clip_reason"]
    assert reason.startswith("No clips: the longest stretch of connected speech lasts 2")
    assert "English-only speech model cannot transcribe" in reason
    assert (video.status, video.error_message, job.status) == ("completed", None, "completed")
    assert job.output_data["no_clip_reason"] == reason and job.output_data["clips"] == []
    assert (await committed.execute(select(Clip).where(Clip.video_id == video.id))).scalars().all() == []
    # the languages and the untranscribed French are recorded
    named = "fr" if shipped_multilingual_model() is not None else "und"
    assert video.language_detected == f"en,{named}"
    [part] = video.transcript["untranscribed"]
    french_start = MANIFEST["english_french.mp4"]["paragraphs"][2]["start"]
    assert part["language"] == named and part["start"] <= french_start + 0.5 and "ASR_MODEL" in part["advice"]
    assert all(w["end"] <= part["start"] for s in video.transcript["segments"] for w in s["words"])
    # and the API says the same
    api = VideoType.from_row(video)
    assert api.languages() == ["en", named] and api.no_clip_reason() == reason
    [api_part] = api.untranscribed_parts()
    assert (api_part.start, api_part.end, api_part.language, api_part.reason) == (part["start"], part["end"], named, part["reason"])


async def test_english_clips_stay_out_of_the_french_part(committed, app_engine, worker_ctx) -> None:
    result, video, _job = await _run(committed, app_engine, worker_ctx, MEDIA / "english_french.mp4",
                                     {"max_clips": 1, "min_duration": 8, "max_duration": 20, "style": "karaoke"})

    [part] = video.transcript["untranscribed"]
    clips = (await committed.execute(select(Clip).where(Clip.video_id == video.id))).scalars().all()
    assert len(result["clips"]) == len(clips) == 1 and "no_clip_reason" not in result
    assert float(clips[0].end_time) <= part["start"]
    assert VideoType.from_row(video).no_clip_reason() is None
