"""Posts: made from a clip for one or several accounts, checked, scheduled, approved, cancelled, retried.

Every status change goes through ``states`` (the one transition table). Rules:

- ``create_posts`` makes one draft per account (active, in the workspace, on a platform
  ClipFlow publishes to), all sharing a ``group_id``; each carries the clip's rendering in
  its platform's format (``platforms.RULES[platform].format_key``) and that platform's options.
- Scheduling (``schedule_post``, ``publish_now``, ``retry_post``) checks the media against the
  platform (``conform.check_variant``: unfixable problems refuse, fixable ones schedule and
  start a conform job) and the account's publishing cap around the chosen time. A workspace
  with ``settings.require_post_approval`` sends the post for approval instead of scheduling it;
  ``approve_post`` schedules it, ``reject_post`` sends it back with a comment.
- Editing a rejected post sends it for approval again (a draft where no approval is needed);
  editing a scheduled post in a workspace that needs approval takes the approval back.
- A post that becomes scheduled (or moves in time) is handed to the publish queue after the
  commit (``queue.request_publish``) and announced with a ``post.scheduled`` outbox event.

``platform_options`` holds only the post's own platform's options, under the publisher option
names (``clipflow_worker.publishers.base``): YouTube ``title``, ``description``,
``privacy_status``, ``category_id``, ``made_for_kids``; TikTok ``privacy_level``,
``disable_duet``, ``disable_stitch``, ``disable_comment``; Instagram ``share_to_feed``,
``thumb_offset_ms``, ``first_comment``.

Services flush, never commit; a refused action changes nothing.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from .. import audit, clock
from ..auth.principal import Principal
from ..errors import Conflict, ErrorCode, NotFound, ValidationError
from ..events import outbox
from ..models import Post, SocialAccount
from ..models.enums import (
    OutboxEventType,
    Platform,
    PostMediaType,
    PostStatus,
    SocialAccountStatus,
    TikTokPrivacyLevel,
    YouTubePrivacy,
)
from ..rows import refreshed
from ..validation import UNSET, check_text, given, one_of
from ..workspaces import repository as workspaces
from . import conform, limits, platforms, queue, repository, states
from .repository import CalendarWindow

PLATFORM_NAMES: dict[str, str] = {Platform.YOUTUBE: "YouTube", Platform.TIKTOK: "TikTok", Platform.INSTAGRAM: "Instagram"}
MAX_ACCOUNTS = 20
MAX_HASHTAGS = 30
MAX_MENTIONS = 20
MAX_CAPTION = 10_000  # the platforms' own limits (platforms.check_text) are lower
MAX_COMMENT = 2000
INSTAGRAM_COMMENT_MAX = 2200
MAX_SCHEDULE_AHEAD = timedelta(days=365)
MAX_CALENDAR_SPAN = timedelta(days=366)
# a time a few seconds old (a client's clock, the request's travel) still means "now"
PAST_TOLERANCE = timedelta(seconds=60)

_HASHTAG = re.compile(r"\w{1,100}")  # what the platforms count as one (platforms.check_text)
_MENTION = re.compile(r"[A-Za-z0-9._-]{1,100}")
_YOUTUBE_CATEGORY = re.compile(r"\d{1,4}")


# --- typed inputs ----------------------------------------------------------------------------------


@dataclass
class YouTubeOptions:
    title: str | None = UNSET
    description: str | None = UNSET
    privacy: str | None = UNSET  # YouTubePrivacy
    category_id: str | None = UNSET
    made_for_kids: bool | None = UNSET


@dataclass
class TikTokOptions:
    privacy_level: str | None = UNSET  # TikTokPrivacyLevel; checked against the account's creator_info when known
    disable_duet: bool | None = UNSET
    disable_stitch: bool | None = UNSET
    disable_comment: bool | None = UNSET


@dataclass
class InstagramOptions:
    share_to_feed: bool | None = UNSET
    thumb_offset_ms: int | None = UNSET  # the cover frame, in milliseconds from the start
    first_comment: str | None = UNSET


@dataclass
class PostCreateInput:
    clip_id: uuid.UUID
    social_account_ids: list[uuid.UUID]
    caption: str | None = UNSET
    hashtags: list[str] | None = UNSET
    mentions: list[str] | None = UNSET
    youtube: YouTubeOptions | None = UNSET
    tiktok: TikTokOptions | None = UNSET
    instagram: InstagramOptions | None = UNSET


@dataclass
class PostChanges:
    caption: str | None = UNSET
    hashtags: list[str] | None = UNSET
    mentions: list[str] | None = UNSET
    youtube: YouTubeOptions | None = UNSET
    tiktok: TikTokOptions | None = UNSET
    instagram: InstagramOptions | None = UNSET


@dataclass(frozen=True)
class PostGroup:
    """Posts made together (one per account): a client shows them as one."""

    group_id: uuid.UUID
    posts: list[Post]


@dataclass(frozen=True)
class QuotaCap:
    """At most ``limit`` posts of one account in any ``window``."""

    limit: int
    window: timedelta


_OPTION_CLASSES: dict[str, type] = {
    Platform.YOUTUBE: YouTubeOptions, Platform.TIKTOK: TikTokOptions, Platform.INSTAGRAM: InstagramOptions,
}


# --- shared checks ---------------------------------------------------------------------------------


def platform_name(platform: str) -> str:
    return PLATFORM_NAMES.get(platform, platform.title())


def _account_label(account: SocialAccount) -> str:
    handle = f"@{account.username}" if account.username else account.display_name or "this account"
    return f"{handle} on {platform_name(account.platform)}"


async def _record(session: AsyncSession, principal: Principal, action: str, post: Post, details: dict[str, Any] | None = None) -> None:
    await audit.record(session, principal, action, resource_type="post", resource_id=post.id, details=details)


async def visible_post(session: AsyncSession, post_id: uuid.UUID, *, principal: Principal) -> Post:
    """The post as the caller may see it (their workspace; RLS too); NOT_FOUND otherwise."""
    if principal.workspace_id is None:
        raise NotFound(ErrorCode.NOT_FOUND, "No such post.", "id")
    post = await repository.get_post(session, principal.workspace_id, post_id, lock=False)
    if post is None:
        raise NotFound(ErrorCode.NOT_FOUND, "No such post.", "id")
    return post


async def _load_post(session: AsyncSession, workspace_id: uuid.UUID, post_id: uuid.UUID) -> Post:
    post = await repository.get_post(session, workspace_id, post_id)
    if post is None:
        raise NotFound(ErrorCode.NOT_FOUND, "No such post.", "id")
    return post


async def _load_account(session: AsyncSession, post: Post) -> SocialAccount:
    account = await repository.get_account(session, post.workspace_id, post.social_account_id)
    if account is None:  # the account was removed with its posts (cascade): only a race gets here
        raise NotFound(ErrorCode.NOT_FOUND, "This post's account is gone.", "id")
    return account


def _require_active(account: SocialAccount, field: str) -> None:
    if account.status != SocialAccountStatus.ACTIVE:
        why = f": {_sentence(account.last_error)}" if account.last_error else "."
        raise Conflict(ErrorCode.RECONNECT_REQUIRED, f"Connect {_account_label(account)} again before publishing to it{why}", field)


async def _approval_required(session: AsyncSession, workspace_id: uuid.UUID) -> bool:
    workspace = await workspaces.get_workspace(session, workspace_id)
    return bool(workspace is not None and (workspace.settings or {}).get("require_post_approval"))


def _check_time(at: datetime, field: str = "at") -> datetime:
    if at.tzinfo is None:
        raise ValidationError(ErrorCode.INVALID, "Give the time with its UTC offset (e.g. 2030-01-31T18:00:00Z).", field)
    now = clock.now()
    if at < now - PAST_TOLERANCE:
        raise ValidationError(ErrorCode.INVALID, "Choose a time in the future.", field)
    if at > now + MAX_SCHEDULE_AHEAD:
        raise ValidationError(ErrorCode.INVALID, "Posts can be scheduled at most a year ahead.", field)
    return max(at, now)


# --- text and options ------------------------------------------------------------------------------


def _tags(
    values: list[str] | None, field: str, *, prefix: str, pattern: re.Pattern[str], max_items: int, what: str, allowed: str,
) -> list[str] | None:
    if values is None:
        return None
    if len(values) > max_items:
        raise ValidationError(ErrorCode.INVALID, f"At most {max_items} {what}.", field)
    out: list[str] = []
    for raw in values:
        value = (raw or "").strip().removeprefix(prefix)
        if not pattern.fullmatch(value):
            raise ValidationError(ErrorCode.INVALID, f"The {what[:-1]} “{raw}” may only contain {allowed}.", field)
        if value not in out:
            out.append(value)
    return out


def _hashtags(values: list[str] | None) -> list[str] | None:
    return _tags(values, "hashtags", prefix="#", pattern=_HASHTAG, max_items=MAX_HASHTAGS, what="hashtags",
                 allowed="letters, numbers and underscores")


def _mentions(values: list[str] | None) -> list[str] | None:
    return _tags(values, "mentions", prefix="@", pattern=_MENTION, max_items=MAX_MENTIONS, what="mentions",
                 allowed="letters, numbers, dots, dashes and underscores")


def _creator_info(account: SocialAccount) -> dict[str, Any]:
    info = (account.platform_data or {}).get("creator_info")
    return info if isinstance(info, dict) else {}


def _youtube_options(given_options: YouTubeOptions, current: dict[str, Any]) -> dict[str, Any]:
    out = dict(current)
    o = given_options
    if given(o.title):
        # lengths and characters: platforms.check_text, with the caption
        out["title"] = check_text(o.title, "youtube.title") or None
    if given(o.description):
        out["description"] = check_text(o.description, "youtube.description") or None
    if given(o.privacy):
        out["privacy_status"] = None if o.privacy is None else one_of(YouTubePrivacy, o.privacy, "youtube.privacy", "The privacy")
    if given(o.category_id):
        category = None if o.category_id is None else o.category_id.strip()
        if category is not None and not _YOUTUBE_CATEGORY.fullmatch(category):
            raise ValidationError(ErrorCode.INVALID, "A YouTube category is its number, e.g. 22.", "youtube.categoryId")
        out["category_id"] = category
    if given(o.made_for_kids):
        out["made_for_kids"] = o.made_for_kids
    return out


def _tiktok_options(given_options: TikTokOptions, current: dict[str, Any], accounts: list[SocialAccount]) -> dict[str, Any]:
    out = dict(current)
    o = given_options
    if given(o.privacy_level):
        level = None if o.privacy_level is None else one_of(TikTokPrivacyLevel, o.privacy_level, "tiktok.privacyLevel", "The privacy level")
        if level is not None:
            for account in accounts:
                offered = _creator_info(account).get("privacy_level_options")
                if offered and level not in offered:
                    raise ValidationError(
                        ErrorCode.INVALID,
                        f"{_account_label(account)} does not offer {level}; it offers {', '.join(offered)}.",
                        "tiktok.privacyLevel",
                    )
        out["privacy_level"] = level
    for name in ("disable_duet", "disable_stitch", "disable_comment"):
        value = getattr(o, name)
        if given(value):
            out[name] = value
    return out


def _instagram_options(given_options: InstagramOptions, current: dict[str, Any], clip_seconds: float | None) -> dict[str, Any]:
    out = dict(current)
    o = given_options
    if given(o.share_to_feed):
        out["share_to_feed"] = o.share_to_feed
    if given(o.thumb_offset_ms):
        offset = o.thumb_offset_ms
        if offset is not None and (offset < 0 or (clip_seconds is not None and offset > clip_seconds * 1000)):
            raise ValidationError(ErrorCode.INVALID, "The cover frame must be within the video.", "instagram.thumbOffsetMs")
        out["thumb_offset_ms"] = offset
    if given(o.first_comment):
        out["first_comment"] = check_text(o.first_comment, "instagram.firstComment", max_length=INSTAGRAM_COMMENT_MAX) or None
    return out


def _options_for(
    platform: str, data: PostCreateInput | PostChanges, current: dict[str, Any], accounts: list[SocialAccount],
    clip_seconds: float | None,
) -> dict[str, Any]:
    """The platform's stored options after applying the given block (None clears them)."""
    block = getattr(data, platform)
    if not given(block):
        return current
    if block is None:
        return {}
    if platform == Platform.YOUTUBE:
        out = _youtube_options(block, current)
    elif platform == Platform.TIKTOK:
        out = _tiktok_options(block, current, accounts)
    else:
        out = _instagram_options(block, current, clip_seconds)
    return {k: v for k, v in out.items() if v is not None}


def _refuse_foreign_options(data: PostCreateInput | PostChanges, chosen: set[str]) -> None:
    for platform in _OPTION_CLASSES:
        if platform not in chosen and given(getattr(data, platform)) and getattr(data, platform) is not None:
            raise ValidationError(
                ErrorCode.INVALID, f"No {platform_name(platform)} account is chosen: leave out the {platform_name(platform)} options.",
                platform,
            )


def _check_platform_text(platform: str, caption: str | None, hashtags: list[str] | None, mentions: list[str] | None,
                         options: dict[str, Any]) -> None:
    problems = platforms.check_text(platform, caption, hashtags, mentions, options)
    if problems:  # sentences that name the platform
        raise ValidationError(ErrorCode.INVALID, " ".join(_sentence(p) for p in problems), "caption")


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."


# --- create and edit -------------------------------------------------------------------------------


async def create_posts(session: AsyncSession, principal: Principal, data: PostCreateInput) -> PostGroup:
    """One draft per chosen account from a clip, sharing a group id."""
    workspace_id = principal.require("post:write")
    ids = list(dict.fromkeys(data.social_account_ids or []))
    if not ids:
        raise ValidationError(ErrorCode.REQUIRED, "Choose at least one account to post to.", "socialAccountIds")
    if len(ids) > MAX_ACCOUNTS:
        raise ValidationError(ErrorCode.INVALID, f"At most {MAX_ACCOUNTS} accounts at once.", "socialAccountIds")
    caption = check_text(data.caption or None, "caption", max_length=MAX_CAPTION) or None
    hashtags = _hashtags(data.hashtags or None)
    mentions = _mentions(data.mentions or None)

    clip = await repository.get_clip(session, workspace_id, data.clip_id)
    if clip is None:
        raise NotFound(ErrorCode.NOT_FOUND, "No such clip.", "clipId")
    found = await repository.get_accounts(session, workspace_id, ids)
    missing = [i for i in ids if i not in found]
    if missing:
        raise NotFound(ErrorCode.NOT_FOUND, "No such social account.", "socialAccountIds")
    accounts = [found[i] for i in ids]
    for account in accounts:
        if account.platform not in platforms.RULES:
            raise ValidationError(
                ErrorCode.INVALID, f"Publishing to {platform_name(account.platform)} is not available yet.", "socialAccountIds"
            )
        _require_active(account, "socialAccountIds")
    chosen = {a.platform for a in accounts}
    _refuse_foreign_options(data, chosen)

    clip_seconds = float(clip.duration_seconds) if clip.duration_seconds is not None else None
    options: dict[str, dict[str, Any]] = {}
    for platform in sorted(chosen):
        same = [a for a in accounts if a.platform == platform]
        options[platform] = _options_for(platform, data, {}, same, clip_seconds)
        if platform == Platform.YOUTUBE and not options[platform].get("title") and clip.title:
            options[platform]["title"] = clip.title[: platforms.RULES[Platform.YOUTUBE].max_title_chars or None]
        _check_platform_text(platform, caption, hashtags, mentions, options[platform])
    files = clip.file_urls or {}
    for platform in sorted(chosen):
        fmt = platforms.RULES[Platform(platform)].format_key
        if not files.get(fmt):
            raise Conflict(
                ErrorCode.MEDIA_NOT_READY,
                f"The clip has no {fmt} version for {platform_name(platform)} yet: render it first.",
                "clipId",
            )

    needs_approval = await _approval_required(session, workspace_id)
    group_id = uuid.uuid4()
    posts = [
        Post(
            workspace_id=workspace_id, social_account_id=account.id, clip_id=clip.id, group_id=group_id,
            caption=caption, hashtags=hashtags, mentions=mentions,
            media_urls=[files[platforms.RULES[Platform(account.platform)].format_key]],
            media_type=PostMediaType.VIDEO.value, thumbnail_url=clip.thumbnail_url,
            platform_options=options[account.platform], status=PostStatus.DRAFT.value,
            needs_approval=needs_approval, created_by=principal.user_id,
        )
        for account in accounts
    ]
    await repository.add_posts(session, posts)
    for post, account in zip(posts, accounts, strict=True):
        await _record(session, principal, "post.create", post, {
            "group_id": str(group_id), "clip_id": str(clip.id), "social_account_id": str(account.id), "platform": account.platform,
        })
    return PostGroup(group_id=group_id, posts=posts)


async def update_post(session: AsyncSession, principal: Principal, post_id: uuid.UUID, data: PostChanges) -> Post:
    """Edit a post's text or options; after approval (or a rejection) it goes back for approval."""
    workspace_id = principal.require("post:write")
    post = await _load_post(session, workspace_id, post_id)
    if post.status not in states.EDITABLE:
        raise Conflict(ErrorCode.CONFLICT, f"This post is {states.describe(post.status)}; it cannot be edited.", "status")
    account = await _load_account(session, post)
    _refuse_foreign_options(data, {account.platform})

    changes: dict[str, Any] = {}
    if given(data.caption):
        changes["caption"] = check_text(data.caption, "caption", max_length=MAX_CAPTION) or None
    if given(data.hashtags):
        changes["hashtags"] = _hashtags(data.hashtags)
    if given(data.mentions):
        changes["mentions"] = _mentions(data.mentions)
    clip_seconds = None
    if account.platform == Platform.INSTAGRAM and given(data.instagram) and post.clip_id is not None:
        clip = await repository.get_clip(session, workspace_id, post.clip_id)  # the cover frame must fall within it
        clip_seconds = float(clip.duration_seconds) if clip is not None and clip.duration_seconds is not None else None
    options = _options_for(account.platform, data, dict(post.platform_options or {}), [account], clip_seconds)
    if options != (post.platform_options or {}):
        changes["platform_options"] = options
    if not changes:
        return post
    caption = changes.get("caption", post.caption)
    hashtags = changes.get("hashtags", post.hashtags)
    mentions = changes.get("mentions", post.mentions)
    _check_platform_text(account.platform, caption, hashtags, mentions, options)

    before = post.status
    needs_approval = await _approval_required(session, workspace_id)
    if post.status == PostStatus.REJECTED:
        states.move(post, PostStatus.PENDING_APPROVAL if needs_approval else PostStatus.DRAFT)
    elif post.status == PostStatus.SCHEDULED and needs_approval:
        states.move(post, PostStatus.PENDING_APPROVAL)  # the approval covered the old content
    if needs_approval and post.status in (PostStatus.PENDING_APPROVAL, PostStatus.FAILED):
        post.approved_by, post.approved_at = None, None  # a failed post's retry then asks for approval again
    for name, value in changes.items():
        setattr(post, name, value)
    post.needs_approval = needs_approval
    await refreshed(session, post)
    details: dict[str, Any] = {"changed": sorted(changes)}
    if post.status != before:
        details |= {"from": before, "to": post.status}
    await _record(session, principal, "post.update", post, details)
    return post


# --- scheduling -----------------------------------------------------------------------------------


def account_cap(account: SocialAccount) -> QuotaCap | None:
    """The account's publishing cap: Instagram's content_publishing_limit when the account's
    platform_data has it, else the platform's cap in ``limits.DAILY_CAPS`` (None: no cap)."""
    if account.platform == Platform.INSTAGRAM:
        reported = (account.platform_data or {}).get("content_publishing_limit")
        if isinstance(reported, dict):
            nested = reported.get("config")
            config: dict[str, Any] = nested if isinstance(nested, dict) else reported
            total, duration = config.get("quota_total"), config.get("quota_duration")
            if isinstance(total, int) and total > 0:
                window = timedelta(seconds=duration) if isinstance(duration, int) and duration > 0 else limits.DAY
                return QuotaCap(total, window)
    cap = limits.DAILY_CAPS.get(Platform(account.platform))
    return QuotaCap(cap, limits.DAY) if cap is not None else None


def _window_words(window: timedelta) -> str:
    hours = window.total_seconds() / 3600
    return "24 hours" if hours == 24 else f"{hours:g} hours"


async def check_quota(session: AsyncSession, account: SocialAccount, post: Post, at: datetime) -> None:
    """Refuse (QUOTA_EXCEEDED) when publishing ``post`` at ``at`` would put the account over its cap in any window."""
    cap = account_cap(account)
    if cap is None:
        return
    await repository.lock_account_quota(session, account.id)
    times = await repository.quota_times_in_window(session, account.id, at - cap.window, at + cap.window, exclude_post_id=post.id)
    # the windows (t - window, t] holding ``at``: the fullest ends at ``at`` or at a later post
    for end in [at, *(t for t in times if at < t < at + cap.window)]:
        planned = sum(1 for t in times if end - cap.window < t <= end)
        if planned + 1 > cap.limit:
            raise Conflict(
                ErrorCode.QUOTA_EXCEEDED,
                f"{platform_name(account.platform)} takes at most {cap.limit} posts from one account in "
                f"{_window_words(cap.window)}; {_account_label(account)} already has {planned} around that time. "
                "Choose another time.",
                "at",
            )


async def _check_media(storage: Any, account: SocialAccount, post: Post) -> conform.MediaCheck:
    """The rendering against the platform's rules; unfixable problems refuse (MEDIA_UNSUPPORTED)."""
    if not post.media_urls:
        raise Conflict(ErrorCode.MEDIA_NOT_READY, "This post has no video.", "id")
    max_duration = _creator_info(account).get("max_video_post_duration_sec") if account.platform == Platform.TIKTOK else None
    check = await conform.check_variant(
        storage, post.media_urls[0], Platform(account.platform),
        max_duration_s=float(max_duration) if isinstance(max_duration, int | float) else None,
    )
    if not check.ok and check.fix is None:
        problems = " ".join(_sentence(p) for p in check.problems) or "It does not meet the platform's rules."
        raise ValidationError(
            ErrorCode.MEDIA_UNSUPPORTED, f"This video cannot be published on {platform_name(account.platform)}: {problems}", "id"
        )
    return check


async def _go_out(session: AsyncSession, post: Post, account: SocialAccount) -> None:
    """The post is scheduled (or moved in time): queue it after the commit and announce it."""
    queue.request_publish(session, post)
    await outbox.emit(session, post.workspace_id, OutboxEventType.POST_SCHEDULED, {
        "post_id": str(post.id), "group_id": str(post.group_id) if post.group_id else None,
        "social_account_id": str(account.id), "platform": account.platform,
        "scheduled_at": post.scheduled_at.isoformat() if post.scheduled_at else None,
    })


async def _submit(
    session: AsyncSession, principal: Principal, post: Post, at: datetime, *, storage: Any, action: str,
) -> Post:
    """Move a draft (or a failed post) to ``at``: scheduled, or pending approval where the workspace needs it."""
    account = await _load_account(session, post)
    needs_approval = await _approval_required(session, post.workspace_id)
    # a failed post approved before it went out (and not edited since) is not sent for approval again
    approved = post.status == PostStatus.FAILED and post.approved_at is not None
    target = PostStatus.PENDING_APPROVAL if needs_approval and not approved else PostStatus.SCHEDULED
    states.require(post, target)
    _require_active(account, "id")
    check = await _check_media(storage, account, post)
    await check_quota(session, account, post, at)
    before = post.status
    states.move(post, target)
    post.scheduled_at, post.next_attempt_at, post.needs_approval = at, None, needs_approval
    if before == PostStatus.FAILED:
        post.publish_error = None
    await refreshed(session, post)
    if check.fix is not None:
        await conform.request_conform(session, post, check.fix)
    if target == PostStatus.SCHEDULED:
        await _go_out(session, post, account)
    await _record(session, principal, action, post, {"from": before, "to": post.status, "at": at.isoformat()})
    return post


async def _move_in_time(session: AsyncSession, principal: Principal, post: Post, at: datetime, *, action: str) -> Post:
    """A new time for a post that already has one (scheduled or pending approval)."""
    account = await _load_account(session, post)
    if post.status == PostStatus.SCHEDULED:
        _require_active(account, "id")
        await check_quota(session, account, post, at)
    before = post.scheduled_at
    post.scheduled_at, post.next_attempt_at = at, None
    await refreshed(session, post)
    if post.status == PostStatus.SCHEDULED:
        await _go_out(session, post, account)
    await _record(session, principal, action, post, {
        "from": before.isoformat() if before else None, "to": at.isoformat(), "status": post.status,
    })
    return post


async def schedule_post(session: AsyncSession, principal: Principal, post_id: uuid.UUID, at: datetime, *, storage: Any) -> Post:
    """Schedule a draft at ``at`` (or send it for approval where the workspace needs that)."""
    workspace_id = principal.require("post:schedule")
    at = _check_time(at)
    post = await _load_post(session, workspace_id, post_id)
    if post.status != PostStatus.DRAFT:
        if post.status in (PostStatus.SCHEDULED, PostStatus.PENDING_APPROVAL):
            raise Conflict(ErrorCode.CONFLICT, f"This post is {states.describe(post.status)}; reschedule it instead.", "status")
        if post.status == PostStatus.FAILED:
            raise Conflict(ErrorCode.CONFLICT, "This post failed; retry it instead.", "status")
        if post.status == PostStatus.REJECTED:
            raise Conflict(ErrorCode.CONFLICT, "This post was rejected; edit it to send it for approval again.", "status")
        raise Conflict(ErrorCode.CONFLICT, f"This post is {states.describe(post.status)}; it cannot be scheduled.", "status")
    return await _submit(session, principal, post, at, storage=storage, action="post.schedule")


async def publish_now(session: AsyncSession, principal: Principal, post_id: uuid.UUID, *, storage: Any) -> Post:
    """Publish a draft or a scheduled post as soon as possible (a draft needing approval waits for it)."""
    workspace_id = principal.require("post:schedule")
    post = await _load_post(session, workspace_id, post_id)
    now = clock.now()
    if post.status == PostStatus.DRAFT:
        return await _submit(session, principal, post, now, storage=storage, action="post.publish_now")
    if post.status in (PostStatus.SCHEDULED, PostStatus.PENDING_APPROVAL):
        return await _move_in_time(session, principal, post, now, action="post.publish_now")
    if post.status == PostStatus.FAILED:
        raise Conflict(ErrorCode.CONFLICT, "This post failed; retry it instead.", "status")
    raise Conflict(ErrorCode.CONFLICT, f"This post is {states.describe(post.status)}; it cannot be published now.", "status")


async def reschedule_post(session: AsyncSession, principal: Principal, post_id: uuid.UUID, at: datetime) -> Post:
    """Move a scheduled (or pending approval) post to another time."""
    workspace_id = principal.require("post:schedule")
    at = _check_time(at)
    post = await _load_post(session, workspace_id, post_id)
    if post.status not in (PostStatus.SCHEDULED, PostStatus.PENDING_APPROVAL):
        hint = " schedule it instead" if post.status == PostStatus.DRAFT else " it cannot be rescheduled"
        raise Conflict(ErrorCode.CONFLICT, f"This post is {states.describe(post.status)};{hint}.", "status")
    return await _move_in_time(session, principal, post, at, action="post.reschedule")


async def cancel_post(session: AsyncSession, principal: Principal, post_id: uuid.UUID) -> Post:
    """Cancel a post that has not started publishing."""
    workspace_id = principal.require("post:schedule")
    post = await _load_post(session, workspace_id, post_id)
    before = post.status
    states.move(post, PostStatus.CANCELLED)
    post.next_attempt_at = None
    await refreshed(session, post)
    await _record(session, principal, "post.cancel", post, {"from": before})
    return post


async def retry_post(session: AsyncSession, principal: Principal, post_id: uuid.UUID, *, storage: Any) -> Post:
    """Schedule a failed post again, now (or at its time if that is still ahead), once its cause is fixed."""
    workspace_id = principal.require("post:schedule")
    post = await _load_post(session, workspace_id, post_id)
    if post.status != PostStatus.FAILED:
        raise Conflict(ErrorCode.CONFLICT, f"This post is {states.describe(post.status)}; only a failed post can be retried.", "status")
    now = clock.now()
    at = post.scheduled_at if post.scheduled_at is not None and post.scheduled_at > now else now
    post = await _submit(session, principal, post, at, storage=storage, action="post.retry")
    # a failed post is known not to be on the platform: a fresh start, with every attempt again
    post.publish_attempts, post.next_attempt_at, post.publish_started_at, post.publish_ref = 0, None, None, None
    return await refreshed(session, post)


# --- approval -------------------------------------------------------------------------------------


async def approve_post(session: AsyncSession, principal: Principal, post_id: uuid.UUID) -> Post:
    """Approve a post waiting for approval: it is scheduled at its time (now, if that has passed)."""
    workspace_id = principal.require("post:approve")
    post = await _load_post(session, workspace_id, post_id)
    if post.status != PostStatus.PENDING_APPROVAL:
        raise Conflict(ErrorCode.CONFLICT, f"This post is {states.describe(post.status)}; only a post waiting for approval can be approved.", "status")
    account = await _load_account(session, post)
    _require_active(account, "id")
    now = clock.now()
    at = post.scheduled_at if post.scheduled_at is not None and post.scheduled_at > now else now
    await check_quota(session, account, post, at)
    states.move(post, PostStatus.SCHEDULED)
    post.scheduled_at, post.approved_by, post.approved_at, post.approval_comment = at, principal.user_id, now, None
    await refreshed(session, post)
    await _go_out(session, post, account)
    await _record(session, principal, "post.approve", post, {"at": at.isoformat()})
    return post


async def reject_post(session: AsyncSession, principal: Principal, post_id: uuid.UUID, comment: str) -> Post:
    """Send a post waiting for approval back, saying why."""
    workspace_id = principal.require("post:approve")
    text = check_text(comment, "comment", max_length=MAX_COMMENT, required=True)
    post = await _load_post(session, workspace_id, post_id)
    states.move(post, PostStatus.REJECTED)
    post.approval_comment, post.approved_by, post.approved_at = text, None, None
    await refreshed(session, post)
    await _record(session, principal, "post.reject", post, {"comment": text})
    return post


# --- the calendar ---------------------------------------------------------------------------------


def calendar_window(
    principal: Principal,
    start: datetime,
    end: datetime,
    *,
    account_ids: list[uuid.UUID] | None = None,
    statuses: list[str] | None = None,
    platforms_: list[str] | None = None,
) -> CalendarWindow:
    """The caller's calendar window [start, end), checked (post:read; at most 366 days; zones given)."""
    workspace_id = principal.require("post:read")
    if start.tzinfo is None or end.tzinfo is None:
        raise ValidationError(ErrorCode.INVALID, "Give both times with their UTC offset.", "from" if start.tzinfo is None else "to")
    if end <= start:
        raise ValidationError(ErrorCode.INVALID, "The end must come after the start.", "to")
    if end - start > MAX_CALENDAR_SPAN:
        raise ValidationError(ErrorCode.INVALID, "Ask for at most 366 days at once.", "to")
    return CalendarWindow(
        workspace_id=workspace_id, start=start, end=end,
        account_ids=tuple(dict.fromkeys(account_ids)) if account_ids else None,
        statuses=tuple(sorted({one_of(PostStatus, s, "statuses", "A status") for s in statuses})) if statuses else None,
        platforms=tuple(sorted({one_of(Platform, p, "platforms", "A platform") for p in platforms_})) if platforms_ else None,
    )


async def posts_between(
    session: AsyncSession,
    principal: Principal,
    start: datetime,
    end: datetime,
    *,
    account_ids: list[uuid.UUID] | None = None,
    statuses: list[str] | None = None,
    platforms_: list[str] | None = None,
) -> list[Post]:
    """The workspace's posts due in [start, end), earliest first (the calendar)."""
    window = calendar_window(principal, start, end, account_ids=account_ids, statuses=statuses, platforms_=platforms_)
    return await repository.posts_between(session, window)

