"""arq entry points of the publish queue: ``publish_post`` and the ``sweep_posts`` cron.

``publish_post`` is thin: claim the post (``publishing.delivery``), take its account's token,
check our limits, record that the platform is about to be asked (committed first), stream
the file to the platform's publisher, and record the outcome. Each step is its own short
transaction; a heartbeat keeps the claimed post's ``updated_at`` fresh, so only a dead
worker's post ever looks stale to the sweeper.

Progress goes out on Redis (``publishing.progress``: channel ``clipflow:progress:post:<id>``,
events ``{postId, workspaceId, status, uploadProgress, message, error, at}``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from arq.jobs import Job, JobStatus
from sqlalchemy.ext.asyncio import AsyncSession

from clipflow_api import clock
from clipflow_api.db import tenant_session
from clipflow_api.errors import DomainError
from clipflow_api.jobs.service import PUBLISH_POST, PUBLISH_QUEUE, commit_and_enqueue
from clipflow_api.models.enums import Platform, PostStatus
from clipflow_api.publishing import accounts, accounts_repository, delivery, limits
from clipflow_api.publishing.oauth import PlatformUnavailable, ReconnectRequired
from clipflow_api.publishing.progress import publish_post_progress
from clipflow_api.publishing.queue import enqueue_publish, publish_job_id
from clipflow_api.storage import LocalStorage
from clipflow_worker.publishers import (
    PUBLISHERS,
    ErrorKind,
    InstagramOptions,
    InstagramPublisher,
    MediaSource,
    Progress,
    Publisher,
    PublishError,
    PublishRequest,
    TikTokOptions,
    YouTubeOptions,
    publisher_for,
)

from .context import shutdown, startup

log = logging.getLogger(__name__)

# A job that finds every slot of its platform taken waits this long before deferring.
SLOT_WAIT_S = 3.0
# How many recent media reconciliation lists.
RECENT_LIMIT = 25
# A file changed this long after the post's last change counts as re-rendered.
RERENDER_TOLERANCE_S = 30.0
# Instagram fetches the file from this signed URL while it processes the Reel.
SIGNED_URL_TTL_S = 6 * 3600
# A scheduled post this overdue whose job arq already ran (or lost) gets a rescue job.
OVERDUE_S = 20.0

GONE = ("The video file of this post is gone (the clip was re-rendered or deleted); choose the clip again, "
        "then retry the post.")
RERENDERED = "The clip was re-rendered after this post was scheduled; check the new version, then retry the post."
UNEXPECTED = "Publishing stopped unexpectedly"


# --- worker lifecycle ---------------------------------------------------------------------------------


async def publish_startup(ctx: dict[str, Any]) -> None:
    """The shared clients, plus one publisher per platform (their HTTP connections are reused)."""
    await startup(ctx)
    ctx.setdefault("publishers", {})
    ctx["slots"] = limits.PlatformSlots(ctx["redis"], ctx.get("platform_concurrency"))


async def publish_shutdown(ctx: dict[str, Any]) -> None:
    for publisher in ctx.get("publishers", {}).values():
        with contextlib.suppress(Exception):
            await publisher.aclose()
    await shutdown(ctx)


def _publisher(ctx: dict[str, Any], platform: Platform) -> Publisher:
    """The worker's publisher for ``platform`` (``ctx["publisher_options"]`` tunes it: tests, bench)."""
    cache: dict[Platform, Publisher] = ctx.setdefault("publishers", {})
    if platform not in cache:
        options = (ctx.get("publisher_options") or {}).get(platform)
        cache[platform] = PUBLISHERS[platform](**options) if options else publisher_for(platform)
    return cache[platform]


def _session(ctx: dict[str, Any], workspace_id: uuid.UUID) -> Any:
    return tenant_session(ctx["session_factory"], workspace_id=workspace_id)


def _settings(ctx: dict[str, Any]) -> Any:
    return ctx["settings"]


# --- publish_post -------------------------------------------------------------------------------------


async def publish_post(ctx: dict[str, Any], post_id: str, workspace_id: str) -> dict[str, Any]:
    """Publish one post (or reconcile it when an earlier attempt may have posted it)."""
    ws, pid = uuid.UUID(workspace_id), uuid.UUID(post_id)
    ready: _Ready | None = None
    async with _session(ctx, ws) as s:
        work = await delivery.claim(s, ws, pid, stale_s=_settings(ctx).publish_stale_s)
        state = (await delivery.post_state(s, ws, pid)) if work is None else None
        if work is not None and work.action == "publish":
            ready = await _prepare(ctx, s, work)  # in the claim's transaction: one commit, not three
        await commit_and_enqueue(s, ctx["redis"])
    if work is None:
        status, error = state or (None, None)
        if status == PostStatus.FAILED:  # failed by the claim itself (account or clip gone)
            await _tell(ctx, ws, pid, PostStatus.FAILED, error=error)
        return {"skipped": True, "status": status}
    if work.action == "reconcile":
        return await _reconcile(ctx, work)
    assert ready is not None
    if ready.token is None:
        await _tell(ctx, ws, pid, ready.status or PostStatus.FAILED, message=ready.message,
                    error=ready.message if ready.status == PostStatus.FAILED else None)
        return {str(ready.status): ready.message}
    return await _publish(ctx, work, ready.token)


@dataclass(frozen=True)
class _Ready:
    """The claimed post's token, or what became of the post instead (failed, retried, deferred)."""

    token: str | None
    status: PostStatus | None = None
    message: str | None = None


async def _prepare(ctx: dict[str, Any], s: AsyncSession, work: delivery.Work) -> _Ready:
    """Within the claim's transaction: the account's token (refreshed when due) and its daily cap."""
    account = await accounts_repository.get_account(s, work.workspace_id, work.account_id)
    problem: str | None = None
    retry: PlatformUnavailable | None = None
    token: str | None = None
    try:
        if account is None:
            problem = "The social account this post was for no longer exists."
        else:
            token = await accounts.access_token(s, account)
    except ReconnectRequired as exc:
        problem = _reconnect_sentence(work, exc.message)
    except PlatformUnavailable as exc:
        retry = exc
    except DomainError as exc:
        problem = exc.message
    if problem is not None:
        await delivery.fail(s, work, problem, code="reconnect")
        return _Ready(None, PostStatus.FAILED, problem)
    if retry is not None:
        status = await delivery.record_failure(s, work, "retryable", _Failure(retry.message, retry.retry_after),
                                               max_attempts=_settings(ctx).publish_max_attempts)
        return _Ready(None, status, retry.message)
    # Instagram's cap is the API's own count (read in _limits, once the token is known to work).
    if work.platform is not Platform.INSTAGRAM:
        deferral = await limits.publish_quota(s, work.workspace_id, work.account_id, work.platform, work.post_id)
        if deferral is not None:
            await delivery.defer(s, work, deferral.wait_s, deferral.reason)
            return _Ready(None, PostStatus.SCHEDULED, deferral.reason)
    return _Ready(token)


@dataclass
class _Live:
    """What the heartbeat writes and the progress events say, updated by the publisher's callbacks."""

    percent: int = 0
    told_percent: int = -1
    told_at: float = 0.0
    slot: bool = False
    holder: str = ""
    creating: bool = False  # between mark_creating and the platform's answer: a lost claim stops the call


async def _publish(ctx: dict[str, Any], work: delivery.Work, token: str) -> dict[str, Any]:
    holder = f"{work.post_id}:{work.attempts}:{uuid.uuid4().hex[:8]}"
    live = _Live(holder=holder)
    await _tell(ctx, work.workspace_id, work.post_id, PostStatus.PUBLISHING, message="Getting ready to publish")
    beat = _Heartbeat(ctx, work, live, asyncio.current_task())
    beat.start()
    platform = work.platform
    try:
        publisher = _publisher(ctx, platform)
        deferral = await _limits(ctx, work, publisher, token, holder)
        if deferral is None:
            live.slot = await _take_slot(ctx, platform, holder)
            if not live.slot:
                deferral = limits.Deferral(random.uniform(1.0, 3.0), f"Many posts are going out to "
                                           f"{limits.platform_name(platform)} right now; this one follows in a moment.")
        if deferral is not None:
            await _defer(ctx, work, deferral)
            return {"deferred": deferral.wait_s}
        async with _media(ctx, work) as media:
            if isinstance(media, str):
                await _fail(ctx, work, media, code="media")
                return {"failed": media}
            return await _create(ctx, work, publisher, token, media, live)
    finally:
        await beat.stop()
        if live.slot:
            with contextlib.suppress(Exception):
                await ctx["slots"].release(platform, holder)


async def _create(ctx: dict[str, Any], work: delivery.Work, publisher: Publisher, token: str, media: MediaSource,
                  live: _Live) -> dict[str, Any]:
    """Record the creating call, make it, record what came of it."""
    request = _request(ctx, work, token, media, live)
    async with _session(ctx, work.workspace_id) as s:
        mine = await delivery.mark_creating(s, work)
        await s.commit()
    if not mine:
        return {"skipped": True}
    await _tell(ctx, work.workspace_id, work.post_id, PostStatus.PUBLISHING, message="Uploading")
    live.creating = True
    try:
        try:
            result = await publisher.publish(request)
        except PublishError as exc:
            if not (exc.kind is ErrorKind.RETRYABLE and not exc.may_have_posted and request.resume_ref and exc.ref is None):
                raise
            # The earlier attempt's upload cannot be continued (and posted nothing): start afresh now.
            request.resume_ref = None
            await _save_ref(ctx, work, None)
            result = await publisher.publish(request)
        finally:
            live.creating = False
    except PublishError as exc:
        return await _publish_failed(ctx, work, exc)
    except asyncio.CancelledError:
        # arq's timeout or a lost claim: the post stays `publishing`; with no heartbeat it turns
        # stale and the sweeper reconciles it. Nothing is written from a cancelled task.
        raise
    except Exception:
        log.exception("publishing post %s failed unexpectedly after the creating call was recorded", work.post_id)
        async with _session(ctx, work.workspace_id) as s:
            await delivery.mark_unconfirmed(s, work, f"{UNEXPECTED}.", ref=None)
            await commit_and_enqueue(s, ctx["redis"])
        await _tell(ctx, work.workspace_id, work.post_id, PostStatus.UNCONFIRMED, message=UNEXPECTED)
        return {"unconfirmed": UNEXPECTED}
    async with _session(ctx, work.workspace_id) as s:
        await delivery.record_published(s, work, result.platform_post_id, result.url, warnings=result.warnings)
        await commit_and_enqueue(s, ctx["redis"])
    await _tell(ctx, work.workspace_id, work.post_id, PostStatus.PUBLISHED, percent=100, message="Published")
    return {"published": result.platform_post_id, "url": result.url}


async def _publish_failed(ctx: dict[str, Any], work: delivery.Work, exc: PublishError) -> dict[str, Any]:
    if exc.kind is ErrorKind.RETRYABLE and exc.retry_after:
        await limits.cool_down(ctx["redis"], work.account_id, exc.retry_after)
    async with _session(ctx, work.workspace_id) as s:
        if exc.may_have_posted:
            reconnect = exc.message if exc.kind is ErrorKind.RECONNECT else None
            await delivery.mark_unconfirmed(s, work, exc.message, ref=exc.ref, reconnect=reconnect)
            status: PostStatus | None = PostStatus.UNCONFIRMED
        else:
            status = await delivery.record_failure(s, work, exc.kind.value, exc,
                                                   max_attempts=_settings(ctx).publish_max_attempts)
        await commit_and_enqueue(s, ctx["redis"])
    if status is not None:
        await _tell(ctx, work.workspace_id, work.post_id, status, message=exc.message,
                    error=exc.message if status == PostStatus.FAILED else None)
    return {str(status or "skipped"): exc.message}


def _request(ctx: dict[str, Any], work: delivery.Work, token: str, media: MediaSource, live: _Live) -> PublishRequest:
    async def on_ref(ref: str) -> None:
        await _save_ref(ctx, work, ref)

    async def on_progress(progress: Progress) -> None:
        percent = int(progress.percent) if progress.stage == "upload" else 100
        live.percent = max(live.percent, min(percent, 100))
        now = time.monotonic()
        if live.percent != live.told_percent and (now - live.told_at >= 0.25 or live.percent == 100):
            live.told_percent, live.told_at = live.percent, now
            message = {"upload": "Uploading", "processing": "The platform is processing the video"}.get(
                progress.stage, "Publishing")
            await _tell(ctx, work.workspace_id, work.post_id, PostStatus.PUBLISHING, percent=live.percent,
                        message=message)

    storage = ctx["storage"]
    video_url = storage.signed_url(work.media_key, expires_in=SIGNED_URL_TTL_S) \
        if work.platform is Platform.INSTAGRAM and work.media_key else None
    return PublishRequest(
        access_token=token, media=media, caption=work.caption, title=work.title,
        account_id=_account_id(work), video_url=video_url, duration_s=work.duration_s,
        options=_options(ctx, work), on_progress=on_progress, on_ref=on_ref, resume_ref=work.publish_ref,
    )


def _account_id(work: delivery.Work) -> str:
    data = work.platform_data
    return str(data.get("ig_user_id") or data.get("instagram_user_id") or work.platform_user_id)


def _opt(options: dict[str, Any], *names: str, default: Any = None) -> Any:
    for name in names:
        if options.get(name) is not None:
            return options[name]
    return default


def _options(ctx: dict[str, Any], work: delivery.Work) -> YouTubeOptions | TikTokOptions | InstagramOptions | None:
    """The post's per-platform options (snake_case or camelCase keys) as the publisher's."""
    o = work.options
    if work.platform is Platform.YOUTUBE:
        thumbnail = None
        if work.thumbnail_key and isinstance(ctx["storage"], LocalStorage) and ctx["storage"].exists(work.thumbnail_key):
            thumbnail = MediaSource.from_path(ctx["storage"].path(work.thumbnail_key),
                                              content_type="image/png" if work.thumbnail_key.endswith(".png")
                                              else "image/jpeg")
        tags = _opt(o, "tags", default=())
        return YouTubeOptions(
            privacy_status=str(_opt(o, "privacy_status", "privacyStatus", "privacy", default="private")).lower(),
            category_id=str(_opt(o, "category_id", "categoryId", "category", default="22")),
            made_for_kids=bool(_opt(o, "made_for_kids", "madeForKids", default=False)),
            tags=tuple(str(t) for t in tags) if isinstance(tags, list | tuple) else (),
            thumbnail=thumbnail)
    if work.platform is Platform.TIKTOK:
        cover = _opt(o, "cover_timestamp_ms", "coverTimestampMs")
        return TikTokOptions(
            privacy_level=_opt(o, "privacy_level", "privacyLevel"),
            disable_duet=bool(_opt(o, "disable_duet", "disableDuet", default=False)),
            disable_comment=bool(_opt(o, "disable_comment", "disableComment", default=False)),
            disable_stitch=bool(_opt(o, "disable_stitch", "disableStitch", default=False)),
            cover_timestamp_ms=int(cover) if cover is not None else None)
    if work.platform is Platform.INSTAGRAM:
        thumb = _opt(o, "thumb_offset_ms", "thumbOffsetMs", "cover_frame_offset_ms", "coverFrameOffsetMs")
        return InstagramOptions(
            share_to_feed=bool(_opt(o, "share_to_feed", "shareToFeed", default=True)),
            thumb_offset_ms=int(thumb) if thumb is not None else None,
            first_comment=_opt(o, "first_comment", "firstComment"))
    return None


@contextlib.asynccontextmanager
async def _media(ctx: dict[str, Any], work: delivery.Work) -> AsyncIterator[MediaSource | str]:
    """The post's file as a MediaSource read from disk in bounded pieces, or why it cannot be used.

    Local storage: the file itself. S3: a temporary download on disk (never in memory), made
    off the event loop like every storage call here."""
    storage = ctx["storage"]
    key = work.media_key
    if not key or not await asyncio.to_thread(storage.exists, key):
        yield GONE
        return
    if isinstance(storage, LocalStorage):
        path = storage.path(key)
        mtime = (await asyncio.to_thread(path.stat)).st_mtime
        changed = datetime.fromtimestamp(mtime, tz=work.last_changed_at.tzinfo)
        if changed > work.last_changed_at + timedelta(seconds=RERENDER_TOLERANCE_S):
            yield RERENDERED
            return
        yield MediaSource.from_path(path)
        return
    copy: AbstractContextManager[Path] = storage.local_copy(key)
    path = await asyncio.to_thread(copy.__enter__)
    try:
        yield MediaSource.from_path(path)
    finally:
        await asyncio.to_thread(copy.__exit__, None, None, None)


def _reconnect_sentence(work: delivery.Work, reason: str) -> str:
    name = limits.platform_name(work.platform)
    return f"The {name} account needs to be reconnected: {reason.rstrip('.')}. Reconnect it, then retry the post."


@dataclass(frozen=True)
class _Failure:
    message: str
    retry_after: float | None = None
    ref: str | None = None


async def _limits(ctx: dict[str, Any], work: delivery.Work, publisher: Publisher, token: str,
                  holder: str) -> limits.Deferral | None:
    """Instagram's publishing quota (as its API reports it) and the account's rate, checked at publish time."""
    if isinstance(publisher, InstagramPublisher):
        reported = None
        try:
            reported = await publisher.publishing_limit(token, _account_id(work))
        except PublishError as exc:
            log.info("Instagram publishing limit unreadable for post %s: %s", work.post_id, exc.message)
        async with _session(ctx, work.workspace_id) as s:
            deferral = await limits.publish_quota(s, work.workspace_id, work.account_id, work.platform, work.post_id,
                                                  reported=reported)
            await s.commit()
        if deferral is not None:
            return deferral
    return await limits.take_account_turn(ctx["redis"], work.account_id, work.platform, holder,
                                         rates=ctx.get("account_rates"))


async def _take_slot(ctx: dict[str, Any], platform: Platform, holder: str) -> bool:
    slots: limits.PlatformSlots = ctx["slots"]
    deadline = time.monotonic() + SLOT_WAIT_S
    delay = 0.02
    while True:
        if await slots.acquire(platform, holder):
            return True
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(delay)
        delay = min(delay * 1.5, 0.2)


async def _defer(ctx: dict[str, Any], work: delivery.Work, deferral: limits.Deferral) -> None:
    async with _session(ctx, work.workspace_id) as s:
        await delivery.defer(s, work, deferral.wait_s, deferral.reason)
        await commit_and_enqueue(s, ctx["redis"])
    await _tell(ctx, work.workspace_id, work.post_id, PostStatus.SCHEDULED, message=deferral.reason)


async def _fail(ctx: dict[str, Any], work: delivery.Work, message: str, *, code: str) -> None:
    async with _session(ctx, work.workspace_id) as s:
        await delivery.fail(s, work, message, code=code)
        await commit_and_enqueue(s, ctx["redis"])
    await _tell(ctx, work.workspace_id, work.post_id, PostStatus.FAILED, error=message)


async def _save_ref(ctx: dict[str, Any], work: delivery.Work, ref: str | None) -> None:
    async with _session(ctx, work.workspace_id) as s:
        await delivery.save_ref(s, work, ref)
        await s.commit()


class _Heartbeat:
    """Keeps the claimed post's ``updated_at`` (and upload_progress) fresh while the job runs.

    When the post is no longer ours (someone reconciled it as stale) the job is cancelled,
    so a worker that lost its claim never goes on to post."""

    def __init__(self, ctx: dict[str, Any], work: delivery.Work, live: _Live, main: asyncio.Task[Any] | None) -> None:
        stale_s = float(_settings(ctx).publish_stale_s)
        self.ctx, self.work, self.live, self.main = ctx, work, live, main
        self.period = min(max(stale_s / 4, 0.2), 10.0)
        self.task: asyncio.Task[None] | None = None
        self.lost = False

    def start(self) -> None:
        self.task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.period)
            try:
                async with _session(self.ctx, self.work.workspace_id) as s:
                    ours = await delivery.heartbeat(s, self.work, self.live.percent)
                    await s.commit()
                if self.live.slot:
                    await self.ctx["slots"].renew(self.work.platform, self.live.holder)
            except Exception:  # a missed beat is not fatal; the next one may work
                log.warning("heartbeat of post %s failed", self.work.post_id, exc_info=True)
                continue
            if ours:
                continue
            if not self.live.creating:
                return  # our own outcome (or a deferral) was recorded: nothing left to guard
            state = await _state(self.ctx, self.work.workspace_id, self.work.post_id)
            if state is not None and state[0] == PostStatus.PUBLISHING.value:
                continue
            self.lost = True
            log.error("post %s is no longer this worker's (now %s); stopping its publish", self.work.post_id,
                      state and state[0])
            if self.main is not None:
                self.main.cancel()
            return


async def _state(ctx: dict[str, Any], workspace_id: uuid.UUID, post_id: uuid.UUID) -> tuple[str, str | None] | None:
    async with _session(ctx, workspace_id) as s:
        state = await delivery.post_state(s, workspace_id, post_id)
        await s.commit()
        return state


async def _tell(ctx: dict[str, Any], workspace_id: uuid.UUID, post_id: uuid.UUID, status: PostStatus | str, *,
                percent: int = 0, message: str | None = None, error: str | None = None) -> None:
    try:
        await publish_post_progress(ctx["pubsub_redis"], post_id=post_id, workspace_id=workspace_id, status=status,
                                    upload_progress=percent, message=message, error=error)
    except Exception:  # progress is best effort; the post row is the record
        log.warning("could not publish progress of post %s", post_id, exc_info=True)


# --- reconciliation ------------------------------------------------------------------------------------


async def _reconcile(ctx: dict[str, Any], work: delivery.Work) -> dict[str, Any]:
    """Look for the post on the platform before anything is sent again."""
    recent = None
    reason: str | None = None
    token: str | None = None
    async with _session(ctx, work.workspace_id) as s:
        account = await accounts_repository.get_account(s, work.workspace_id, work.account_id)
        try:
            token = await accounts.access_token(s, account) if account is not None else None
        except DomainError as exc:
            reason = _reconnect_sentence(work, exc.message) if isinstance(exc, ReconnectRequired) else exc.message
        await s.commit()
    if token is not None:
        try:
            recent = await _publisher(ctx, work.platform).find_recent(token, account_id=_account_id(work),
                                                                      limit=RECENT_LIMIT)
        except PublishError as exc:
            reason = exc.message
            if exc.kind is ErrorKind.RECONNECT:
                async with _session(ctx, work.workspace_id) as s:
                    account = await accounts_repository.get_account(s, work.workspace_id, work.account_id, lock=True)
                    if account is not None:
                        await accounts.mark_reconnect_required(s, account, exc.message)
                    await s.commit()
    async with _session(ctx, work.workspace_id) as s:
        status = await delivery.reconcile(s, work, recent, listed=RECENT_LIMIT, reason_unknown=reason)
        await commit_and_enqueue(s, ctx["redis"])
    if status is not None:
        await _tell(ctx, work.workspace_id, work.post_id, status,
                    percent=100 if status == PostStatus.PUBLISHED else 0,
                    message={PostStatus.PUBLISHED: "Found on the platform: published",
                             PostStatus.SCHEDULED: "Not on the platform: publishing again"}.get(status, reason))
    return {"reconciled": str(status)}


# --- the sweeper ---------------------------------------------------------------------------------------


async def sweep_posts(ctx: dict[str, Any]) -> int:
    """Hand arq every due post whose job is missing; reconcile posts whose worker died.

    The database is the truth: scheduled posts due within the horizon are enqueued under
    their own job id (a no-op while arq holds it, so a flushed Redis is refilled); one whose
    job already ran yet is still scheduled and overdue gets a rescue job; a post left
    ``publishing`` without a heartbeat gets a job that reconciles it.
    """
    settings = _settings(ctx)
    async with ctx["session_factory"]() as s:
        due = await delivery.due_posts(s, horizon_s=settings.publish_sweep_horizon_s,
                                       stale_s=settings.publish_stale_s, limit=500)
        await s.commit()
    by_workspace: dict[uuid.UUID, list[delivery.DuePost]] = {}
    for row in due:
        by_workspace.setdefault(row.workspace_id, []).append(row)
    arq = ctx["redis"]
    now = clock.now()
    count = 0
    for ws, rows in by_workspace.items():
        async with _session(ctx, ws) as s:
            attempts = await delivery.attempts_of(s, ws, [r.id for r in rows])
            await s.commit()
        for row in rows:
            if row.id not in attempts:
                continue
            if row.status == PostStatus.PUBLISHING.value:
                stamp = int(now.timestamp() // max(settings.publish_stale_s, 1))
                job = await arq.enqueue_job(PUBLISH_POST, str(row.id), str(ws), _queue_name=PUBLISH_QUEUE,
                                            _job_id=f"{PUBLISH_POST}:{row.id}:stale:{stamp}")
                count += job is not None
                continue
            if await enqueue_publish(arq, row.id, ws, row.due_at, attempts[row.id]):
                count += 1
                continue
            if row.due_at is not None and (now - row.due_at).total_seconds() > OVERDUE_S:
                canonical = publish_job_id(row.id, row.due_at, attempts[row.id])
                state = await Job(canonical, arq, _queue_name=PUBLISH_QUEUE).status()
                if state in (JobStatus.complete, JobStatus.not_found):
                    stamp = int(now.timestamp() // OVERDUE_S)
                    job = await arq.enqueue_job(PUBLISH_POST, str(row.id), str(ws), _queue_name=PUBLISH_QUEUE,
                                                _job_id=f"{canonical}:rescue-{stamp}")
                    count += job is not None
    if count:
        log.info("publish sweeper handed %d post(s) to arq", count)
    return count


__all__ = ["publish_post", "publish_shutdown", "publish_startup", "sweep_posts"]
