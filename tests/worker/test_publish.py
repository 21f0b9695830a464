"""The publish queue against the three fake platforms: a real arq worker takes each post at its
time, streams the file, and records the outcome (published, retried later, or failed with a
reason, an audit row and an outbox event)."""

# ruff: noqa: F811  (the fixtures come from tests.worker.publishing_support, imported by name)

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from clipflow_api import clock
from clipflow_api.models import Clip, Post, SocialAccount
from clipflow_api.models.enums import Platform
from clipflow_api.publishing.progress import post_channel
from tests.fixtures.platforms import Fault
from tests.worker.publishing_support import (  # noqa: F401  (fixtures)
    _fake_platforms,
    fakes,
    hand_over,
    row,
    run_until,
    scene,
    scheduled_post,
    sql,
)

pytestmark = pytest.mark.slow


def _done(committed, post_id, *statuses: str):
    async def check() -> bool:
        return (await row(committed, Post, post_id)).status in statuses

    return check


async def _events(committed, post_id):
    return await sql(committed, "SELECT type, payload FROM outbox_events WHERE payload->>'post_id' = :p ORDER BY created_at",
                     p=str(post_id))


async def _audit(committed, post_id):
    rows = await sql(committed, "SELECT action, details FROM audit_logs WHERE resource_id = :p ORDER BY created_at",
                     p=post_id)
    return [(r.action, r.details) for r in rows]


@pytest.mark.parametrize("platform", [Platform.YOUTUBE, Platform.TIKTOK, Platform.INSTAGRAM])
async def test_a_due_post_is_published_once_with_its_id_link_and_event(committed, arq_pool, redis, fakes, platform) -> None:
    # given a post due now on the platform, handed to arq as the posts service does
    sc = await scene(committed, platform)
    post = await scheduled_post(committed, sc, caption="Three tips for better hooks #shorts",
                                platform_options={"title": "Better hooks"} if platform is Platform.YOUTUBE else {})
    pubsub = redis.pubsub()
    await pubsub.subscribe(post_channel(post.id))
    await hand_over(arq_pool, post)

    # when the publish worker runs
    await run_until(_done(committed, post.id, "published", "failed"), 30, "the post to be published")

    # then the platform holds exactly one post, with our caption and our file's bytes
    fake = fakes.of(platform)
    assert fake.state.posts_created == 1
    done = await row(committed, Post, post.id)
    assert (done.status, done.publish_error, done.upload_progress, done.publish_attempts) == ("published", None, 100, 0)
    assert done.platform_post_id and done.published_at is not None and done.publish_started_at is not None
    if platform is Platform.YOUTUBE:
        video = fake.state.videos[0]
        assert (done.platform_post_id, video.title, video.description) == (
            video.id, "Better hooks", "Three tips for better hooks #shorts")
        assert done.platform_url == f"https://www.youtube.com/watch?v={video.id}"
    elif platform is Platform.TIKTOK:
        assert fake.state.posts[0].title == "Three tips for better hooks #shorts"
    else:
        media = fake.state.media[0]
        assert (done.platform_post_id, media.caption, done.platform_url) == (
            media.id, "Three tips for better hooks #shorts", media.permalink)
        assert media.size == 300 * 1024  # Instagram fetched the whole file from the signed URL
    assert (await row(committed, Clip, sc.clip.id)).times_published == 1
    events = await _events(committed, post.id)
    assert [e.type for e in events] == ["post.published"]
    assert events[0].payload["platform_post_id"] == done.platform_post_id
    assert [a for a, _ in await _audit(committed, post.id)] == ["post.published"]
    # and subscribers saw it go from publishing to published, the upload reaching 100 %
    seen = []
    while (msg := await pubsub.get_message(timeout=0.2)) is not None:
        if msg["type"] == "message":
            seen.append(json.loads(msg["data"]))
    await pubsub.aclose()
    assert seen[0]["status"] == "publishing" and seen[-1]["status"] == "published"
    assert seen[-1]["uploadProgress"] == 100
    assert [e["uploadProgress"] for e in seen] == sorted(e["uploadProgress"] for e in seen)


async def test_a_429_with_retry_after_defers_the_post_and_the_account(committed, arq_pool, fakes) -> None:
    # given TikTok answers the upload's init with 429, Retry-After 40 s
    sc = await scene(committed, Platform.TIKTOK)
    post = await scheduled_post(committed, sc)
    fakes.tiktok.state.faults.add("init", Fault.rate_limit(retry_after=40))
    await hand_over(arq_pool, post)

    # when the worker takes it
    before = clock.now()
    await run_until(_retry_planned(committed, post.id), 30, "the retry")

    # then nothing was posted; the post waits Retry-After (plus at most 1 s of jitter), one attempt counted
    assert fakes.tiktok.state.posts_created == 0
    later = await row(committed, Post, post.id)
    assert later.status == "scheduled" and later.publish_attempts == 1
    wait = (later.next_attempt_at - before).total_seconds()
    assert 40 <= wait <= 43
    assert later.publish_error == "TikTok is limiting how fast we can post; it will be tried again."
    assert later.publish_started_at is None
    # and the whole account cools down for as long (another post of it would wait too)
    assert 35_000 < await arq_pool.pttl(f"clipflow:publish:cooldown:{sc.account.id}") <= 40_000
    # and arq holds the retry, deferred to that time
    from clipflow_api.publishing.queue import publish_job_id

    job_id = publish_job_id(post.id, later.next_attempt_at, 1)
    assert await arq_pool.exists(f"arq:job:{job_id}") == 1


def _retry_planned(committed, post_id):
    async def check() -> bool:
        p = await row(committed, Post, post_id)
        return p.status == "scheduled" and p.publish_attempts == 1
    return check


async def test_an_expired_token_fails_the_post_and_asks_to_reconnect_the_account(committed, arq_pool, fakes) -> None:
    # given the Instagram token expired at the platform
    sc = await scene(committed, Platform.INSTAGRAM)
    post = await scheduled_post(committed, sc)
    fakes.instagram.state.expire(fakes_token := "IGQVJqueue-instagram-token")
    await hand_over(arq_pool, post)

    # when the worker takes the post
    await run_until(_done(committed, post.id, "failed", "published"), 30, "the post to fail")

    # then the post failed with the reason, the account needs reconnecting, and both are told
    failed = await row(committed, Post, post.id)
    account = await row(committed, SocialAccount, sc.account.id)
    reason = "Instagram no longer accepts this account's sign-in (it expired or was revoked); reconnect the Instagram account."
    assert (failed.status, failed.publish_error) == ("failed", reason)
    assert (account.status, account.last_error) == ("reconnect_required", reason)
    assert fakes.instagram.state.posts_created == 0 and fakes_token
    events = await _events(committed, post.id)
    assert [(e.type, e.payload["reason"], e.payload["code"]) for e in events] == [("post.failed", reason, "reconnect")]
    account_events = await sql(committed, "SELECT type FROM outbox_events WHERE payload->>'social_account_id' = :a "
                                          "AND type = 'social_account.reconnect_required'", a=str(sc.account.id))
    assert len(account_events) == 1
    assert [a for a, _ in await _audit(committed, post.id)] == ["post.failed"]


async def test_a_failed_post_retried_after_the_fix_is_published_once(committed, arq_pool, fakes) -> None:
    # given a YouTube post that failed on an expired token
    sc = await scene(committed, Platform.YOUTUBE)
    post = await scheduled_post(committed, sc)
    fakes.youtube.state.expire("ya29.queue-youtube-token")
    await hand_over(arq_pool, post)
    await run_until(_done(committed, post.id, "failed"), 30, "the post to fail")
    assert fakes.youtube.state.posts_created == 0

    # when the account is reconnected (a new token) and the post retried
    fakes.youtube.state.add_account("ya29.fresh-token", "UCqueuechannel00000000001")
    from clipflow_api.crypto import encrypt_token

    await sql(committed, "UPDATE social_accounts SET status = 'active', last_error = NULL, access_token = :t WHERE id = :a",
              t=encrypt_token("ya29.fresh-token", associated_data=f"social_account:{sc.account.id}:access"), a=sc.account.id)
    await sql(committed, "UPDATE posts SET status = 'scheduled', scheduled_at = now(), publish_error = NULL WHERE id = :p",
              p=post.id)
    await hand_over(arq_pool, await row(committed, Post, post.id))
    await run_until(_done(committed, post.id, "published", "failed"), 30, "the retry to publish")

    # then it is on YouTube once
    assert (await row(committed, Post, post.id)).status == "published"
    assert fakes.youtube.state.posts_created == 1


async def test_a_clip_deleted_before_publishing_fails_the_post_with_the_reason(committed, arq_pool, fakes) -> None:
    # given a scheduled post whose clip was deleted afterwards
    sc = await scene(committed, Platform.TIKTOK)
    post = await scheduled_post(committed, sc)
    await sql(committed, "UPDATE clips SET deleted_at = now() WHERE id = :c", c=sc.clip.id)
    await hand_over(arq_pool, post)

    # when the worker takes it
    await run_until(_done(committed, post.id, "failed", "published"), 30, "the post to fail")

    # then it failed with a sentence, nothing reached TikTok
    failed = await row(committed, Post, post.id)
    assert (failed.status, failed.publish_error) == ("failed", "The clip was deleted after this post was scheduled.")
    assert fakes.tiktok.state.posts_created == 0
    assert [e.type for e in await _events(committed, post.id)] == ["post.failed"]


async def test_a_clip_re_rendered_after_scheduling_fails_the_post(committed, arq_pool, fakes) -> None:
    # given a post scheduled (last changed) ten minutes ago, and its clip's file rendered again since
    sc = await scene(committed, Platform.YOUTUBE)
    post = await scheduled_post(committed, sc)
    await sql(committed, "UPDATE posts SET updated_at = now() - interval '10 minutes' WHERE id = :p", p=post.id)
    await hand_over(arq_pool, post)

    # when the worker takes it
    await run_until(_done(committed, post.id, "failed", "published"), 30, "the post to fail")

    # then it failed, saying so
    failed = await row(committed, Post, post.id)
    assert failed.publish_error == ("The clip was re-rendered after this post was scheduled; check the new version, "
                                    "then retry the post.")
    assert fakes.youtube.state.posts_created == 0


async def test_an_account_disconnected_after_scheduling_fails_the_post(committed, arq_pool, fakes) -> None:
    sc = await scene(committed, Platform.INSTAGRAM)
    post = await scheduled_post(committed, sc)
    await sql(committed, "UPDATE social_accounts SET status = 'disconnected', access_token = '' WHERE id = :a",
              a=sc.account.id)
    await hand_over(arq_pool, post)

    await run_until(_done(committed, post.id, "failed", "published"), 30, "the post to fail")

    failed = await row(committed, Post, post.id)
    assert failed.publish_error == ("The Instagram account was disconnected after this post was scheduled; "
                                    "connect it again, then retry the post.")
    assert fakes.instagram.state.posts_created == 0


async def test_a_rescheduled_or_cancelled_post_is_left_alone_by_its_old_job(committed, arq_pool, fakes) -> None:
    # given two posts handed to arq for now: one then moved an hour later, one cancelled
    sc = await scene(committed, Platform.TIKTOK)
    moved = await scheduled_post(committed, sc)
    cancelled = await scheduled_post(committed, sc)
    await hand_over(arq_pool, moved)
    await hand_over(arq_pool, cancelled)
    await sql(committed, "UPDATE posts SET scheduled_at = now() + interval '1 hour' WHERE id = :p", p=moved.id)
    await sql(committed, "UPDATE posts SET status = 'cancelled' WHERE id = :p", p=cancelled.id)

    # when the worker runs their jobs
    async def both_ran() -> bool:
        return all([await arq_pool.exists(f"arq:result:{k}") for k in await _job_ids(arq_pool)])

    await run_until(both_ran, 30, "the old jobs to run")

    # then neither went out, and the moved one is still scheduled for later
    assert fakes.tiktok.state.posts_created == 0
    assert (await row(committed, Post, moved.id)).status == "scheduled"
    assert (await row(committed, Post, cancelled.id)).status == "cancelled"


async def _job_ids(arq_pool) -> list[str]:
    keys = await arq_pool.keys("arq:job:publish_post:*") + await arq_pool.keys("arq:result:publish_post:*")
    return sorted({k.decode().split(":", 2)[2] for k in keys})


async def test_the_instagram_quota_defers_the_post_with_a_reason(committed, arq_pool, fakes) -> None:
    # given an Instagram account whose 24 h API quota (2 here) is used up
    sc = await scene(committed, Platform.INSTAGRAM)
    fakes.instagram.state.quota_total = 2
    for _ in range(2):
        p = await scheduled_post(committed, sc)
        await hand_over(arq_pool, p)
    await run_until(lambda: _count(committed, sc.account.id, "published", 2), 30, "two posts")
    post = await scheduled_post(committed, sc)
    await hand_over(arq_pool, post)

    # when the worker takes the third
    async def deferred() -> bool:
        return (await row(committed, Post, post.id)).publish_error is not None

    await run_until(deferred, 30, "the third post to be deferred")

    # then it waits, scheduled, with a reason, no attempt counted; Instagram still has two
    later = await row(committed, Post, post.id)
    assert (later.status, later.publish_attempts) == ("scheduled", 0)
    assert later.publish_error.startswith("This Instagram account has used its 2 API posts for the last 24 hours; "
                                          "it will be posted when a place frees up")
    assert later.next_attempt_at > clock.now() + timedelta(hours=23)
    assert fakes.instagram.state.posts_created == 2


async def _count(committed, account_id, status, n) -> bool:
    rows = await sql(committed, "SELECT count(*) AS n FROM posts WHERE social_account_id = :a AND status = :s",
                     a=account_id, s=status)
    return rows[0].n == n

