"""The worker's side of publishing one post: each step a short transaction the worker commits.

A post goes ``scheduled -> publishing`` (``claim``), records that it is about to call the
platform (``mark_creating``: ``publish_started_at``, committed before the call), and ends
``published`` (``record_published``), back to ``scheduled`` for a retry or ``failed``
(``record_failure``), or ``unconfirmed`` when the platform may hold it (``mark_unconfirmed``).

Exactly once: nothing here ever calls the platform a second time for a post that may be
there. A post found ``publishing`` with ``publish_started_at`` set and no heartbeat for
``publish_stale_s`` (its worker died), or ``unconfirmed``, goes to ``reconcile``: the account's
recent media are matched by caption and duration within the publish window; found ->
published; proven absent -> scheduled again (a new attempt, resuming from ``publish_ref``,
the platform handle of the interrupted upload, so even a listing that lags cannot lead to a
second post); cannot tell -> stays unconfirmed and is checked again later.

Every function flushes; the caller (``clipflow_worker.tasks.publish``) commits, through
``jobs.service.commit_and_enqueue`` so a retry's ``request_publish`` reaches arq after commit.
"""

from __future__ import annotations

import random
import re
import unicodedata
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from .. import audit, clock
from ..auth.principal import Principal
from ..events.outbox import emit
from ..models import Clip, Post, SocialAccount
from ..models.enums import OutboxEventType, Platform, PostStatus, SocialAccountStatus
from . import accounts, accounts_repository, limits, queue, repository, states

S = PostStatus

# A deferred job may fire a little before the post's time by our clock (Redis' and the
# worker's clocks differ): it waits that long rather than dropping the post.
EARLY_S = 2.0
# An unconfirmed post is checked again after these delays (by check), then every hour.
RECONCILE_DELAYS_S = (2.0, 10.0, 60.0, 300.0, 900.0, 3600.0)
# While one worker reconciles an unconfirmed post, others leave it alone this long.
RECONCILE_LEASE_S = 60.0
# Media created this long before publish_started_at still match (platform clocks, rounding).
MATCH_SLACK_S = 120.0


class Failure(Protocol):
    """What the publisher layer says about a failed publish (``PublishError`` fits)."""

    @property
    def message(self) -> str: ...
    @property
    def retry_after(self) -> float | None: ...
    @property
    def ref(self) -> str | None: ...


class RecentLike(Protocol):
    """One of the account's recent media on the platform (``RecentMedia`` fits)."""

    @property
    def id(self) -> str: ...
    @property
    def caption(self) -> str: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def duration_s(self) -> float | None: ...
    @property
    def url(self) -> str | None: ...


@dataclass(frozen=True)
class Work:
    """What the worker needs to publish (or reconcile) one claimed post, as plain values."""

    action: str  # "publish" | "reconcile"
    post_id: uuid.UUID
    workspace_id: uuid.UUID
    account_id: uuid.UUID
    platform: Platform
    platform_user_id: str
    platform_data: dict[str, Any]
    media_key: str | None
    caption: str
    title: str | None
    options: dict[str, Any]
    duration_s: float | None
    thumbnail_key: str | None
    publish_ref: str | None
    attempts: int
    due_at: datetime | None
    publish_started_at: datetime | None
    last_changed_at: datetime  # the post's updated_at before the claim (re-render check)
    clip_id: uuid.UUID | None = None


def _system(workspace_id: uuid.UUID) -> Principal:
    return Principal(workspace_id=workspace_id)


def due_at(post: Post) -> datetime | None:
    """When the post is due: its time, or later when a retry waits (next_attempt_at)."""
    return max(filter(None, (post.scheduled_at, post.next_attempt_at)), default=None)


def compose_caption(caption: str | None, hashtags: Sequence[str] | None, mentions: Sequence[str] | None) -> str:
    """The text sent to the platform: the caption, then the hashtags and mentions it lacks."""
    text = (caption or "").strip()
    present = set(re.findall(r"[#@][\w.]+", text.casefold()))
    extra = [f"#{h.lstrip('#')}" for h in hashtags or () if f"#{h.lstrip('#')}".casefold() not in present]
    extra += [f"@{m.lstrip('@')}" for m in mentions or () if f"@{m.lstrip('@')}".casefold() not in present]
    if extra:
        text = f"{text}\n\n{' '.join(extra)}" if text else " ".join(extra)
    return text


def _options(post: Post, platform: Platform) -> dict[str, Any]:
    raw = dict(post.platform_options or {})
    nested = raw.get(platform.value)
    return {**raw, **nested} if isinstance(nested, dict) else raw


def _work(action: str, post: Post, account: SocialAccount, clip: Clip | None, last_changed_at: datetime) -> Work:
    platform = Platform(account.platform)
    options = _options(post, platform)
    return Work(
        action=action, post_id=post.id, workspace_id=post.workspace_id, account_id=account.id, platform=platform,
        platform_user_id=account.platform_user_id, platform_data=dict(account.platform_data or {}),
        media_key=post.media_urls[0] if post.media_urls else None, caption=compose_caption(post.caption, post.hashtags, post.mentions),
        title=options.get("title") if isinstance(options.get("title"), str) else None, options=options,
        duration_s=float(clip.duration_seconds) if clip is not None and clip.duration_seconds is not None else None,
        thumbnail_key=post.thumbnail_url, publish_ref=post.publish_ref, attempts=post.publish_attempts or 0,
        due_at=due_at(post), publish_started_at=post.publish_started_at, last_changed_at=last_changed_at,
        clip_id=post.clip_id,
    )


# --- claim ------------------------------------------------------------------------------------------


async def claim(session: AsyncSession, workspace_id: uuid.UUID, post_id: uuid.UUID, *, stale_s: float,
                now: datetime | None = None) -> Work | None:
    """Take the post for this worker: what to do with it, or None when there is nothing to do.

    scheduled and due -> publishing ("publish"), or failed at once when its account or clip
    is gone; publishing without a heartbeat for ``stale_s`` -> "publish" again when the
    creating call was never reached, else unconfirmed ("reconcile"); unconfirmed and due ->
    "reconcile". Cancelled, rescheduled, not yet due, held by a live worker, finished: None.
    """
    now = now or clock.now()
    post = await repository.get_post(session, workspace_id, post_id, lock=True)
    if post is None:
        return None
    last_changed_at = post.updated_at
    account = await repository.get_account(session, workspace_id, post.social_account_id)
    clip = await repository.get_clip(session, workspace_id, post.clip_id) if post.clip_id else None
    status = PostStatus(post.status)
    if status is S.SCHEDULED:
        due = due_at(post)
        if due is None or due > now + timedelta(seconds=EARLY_S):
            return None  # rescheduled (its own job comes later) or waiting for a retry
        states.move(post, S.PUBLISHING)
        post.upload_progress = 0
        post.publish_started_at = None
        post.updated_at = now
        problem = _unpublishable(post, account, clip)
        if problem is not None:
            await _fail(session, post, problem, code="precondition")
            return None
        assert account is not None
        await session.flush()
        return _work("publish", post, account, clip, last_changed_at)
    if account is None:
        return None  # the account (and with it the post, ON DELETE CASCADE) is going away
    if status is S.PUBLISHING:
        if post.updated_at > now - timedelta(seconds=stale_s):
            return None  # a live worker holds it (its heartbeat is fresh)
        if post.publish_started_at is None:
            post.updated_at = now  # its worker died before the creating call: nothing was sent
            await session.flush()
            return _work("publish", post, account, clip, last_changed_at)
        states.move(post, S.UNCONFIRMED)
        post.publish_error = "Publishing was interrupted; checking on the platform whether the post went out."
        post.next_attempt_at = now + timedelta(seconds=RECONCILE_LEASE_S)
        await session.flush()
        return _work("reconcile", post, account, clip, last_changed_at)
    if status is S.UNCONFIRMED:
        if post.next_attempt_at is not None and post.next_attempt_at > now + timedelta(seconds=EARLY_S):
            return None
        post.next_attempt_at = now + timedelta(seconds=RECONCILE_LEASE_S)  # a lease: others skip it meanwhile
        await session.flush()
        return _work("reconcile", post, account, clip, last_changed_at)
    return None


def _unpublishable(post: Post, account: SocialAccount | None, clip: Clip | None) -> str | None:
    """Why the post cannot go out now (its account or clip changed since it was scheduled)."""
    if account is None:
        return "The social account this post was for no longer exists."
    name = limits.platform_name(account.platform)
    if account.status == SocialAccountStatus.DISCONNECTED:
        return (f"The {name} account was disconnected after this post was scheduled; connect it again, "
                "then retry the post.")
    if account.status == SocialAccountStatus.RECONNECT_REQUIRED:
        why = f" ({account.last_error.rstrip('.')})" if account.last_error else ""
        return f"The {name} account needs to be reconnected{why}; reconnect it, then retry the post."
    if post.clip_id is not None and clip is None:
        return "The clip was deleted after this post was scheduled."
    if not post.media_urls:
        return "This post has no video to publish."
    return None


async def defer(session: AsyncSession, work: Work, wait_s: float, reason: str, *, now: datetime | None = None) -> None:
    """Our own limits (concurrency, rate, quota) say not now: back to scheduled, no attempt counted."""
    now = now or clock.now()
    post = await _locked(session, work)
    if post is None or post.status != S.PUBLISHING:
        return
    states.move(post, S.SCHEDULED)
    post.next_attempt_at = now + timedelta(seconds=max(wait_s, 0.05))
    post.publish_started_at = None
    post.publish_error = reason
    post.upload_progress = 0
    await session.flush()
    queue.request_publish(session, post)


# --- around the creating call -----------------------------------------------------------------------


async def mark_creating(session: AsyncSession, work: Work, *, now: datetime | None = None) -> bool:
    """Record that the platform is about to be asked to create the post (commit before the call).

    False when the post is no longer this worker's (nothing may be sent then)."""
    post = await _locked(session, work)
    if post is None or post.status != S.PUBLISHING:
        return False
    post.publish_started_at = now or clock.now()
    post.publish_error = None
    await session.flush()
    return True


async def save_ref(session: AsyncSession, work: Work, ref: str | None) -> None:
    """Keep the platform's handle of this upload, so a successor resumes or checks it (None: forget it)."""
    await repository.set_publish_ref(session, work.workspace_id, work.post_id, ref)


async def post_state(session: AsyncSession, workspace_id: uuid.UUID, post_id: uuid.UUID) -> tuple[str, str | None] | None:
    """The post's (status, publish_error), or None when it is gone."""
    return await repository.post_state(session, workspace_id, post_id)


async def heartbeat(session: AsyncSession, work: Work, upload_progress: int) -> bool:
    """Show the post is being worked on (and how far the upload is); False when it is no longer ours."""
    return await repository.touch_publishing(session, work.workspace_id, work.post_id, max(0, min(100, upload_progress)))


# --- outcomes ---------------------------------------------------------------------------------------


async def record_published(session: AsyncSession, work: Work, platform_post_id: str, url: str | None, *,
                           warnings: Sequence[str] = (), now: datetime | None = None, how: str = "published") -> bool:
    """The post is on the platform: its id and link, the clip's count, audit, post.published."""
    now = now or clock.now()
    post = await _locked(session, work)
    if post is None or post.status not in (S.PUBLISHING, S.UNCONFIRMED):
        return False
    states.move(post, S.PUBLISHED)
    post.platform_post_id = platform_post_id
    post.platform_url = url
    post.published_at = now
    post.publish_error = "; ".join(warnings) or None
    post.upload_progress = 100
    post.next_attempt_at = None
    if post.clip_id is not None:
        await repository.count_clip_published(session, post.workspace_id, post.clip_id)
    details: dict[str, Any] = {"platform": work.platform.value, "platform_post_id": platform_post_id, "how": how,
                               "attempts": post.publish_attempts + 1}
    if warnings:
        details["warnings"] = list(warnings)
    await audit.record(session, _system(post.workspace_id), "post.published", resource_type="post",
                       resource_id=post.id, details=details)
    await emit(session, post.workspace_id, OutboxEventType.POST_PUBLISHED, {
        "post_id": str(post.id), "social_account_id": str(post.social_account_id), "platform": work.platform.value,
        "platform_post_id": platform_post_id, "url": url, "published_at": now.isoformat(),
        "group_id": str(post.group_id) if post.group_id else None,
    })
    await session.flush()
    return True


async def record_failure(session: AsyncSession, work: Work, kind: str, failure: Failure, *, max_attempts: int,
                         now: datetime | None = None) -> PostStatus | None:
    """A publish that did not reach the platform (``kind``: retryable | reconnect | rejected).

    retryable -> scheduled again at now + Retry-After (or a jittered backoff), one attempt
    more, until ``max_attempts`` -> failed; reconnect -> failed and the account marked
    reconnect_required; rejected -> failed. Returns the post's new status (None: not ours)."""
    now = now or clock.now()
    post = await _locked(session, work)
    if post is None or post.status != S.PUBLISHING:
        return None
    post.publish_ref = failure.ref  # None: the next attempt starts afresh (nothing half-done to resume)
    post.publish_started_at = None
    if kind == "retryable" and post.publish_attempts + 1 < max_attempts:
        post.publish_attempts += 1
        wait = backoff_s(post.publish_attempts)
        if failure.retry_after is not None:
            wait = max(float(failure.retry_after), 0.0) + random.uniform(0.0, 1.0)
        states.move(post, S.SCHEDULED)
        post.next_attempt_at = now + timedelta(seconds=wait)
        post.publish_error = failure.message
        post.upload_progress = 0
        await audit.record(session, _system(post.workspace_id), "post.publish_retry", resource_type="post",
                           resource_id=post.id, details={"reason": failure.message, "attempt": post.publish_attempts,
                                                         "retry_in_s": round(wait, 1)})
        await session.flush()
        queue.request_publish(session, post)
        return S.SCHEDULED
    message = failure.message
    if kind == "retryable":
        message = f"{_sentence(message)} We tried {max_attempts} times and gave up; retry the post to try again."
        post.publish_attempts += 1
    if kind == "reconnect":
        account = await accounts_repository.get_account(session, post.workspace_id, post.social_account_id, lock=True)
        if account is not None:
            await accounts.mark_reconnect_required(session, account, failure.message)
    await _fail(session, post, message, code=kind)
    return S.FAILED


async def fail(session: AsyncSession, work: Work, message: str, *, code: str) -> bool:
    """Fail the claimed post before anything was sent (its file is gone, its token is dead...)."""
    post = await _locked(session, work)
    if post is None or post.status != S.PUBLISHING:
        return False
    await _fail(session, post, message, code=code)
    return True


async def _fail(session: AsyncSession, post: Post, message: str, *, code: str) -> None:
    states.move(post, S.FAILED)
    post.publish_error = message
    post.publish_started_at = None
    post.publish_ref = None
    post.next_attempt_at = None
    post.upload_progress = 0
    await audit.record(session, _system(post.workspace_id), "post.failed", resource_type="post", resource_id=post.id,
                       details={"reason": message, "code": code})
    await emit(session, post.workspace_id, OutboxEventType.POST_FAILED, {
        "post_id": str(post.id), "social_account_id": str(post.social_account_id), "reason": message, "code": code,
        "group_id": str(post.group_id) if post.group_id else None,
    })
    await session.flush()


async def mark_unconfirmed(session: AsyncSession, work: Work, reason: str, *, ref: str | None,
                           now: datetime | None = None, reconnect: str | None = None) -> bool:
    """The platform may hold the post (an answer lost after the creating call): check before any retry."""
    now = now or clock.now()
    post = await _locked(session, work)
    if post is None or post.status != S.PUBLISHING:
        return False
    states.move(post, S.UNCONFIRMED)
    if ref:
        post.publish_ref = ref
    post.publish_error = f"{_sentence(reason)} Checking on the platform whether the post went out."
    post.next_attempt_at = now + timedelta(seconds=RECONCILE_DELAYS_S[0])
    if reconnect:
        account = await accounts_repository.get_account(session, post.workspace_id, post.social_account_id, lock=True)
        if account is not None:
            await accounts.mark_reconnect_required(session, account, reconnect)
    await audit.record(session, _system(post.workspace_id), "post.unconfirmed", resource_type="post",
                       resource_id=post.id, details={"reason": reason})
    await session.flush()
    queue.request_publish(session, post)
    return True


# --- reconciliation ---------------------------------------------------------------------------------


def fingerprint(text: str) -> str:
    """Caption text as platforms return it: normalised, case and spacing folded."""
    return " ".join(unicodedata.normalize("NFKC", text or "").casefold().split())


def matches(work: Work, media: RecentLike, *, since: datetime, until: datetime) -> bool:
    """Whether ``media`` is this post: same caption (a platform may cut it), duration, time window."""
    if not since <= media.created_at <= until:
        return False
    ours, theirs = fingerprint(work.caption), fingerprint(media.caption)
    if not ours or not theirs:
        return False
    if ours != theirs and not (len(theirs) >= 30 and ours.startswith(theirs)):
        return False
    return work.duration_s is None or media.duration_s is None or \
        abs(work.duration_s - float(media.duration_s)) <= max(1.5, 0.03 * work.duration_s)


async def reconcile(session: AsyncSession, work: Work, recent: Sequence[RecentLike] | None, *, listed: int,
                    reason_unknown: str | None = None, now: datetime | None = None) -> PostStatus | None:
    """Decide an unconfirmed post from the account's recent media (``recent``, None: could not list).

    ``listed`` is how many the listing asked for: a full page whose oldest item is newer than
    the publish window proves nothing. Found -> published; proven absent -> scheduled again
    (a new attempt, resuming from publish_ref); cannot tell -> stays unconfirmed, checked later."""
    now = now or clock.now()
    post = await _locked(session, work)
    if post is None or post.status != S.UNCONFIRMED or post.publish_attempts != work.attempts:
        return None  # decided meanwhile by someone else
    started = post.publish_started_at or post.updated_at
    since = started - timedelta(seconds=MATCH_SLACK_S)
    until = now + timedelta(seconds=MATCH_SLACK_S)
    if recent is not None:
        taken = await repository.platform_ids_of_other_posts(session, post)
        found = [m for m in recent if m.id not in taken and matches(work, m, since=since, until=until)]
        if found:
            best = min(found, key=lambda m: abs((m.created_at - started).total_seconds()))
            await record_published(session, work, best.id, best.url, now=now, how="reconciled")
            return S.PUBLISHED
        covers_window = len(recent) < listed or (bool(recent) and min(m.created_at for m in recent) < since)
        if covers_window:
            states.move(post, S.SCHEDULED)
            post.publish_attempts += 1
            post.publish_started_at = None
            post.next_attempt_at = now
            post.upload_progress = 0
            post.publish_error = "The earlier attempt did not reach the platform; publishing again."
            await audit.record(session, _system(post.workspace_id), "post.reconciled_absent", resource_type="post",
                               resource_id=post.id, details={"attempt": post.publish_attempts})
            await session.flush()
            queue.request_publish(session, post)
            return S.SCHEDULED
        reason_unknown = reason_unknown or "The platform's list of recent posts does not reach back far enough."
    delay = _reconcile_delay(post, now)
    post.next_attempt_at = now + timedelta(seconds=delay)
    post.publish_error = (f"{_sentence(reason_unknown or 'The platform could not be asked.')} "
                          "We could not yet confirm whether the post went out; we will check again.")
    await session.flush()
    queue.request_publish(session, post)
    return S.UNCONFIRMED


def _reconcile_delay(post: Post, now: datetime) -> float:
    """The next check of an unconfirmed post: longer the longer it has been unknown."""
    unknown_for = (now - (post.publish_started_at or now)).total_seconds()
    for delay in RECONCILE_DELAYS_S:
        if unknown_for < delay * 4:
            return delay * random.uniform(1.0, 1.25)
    return RECONCILE_DELAYS_S[-1]


# --- helpers ----------------------------------------------------------------------------------------


def backoff_s(attempt: int) -> float:
    """Exponential backoff with full jitter: up to 30 s, 2 min, 8 min ... capped at an hour."""
    return random.uniform(5.0, min(3600.0, 30.0 * 4 ** (attempt - 1)))


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else f"{text}."


async def _locked(session: AsyncSession, work: Work) -> Post | None:
    return await repository.get_post(session, work.workspace_id, work.post_id, lock=True)


async def due_posts(session: AsyncSession, *, horizon_s: int, stale_s: int, limit: int) -> list[repository.DuePost]:
    """Every workspace's posts due within ``horizon_s``, those ``publishing`` with no heartbeat for
    ``stale_s``, and unconfirmed ones due for reconciliation (``repository.due_posts``)."""
    return await repository.due_posts(session, horizon_s=horizon_s, stale_s=stale_s, limit=limit)


async def attempts_of(session: AsyncSession, workspace_id: uuid.UUID, post_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
    """The publish attempt count of each of the workspace's posts (the sweeper derives job ids from it)."""
    return await repository.attempts_of(session, workspace_id, post_ids)
