"""The post rules, as the app role (RLS on): create from a clip, edit, schedule, approve, cancel, retry, quotas, calendar.

Rows every test needs are written as the owner; then the session becomes the app role with
the workspace as tenant. Videos are real files (ffmpeg) in a local store, judged by
``conform.check_variant``. Every refusal is checked to write nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from clipflow_api import clock
from clipflow_api.auth.principal import Principal
from clipflow_api.config import get_settings
from clipflow_api.errors import Conflict, NotFound, PermissionDenied, ValidationError
from clipflow_api.jobs.service import AFTER_COMMIT
from clipflow_api.models import Clip, Post, SocialAccount, Workspace
from clipflow_api.publishing import service
from clipflow_api.publishing.service import (
    InstagramOptions,
    PostChanges,
    PostCreateInput,
    TikTokOptions,
    YouTubeOptions,
)
from clipflow_api.storage import LocalStorage
from clipflow_worker.pipeline.ffmpeg import run_ffmpeg
from tests.auth.helpers import principal
from tests.fixtures.builders import use_tenant
from tests.fixtures import builders

DEAD = "The authorization was revoked on TikTok."


def _make_video(path: Path, *, size: str = "360x640", rate: int = 30, seconds: int = 4, faststart: bool = True) -> Path:
    args = ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}:duration={seconds}",
            "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest"]
    if faststart:
        args += ["-movflags", "+faststart"]
    run_ffmpeg([*args, "-y", str(path)], timeout=60)
    return path


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """good: 9:16 that every platform takes; slow_start: no fast start (YouTube/Instagram: fixable);
    short: 2 s (Instagram: unfixable)."""
    folder = tmp_path_factory.mktemp("videos")
    return {
        "good": _make_video(folder / "good.mp4"),
        "slow_start": _make_video(folder / "slow_start.mp4", faststart=False),
        "short": _make_video(folder / "short.mp4", seconds=2),
    }


@dataclass
class World:
    db: AsyncSession
    ws: Workspace
    people: dict[str, Principal]
    accounts: dict[str, SocialAccount]
    clip: Clip  # 9:16 is "good"
    storage: LocalStorage
    other_clip: Clip  # another workspace's
    other_account: SocialAccount
    keys: dict[str, str] = field(default_factory=dict)

    async def as_(self, role: str = "owner") -> Principal:
        who = self.people[role]
        await use_tenant(self.db, who.workspace_id, who.user_id)
        return who


def _account(ws: Workspace, platform: str, username: str, **kw: Any) -> SocialAccount:
    return SocialAccount(workspace_id=ws.id, platform=platform, platform_user_id=uuid.uuid4().hex, username=username,
                         access_token="v1:enc", **kw)


@pytest.fixture
async def world(connection: AsyncConnection, db: AsyncSession, tmp_path: Path, videos: dict[str, Path]) -> World:
    owner = await builders.user(db)
    ws = await builders.workspace(db, owner)
    people = {"owner": principal(owner.id, ws.id, "owner")}
    for role in ("editor", "scheduler", "viewer", "client"):
        user, _ = await builders.member(db, ws, role)
        people[role] = principal(user.id, ws.id, role)
    storage = LocalStorage(tmp_path / "files", secret="test-secret", base_url="http://files.test")
    keys = {}
    for name, path in videos.items():
        keys[name] = f"clips/{uuid.uuid4()}/{name}.mp4"
        storage.put_file(keys[name], path)
    video = await builders.video(db, ws)
    clip = await builders.clip(db, video, 0, title="Launch day", file_urls={"9:16": keys["good"], "16:9": "clips/x/wide.mp4"},
                               thumbnail_url="clips/x/thumb.jpg")
    accounts = {
        "youtube": _account(ws, "youtube", "yt"),
        "tiktok": _account(ws, "tiktok", "tt", platform_data={"creator_info": {
            "privacy_level_options": ["PUBLIC_TO_EVERYONE", "SELF_ONLY"], "max_video_post_duration_sec": 60}}),
        "instagram": _account(ws, "instagram", "ig"),
        "dead": _account(ws, "tiktok", "dead", status="reconnect_required", last_error=DEAD),
        "facebook": _account(ws, "facebook", "fb"),
    }
    other = await builders.workspace(db)
    other_video = await builders.video(db, other)
    other_clip = await builders.clip(db, other_video, 0, file_urls={"9:16": keys["good"]})
    other_account = _account(other, "tiktok", "theirs")
    db.add_all([*accounts.values(), other_account])
    await db.flush()
    await connection.execute(text(f'SET LOCAL ROLE "{get_settings().db_app_role}"'))
    await use_tenant(db, ws.id, owner.id)
    return World(db=db, ws=ws, people=people, accounts=accounts, clip=clip, storage=storage, other_clip=other_clip,
                 other_account=other_account, keys=keys)


async def _state(owner_sql, ws: Workspace) -> dict[str, Any]:
    """Everything a post action may write in the workspace: posts, audit entries, outbox events, jobs."""
    posts = await owner_sql("SELECT row_to_json(p)::text FROM posts p WHERE workspace_id = :w ORDER BY id", w=ws.id)
    counts = {}
    for table in ("audit_logs", "outbox_events", "jobs"):
        counts[table] = (await owner_sql(f"SELECT count(*) FROM {table} WHERE workspace_id = :w", w=ws.id))[0][0]
    return {"posts": [r[0] for r in posts], **counts}


async def _audit(owner_sql, post_id: uuid.UUID, action: str | None = None) -> list[tuple[str, dict]]:
    """The post's audit entries (of ``action``), in a stable order (one transaction stamps them all alike)."""
    rows = await owner_sql("SELECT action, details FROM audit_logs WHERE resource_id = :p AND (CAST(:a AS text) IS NULL OR action = :a) "
                           "ORDER BY action, details::text", p=post_id, a=action)
    return [(r[0], r[1]) for r in rows]


async def _events(owner_sql, ws: Workspace) -> list[tuple[str, dict]]:
    rows = await owner_sql("SELECT type, payload FROM outbox_events WHERE workspace_id = :w ORDER BY created_at, id", w=ws.id)
    return [(r[0], r[1]) for r in rows]


def _handed_over(db: AsyncSession) -> int:
    """How many publish hand-overs wait for the commit (queue.request_publish)."""
    return len(db.info.get(AFTER_COMMIT, []))


async def _draft(w: World, account: str = "tiktok", **kw: Any) -> Post:
    who = await w.as_("owner")
    data = PostCreateInput(clip_id=w.clip.id, social_account_ids=[w.accounts[account].id], caption=kw.pop("caption", "Hello"), **kw)
    group = await service.create_posts(w.db, who, data)
    return group.posts[0]


async def _post_row(w: World, account: str, status: str, key: str = "good", **kw: Any) -> Post:
    """A post written directly (as the app role, in the workspace), in any state."""
    post = Post(workspace_id=w.ws.id, social_account_id=w.accounts[account].id, clip_id=w.clip.id, media_urls=[w.keys[key]],
                media_type="video", created_by=w.people["owner"].user_id, status=status, **kw)
    w.db.add(post)
    await w.db.flush()
    return post


async def _require_approval(w: World, owner_sql) -> None:
    await owner_sql("UPDATE workspaces SET settings = '{\"require_post_approval\": true}' WHERE id = :w", w=w.ws.id)
    await w.db.refresh(w.ws)  # the session's copy


def _soon(hours: float = 2) -> datetime:
    return (clock.now() + timedelta(hours=hours)).replace(microsecond=0)


# --- create --------------------------------------------------------------------------------------


async def test_create_makes_one_draft_per_account_in_one_group(world: World, owner_sql) -> None:
    w = world
    who = await w.as_("editor")
    data = PostCreateInput(
        clip_id=w.clip.id,
        social_account_ids=[w.accounts["youtube"].id, w.accounts["tiktok"].id, w.accounts["instagram"].id],
        caption="  Big news  ", hashtags=["#launch", "launch", "go_live"], mentions=["@friend"],
        youtube=YouTubeOptions(privacy="public", category_id="28", made_for_kids=False),
        tiktok=TikTokOptions(privacy_level="SELF_ONLY", disable_duet=True),
        instagram=InstagramOptions(share_to_feed=False, thumb_offset_ms=1500, first_comment="Link in bio"),
    )
    group = await service.create_posts(w.db, who, data)
    rows = await owner_sql(
        "SELECT p.id, a.platform, p.group_id, p.status, p.caption, p.hashtags, p.mentions, p.media_urls, p.media_type, "
        "p.thumbnail_url, p.platform_options, p.created_by, p.needs_approval, p.clip_id FROM posts p "
        "JOIN social_accounts a ON a.id = p.social_account_id WHERE p.workspace_id = :w", w=w.ws.id)
    by_platform = {r[1]: r for r in rows}
    assert [p.id for p in group.posts] == [by_platform[k][0] for k in ("youtube", "tiktok", "instagram")]
    assert {r[2] for r in rows} == {group.group_id}
    for r in rows:
        assert r[3:10] == ("draft", "Big news", ["launch", "go_live"], ["friend"], [w.keys["good"]], "video", "clips/x/thumb.jpg")
        assert (r[11], r[12], r[13]) == (who.user_id, False, w.clip.id)
    assert by_platform["youtube"][10] == {"title": "Launch day", "privacy_status": "public", "category_id": "28", "made_for_kids": False}
    assert by_platform["tiktok"][10] == {"privacy_level": "SELF_ONLY", "disable_duet": True}
    assert by_platform["instagram"][10] == {"share_to_feed": False, "thumb_offset_ms": 1500, "first_comment": "Link in bio"}
    assert await _audit(owner_sql, group.posts[1].id) == [("post.create", {
        "group_id": str(group.group_id), "clip_id": str(w.clip.id), "social_account_id": str(w.accounts["tiktok"].id),
        "platform": "tiktok"})]


CREATE_REFUSALS = [
    ("no accounts", lambda w: {"social_account_ids": []}, ValidationError, "REQUIRED", "Choose at least one account to post to.", "socialAccountIds"),
    ("another workspace's account", lambda w: {"social_account_ids": [w.accounts["tiktok"].id, w.other_account.id]},
     NotFound, "NOT_FOUND", "No such social account.", "socialAccountIds"),
    ("another workspace's clip", lambda w: {"clip_id": w.other_clip.id}, NotFound, "NOT_FOUND", "No such clip.", "clipId"),
    ("an account to reconnect", lambda w: {"social_account_ids": [w.accounts["dead"].id]}, Conflict, "RECONNECT_REQUIRED",
     f"Connect @dead on TikTok again before publishing to it: {DEAD}", "socialAccountIds"),
    ("a platform not published to yet", lambda w: {"social_account_ids": [w.accounts["facebook"].id]}, ValidationError, "INVALID",
     "Publishing to Facebook is not available yet.", "socialAccountIds"),
    ("options of a platform not chosen", lambda w: {"youtube": YouTubeOptions(title="T")}, ValidationError, "INVALID",
     "No YouTube account is chosen: leave out the YouTube options.", "youtube"),
    ("a privacy level the account does not offer", lambda w: {"tiktok": TikTokOptions(privacy_level="FOLLOWER_OF_CREATOR")},
     ValidationError, "INVALID", "@tt on TikTok does not offer FOLLOWER_OF_CREATOR; it offers PUBLIC_TO_EVERYONE, SELF_ONLY.",
     "tiktok.privacyLevel"),
    ("an unknown privacy level", lambda w: {"tiktok": TikTokOptions(privacy_level="FRIENDS")}, ValidationError, "INVALID",
     "The privacy level is PUBLIC_TO_EVERYONE, MUTUAL_FOLLOW_FRIENDS, FOLLOWER_OF_CREATOR or SELF_ONLY.", "tiktok.privacyLevel"),
    ("a hashtag with a dash", lambda w: {"hashtags": ["#no-dash"]}, ValidationError, "INVALID",
     "The hashtag “#no-dash” may only contain letters, numbers and underscores.", "hashtags"),
    ("six hashtags on Instagram", lambda w: {"social_account_ids": [w.accounts["instagram"].id], "hashtags": list("abcdef")},
     ValidationError, "INVALID", "The post has 6 hashtags; Instagram allows at most 5.", "caption"),
    ("a YouTube title with <", lambda w: {"social_account_ids": [w.accounts["youtube"].id], "youtube": YouTubeOptions(title="a <b>")},
     ValidationError, "INVALID", "YouTube titles cannot contain < or >.", "caption"),
    ("a cover frame past the end", lambda w: {"social_account_ids": [w.accounts["instagram"].id],
                                                  "instagram": InstagramOptions(thumb_offset_ms=9000)},
     ValidationError, "INVALID", "The cover frame must be within the video.", "instagram.thumbOffsetMs"),
]


@pytest.mark.parametrize(("case", "change", "error", "code", "message", "field"), CREATE_REFUSALS, ids=[c[0] for c in CREATE_REFUSALS])
async def test_refused_creates_write_nothing(world: World, owner_sql, case, change, error, code, message, field) -> None:
    w = world
    before = await _state(owner_sql, w.ws)
    who = await w.as_("editor")
    data = PostCreateInput(clip_id=w.clip.id, social_account_ids=[w.accounts["tiktok"].id], caption="Hi")
    for name, value in change(w).items():
        setattr(data, name, value)
    with pytest.raises(error) as err:
        await service.create_posts(w.db, who, data)
    assert (err.value.code, err.value.message, err.value.field) == (code, message, field)
    assert await _state(owner_sql, w.ws) == before


async def test_a_clip_without_the_platforms_format_is_not_ready(world: World, owner_sql) -> None:
    w = world
    await owner_sql("UPDATE clips SET file_urls = '{\"16:9\": \"clips/x/wide.mp4\"}' WHERE id = :c", c=w.clip.id)
    await w.db.refresh(w.clip)
    before = await _state(owner_sql, w.ws)
    with pytest.raises(Conflict) as err:
        await _draft(w, "instagram")
    assert (err.value.code, err.value.message, err.value.field) == (
        "MEDIA_NOT_READY", "The clip has no 9:16 version for Instagram yet: render it first.", "clipId")
    assert await _state(owner_sql, w.ws) == before


@pytest.mark.parametrize("role", ["viewer", "client"])
async def test_creating_needs_post_write(world: World, owner_sql, role: str) -> None:
    w = world
    before = await _state(owner_sql, w.ws)
    who = await w.as_(role)
    with pytest.raises(PermissionDenied) as err:
        await service.create_posts(w.db, who, PostCreateInput(clip_id=w.clip.id, social_account_ids=[w.accounts["tiktok"].id]))
    assert err.value.message == "You need the post:write permission in this workspace."
    assert await _state(owner_sql, w.ws) == before


async def test_another_workspaces_post_is_not_found(world: World, owner_sql) -> None:
    w = world
    theirs = (await owner_sql(
        "INSERT INTO posts (workspace_id, social_account_id, media_urls, media_type, created_by) "
        "SELECT workspace_id, id, ARRAY['x.mp4'], 'video', :u FROM social_accounts WHERE id = :a RETURNING id",
        a=w.other_account.id, u=w.people["owner"].user_id))[0][0]
    who = await w.as_("owner")
    for call in (service.update_post(w.db, who, theirs, PostChanges(caption="mine")),
                 service.schedule_post(w.db, who, theirs, _soon(), storage=w.storage), service.cancel_post(w.db, who, theirs)):
        with pytest.raises(NotFound) as err:
            await call
        assert (err.value.message, err.value.field) == ("No such post.", "id")


# --- schedule, without approval --------------------------------------------------------------------------


async def test_schedule_queues_the_post_and_announces_it(world: World, owner_sql) -> None:
    w = world
    post = await _draft(w, "tiktok")
    at = _soon(3)
    who = await w.as_("scheduler")
    result = await service.schedule_post(w.db, who, post.id, at, storage=w.storage)
    assert (result.status, result.scheduled_at, result.needs_approval) == ("scheduled", at, False)
    assert _handed_over(w.db) == 1
    assert await _events(owner_sql, w.ws) == [("post.scheduled", {
        "post_id": str(post.id), "group_id": str(post.group_id), "social_account_id": str(w.accounts["tiktok"].id),
        "platform": "tiktok", "scheduled_at": at.isoformat()})]
    assert await _audit(owner_sql, post.id, "post.schedule") == [("post.schedule", {"from": "draft", "to": "scheduled", "at": at.isoformat()})]


SCHEDULE_REFUSALS = [
    ("in the past", lambda: clock.now() - timedelta(minutes=5), ValidationError, "INVALID", "Choose a time in the future.", "at"),
    ("without a zone", lambda: datetime(2031, 1, 1, 12), ValidationError, "INVALID",
     "Give the time with its UTC offset (e.g. 2030-01-31T18:00:00Z).", "at"),
    ("over a year ahead", lambda: clock.now() + timedelta(days=400), ValidationError, "INVALID",
     "Posts can be scheduled at most a year ahead.", "at"),
]


@pytest.mark.parametrize(("case", "at", "error", "code", "message", "field"), SCHEDULE_REFUSALS, ids=[c[0] for c in SCHEDULE_REFUSALS])
async def test_refused_times_change_nothing(world: World, owner_sql, case, at, error, code, message, field) -> None:
    w = world
    post = await _draft(w)
    before = await _state(owner_sql, w.ws)
    with pytest.raises(error) as err:
        await service.schedule_post(w.db, await w.as_("scheduler"), post.id, at(), storage=w.storage)
    assert (err.value.code, err.value.message, err.value.field) == (code, message, field)
    assert await _state(owner_sql, w.ws) == before
    assert _handed_over(w.db) == 0


async def test_scheduling_needs_post_schedule(world: World, owner_sql) -> None:
    w = world
    post = await _draft(w)
    before = await _state(owner_sql, w.ws)
    with pytest.raises(PermissionDenied) as err:
        await service.schedule_post(w.db, await w.as_("editor"), post.id, _soon(), storage=w.storage)
    assert err.value.message == "You need the post:schedule permission in this workspace."
    assert await _state(owner_sql, w.ws) == before


async def test_an_account_to_reconnect_cannot_be_scheduled(world: World, owner_sql) -> None:
    w = world
    post = await _post_row(w, "dead", "draft")
    before = await _state(owner_sql, w.ws)
    with pytest.raises(Conflict) as err:
        await service.schedule_post(w.db, await w.as_("owner"), post.id, _soon(), storage=w.storage)
    assert (err.value.code, err.value.field) == ("RECONNECT_REQUIRED", "id")
    assert await _state(owner_sql, w.ws) == before


async def test_unfixable_media_is_refused_with_its_problems(world: World, owner_sql) -> None:
    w = world
    post = await _post_row(w, "instagram", "draft", key="short")
    before = await _state(owner_sql, w.ws)
    with pytest.raises(ValidationError) as err:
        await service.schedule_post(w.db, await w.as_("owner"), post.id, _soon(), storage=w.storage)
    assert (err.value.code, err.value.message, err.value.field) == (
        "MEDIA_UNSUPPORTED",
        "This video cannot be published on Instagram: The video is 2 seconds long; Instagram Reels must be at least 3 seconds.",
        "id")
    assert await _state(owner_sql, w.ws) == before


async def test_fixable_media_is_scheduled_and_conformed(world: World, owner_sql) -> None:
    w = world
    post = await _post_row(w, "youtube", "draft", key="slow_start")
    result = await service.schedule_post(w.db, await w.as_("owner"), post.id, _soon(), storage=w.storage)
    assert result.status == "scheduled"
    jobs = await owner_sql("SELECT type, post_id, status, input_data->>'source_key' FROM jobs WHERE workspace_id = :w", w=w.ws.id)
    assert [tuple(j) for j in jobs] == [("post_conform", post.id, "pending", w.keys["slow_start"])]


async def test_only_a_draft_is_scheduled(world: World, owner_sql) -> None:
    w = world
    expected = {
        "scheduled": "This post is scheduled; reschedule it instead.",
        "failed": "This post failed; retry it instead.",
        "rejected": "This post was rejected; edit it to send it for approval again.",
        "published": "This post is published; it cannot be scheduled.",
        "publishing": "This post is being published; it cannot be scheduled.",
    }
    who = await w.as_("owner")
    for status, message in expected.items():
        post = await _post_row(w, "tiktok", status)
        before = await _state(owner_sql, w.ws)
        with pytest.raises(Conflict) as err:
            await service.schedule_post(w.db, who, post.id, _soon(), storage=w.storage)
        assert (err.value.code, err.value.message, err.value.field) == ("CONFLICT", message, "status")
        assert await _state(owner_sql, w.ws) == before


async def test_publish_now_schedules_a_draft_for_now(world: World, owner_sql) -> None:
    w = world
    post = await _draft(w)
    started = clock.now()
    result = await service.publish_now(w.db, await w.as_("scheduler"), post.id, storage=w.storage)
    assert result.status == "scheduled"
    assert started <= result.scheduled_at <= clock.now()
    assert _handed_over(w.db) == 1
    assert [a[0] for a in await _audit(owner_sql, post.id)] == ["post.create", "post.publish_now"]


async def test_reschedule_moves_a_scheduled_post(world: World, owner_sql) -> None:
    w = world
    first, then = _soon(2), _soon(5)
    post = await _post_row(w, "tiktok", "scheduled", scheduled_at=first)
    result = await service.reschedule_post(w.db, await w.as_("scheduler"), post.id, then)
    assert (result.status, result.scheduled_at) == ("scheduled", then)
    assert _handed_over(w.db) == 1
    assert [e[1]["scheduled_at"] for e in await _events(owner_sql, w.ws)] == [then.isoformat()]
    assert (await _audit(owner_sql, post.id)) == [("post.reschedule", {"from": first.isoformat(), "to": then.isoformat(), "status": "scheduled"})]


async def test_a_draft_is_scheduled_not_rescheduled(world: World, owner_sql) -> None:
    w = world
    post = await _draft(w)
    before = await _state(owner_sql, w.ws)
    with pytest.raises(Conflict) as err:
        await service.reschedule_post(w.db, await w.as_("scheduler"), post.id, _soon())
    assert err.value.message == "This post is a draft; schedule it instead."
    assert await _state(owner_sql, w.ws) == before


async def test_cancel(world: World, owner_sql) -> None:
    w = world
    post = await _post_row(w, "tiktok", "scheduled", scheduled_at=_soon())
    result = await service.cancel_post(w.db, await w.as_("scheduler"), post.id)
    assert result.status == "cancelled"
    assert await _audit(owner_sql, post.id) == [("post.cancel", {"from": "scheduled"})]
    done = await _post_row(w, "tiktok", "published")
    before = await _state(owner_sql, w.ws)
    with pytest.raises(Conflict) as err:
        await service.cancel_post(w.db, await w.as_("scheduler"), done.id)
    assert (err.value.code, err.value.message) == ("CONFLICT", "This post is published; it cannot be cancelled.")
    assert await _state(owner_sql, w.ws) == before


async def test_retry_after_the_cause_is_fixed(world: World, owner_sql) -> None:
    w = world
    post = await _post_row(w, "dead", "failed", scheduled_at=clock.now() - timedelta(hours=1), publish_error="Token revoked.",
                           publish_attempts=2)
    who = await w.as_("scheduler")
    before = await _state(owner_sql, w.ws)
    # while the account needs reconnecting, nothing moves
    with pytest.raises(Conflict) as err:
        await service.retry_post(w.db, who, post.id, storage=w.storage)
    assert err.value.code == "RECONNECT_REQUIRED"
    assert await _state(owner_sql, w.ws) == before
    # once reconnected, it goes out now
    await owner_sql("UPDATE social_accounts SET status = 'active', last_error = NULL WHERE id = :a", a=w.accounts["dead"].id)
    await w.db.refresh(w.accounts["dead"])
    await use_tenant(w.db, who.workspace_id, who.user_id)
    started = clock.now()
    result = await service.retry_post(w.db, who, post.id, storage=w.storage)
    # a failed post is known not to be on the platform: it starts afresh, with every attempt again
    assert (result.status, result.publish_error, result.publish_attempts) == ("scheduled", None, 0)
    assert started <= result.scheduled_at <= clock.now()
    assert _handed_over(w.db) == 1
    assert [a[1]["from"] for a in await _audit(owner_sql, post.id, "post.retry")] == ["failed"]


async def test_only_a_failed_post_is_retried(world: World, owner_sql) -> None:
    w = world
    post = await _post_row(w, "tiktok", "published")
    with pytest.raises(Conflict) as err:
        await service.retry_post(w.db, await w.as_("scheduler"), post.id, storage=w.storage)
    assert err.value.message == "This post is published; only a failed post can be retried."


# --- approval ----------------------------------------------------------------------------------


async def test_approval_flow(world: World, owner_sql) -> None:
    w = world
    await _require_approval(w, owner_sql)
    post = await _draft(w)
    at = _soon(4)
    # scheduling sends it for approval: nothing is queued or announced yet
    result = await service.schedule_post(w.db, await w.as_("scheduler"), post.id, at, storage=w.storage)
    assert (result.status, result.scheduled_at, result.needs_approval) == ("pending_approval", at, True)
    assert (_handed_over(w.db), await _events(owner_sql, w.ws)) == (0, [])
    # a scheduler may not approve
    with pytest.raises(PermissionDenied):
        await service.approve_post(w.db, await w.as_("scheduler"), post.id)
    # the client approves: scheduled at its time, queued and announced
    client = await w.as_("client")
    result = await service.approve_post(w.db, client, post.id)
    assert (result.status, result.scheduled_at, result.approved_by) == ("scheduled", at, client.user_id)
    assert result.approved_at is not None
    assert _handed_over(w.db) == 1
    assert [e[0] for e in await _events(owner_sql, w.ws)] == ["post.scheduled"]
    assert [a[0] for a in await _audit(owner_sql, post.id)] == ["post.approve", "post.create", "post.schedule"]


async def test_reject_then_edit_sends_it_again(world: World, owner_sql) -> None:
    w = world
    await _require_approval(w, owner_sql)
    post = await _post_row(w, "tiktok", "pending_approval", scheduled_at=_soon(), needs_approval=True)
    client = await w.as_("client")
    # a rejection needs a comment
    before = await _state(owner_sql, w.ws)
    with pytest.raises(ValidationError) as err:
        await service.reject_post(w.db, client, post.id, "  ")
    assert (err.value.code, err.value.message, err.value.field) == ("REQUIRED", "This field is required.", "comment")
    assert await _state(owner_sql, w.ws) == before
    result = await service.reject_post(w.db, client, post.id, " Shorter caption, please. ")
    assert (result.status, result.approval_comment) == ("rejected", "Shorter caption, please.")
    # a rejected post cannot be approved
    with pytest.raises(Conflict) as refused:
        await service.approve_post(w.db, client, post.id)
    assert refused.value.message == "This post is rejected; only a post waiting for approval can be approved."
    # the edit sends it for approval again
    result = await service.update_post(w.db, await w.as_("editor"), post.id, PostChanges(caption="Short"))
    assert (result.status, result.caption) == ("pending_approval", "Short")
    assert await _audit(owner_sql, post.id, "post.update") == [
        ("post.update", {"changed": ["caption"], "from": "rejected", "to": "pending_approval"})]


async def test_an_edit_after_approval_needs_approval_again(world: World, owner_sql) -> None:
    w = world
    await _require_approval(w, owner_sql)
    client = w.people["client"]
    post = await _post_row(w, "tiktok", "scheduled", scheduled_at=_soon(), needs_approval=True, approved_by=client.user_id,
                           approved_at=clock.now())
    result = await service.update_post(w.db, await w.as_("editor"), post.id, PostChanges(tiktok=TikTokOptions(disable_comment=True)))
    assert (result.status, result.approved_by, result.approved_at, result.platform_options) == (
        "pending_approval", None, None, {"disable_comment": True})


async def test_an_edit_without_approval_keeps_the_schedule(world: World, owner_sql) -> None:
    w = world
    at = _soon()
    post = await _post_row(w, "youtube", "scheduled", scheduled_at=at, platform_options={"title": "Old", "privacy_status": "public"})
    changes = PostChanges(caption="New words", hashtags=None, youtube=YouTubeOptions(title="New", privacy=None))
    result = await service.update_post(w.db, await w.as_("editor"), post.id, changes)
    assert (result.status, result.scheduled_at, result.caption, result.hashtags, result.platform_options) == (
        "scheduled", at, "New words", None, {"title": "New"})


async def test_posts_on_their_way_cannot_be_edited(world: World, owner_sql) -> None:
    w = world
    for status, words in (("publishing", "being published"), ("published", "published"), ("cancelled", "cancelled")):
        post = await _post_row(w, "tiktok", status)
        before = await _state(owner_sql, w.ws)
        with pytest.raises(Conflict) as err:
            await service.update_post(w.db, await w.as_("editor"), post.id, PostChanges(caption="x"))
        assert (err.value.code, err.value.message, err.value.field) == ("CONFLICT", f"This post is {words}; it cannot be edited.", "status")
        assert await _state(owner_sql, w.ws) == before


async def test_edit_checks_the_platforms_words(world: World, owner_sql) -> None:
    w = world
    post = await _post_row(w, "tiktok", "draft", caption="ok")
    before = await _state(owner_sql, w.ws)
    with pytest.raises(ValidationError) as err:
        await service.update_post(w.db, await w.as_("editor"), post.id, PostChanges(caption="x" * 2300))
    assert err.value.message == "The caption is 2,300 characters with its hashtags and mentions; TikTok allows at most 2,200."
    assert await _state(owner_sql, w.ws) == before


# --- quotas -------------------------------------------------------------------------------------


async def test_the_accounts_cap_holds_in_every_24_hours(world: World, owner_sql) -> None:
    w = world
    await owner_sql(
        "UPDATE social_accounts SET platform_data = '{\"content_publishing_limit\": {\"quota_total\": 2, \"quota_duration\": 86400}}' "
        "WHERE id = :a", a=w.accounts["instagram"].id)
    await w.db.refresh(w.accounts["instagram"])
    t = _soon(48)
    await _post_row(w, "instagram", "scheduled", scheduled_at=t + timedelta(hours=1))
    await _post_row(w, "instagram", "scheduled", scheduled_at=t + timedelta(hours=2))
    await _post_row(w, "instagram", "cancelled", scheduled_at=t)  # cancelled posts take no place
    who = await w.as_("owner")
    post = await _post_row(w, "instagram", "draft")
    before = await _state(owner_sql, w.ws)
    # before both: the 24 hours ending at the second one would hold three
    with pytest.raises(Conflict) as err:
        await service.schedule_post(w.db, who, post.id, t, storage=w.storage)
    assert (err.value.code, err.value.message, err.value.field) == (
        "QUOTA_EXCEEDED",
        ("Instagram takes at most 2 posts from one account in 24 hours; @ig on Instagram already has 2 around that time. "
        "Choose another time."),
        "at")
    assert await _state(owner_sql, w.ws) == before
    # a day after the first: the window holds only the second
    result = await service.schedule_post(w.db, who, post.id, t + timedelta(hours=25, minutes=1), storage=w.storage)
    assert result.status == "scheduled"


async def test_caps_come_from_the_platform_or_the_defaults(world: World) -> None:
    w = world
    ig = w.accounts["instagram"]
    assert service.account_cap(ig) == service.QuotaCap(50, timedelta(hours=24))
    ig.platform_data = {"content_publishing_limit": {"config": {"quota_total": 25, "quota_duration": 3600}}}
    assert service.account_cap(ig) == service.QuotaCap(25, timedelta(hours=1))
    assert service.account_cap(w.accounts["tiktok"]) == service.QuotaCap(15, timedelta(hours=24))


# --- the calendar -------------------------------------------------------------------------------


async def test_calendar_lists_the_window_with_filters(world: World, owner_sql) -> None:
    w = world
    t = _soon(24)
    a = await _post_row(w, "tiktok", "scheduled", scheduled_at=t)
    b = await _post_row(w, "youtube", "published", scheduled_at=t + timedelta(hours=1))
    c = await _post_row(w, "instagram", "draft", scheduled_at=t + timedelta(hours=2))
    await _post_row(w, "tiktok", "scheduled", scheduled_at=t + timedelta(days=3))  # outside
    await _post_row(w, "tiktok", "draft")  # no time: not on the calendar
    await owner_sql(  # another workspace's, inside the window
        "INSERT INTO posts (workspace_id, social_account_id, media_urls, media_type, created_by, scheduled_at, status) "
        "SELECT workspace_id, id, ARRAY['x.mp4'], 'video', :u, :t, 'scheduled' FROM social_accounts WHERE id = :a",
        a=w.other_account.id, u=w.people["owner"].user_id, t=t)
    who = await w.as_("viewer")
    end = t + timedelta(days=1)

    async def ids(**kw: Any) -> list[uuid.UUID]:
        return [p.id for p in await service.posts_between(w.db, who, t, end, **kw)]

    assert await ids() == [a.id, b.id, c.id]
    assert await ids(statuses=["scheduled", "draft"]) == [a.id, c.id]
    assert await ids(platforms_=["youtube", "instagram"]) == [b.id, c.id]
    assert await ids(account_ids=[w.accounts["tiktok"].id]) == [a.id]


@pytest.mark.parametrize(("start", "end", "message", "field"), [
    (0, -1, "The end must come after the start.", "to"),
    (0, 400, "Ask for at most 366 days at once.", "to"),
])
async def test_calendar_windows_are_checked(world: World, start: int, end: int, message: str, field: str) -> None:
    t = clock.now()
    with pytest.raises(ValidationError) as err:
        service.calendar_window(world.people["viewer"], t + timedelta(days=start), t + timedelta(days=end))
    assert (err.value.message, err.value.field) == (message, field)


def test_the_calendar_needs_post_read() -> None:
    nobody = Principal(user_id=uuid.uuid4(), workspace_id=uuid.uuid4(), role=None)
    with pytest.raises(PermissionDenied):
        service.calendar_window(nobody, clock.now(), clock.now() + timedelta(days=1))



async def test_a_failed_post_is_retried_without_a_second_approval(world: World, owner_sql) -> None:
    w = world
    await _require_approval(w, owner_sql)
    post = await _post_row(w, "tiktok", "failed", needs_approval=True, approved_by=w.people["client"].user_id,
                           approved_at=clock.now() - timedelta(hours=2))
    result = await service.retry_post(w.db, await w.as_("scheduler"), post.id, storage=w.storage)
    assert (result.status, result.needs_approval, result.approved_by) == ("scheduled", True, w.people["client"].user_id)


async def test_approving_a_post_whose_time_has_passed_sends_it_now(world: World, owner_sql) -> None:
    w = world
    post = await _post_row(w, "tiktok", "pending_approval", scheduled_at=clock.now() - timedelta(hours=1), needs_approval=True)
    started = clock.now()
    result = await service.approve_post(w.db, await w.as_("client"), post.id)
    assert result.status == "scheduled"
    assert started <= result.scheduled_at <= clock.now()
    assert await _audit(owner_sql, post.id) == [("post.approve", {"at": result.scheduled_at.isoformat()})]


async def test_an_edited_cover_frame_stays_within_the_clip(world: World, owner_sql) -> None:
    w = world
    post = await _post_row(w, "instagram", "draft", platform_options={"share_to_feed": True})
    before = await _state(owner_sql, w.ws)
    with pytest.raises(ValidationError) as err:  # the clip is 8 seconds long
        await service.update_post(w.db, await w.as_("editor"), post.id, PostChanges(instagram=InstagramOptions(thumb_offset_ms=8001)))
    assert (err.value.message, err.value.field) == ("The cover frame must be within the video.", "instagram.thumbOffsetMs")
    assert await _state(owner_sql, w.ws) == before
    result = await service.update_post(w.db, await w.as_("editor"), post.id, PostChanges(instagram=InstagramOptions(thumb_offset_ms=8000)))
    assert result.platform_options == {"share_to_feed": True, "thumb_offset_ms": 8000}


async def test_a_failed_post_edited_after_its_approval_is_approved_again(world: World, owner_sql) -> None:
    w = world
    await _require_approval(w, owner_sql)
    post = await _post_row(w, "tiktok", "failed", needs_approval=True, approved_by=w.people["client"].user_id,
                           approved_at=clock.now() - timedelta(hours=2))
    edited = await service.update_post(w.db, await w.as_("editor"), post.id, PostChanges(caption="Fixed"))
    assert (edited.status, edited.approved_by, edited.approved_at) == ("failed", None, None)
    result = await service.retry_post(w.db, await w.as_("scheduler"), post.id, storage=w.storage)
    assert result.status == "pending_approval"
    assert _handed_over(w.db) == 0
