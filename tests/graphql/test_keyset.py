"""Keyset pagination: cursors name a row's sort key and id, so rows inserted between page
fetches (before the cursor, after it, or with an equal sort key) never shift a page, in
either direction; counts and page info hold for empty pages; cursors are signed and bound
to their list and sort order."""

from __future__ import annotations

import base64
import itertools
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from clipflow_api.models import Clip
from tests.fixtures import builders
from tests.graphql.conftest import Api, errors_of, gid

T0 = datetime(2026, 1, 1, tzinfo=UTC)
_ENDS = itertools.count(100)  # clips of a video need distinct spans


def _end() -> Decimal:
    return Decimal(next(_ENDS))

VIDEOS = """
query($first: Int, $after: String, $last: Int, $before: String) {
  workspace { videos(first: $first, after: $after, last: $last, before: $before) {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { id } }
  } }
}"""

CLIPS = """
query($first: Int, $after: String, $last: Int, $before: String, $sort: ClipSortingInput, $filter: ClipFilterInput) {
  workspace { clips(first: $first, after: $after, last: $last, before: $before, sortBy: $sort, filter: $filter) {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { id } }
  } }
}"""

VIDEO_CLIPS = """
query($video: ID!, $first: Int, $after: String, $last: Int, $before: String, $sort: ClipSortingInput) {
  node(id: $video) { ... on Video { clips(first: $first, after: $after, last: $last, before: $before, sortBy: $sort) {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { id } }
  } } }
}"""

API_KEYS = """
query($first: Int, $after: String) {
  viewer { apiKeys(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } nodes { id name }
  } }
}"""


def _connection(body: dict[str, Any]) -> dict[str, Any]:
    assert body.get("errors") is None, body.get("errors")
    data = body["data"]
    holder = data["workspace"] if "workspace" in data else data["node"]
    [conn] = holder.values()
    return conn


async def _walk(
    fetch: Callable[[dict[str, Any]], Awaitable[dict[str, Any]]],
    insert: Callable[[int], Awaitable[list[str]]],
    *,
    forward: bool,
    size: int,
) -> tuple[list[str], list[tuple[str, list[str]]]]:
    """Page through a connection to its end, calling ``insert(step)`` after the first two pages; the ids
    seen in list order, and for each insertion the cursor row's id and the new rows' ids."""
    seen: list[str] = []
    inserted: list[tuple[str, list[str]]] = []
    cursor: str | None = None
    for step in range(100):
        args = {"first": size, "after": cursor} if forward else {"last": size, "before": cursor}
        conn = _connection(await fetch(args))
        ids = [e["node"]["id"] for e in conn["edges"]]
        assert conn["pageInfo"]["startCursor"] == (conn["edges"][0]["cursor"] if ids else None)
        seen = seen + ids if forward else ids + seen
        more = conn["pageInfo"]["hasNextPage"] if forward else conn["pageInfo"]["hasPreviousPage"]
        assert len(ids) == size or not more, conn
        if not more:
            return seen, inserted
        cursor = conn["pageInfo"]["endCursor"] if forward else conn["pageInfo"]["startCursor"]
        if step < 2:
            inserted.append((ids[-1] if forward else ids[0], await insert(step)))
    raise AssertionError("no last page")


def _expected(final: list[str], original: list[str], inserted: list[tuple[str, list[str]]], forward: bool) -> list[str]:
    """What a walk must have seen: every original row, plus each inserted row that landed
    beyond the cursor of its moment (in the walk's direction), in the final list's order."""
    at = {node: i for i, node in enumerate(final)}
    beyond = {new for cursor, news in inserted for new in news if (at[new] > at[cursor]) == forward}
    return [node for node in final if node in set(original) | beyond]


async def _check_walks(
    fetch: Callable[[dict[str, Any]], Awaitable[dict[str, Any]]],
    insert: Callable[[int], Awaitable[list[str]]],
    size: int,
) -> int:
    """Walk both ways; returns how many walks had new rows land on both sides of their cursor."""
    both_sides = 0
    for forward in (True, False):
        original = [e["node"]["id"] for e in _connection(await fetch({"first": 100}))["edges"]]
        seen, inserted = await _walk(fetch, insert, forward=forward, size=size)
        final = [e["node"]["id"] for e in _connection(await fetch({"first": 100}))["edges"]]
        new_rows = {new for _, news in inserted for new in news}
        assert len(seen) == len(set(seen))
        assert seen == _expected(final, original, inserted, forward)
        # the walk crossed several pages while rows arrived, some of them beyond its cursor
        assert len(inserted) == 2 and any(r in seen for r in new_rows)
        # (ties are broken by random ids, so whether one also lands behind the cursor varies
        # per walk: the callers require it of most walks)
        both_sides += any(r not in seen for r in new_rows)
    return both_sides


async def _owner_world(db: Any) -> tuple[Any, Any, str]:
    owner = await builders.user(db)
    ws = await builders.workspace(db, owner)
    token = await builders.token(db, owner)
    await db.commit()
    return owner, ws, token


async def test_videos_walk_sees_every_row_once_while_rows_arrive(api: Api, committed) -> None:  # noqa: ANN001
    # given 9 videos, three of them sharing a creation time
    _, ws, token = await _owner_world(committed)
    for i in range(9):
        await builders.video(committed, ws, title=f"v{i}", created_at=T0 + timedelta(minutes=min(i, 6)))
    await committed.commit()

    async def fetch(args: dict[str, Any]) -> dict[str, Any]:
        return await api.gql(VIDEOS, args, token=token, workspace=ws)

    async def insert(step: int) -> list[str]:
        # a newer, an older and an equal-key row each time (minute 3 is the middle of the list)
        times = [T0 + timedelta(hours=1, minutes=step), T0 - timedelta(hours=1, minutes=step), T0 + timedelta(minutes=3)]
        rows = [await builders.video(committed, ws, title=f"new {step}", created_at=t) for t in times]
        await committed.commit()
        return [gid("Video", r.id) for r in rows]

    # when the list is walked forwards and backwards, three rows at a time, inserting between pages
    # then each walk sees every row that was there once, and the new rows beyond its cursor
    assert await _check_walks(fetch, insert, size=3) >= 1


async def test_clip_walks_in_every_sort_order(api: Api, committed) -> None:  # noqa: ANN001
    # given, for each sort order, a video whose clips repeat and lack virality scores, and repeat start and creation times
    _, ws, token = await _owner_world(committed)
    both_sides = 0
    for field in ("VIRALITY", "START_TIME", "CREATED_AT"):
        for direction in ("ASC", "DESC"):
            video = await builders.video(committed, ws)
            for i in range(8):
                committed.add(Clip(video_id=video.id, workspace_id=ws.id, start_time=Decimal(i % 4), end_time=_end(),
                                   virality_score=None if i % 3 == 0 else 40 + i % 2, created_at=T0 + timedelta(seconds=i % 5)))
            await committed.commit()
            sort, only = {"field": field, "direction": direction}, {"videoId": gid("Video", video.id)}

            async def insert(step: int, video: Any = video) -> list[str]:
                # a row for each end of the list, one equal to existing keys, one without a score
                rows = [
                    Clip(video_id=video.id, workspace_id=ws.id, start_time=Decimal(s), end_time=_end(), virality_score=v,
                         created_at=T0 + timedelta(seconds=c))
                    for s, v, c in ((step % 4, 40, 2), (-1 - step, 99, 3600 + step), (50 + step, 1, -3600 - step), (2, None, 1))
                ]
                committed.add_all(rows)
                await committed.commit()
                return [gid("Clip", r.id) for r in rows]

            async def fetch(args: dict[str, Any], sort: dict[str, str] = sort, only: dict[str, str] = only) -> dict[str, Any]:
                return await api.gql(CLIPS, {**args, "sort": sort, "filter": only}, token=token, workspace=ws)

            # when each order is walked both ways, 3 at a time, while clips arrive around the cursor
            # then every clip is seen exactly once, in the list's order
            both_sides += await _check_walks(fetch, insert, size=3)
            # and clips without a score come last in both directions of VIRALITY
            if field == "VIRALITY":
                conn = _connection(await fetch({"first": 100}))
                unscored = (await committed.execute(
                    select(Clip.id).where(Clip.video_id == video.id, Clip.virality_score.is_(None)))).scalars().all()
                assert {e["node"]["id"] for e in conn["edges"][-len(unscored):]} == {gid("Clip", r) for r in unscored}
    # most of the twelve walks also had rows land behind their cursor (never to be seen)
    assert both_sides >= 6


async def test_nested_clips_of_a_video_walk_both_ways(api: Api, committed) -> None:  # noqa: ANN001
    # given a video with 7 clips and another video whose clips must never appear
    _, ws, token = await _owner_world(committed)
    video, other = await builders.video(committed, ws), await builders.video(committed, ws)
    for i in range(7):
        committed.add(Clip(video_id=video.id, workspace_id=ws.id, start_time=Decimal(i), end_time=_end(),
                           virality_score=50 + i % 3))
        committed.add(Clip(video_id=other.id, workspace_id=ws.id, start_time=Decimal(i), end_time=_end(), virality_score=50))
    await committed.commit()

    async def fetch(args: dict[str, Any]) -> dict[str, Any]:
        variables = {**args, "video": gid("Video", video.id), "sort": {"field": "VIRALITY", "direction": "DESC"}}
        return await api.gql(VIDEO_CLIPS, variables, token=token, workspace=ws)

    async def insert(step: int) -> list[str]:
        rows = [Clip(video_id=video.id, workspace_id=ws.id, start_time=Decimal(0), end_time=_end(), virality_score=s)
                for s in (90, 10, 51)]
        committed.add_all(rows)
        committed.add(Clip(video_id=other.id, workspace_id=ws.id, start_time=Decimal(0), end_time=_end(), virality_score=51))
        await committed.commit()
        return [gid("Clip", r.id) for r in rows]

    # when Video.clips is walked both ways, two at a time
    # then every clip of that video is seen once, and none of the other video's
    assert await _check_walks(fetch, insert, size=2) >= 1
    own = (await committed.execute(select(Clip.id).where(Clip.video_id == video.id))).scalars().all()
    assert _connection(await fetch({"first": 100}))["totalCount"] == len(own) > 7


async def test_page_info_and_counts_hold_at_both_ends_and_for_empty_pages(api: Api, committed) -> None:  # noqa: ANN001
    # given 5 videos
    _, ws, token = await _owner_world(committed)
    for i in range(5):
        await builders.video(committed, ws, created_at=T0 + timedelta(minutes=i))
    await committed.commit()

    async def page(**args: Any) -> dict[str, Any]:
        return _connection(await api.gql(VIDEOS, args, token=token, workspace=ws))

    def info(conn: dict[str, Any]) -> tuple[int, int, bool, bool]:
        return conn["totalCount"], len(conn["edges"]), conn["pageInfo"]["hasPreviousPage"], conn["pageInfo"]["hasNextPage"]

    # when a count is asked with first: 0 or last: 0, then it is the real count, with no edges
    assert info(await page(first=0)) == (5, 0, False, True)
    assert info(await page(last=0)) == (5, 0, True, False)
    everything = await page(first=5)
    cursors = [e["cursor"] for e in everything["edges"]]
    assert info(everything) == (5, 5, False, False)
    # and the page info is right in both directions, in the middle and at the ends
    assert info(await page(first=2, after=cursors[0])) == (5, 2, True, True)
    assert info(await page(first=2, after=cursors[2])) == (5, 2, True, False)
    assert info(await page(first=2, after=cursors[4])) == (5, 0, True, False)
    assert info(await page(last=2, before=cursors[4])) == (5, 2, True, True)
    assert info(await page(last=2, before=cursors[2])) == (5, 2, False, True)
    assert info(await page(last=2, before=cursors[0])) == (5, 0, False, True)
    assert info(await page(first=0, after=cursors[1])) == (5, 0, True, True)
    between = await page(first=10, after=cursors[0], before=cursors[3])
    assert [e["cursor"] for e in between["edges"]] == cursors[1:3] and info(between) == (5, 2, True, True)
    assert [e["cursor"] for e in (await page(last=2))["edges"]] == cursors[3:]


async def test_a_row_filtered_connection_fills_its_page(api: Api, committed) -> None:  # noqa: ANN001
    # given an editor (no api_key:manage: their own keys only) with 5 keys, and the owner's 4 keys in the same workspace
    owner, ws, _ = await _owner_world(committed)
    editor, token = await builders.member(committed, ws, "editor")

    for n in range(9):
        await builders.api_key(committed, owner if n % 2 else editor, ws, scopes=["video:read"], name=f"k{n}",
                               created_at=T0 + timedelta(minutes=n))
    await committed.commit()
    # when the editor pages through their keys, two at a time
    pages, after = [], None
    while True:
        conn = (await api.gql(API_KEYS, {"first": 2, "after": after}, token=token, workspace=ws))["data"]["viewer"]["apiKeys"]
        pages.append([n["name"] for n in conn["nodes"]])
        if not conn["pageInfo"]["hasNextPage"]:
            break
        after = conn["pageInfo"]["endCursor"]
    # then every page but the last is full, and only the editor's keys appear, newest first
    assert pages == [["k8", "k6"], ["k4", "k2"], ["k0"]]
    assert conn["totalCount"] == 5


async def test_a_tampered_or_foreign_cursor_is_refused(api: Api, committed) -> None:  # noqa: ANN001
    # given a workspace with videos and clips
    _, ws, token = await _owner_world(committed)
    video = await builders.video(committed, ws)
    for i in range(3):
        committed.add(Clip(video_id=video.id, workspace_id=ws.id, start_time=Decimal(i), end_time=_end(), virality_score=i))
    await committed.commit()
    video_cursor = _connection(await api.gql(VIDEOS, {"first": 1}, token=token, workspace=ws))["edges"][0]["cursor"]
    by_score = {"field": "VIRALITY", "direction": "DESC"}
    clip_cursor = _connection(await api.gql(CLIPS, {"first": 1, "sort": by_score}, token=token, workspace=ws))["edges"][0]["cursor"]
    payload, mac = clip_cursor.split(".")
    values = json.loads(base64.urlsafe_b64decode(payload))
    values[0] = 1000  # claim a score beyond every clip
    forged = base64.urlsafe_b64encode(json.dumps(values, separators=(",", ":")).encode()).decode() + "." + mac
    refused = {
        "forged": (CLIPS, {"first": 2, "after": forged, "sort": by_score}),
        "garbage": (CLIPS, {"first": 2, "after": "not a cursor", "sort": by_score}),
        "another list": (CLIPS, {"first": 2, "after": video_cursor, "sort": by_score}),
        "another order": (CLIPS, {"first": 2, "after": clip_cursor, "sort": {"field": "START_TIME", "direction": "DESC"}}),
        "another direction": (CLIPS, {"last": 2, "before": clip_cursor, "sort": {"field": "VIRALITY", "direction": "ASC"}}),
        "video list": (VIDEOS, {"first": 2, "after": clip_cursor}),
    }
    for name, (query, variables) in refused.items():
        # when a cursor was altered, or comes from another list or sort order
        body = await api.gql(query, variables, token=token, workspace=ws)
        # then the request is refused with a bad-request error saying so, and no data
        assert errors_of(body) == ["BAD_REQUEST"], name
        assert body["errors"][0]["message"].startswith("Invalid cursor"), name
        assert body["data"] is None or body["data"]["workspace"] is None, name
    # while the genuine cursor still pages
    ok = _connection(await api.gql(CLIPS, {"first": 2, "after": clip_cursor, "sort": by_score}, token=token, workspace=ws))
    assert len(ok["edges"]) == 2 and ok["totalCount"] == 3
