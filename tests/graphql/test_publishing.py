"""Post mutations, the calendar and postProgress over HTTP and a real websocket: the wiring.

The rules themselves are tested on the service (tests/publishing/test_service.py); here each
mutation reaches it with the right ids, permission and payload, refusals land where they
should (permissions top-level, the rest in the payload), and the subscription streams.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import websockets
from sqlalchemy import text

from clipflow_api.models import Post, SocialAccount, User
from clipflow_api.publishing.progress import post_channel, publish_post_progress
from clipflow_api.storage import get_storage
from clipflow_worker.pipeline.ffmpeg import run_ffmpeg
from tests.fixtures import builders
from tests.graphql.conftest import Api, errors_of, gid, until_subscribed

ERR = "errors { field code message }"
POST = "id status scheduledAt groupId approvalComment uploadProgress publishAttempts nextAttemptAt platformOptions"


@pytest.fixture(scope="module")
def video_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 4 s 9:16 H.264/AAC MP4 with fast start: every platform takes it."""
    path = tmp_path_factory.mktemp("video") / "good.mp4"
    run_ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=360x640:rate=30:duration=4", "-f", "lavfi", "-i", "sine=duration=4",
                "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest",
                "-movflags", "+faststart", "-y", str(path)], timeout=60)
    return path


class Team:
    """A workspace with a member per role, a clip rendered 9:16 in storage, and accounts."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.tokens: dict[str, str] = {}
        self.ids: dict[str, Any] = {}

    async def call(self, role: str, query: str, **variables: Any) -> dict[str, Any]:
        return await self.api.gql(query, variables, token=self.tokens[role], workspace=self.ws)

    async def ok(self, role: str, query: str, **variables: Any) -> dict[str, Any]:
        body = await self.call(role, query, **variables)
        assert body.get("errors") is None, body
        result = body["data"]["r"]
        assert result["errors"] == [], result
        return result


@pytest.fixture
async def team(api: Api, committed, video_file: Path) -> Team:
    t = Team(api)
    t.ws = await builders.workspace(committed)
    for role in ("editor", "scheduler", "viewer", "client"):
        _, t.tokens[role] = await builders.member(committed, t.ws, role)
    key = f"clips/{uuid.uuid4()}/9x16.mp4"
    await asyncio.to_thread(get_storage().put_file, key, video_file)
    video = await builders.video(committed, t.ws)
    clip = await builders.clip(committed, video, 0, title="Launch", file_urls={"9:16": key})
    accounts = {
        "tiktok": SocialAccount(workspace_id=t.ws.id, platform="tiktok", platform_user_id=uuid.uuid4().hex, username="tt", access_token="x"),
        "youtube": SocialAccount(workspace_id=t.ws.id, platform="youtube", platform_user_id=uuid.uuid4().hex, username="yt", access_token="x"),
        "dead": SocialAccount(workspace_id=t.ws.id, platform="tiktok", platform_user_id=uuid.uuid4().hex, username="dead",
                              access_token="x", status="reconnect_required", last_error="Revoked."),
    }
    committed.add_all(accounts.values())
    await committed.flush()
    t.committed = committed
    t.key = key
    t.clip_id = clip.id
    t.accounts = accounts
    t.ids = {"clip": gid("Clip", clip.id), **{name: gid("SocialAccount", a.id) for name, a in accounts.items()}}
    await committed.commit()
    return t


async def _post(t: Team, account: str, status: str, **kw: Any) -> str:
    """A post written directly in any state: its global id."""
    post = Post(workspace_id=t.ws.id, social_account_id=t.accounts[account].id, clip_id=t.clip_id, media_urls=[t.key],
                media_type="video", created_by=t.ws.owner_id, status=status, **kw)
    t.committed.add(post)
    await t.committed.commit()
    return gid("Post", post.id)


def _at(hours: float) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).replace(microsecond=0).isoformat()


CREATE = f"""mutation($in: PostCreateInput!) {{ r: postCreate(input: $in) {{
    posts {{ {POST} socialAccount {{ id }} clip {{ id }} }} groupId {ERR} }} }}"""


async def test_post_create_returns_the_group(team: Team) -> None:
    t = team
    result = await t.ok("editor", CREATE, **{"in": {
        "clipId": t.ids["clip"], "socialAccountIds": [t.ids["tiktok"], t.ids["youtube"]], "caption": "Hi", "hashtags": ["#go"],
        "youtube": {"privacy": "UNLISTED", "madeForKids": False}, "tiktok": {"privacyLevel": "SELF_ONLY", "disableStitch": True},
    }})
    posts = result["posts"]
    assert [p["socialAccount"]["id"] for p in posts] == [t.ids["tiktok"], t.ids["youtube"]]
    assert {p["groupId"] for p in posts} == {result["groupId"]}
    assert [(p["status"], p["clip"]["id"], p["uploadProgress"], p["publishAttempts"]) for p in posts] == [("DRAFT", t.ids["clip"], 0, 0)] * 2
    assert [p["platformOptions"] for p in posts] == [
        {"privacy_level": "SELF_ONLY", "disable_stitch": True},
        {"title": "Launch", "privacy_status": "unlisted", "made_for_kids": False},
    ]


async def test_refusals_come_back_in_the_payload(team: Team) -> None:
    t = team
    body = await t.call("editor", CREATE, **{"in": {"clipId": t.ids["clip"], "socialAccountIds": [t.ids["dead"]]}})
    assert body["data"]["r"] == {"posts": None, "groupId": None, "errors": [{
        "field": "socialAccountIds", "code": "RECONNECT_REQUIRED",
        "message": "Connect @dead on TikTok again before publishing to it: Revoked."}]}
    # an id of another type is a payload error too
    body = await t.call("editor", CREATE, **{"in": {"clipId": t.ids["tiktok"], "socialAccountIds": [t.ids["tiktok"]]}})
    assert [(e["field"], e["code"]) for e in body["data"]["r"]["errors"]] == [("clipId", "INVALID")]
    count = (await t.committed.execute(text("SELECT count(*) FROM posts WHERE workspace_id = :w"), {"w": t.ws.id})).scalar()
    assert count == 0


@pytest.mark.parametrize(("role", "mutation"), [
    ("viewer", "postCreate(input: {clipId: $c, socialAccountIds: [$a]}) { posts { id } "),
    ("editor", "postSchedule(id: $p, at: \"2099-01-01T00:00:00Z\") { post { id } "),
    ("editor", "postCancel(id: $p) { post { id } "),
    ("scheduler", "postApprove(id: $p) { post { id } "),
    ("scheduler", "postReject(id: $p, comment: \"no\") { post { id } "),
    ("client", "postPublishNow(id: $p) { post { id } "),
    ("client", "postUpdate(id: $p, input: {caption: \"x\"}) { post { id } "),
])
async def test_permission_refusals_by_role(team: Team, role: str, mutation: str) -> None:
    t = team
    post = await _post(t, "tiktok", "draft")
    values = {"c": t.ids["clip"], "a": t.ids["tiktok"], "p": post}
    used = {name: value for name, value in values.items() if f"${name}" in mutation}
    decl = ", ".join(f"${name}: ID!" for name in used)
    body = await t.call(role, f"mutation({decl}) {{ r: {mutation} {ERR} }} }}", **used)
    assert body["data"] == {"r": None}
    assert errors_of(body) == ["PERMISSION_DENIED"]
    assert (await t.committed.execute(text("SELECT count(*) FROM audit_logs WHERE workspace_id = :w"), {"w": t.ws.id})).scalar() == 0


def _m(name: str, extra: str = "") -> str:
    """``name(id: $id, <extra>)`` selecting the post; ``extra`` is ``"at"`` or ``"comment"``."""
    types = {"at": "DateTime!", "comment": "String!"}
    decl = f", ${extra}: {types[extra]}" if extra else ""
    arg = f", {extra}: ${extra}" if extra else ""
    return f"mutation($id: ID!{decl}) {{ r: {name}(id: $id{arg}) {{ post {{ {POST} }} {ERR} }} }}"


SCHEDULE = _m("postSchedule", "at")
RESCHEDULE = _m("postReschedule", "at")
REJECT = _m("postReject", "comment")
UPDATE = f"mutation($id: ID!, $in: PostUpdateInput!) {{ r: postUpdate(id: $id, input: $in) {{ post {{ {POST} caption }} {ERR} }} }}"


async def test_the_approval_flow_over_http(team: Team) -> None:
    t = team
    await t.committed.execute(text("UPDATE workspaces SET settings = '{\"require_post_approval\": true}' WHERE id = :w"), {"w": t.ws.id})
    await t.committed.commit()
    post = await _post(t, "tiktok", "draft", caption="Hi")
    at = _at(3)
    assert (await t.ok("scheduler", SCHEDULE, id=post, at=at))["post"]["status"] == "PENDING_APPROVAL"
    rejected = (await t.ok("client", REJECT, id=post, comment="Say more."))["post"]
    assert (rejected["status"], rejected["approvalComment"]) == ("REJECTED", "Say more.")
    edited = (await t.ok("editor", UPDATE, id=post, **{"in": {"caption": "Hi, friends", "tiktok": {"disableDuet": True}}}))["post"]
    assert (edited["status"], edited["caption"], edited["platformOptions"]) == ("PENDING_APPROVAL", "Hi, friends", {"disable_duet": True})
    approved = (await t.ok("client", _m("postApprove"), id=post))["post"]
    assert (approved["status"], approved["scheduledAt"]) == ("SCHEDULED", at)
    later = _at(5)
    assert (await t.ok("scheduler", RESCHEDULE, id=post, at=later))["post"]["scheduledAt"] == later
    assert (await t.ok("scheduler", _m("postPublishNow"), id=post))["post"]["status"] == "SCHEDULED"
    assert (await t.ok("scheduler", _m("postCancel"), id=post))["post"]["status"] == "CANCELLED"
    events = (await t.committed.execute(text("SELECT type FROM outbox_events WHERE workspace_id = :w"), {"w": t.ws.id})).scalars().all()
    assert sorted(events) == ["post.scheduled"] * 3  # approved, rescheduled, moved to now


async def test_retry_and_refused_states_over_http(team: Team) -> None:
    t = team
    failed = await _post(t, "tiktok", "failed", publish_error="TikTok refused the video.")
    retried = (await t.ok("scheduler", _m("postRetry"), id=failed))["post"]
    assert retried["status"] == "SCHEDULED"
    published = await _post(t, "tiktok", "published")
    body = await t.call("scheduler", _m("postRetry"), id=published)
    assert body["data"]["r"] == {"post": None, "errors": [
        {"field": "status", "code": "CONFLICT", "message": "This post is published; only a failed post can be retried."}]}
    body = await t.call("scheduler", SCHEDULE, id=await _post(t, "tiktok", "draft"), at="2000-01-01T00:00:00Z")
    assert body["data"]["r"]["errors"] == [{"field": "at", "code": "INVALID", "message": "Choose a time in the future."}]


CALENDAR = """query($from: DateTime!, $to: DateTime!, $f: PostCalendarFilterInput, $first: Int, $after: String) {
  postsCalendar(from: $from, to: $to, filter: $f, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } nodes { id scheduledAt socialAccount { platform } } } }"""


async def test_the_calendar(team: Team) -> None:
    t = team
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    a = await _post(t, "tiktok", "scheduled", scheduled_at=start + timedelta(hours=1))
    b = await _post(t, "youtube", "scheduled", scheduled_at=start + timedelta(hours=2))
    c = await _post(t, "tiktok", "published", scheduled_at=start + timedelta(hours=3))
    await _post(t, "tiktok", "scheduled", scheduled_at=start + timedelta(days=2))  # after the window
    window = {"from": start.isoformat(), "to": (start + timedelta(days=1)).isoformat()}
    body = await t.call("viewer", CALENDAR, **window)
    page = body["data"]["postsCalendar"]
    assert (page["totalCount"], [n["id"] for n in page["nodes"]]) == (3, [a, b, c])
    body = await t.call("viewer", CALENDAR, **window, f={"platforms": ["TIKTOK"], "statuses": ["SCHEDULED"]})
    assert [n["id"] for n in body["data"]["postsCalendar"]["nodes"]] == [a]
    body = await t.call("viewer", CALENDAR, **window, f={"socialAccountIds": [t.ids["youtube"]]})
    assert [n["id"] for n in body["data"]["postsCalendar"]["nodes"]] == [b]
    first = (await t.call("viewer", CALENDAR, **window, first=2))["data"]["postsCalendar"]
    assert ([n["id"] for n in first["nodes"]], first["pageInfo"]["hasNextPage"]) == ([a, b], True)
    rest = (await t.call("viewer", CALENDAR, **window, first=2, after=first["pageInfo"]["endCursor"]))["data"]["postsCalendar"]
    assert [n["id"] for n in rest["nodes"]] == [c]
    # a window the wrong way round is a request error
    body = await t.call("viewer", CALENDAR, **{"from": window["to"], "to": window["from"]})
    assert (errors_of(body), body["errors"][0]["message"]) == (["BAD_REQUEST"], "The end must come after the start.")


async def test_the_calendar_needs_post_read(api: Api, committed) -> None:
    # an API key of the workspace scoped to videos only
    ws = await builders.workspace(committed)
    await builders.subscribe(committed, ws, "pro")
    owner = await committed.get(User, ws.owner_id)
    _, secret = await builders.api_key(committed, owner, ws, scopes=["video:read"])
    await committed.commit()
    body = await api.gql(CALENDAR, {"from": "2030-01-01T00:00:00Z", "to": "2030-01-02T00:00:00Z"}, token=secret, workspace=ws)
    assert errors_of(body) == ["PERMISSION_DENIED"]


# --- postProgress over a websocket ----------------------------------------------------------------

SUB = "subscription($id: ID!) { postProgress(postId: $id) { postId status uploadProgress message error } }"


async def _subscribe(server: str, token: str, ws_id: Any, post_id: str) -> Any:
    conn = await websockets.connect(server, subprotocols=["graphql-transport-ws"])
    await conn.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}", "workspaceId": str(ws_id)}}))
    assert json.loads(await conn.recv())["type"] == "connection_ack"
    await conn.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUB, "variables": {"id": post_id}}}))
    return conn


async def test_post_progress_streams_until_published(server, committed, redis) -> None:
    owner = await builders.user(committed)
    ws = await builders.workspace(committed, owner)
    account = SocialAccount(workspace_id=ws.id, platform="tiktok", platform_user_id=uuid.uuid4().hex, access_token="x")
    committed.add(account)
    await committed.flush()
    post = Post(workspace_id=ws.id, social_account_id=account.id, media_urls=["x.mp4"], media_type="video", created_by=owner.id,
                status="publishing", upload_progress=10)
    committed.add(post)
    token = await builders.token(committed, owner)
    await committed.commit()
    steps = [("publishing", 40, "Uploading"), ("publishing", 100, "Processing on TikTok"), ("published", 100, "Published")]

    async def publish() -> None:
        await until_subscribed(redis, post_channel(post.id))
        await publish_post_progress(redis, post_id=uuid.uuid4(), workspace_id=ws.id, status="failed", error="not mine")
        for status, percent, message in steps:
            await publish_post_progress(redis, post_id=post.id, workspace_id=ws.id, status=status, upload_progress=percent,
                                        message=message)

    conn = await _subscribe(server, token, ws.id, gid("Post", post.id))
    try:
        publisher = asyncio.create_task(publish())
        got = []
        while True:
            msg = json.loads(await asyncio.wait_for(conn.recv(), 10))
            if msg["type"] == "complete":
                break
            assert msg["type"] == "next", msg
            got.append(msg["payload"]["data"]["postProgress"])
        await publisher
    finally:
        await conn.close()
    pid = gid("Post", post.id)
    assert got == [
        {"postId": pid, "status": "PUBLISHING", "uploadProgress": 10, "message": None, "error": None},
        *({"postId": pid, "status": s.upper(), "uploadProgress": p, "message": m, "error": None} for s, p, m in steps),
    ]


async def test_another_workspaces_post_cannot_be_watched(server, committed) -> None:
    theirs = await builders.workspace(committed)
    account = SocialAccount(workspace_id=theirs.id, platform="tiktok", platform_user_id=uuid.uuid4().hex, access_token="x")
    committed.add(account)
    await committed.flush()
    post = Post(workspace_id=theirs.id, social_account_id=account.id, media_urls=["x.mp4"], media_type="video",
                created_by=theirs.owner_id)
    committed.add(post)
    owner = await builders.user(committed)
    mine = await builders.workspace(committed, owner)
    token = await builders.token(committed, owner)
    await committed.commit()
    conn = await _subscribe(server, token, mine.id, gid("Post", post.id))
    try:
        msg = json.loads(await asyncio.wait_for(conn.recv(), 10))
    finally:
        await conn.close()
    assert msg["type"] == "error"
    assert [e["message"] for e in msg["payload"]] == ["No such post."]


async def test_the_calendar_costs_the_same_for_more_posts(team: Team) -> None:
    # the tenant, the page, then one batch per relation, however many posts the window holds
    t = team
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    query = """query($from: DateTime!, $to: DateTime!) { postsCalendar(from: $from, to: $to, first: 50) {
        nodes { id socialAccount { username } clip { id } } } }"""
    window = {"from": start.isoformat(), "to": (start + timedelta(days=1)).isoformat()}
    counts = []
    for i in range(8):
        await _post(t, ("tiktok", "youtube")[i % 2], "scheduled", scheduled_at=start + timedelta(minutes=10 * i))
        if i + 1 in (2, 8):
            body, statements = await t.api.count(query, window, token=t.tokens["viewer"], workspace=t.ws)
            assert len(body["data"]["postsCalendar"]["nodes"]) == i + 1
            counts.append(statements)
    assert counts == [4, 4]
