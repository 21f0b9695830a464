"""The post_conform job end to end: created after commit, run by the media worker, post re-pointed and queued."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from clipflow_api.db import set_tenant
from clipflow_api.errors import ErrorCode, ValidationError
from clipflow_api.jobs import service
from clipflow_api.jobs.progress import job_channel
from clipflow_api.media.probe import read_facts
from clipflow_api.models import Job, Post
from clipflow_api.models.enums import Platform
from clipflow_api.publishing import conform
from clipflow_api.publishing.platforms import RULES
from clipflow_api.publishing.queue import publish_job_id
from clipflow_api.storage import get_storage
from clipflow_worker.pipeline.ffmpeg import run_ffmpeg
from tests.fixtures import builders
from tests.fixtures.worker import run_media_worker, run_media_worker_collecting


def _video(path: Path, *, seconds: float, rate: int, faststart: bool) -> Path:
    run_ffmpeg(["-f", "lavfi", "-i", f"testsrc2=size=360x640:rate={rate}:duration={seconds}",
                "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}:sample_rate=48000",
                "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac",
                *(["-movflags", "+faststart"] if faststart else []), "-shortest", str(path)], timeout=120)
    return path


async def _scheduled_reel(committed: AsyncSession, tmp_path: Path, *, seconds: float = 4.0, rate: int = 120) -> Post:
    """A scheduled Instagram post whose stored 9:16 file is 120 fps without fast start."""
    ws = await builders.workspace(committed)
    account = await builders.social_account(committed, ws)
    account.platform = Platform.INSTAGRAM
    key = f"clips/{uuid.uuid4()}/9x16.mp4"
    get_storage().put_file(key, _video(tmp_path / "source.mp4", seconds=seconds, rate=rate, faststart=False))
    post = await builders.post(committed, account, created_by=ws.owner_id, status="scheduled",
                               scheduled_at=datetime.now(UTC) + timedelta(hours=1))
    post.media_urls = [key]
    await committed.commit()
    return post


async def _request_as_app(app_engine: AsyncEngine, post: Post, arq_pool) -> Job:
    async with AsyncSession(app_engine, expire_on_commit=False) as s:
        set_tenant(s, workspace_id=post.workspace_id, user_id=post.created_by)
        row = (await s.execute(select(Post).where(Post.id == post.id))).scalar_one()
        job = await conform.request_conform(s, row)
        # asking twice while it is pending gives the same job
        assert (await conform.request_conform(s, row)).id == job.id
        assert await service.commit_and_enqueue(s, arq_pool) == 1
    return job


async def _reload(committed: AsyncSession, model, row_id):  # noqa: ANN001, ANN202
    stmt = select(model).where(model.id == row_id).execution_options(populate_existing=True)
    return (await committed.execute(stmt)).scalar_one()


async def test_a_fixable_reel_is_converted_re_pointed_and_queued_once(committed, app_engine, arq_pool, redis, tmp_path) -> None:
    # given a scheduled reel whose file is 120 fps without fast start, and its conform job
    post = await _scheduled_reel(committed, tmp_path)
    source = post.media_urls[0]
    job = await _request_as_app(app_engine, post, arq_pool)
    assert (await conform.conform_status(committed, post)) == conform.ConformStatus(pending=True)
    # when the media worker runs it
    events = await run_media_worker_collecting(redis, job_channel(job.id), wait=0.2)
    # then the job is done, the post points at a conforming copy, and its publish is queued
    target = f"posts/{post.id}/conformed.mp4"
    row = await _reload(committed, Job, job.id)
    assert (row.status, row.error, row.output_data) == (
        "completed", None, {"post_id": str(post.id), "source_key": source, "media_key": target})
    post = await _reload(committed, Post, post.id)
    assert (post.media_urls, post.status) == ([target], "scheduled")
    storage = get_storage()
    assert storage.exists(source)  # the clip's own file is left alone
    with storage.local_copy(target) as path:
        facts = read_facts(path)
    assert (facts.fps, facts.faststart, facts.video_codec, facts.audio_codec) == (60.0, True, "h264", "aac")
    assert (await conform.check_variant(storage, target, Platform.INSTAGRAM)).ok
    assert conform.judge(facts, RULES[Platform.INSTAGRAM]).ok
    queued = await arq_pool.queued_jobs(queue_name=service.PUBLISH_QUEUE)
    assert [(j.function, j.job_id, j.args) for j in queued] == [
        ("publish_post", publish_job_id(post.id, post.scheduled_at, 0), (str(post.id), str(post.workspace_id)))]
    assert events[0]["message"] == "Started" and events[-1]["status"] == "completed"
    assert "Checking the video" in [e["message"] for e in events]
    assert await conform.conform_status(committed, post) == conform.ConformStatus(pending=False)

    # when it is asked again (a double click, a rerun): the post already points at its copy
    async with AsyncSession(app_engine, expire_on_commit=False) as s:
        set_tenant(s, workspace_id=post.workspace_id)
        again = await conform.request_conform(s, (await s.execute(select(Post).where(Post.id == post.id))).scalar_one())
        await service.commit_and_enqueue(s, arq_pool)
    await run_media_worker()
    # then nothing is converted again and the publish is still queued once
    row = await _reload(committed, Job, again.id)
    assert (row.status, row.output_data) == ("completed", {"post_id": str(post.id), "source_key": target, "media_key": target})
    assert (await _reload(committed, Post, post.id)).media_urls == [target]
    assert len(await arq_pool.queued_jobs(queue_name=service.PUBLISH_QUEUE)) == 1


async def test_an_unfixable_reel_fails_the_job_with_the_reason_and_leaves_the_post(committed, app_engine, arq_pool, redis,
                                                                                  tmp_path) -> None:
    # given a scheduled reel of 2 seconds (Instagram wants at least 3)
    post = await _scheduled_reel(committed, tmp_path, seconds=2.0)
    source = post.media_urls[0]
    job = await _request_as_app(app_engine, post, arq_pool)
    # when the worker runs the job
    await run_media_worker()
    # then the job failed in words, the post is untouched, nothing was queued to publish
    reason = "The video is 2 seconds long; Instagram Reels must be at least 3 seconds."
    row = await _reload(committed, Job, job.id)
    assert (row.status, row.error, row.attempts) == ("failed", reason, 1)
    post = await _reload(committed, Post, post.id)
    assert (post.media_urls, post.status) == ([source], "scheduled")
    assert not get_storage().exists(f"posts/{post.id}/conformed.mp4")
    assert await arq_pool.queued_jobs(queue_name=service.PUBLISH_QUEUE) == []
    # and delivery learns why, to fail the post with that sentence
    assert await conform.conform_status(committed, post) == conform.ConformStatus(pending=False, error=reason)


async def test_a_post_without_a_file_is_refused_and_no_job_is_made(db: AsyncSession) -> None:
    # given a post that lost its media
    ws = await builders.workspace(db)
    post = await builders.post(db, await builders.social_account(db, ws), created_by=ws.owner_id)
    post.media_urls = []
    await db.flush()
    # when a conform is asked for, then it is refused in words and nothing is created
    with pytest.raises(ValidationError) as err:
        await conform.request_conform(db, post)
    assert (err.value.code, err.value.message, err.value.field) == (
        ErrorCode.REQUIRED, "The post has no video to convert.", "media_urls")
    assert (await db.execute(select(Job).where(Job.post_id == post.id))).scalars().all() == []
    assert db.info.get("clipflow_outbox", []) == []
    assert await conform.conform_status(db, post) == conform.ConformStatus(pending=False)
