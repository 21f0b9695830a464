"""The worker-side steps of publishing (publishing.delivery) and the limits (publishing.limits),
each in a rolled-back transaction as the app role: claim, failure, reconciliation, quotas,
the per-platform slots and the per-account rate."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from clipflow_api import clock
from clipflow_api.models import Post, SocialAccount
from clipflow_api.models.enums import Platform
from clipflow_api.publishing import delivery, limits
from clipflow_api.workspaces import service as workspaces
from tests.fixtures import builders

NOW = clock.now()


@dataclass(frozen=True)
class Media:
    id: str
    caption: str
    created_at: datetime
    duration_s: float | None = 30.0
    url: str | None = None


@dataclass(frozen=True)
class Failed:
    message: str
    retry_after: float | None = None
    ref: str | None = None


async def _post(app_db, platform: str = "tiktok", **kw):
    owner = await builders.user(app_db)
    ws = await workspaces.create_workspace(app_db, owner_id=owner.id, name="Queue")
    await builders.use_tenant(app_db, ws.id, owner.id)
    video = await builders.video(app_db, ws)
    clip = await builders.clip(app_db, video, start=0, end=30)
    account = SocialAccount(workspace_id=ws.id, platform=platform, platform_user_id=uuid.uuid4().hex,
                            access_token="v1:enc", status=kw.pop("account_status", "active"))
    app_db.add(account)
    await app_db.flush()
    post = await builders.post(app_db, account, clip, created_by=ws.owner_id, caption="Hello world",
                               hashtags=["clips"], status=kw.pop("status", "scheduled"),
                               scheduled_at=kw.pop("scheduled_at", NOW - timedelta(seconds=1)), **kw)
    return ws, account, post


async def _reload(app_db, post: Post) -> Post:
    return (await app_db.execute(select(Post).where(Post.id == post.id).execution_options(populate_existing=True))).scalar_one()


async def test_claim_takes_a_due_post_and_composes_its_caption(app_db) -> None:
    ws, _, post = await _post(app_db)
    work = await delivery.claim(app_db, ws.id, post.id, stale_s=60, now=NOW)
    assert work is not None and work.action == "publish"
    assert (work.caption, work.platform, work.duration_s, work.media_key) == ("Hello world\n\n#clips", Platform.TIKTOK,
                                                                              30.0, "x.mp4")
    assert (await _reload(app_db, post)).status == "publishing"


async def test_claim_leaves_a_post_that_is_not_due_or_no_longer_scheduled(app_db) -> None:
    ws, _, later = await _post(app_db, scheduled_at=NOW + timedelta(minutes=5))
    assert await delivery.claim(app_db, ws.id, later.id, stale_s=60, now=NOW) is None
    assert (await _reload(app_db, later)).status == "scheduled"
    ws2, _, cancelled = await _post(app_db, status="cancelled")
    assert await delivery.claim(app_db, ws2.id, cancelled.id, stale_s=60, now=NOW) is None
    assert (await _reload(app_db, cancelled)).status == "cancelled"


async def test_claim_leaves_a_live_worker_s_post_and_reconciles_a_dead_one_s(app_db) -> None:
    ws, _, post = await _post(app_db, status="publishing", publish_started_at=NOW - timedelta(minutes=2))
    beat = (await _reload(app_db, post)).updated_at  # its last heartbeat
    # a heartbeat within stale_s: a live worker holds it
    assert await delivery.claim(app_db, ws.id, post.id, stale_s=60, now=beat + timedelta(seconds=59)) is None
    # no heartbeat for longer than stale_s: the creating call may have happened -> reconcile
    work = await delivery.claim(app_db, ws.id, post.id, stale_s=60, now=beat + timedelta(minutes=5))
    assert work is not None and work.action == "reconcile"
    assert (await _reload(app_db, post)).status == "unconfirmed"


async def test_claim_of_a_dead_worker_s_post_before_the_creating_call_publishes_it(app_db) -> None:
    ws, _, post = await _post(app_db, status="publishing")
    work = await delivery.claim(app_db, ws.id, post.id, stale_s=60, now=(await _reload(app_db, post)).updated_at + timedelta(minutes=5))
    assert work is not None and work.action == "publish"


async def test_a_disconnected_account_fails_the_claimed_post_with_a_reason(app_db, owner_sql) -> None:
    ws, _, post = await _post(app_db, "youtube", account_status="disconnected")
    assert await delivery.claim(app_db, ws.id, post.id, stale_s=60, now=NOW) is None
    failed = await _reload(app_db, post)
    assert (failed.status, failed.publish_error) == (
        "failed", "The YouTube account was disconnected after this post was scheduled; connect it again, then retry the post.")
    events = await owner_sql("SELECT type FROM outbox_events WHERE payload->>'post_id' = :p", p=str(post.id))
    assert [e.type for e in events] == ["post.failed"]


async def test_retryable_failures_retry_with_backoff_until_the_last_attempt_fails(app_db) -> None:
    ws, _, post = await _post(app_db)
    for attempt in range(1, 3):
        work = await delivery.claim(app_db, ws.id, post.id, stale_s=60, now=NOW + timedelta(hours=attempt * 2))
        assert work is not None
        status = await delivery.record_failure(app_db, work, "retryable", Failed("TikTok had a temporary problem."),
                                               max_attempts=3, now=NOW)
        retried = await _reload(app_db, post)
        assert (status, retried.status, retried.publish_attempts) == ("scheduled", "scheduled", attempt)
        assert NOW + timedelta(seconds=5) <= retried.next_attempt_at <= NOW + timedelta(seconds=30 * 4 ** (attempt - 1))
    work = await delivery.claim(app_db, ws.id, post.id, stale_s=60, now=NOW + timedelta(hours=9))
    assert work is not None
    assert await delivery.record_failure(app_db, work, "retryable", Failed("TikTok had a temporary problem."),
                                         max_attempts=3) == "failed"
    failed = await _reload(app_db, post)
    assert failed.publish_error == ("TikTok had a temporary problem. We tried 3 times and gave up; retry the post to "
                                    "try again.")


async def test_retry_after_sets_the_next_attempt(app_db) -> None:
    ws, _, post = await _post(app_db)
    work = await delivery.claim(app_db, ws.id, post.id, stale_s=60, now=NOW)
    assert work is not None
    await delivery.record_failure(app_db, work, "retryable", Failed("Slow down.", retry_after=120), max_attempts=5, now=NOW)
    later = await _reload(app_db, post)
    assert NOW + timedelta(seconds=120) <= later.next_attempt_at <= NOW + timedelta(seconds=121)


async def _unconfirmed(app_db):
    ws, account, post = await _post(app_db, status="unconfirmed", publish_started_at=NOW - timedelta(seconds=30),
                                    publish_ref="container-1")
    work = await delivery.claim(app_db, ws.id, post.id, stale_s=60, now=NOW)
    assert work is not None and work.action == "reconcile"
    return ws, account, post, work


async def test_reconcile_finds_the_post_by_caption_and_duration(app_db) -> None:
    _, _, post, work = await _unconfirmed(app_db)
    recent = [Media("other", "Something else", NOW - timedelta(seconds=10)),
              Media("too-short", "hello world #clips", NOW - timedelta(seconds=10), duration_s=12.0),
              Media("ours", "Hello  World\n#Clips", NOW - timedelta(seconds=20), url="https://x/ours")]
    assert await delivery.reconcile(app_db, work, recent, listed=25, now=NOW) == "published"
    done = await _reload(app_db, post)
    assert (done.status, done.platform_post_id, done.platform_url) == ("published", "ours", "https://x/ours")


async def test_reconcile_publishes_again_only_when_the_listing_proves_the_post_absent(app_db) -> None:
    _, _, post, work = await _unconfirmed(app_db)
    # a full page of newer media says nothing about the window: cannot tell
    newer = [Media(str(i), f"post {i}", NOW - timedelta(seconds=1)) for i in range(25)]
    assert await delivery.reconcile(app_db, work, newer, listed=25, now=NOW) == "unconfirmed"
    assert (await _reload(app_db, post)).status == "unconfirmed"
    # a listing that failed: cannot tell either
    assert await delivery.reconcile(app_db, work, None, listed=25, reason_unknown="Instagram had a temporary problem.",
                                    now=NOW) == "unconfirmed"
    waiting = await _reload(app_db, post)
    assert waiting.publish_error == ("Instagram had a temporary problem. We could not yet confirm whether the post went "
                                     "out; we will check again.")
    assert waiting.next_attempt_at > NOW
    # a short listing without it: absent -> scheduled again, a new attempt, the upload handle kept
    assert await delivery.reconcile(app_db, work, [Media("old", "Hello world #clips", NOW - timedelta(days=2))],
                                    listed=25, now=NOW) == "scheduled"
    again = await _reload(app_db, post)
    assert (again.status, again.publish_attempts, again.publish_ref, again.publish_started_at) == (
        "scheduled", 1, "container-1", None)


async def test_reconcile_never_takes_media_another_post_already_holds(app_db) -> None:
    ws, account, _, work = await _unconfirmed(app_db)
    await builders.post(app_db, account, None, created_by=ws.owner_id, caption="Hello world", hashtags=["clips"],
                        status="published", platform_post_id="taken")
    recent = [Media("taken", "Hello world #clips", NOW - timedelta(seconds=5))]
    assert await delivery.reconcile(app_db, work, recent, listed=25, now=NOW) == "scheduled"


async def test_the_daily_cap_defers_with_a_reason(app_db) -> None:
    ws, account, post = await _post(app_db)
    for i in range(3):
        await builders.post(app_db, account, None, created_by=ws.owner_id, status="published",
                            published_at=NOW - timedelta(hours=20 - i))
    caps = {Platform.TIKTOK: 3}
    deferral = await limits.publish_quota(app_db, ws.id, account.id, "tiktok", post.id, now=NOW, caps=caps)
    assert deferral is not None
    assert deferral.reason == ("This TikTok account has reached its limit of 3 posts in 24 hours; it will be posted "
                               "when a place frees up (in about 4 hours).")
    assert deferral.wait_s == pytest.approx(4 * 3600, abs=1)
    assert await limits.publish_quota(app_db, ws.id, account.id, "tiktok", post.id, now=NOW, caps={}) is None


async def test_platform_slots_are_bounded_and_freed(redis) -> None:
    slots = limits.PlatformSlots(redis, {Platform.YOUTUBE: 2})
    assert [await slots.acquire("youtube", h) for h in ("a", "b", "c")] == [True, True, False]
    assert await slots.acquire("youtube", "a")  # a holder renews its own slot
    await slots.release("youtube", "a")
    assert await slots.acquire("youtube", "c")
    assert await slots.in_use("youtube") == 2


async def test_a_dead_holder_s_slot_expires(redis) -> None:
    slots = limits.PlatformSlots(redis, {Platform.TIKTOK: 1}, lease_s=0.05)
    assert await slots.acquire("tiktok", "dead")
    import asyncio

    await asyncio.sleep(0.1)
    assert await slots.acquire("tiktok", "alive")


async def test_the_account_rate_and_a_429_cool_down(redis) -> None:
    account = uuid.uuid4()
    rates = {Platform.TIKTOK: limits.Rate(2, 60)}
    assert await limits.take_account_turn(redis, account, "tiktok", "p1", rates=rates) is None
    assert await limits.take_account_turn(redis, account, "tiktok", "p2", rates=rates) is None
    third = await limits.take_account_turn(redis, account, "tiktok", "p3", rates=rates)
    assert third is not None and 59 <= third.wait_s <= 60
    assert third.reason == "This TikTok account is publishing several posts at once; this one follows in 60 seconds."
    other = uuid.uuid4()
    await limits.cool_down(redis, other, 30)
    cooled = await limits.take_account_turn(redis, other, "tiktok", "p1", rates=rates)
    assert cooled is not None and 29 <= cooled.wait_s <= 30
    assert cooled.reason == "TikTok asked us to slow down for this account; it will be posted in 30 seconds."


def test_compose_caption_adds_missing_hashtags_and_mentions_once() -> None:
    assert delivery.compose_caption("Big news #launch", ["launch", "#ai"], ["clipflow"]) == "Big news #launch\n\n#ai @clipflow"
    assert delivery.compose_caption(None, ["a"], None) == "#a"
    assert delivery.compose_caption("plain", None, None) == "plain"
