"""The clip engine as a job: a real talk video becomes captioned clips, with live progress.

Also the re-run after a worker was killed mid-job: the job runs again and every clip
exists once.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import av
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from clipflow_api.db import set_tenant
from clipflow_api.jobs import service
from clipflow_api.jobs.progress import video_channel
from clipflow_api.models import Caption, Clip, Job, Video
from clipflow_api.storage import get_storage
from tests.fixtures import builders
from tests.fixtures.worker import run_media_worker_collecting

SPEECH = Path(__file__).resolve().parents[1] / "fixtures" / "media" / "speech_15s.mp4"
pytestmark = pytest.mark.slow


async def _fresh(committed: AsyncSession, model, id_):
    return (await committed.execute(select(model).where(model.id == id_).execution_options(populate_existing=True))).scalar_one()


async def test_a_talk_video_becomes_clips_and_a_rerun_makes_each_clip_once(committed, app_engine, arq_pool, redis, tmp_path) -> None:
    # given an uploaded 15 s talk video
    ws = await builders.workspace(committed)
    v = await builders.video(committed, ws, content=SPEECH)
    await committed.commit()
    async with AsyncSession(app_engine, expire_on_commit=False) as s:
        set_tenant(s, workspace_id=ws.id, user_id=ws.owner_id)
        job = await service.create_job(s, workspace_id=ws.id, type="video_process", video_id=v.id,
                                       input_data={"max_clips": 2, "min_duration": 4, "max_duration": 12, "style": "karaoke"})
        await service.commit_and_enqueue(s, arq_pool)

    # when the media worker runs it
    events = await run_media_worker_collecting(redis, video_channel(v.id))

    # then the video is complete with its transcript, topics and key moments
    video = await _fresh(committed, Video, v.id)
    assert (video.status, video.processing_progress, video.error_message) == ("completed", 100, None)
    assert video.language_detected == "en" and video.duration_seconds == 15
    words = [w["word"].strip(".,?!").lower() for s in video.transcript["segments"] for w in s["words"]]
    assert {"decision", "document", "quarter"} <= set(words)
    assert video.topics and video.key_moments is not None and video.thumbnail_url == f"videos/{v.id}/thumbnail.jpg"
    # clips: scored, stored in three formats, with a caption track
    clips = (await committed.execute(select(Clip).where(Clip.video_id == v.id))).scalars().all()
    assert 1 <= len(clips) <= 2
    storage = get_storage()
    for c in clips:
        assert 4 <= float(c.duration_seconds) <= 12.5
        assert 0 <= c.virality_score <= 100 and 0 <= c.hook_score <= 100 and 0 <= c.engagement_score <= 100
        assert set(c.file_urls) == {"9:16", "1:1", "16:9"} and c.has_captions and c.caption_style == "karaoke"
        with storage.local_copy(c.file_urls["9:16"]) as path, av.open(str(path)) as f:
            assert (f.streams.video[0].width, f.streams.video[0].height) == (1080, 1920)
        caption = (await committed.execute(select(Caption).where(Caption.clip_id == c.id))).scalar_one()
        assert caption.style == "karaoke" and caption.words and caption.words[0]["start"] >= 0
        with storage.local_copy(caption.srt_url) as srt:
            assert srt.read_text().startswith("1\n00:00:")
    # progress arrived step by step, never backwards, ending completed
    statuses = [e["status"] for e in events]
    assert statuses[0] == "processing" and statuses[-1] == "completed"
    steps = [e["step"] for e in events if e["step"]]
    assert steps.index("transcribe") < steps.index("analyze") < steps.index("render")
    progress = [e["progress"] for e in events]
    assert progress == sorted(progress) and progress[-1] == 100

    # when the worker is killed mid-job (the row says processing, attempts left) and the job runs again
    await committed.execute(text("UPDATE jobs SET status = 'processing', progress = 50 WHERE id = :id"), {"id": job.id})
    await committed.execute(text("UPDATE videos SET status = 'generating_clips' WHERE id = :id"), {"id": v.id})
    await committed.commit()
    await arq_pool.delete(f"arq:result:process_video:{job.id}")
    assert await service.enqueue(arq_pool, job.id, ws.id, "video_process")
    await run_media_worker_collecting(redis, video_channel(v.id))

    # then each clip exists once and the job completed again
    again = (await committed.execute(select(Clip).where(Clip.video_id == v.id))).scalars().all()
    assert sorted(c.id for c in again) == sorted(c.id for c in clips)
    row = await _fresh(committed, Job, job.id)
    assert (row.status, row.attempts) == ("completed", 2)
    assert (await _fresh(committed, Video, v.id)).status == "completed"
    shutil.rmtree(tmp_path, ignore_errors=True)


async def test_the_brand_kit_watermark_and_a_music_bed_reach_the_render(committed, app_engine, arq_pool, redis, tmp_path) -> None:
    from decimal import Decimal



    from clipflow_api.models import Asset, BrandKit
    from clipflow_api.storage.workspace_files import new_upload_key
    from clipflow_worker.pipeline.ffmpeg import run_ffmpeg

    # given a workspace (on a plan with the brand kit) whose default brand kit has a solid red
    # watermark, and a music asset
    ws = await builders.workspace(committed)
    await builders.subscribe(committed, ws)
    storage = get_storage()
    mark, music = tmp_path / "mark.png", tmp_path / "bed.m4a"
    run_ffmpeg(["-f", "lavfi", "-i", "color=c=red:s=240x120", "-frames:v", "1", str(mark)], timeout=30)
    run_ffmpeg(["-f", "lavfi", "-i", "sine=frequency=330:duration=20", "-c:a", "aac", str(music)], timeout=30)
    # (keys as fileUploadCreate makes them: the worker reads only the workspace's own uploads)
    mark_key, music_key = new_upload_key(ws.id, "mark.png"), new_upload_key(ws.id, "bed.m4a")
    storage.put_file(mark_key, mark)
    storage.put_file(music_key, music)
    committed.add(BrandKit(workspace_id=ws.id, is_default=True, watermark_url=mark_key,
                           watermark_position="top-right", watermark_opacity=Decimal("1.00")))
    asset = Asset(workspace_id=ws.id, name="Bed", type="audio", file_url=music_key)
    committed.add(asset)
    v = await builders.video(committed, ws, content=SPEECH)
    await committed.commit()
    async with AsyncSession(app_engine, expire_on_commit=False) as s:
        set_tenant(s, workspace_id=ws.id)
        await service.create_job(s, workspace_id=ws.id, type="video_process", video_id=v.id, input_data={
            "max_clips": 1, "min_duration": 4, "max_duration": 8, "music_asset_id": str(asset.id)})
        await service.commit_and_enqueue(s, arq_pool)
    # when it is processed
    await run_media_worker_collecting(redis, video_channel(v.id))
    # then the clip has the music recorded and the watermark burned into its frames
    (clip,) = (await committed.execute(select(Clip).where(Clip.video_id == v.id))).scalars().all()
    assert (clip.has_music, clip.music_track_id) == (True, asset.id)
    with storage.local_copy(clip.file_urls["9:16"]) as path, av.open(str(path)) as f:
        frame = next(f.decode(video=0)).to_ndarray(format="rgb24")
        assert f.streams.audio, "the render keeps an audio track"
    top_right = frame[: frame.shape[0] // 3, frame.shape[1] // 2:].astype(int)
    red = (top_right[..., 0] > 200) & (top_right[..., 1] < 70) & (top_right[..., 2] < 70)
    assert red.sum() > 2000
    whole = frame.astype(int)
    assert ((whole[..., 0] > 200) & (whole[..., 1] < 70) & (whole[..., 2] < 70)).sum() == red.sum()  # only there

