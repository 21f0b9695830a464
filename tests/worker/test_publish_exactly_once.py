"""Exactly once, whatever breaks: a worker SIGKILLed mid-upload or mid-create, a connection
dropped after the platform accepted the post, a flushed Redis. After the sweeper and the
retries have run, every fake platform has created exactly one post for every post."""

# ruff: noqa: F811  (the fixtures come from tests.worker.publishing_support, imported by name)

from __future__ import annotations

import asyncio
import signal
from typing import Any

import pytest

from clipflow_api.models import Post
from clipflow_api.models.enums import Platform
from clipflow_worker.tasks.context import shutdown, startup
from clipflow_worker.tasks.publish import sweep_posts
from tests.fixtures.platforms import Fault
from tests.worker.publishing_support import (  # noqa: F401  (fixtures)
    STALE_S,
    Fakes,
    _fake_platforms,
    fakes,
    hand_over,
    row,
    run_until,
    scene,
    scheduled_post,
    spawn_worker,
    sql,
    wait_for,
)

pytestmark = pytest.mark.slow


def _status_is(committed, post_id, *statuses: str):
    async def check() -> bool:
        return (await row(committed, Post, post_id)).status in statuses

    return check


async def _actions(committed, post_id) -> list[str]:
    rows = await sql(committed, "SELECT action FROM audit_logs WHERE resource_id = :p ORDER BY created_at", p=post_id)
    return [r.action for r in rows]


async def _kill_when(fakes: Fakes, platform: Platform, call: str, committed: Any, post_id: Any) -> None:
    """Start a real worker process and SIGKILL it once the fake platform is answering ``call`` (hung)."""
    worker = spawn_worker()
    state = fakes.of(platform).state
    try:
        async def reached() -> bool:
            return call in state.calls

        await wait_for(reached, 60, f"the worker to reach {call}")
        await asyncio.sleep(0.3)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    state.released.set()  # let the fake's hung handler end (its client is gone)
    killed = await row(committed, Post, post_id)
    assert killed.status == "publishing" and killed.publish_started_at is not None
    await asyncio.sleep(STALE_S + 0.5)  # no heartbeat any more: the post turns stale


@pytest.mark.parametrize("platform", [Platform.YOUTUBE, Platform.TIKTOK])
async def test_a_worker_killed_mid_upload_is_reconciled_then_resumed_once(committed, arq_pool, fakes, platform) -> None:
    # given a post whose upload hangs at the platform
    sc = await scene(committed, platform)
    post = await scheduled_post(committed, sc)
    fakes.of(platform).state.faults.add("upload", Fault.hang(seconds=60))
    await hand_over(arq_pool, post)

    # when a real worker process is SIGKILLed mid-upload, and a new worker (with its sweeper) runs
    await _kill_when(fakes, platform, "upload", committed, post.id)
    await run_until(_status_is(committed, post.id, "published", "failed"), 60, "the post to be published")

    # then the platform holds it once: the sweeper found it stale, reconciliation proved it absent,
    # and the next attempt resumed (YouTube: the same upload session) or started afresh (TikTok)
    done = await row(committed, Post, post.id)
    assert (done.status, done.publish_attempts) == ("published", 1)
    assert fakes.of(platform).state.posts_created == 1
    assert await _actions(committed, post.id) == ["post.reconciled_absent", "post.published"]
    if platform is Platform.YOUTUBE:
        assert len(fakes.youtube.state.sessions) == 1  # resumed, not a second upload session


async def test_a_worker_killed_before_the_creating_call_answered_publishes_once(committed, arq_pool, fakes) -> None:
    # given an Instagram Reel whose media_publish hangs (nothing created yet)
    sc = await scene(committed, Platform.INSTAGRAM)
    post = await scheduled_post(committed, sc)
    fakes.instagram.state.faults.add("publish", Fault.hang(seconds=60))
    await hand_over(arq_pool, post)

    # when the worker is killed there, and a new one runs
    await _kill_when(fakes, Platform.INSTAGRAM, "POST media_publish", committed, post.id)
    await run_until(_status_is(committed, post.id, "published", "failed"), 60, "the post to be published")

    # then the same container was published, once
    assert fakes.instagram.state.posts_created == 1
    assert len(fakes.instagram.state.containers) == 1
    done = await row(committed, Post, post.id)
    assert (done.status, done.platform_post_id) == ("published", fakes.instagram.state.media[0].id)


async def test_a_worker_killed_after_the_platform_created_the_post_is_found_not_posted_again(committed, arq_pool,
                                                                                             fakes) -> None:
    # given a Reel with a first comment: the comment call (after media_publish created it) hangs
    sc = await scene(committed, Platform.INSTAGRAM)
    post = await scheduled_post(committed, sc, platform_options={"first_comment": "Link in bio"})
    fakes.instagram.state.faults.add("comment", Fault.hang(seconds=60))
    await hand_over(arq_pool, post)

    # when the worker is killed during that call, and a new one runs
    await _kill_when(fakes, Platform.INSTAGRAM, "POST comments", committed, post.id)
    assert fakes.instagram.state.posts_created == 1
    await run_until(_status_is(committed, post.id, "published", "failed", "scheduled"), 60, "reconciliation")

    # then reconciliation found the Reel and marked the post published with its id: no second post
    done = await row(committed, Post, post.id)
    assert (done.status, done.platform_post_id) == ("published", fakes.instagram.state.media[0].id)
    assert done.publish_attempts == 0
    assert fakes.instagram.state.posts_created == 1
    details = await sql(committed, "SELECT details FROM audit_logs WHERE resource_id = :p AND action = 'post.published'",
                        p=post.id)
    assert details[0].details["how"] == "reconciled"


@pytest.mark.parametrize(("platform", "op"), [(Platform.INSTAGRAM, "publish"), (Platform.TIKTOK, "upload"),
                                              (Platform.YOUTUBE, "upload")])
async def test_a_connection_dropped_after_the_platform_accepted_the_post_posts_once(committed, arq_pool, fakes, platform,
                                                                                   op) -> None:
    # given the platform accepts the creating call, then drops the connection before answering
    sc = await scene(committed, platform)
    post = await scheduled_post(committed, sc)
    fakes.of(platform).state.faults.add(op, Fault.drop())
    await hand_over(arq_pool, post)

    # when the worker runs (its retries and reconciliation included)
    await run_until(_status_is(committed, post.id, "published", "failed"), 60, "the post to be published")

    # then the post is published with the platform's id, created once
    done = await row(committed, Post, post.id)
    assert done.status == "published"
    assert fakes.of(platform).state.posts_created == 1
    actions = await _actions(committed, post.id)
    if platform is Platform.YOUTUBE:
        assert actions == ["post.published"]  # the resumable protocol asked where it stood
    else:
        assert actions == ["post.unconfirmed", "post.published"]  # found by reconciliation


async def test_an_unconfirmed_post_whose_check_fails_is_checked_again_then_found(committed, arq_pool, fakes) -> None:
    # given Instagram drops media_publish's answer, and then fails the first listing of recent media
    sc = await scene(committed, Platform.INSTAGRAM)
    post = await scheduled_post(committed, sc)
    fakes.instagram.state.faults.add("publish", Fault.drop())
    fakes.instagram.state.faults.add("list", Fault.server_error())
    await hand_over(arq_pool, post)

    # when the worker runs
    await run_until(_status_is(committed, post.id, "published", "failed"), 60, "the post to be published")

    # then the first check could not tell (it stayed unconfirmed), the second found it
    assert fakes.instagram.state.posts_created == 1
    assert fakes.instagram.state.calls.count("GET media") == 2
    assert (await row(committed, Post, post.id)).status == "published"


async def test_after_redis_is_flushed_the_sweeper_hands_due_posts_to_arq_again(committed, arq_pool, fakes) -> None:
    # given three posts handed to arq, one per platform, then Redis loses everything
    posts = []
    for platform in (Platform.YOUTUBE, Platform.TIKTOK, Platform.INSTAGRAM):
        sc = await scene(committed, platform)
        p = await scheduled_post(committed, sc)
        await hand_over(arq_pool, p)
        posts.append(p)
    await arq_pool.flushdb()
    assert await arq_pool.zcard("clipflow:publish") == 0

    # when the sweeper runs (twice: the second finds them queued already)
    ctx: dict[str, Any] = {"redis": arq_pool}
    await startup(ctx)
    try:
        assert await sweep_posts(ctx) == 3
        assert await sweep_posts(ctx) == 0
    finally:
        await shutdown(ctx)
    assert await arq_pool.zcard("clipflow:publish") == 3

    # then a worker publishes each once
    async def all_published() -> bool:
        return all([(await row(committed, Post, p.id)).status == "published" for p in posts])

    await run_until(all_published, 60, "the three posts")
    assert fakes.created() == {"youtube": 1, "tiktok": 1, "instagram": 1}


async def test_a_worker_that_lost_its_claim_stops_its_publish_and_the_post_goes_out_once(committed, arq_pool,
                                                                                         fakes) -> None:
    # given a YouTube upload that hangs at the platform
    sc = await scene(committed, Platform.YOUTUBE)
    post = await scheduled_post(committed, sc)
    fakes.youtube.state.faults.add("upload", Fault.hang(seconds=60))
    await hand_over(arq_pool, post)
    from tests.worker.publishing_support import InProcessWorker

    async with InProcessWorker() as running:
        async def uploading() -> bool:
            return "upload" in fakes.youtube.state.calls

        await wait_for(uploading, 30, "the upload to start")
        # when someone else takes the post over meanwhile (as a reconciler of a stale post would)
        await sql(committed, "UPDATE posts SET status = 'unconfirmed' WHERE id = :p", p=post.id)

        # then the heartbeat notices and cancels the job's publish (arq runs the job again)
        async def cancelled() -> bool:
            return running.worker.jobs_retried >= 1

        await wait_for(cancelled, 30, "the job to be cancelled")
        fakes.youtube.state.released.set()
        # and the post, reconciled (absent) and resumed, goes out once
        await wait_for(_status_is(committed, post.id, "published", "failed"), 30, "the post to be published")
    assert fakes.youtube.state.posts_created == 1
    assert len(fakes.youtube.state.sessions) == 1
    assert await _actions(committed, post.id) == ["post.reconciled_absent", "post.published"]
