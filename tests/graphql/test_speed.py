"""What the GraphQL layer caches or skips for speed keeps every answer per request: a keyset
statement built once binds each request's own values, a document validated once is still
priced with each request's variables, and a connection built lazily answers every field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from clipflow_api.graphql import relay
from clipflow_api.graphql.relay import PageArgs, SortKey, descending, fetch_pages
from clipflow_api.models import Video
from tests.fixtures import builders
from tests.graphql.conftest import Api, errors_of, gid

KEYS = (descending(Video.created_at), SortKey(Video.id, descending=True))
T0 = datetime(2026, 1, 1, tzinfo=UTC)


async def _titles(db, ws_id, title: str, args: PageArgs) -> tuple[list[str], int]:
    base = select(Video).where(Video.deleted_at.is_(None), Video.title == title)
    pages = await fetch_pages(db, base, Video, Video.workspace_id, [ws_id], KEYS, args)
    page = pages.get(ws_id)
    return ([r.title for r in page.rows], page.total) if page else ([], 0)


async def test_a_cached_keyset_statement_binds_each_requests_values(db) -> None:
    # given two workspaces whose videos differ by title
    a, b = await builders.workspace(db), await builders.workspace(db)
    for ws, title, n in ((a, "alpha", 3), (b, "beta", 2)):
        for _ in range(n):
            await builders.video(db, ws, title=title)
    await db.flush()
    before = len(relay._KEYSETS)

    # when the same shape runs with other parents, filter values and page size
    first = await _titles(db, a.id, "alpha", PageArgs(first=2))
    second = await _titles(db, b.id, "beta", PageArgs(first=5))
    third = await _titles(db, a.id, "beta", PageArgs(first=5))

    # then each run sees its own values, through one cached statement
    assert first == (["alpha", "alpha"], 3)
    assert second == (["beta", "beta"], 2)
    assert third == ([], 0)
    assert len(relay._KEYSETS) - before <= 1


async def test_a_cached_keyset_statement_binds_each_requests_cursor(db) -> None:
    # given five videos of one title
    ws = await builders.workspace(db)
    for i in range(5):
        await builders.video(db, ws, title="gamma", created_at=T0 + timedelta(minutes=i))
    await db.flush()
    base = select(Video).where(Video.deleted_at.is_(None), Video.title == "gamma")
    everything = (await fetch_pages(db, base, Video, Video.workspace_id, [ws.id], KEYS, PageArgs(first=10)))[ws.id].rows
    ids = [r.id for r in everything]

    # when pages after the 1st and after the 3rd row run through the same statement
    pages = []
    for row in (everything[0], everything[2]):
        after = (row.created_at, row.id)
        page = (await fetch_pages(db, base, Video, Video.workspace_id, [ws.id], KEYS, PageArgs(first=10, after=after)))[ws.id]
        pages.append(([r.id for r in page.rows], page.has_previous, page.has_next))

    # then each page starts after its own cursor
    assert pages == [(ids[1:], True, False), (ids[3:], True, False)]


async def test_a_validated_document_is_still_priced_with_each_requests_variables(api: Api, committed) -> None:
    owner = await builders.user(committed)
    ws = await builders.workspace(committed, owner)
    token = await builders.token(committed, owner)
    await committed.commit()
    query = "query($n: Int) { workspace { videos(first: $n) { totalCount } } }"

    answers = [await api.gql(query, {"n": n}, token=token, workspace=ws) for n in (5, 101, 5)]

    assert answers[0]["data"] == {"workspace": {"videos": {"totalCount": 0}}}
    assert answers[1]["data"] is None
    assert errors_of(answers[1]) == ["BAD_REQUEST"]
    assert [e["message"] for e in answers[1]["errors"]] == ["`first` on Workspace.videos must be at most 100 (got 101)."]
    assert answers[2]["data"] == answers[0]["data"]


async def test_a_lazy_connection_answers_each_field_it_is_asked(api: Api, committed) -> None:
    owner = await builders.user(committed)
    ws = await builders.workspace(committed, owner)
    token = await builders.token(committed, owner)
    videos = [await builders.video(committed, ws, created_at=T0 + timedelta(minutes=i)) for i in range(3)]
    await committed.commit()
    newest_first = [gid("Video", v.id) for v in reversed(videos)]

    only_count = await api.gql("{ workspace { videos(first: 2) { totalCount } } }", token=token, workspace=ws)
    only_nodes = await api.gql("{ workspace { videos(first: 2) { nodes { id } } } }", token=token, workspace=ws)
    everything = await api.gql(
        "{ workspace { videos(first: 2) { totalCount nodes { id } edges { cursor node { id } }"
        " pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } }",
        token=token, workspace=ws,
    )

    assert only_count["data"]["workspace"]["videos"] == {"totalCount": 3}
    assert [n["id"] for n in only_nodes["data"]["workspace"]["videos"]["nodes"]] == newest_first[:2]
    conn = everything["data"]["workspace"]["videos"]
    assert [n["id"] for n in conn["nodes"]] == [e["node"]["id"] for e in conn["edges"]] == newest_first[:2]
    info = conn["pageInfo"]
    assert (info["hasNextPage"], info["hasPreviousPage"]) == (True, False)
    assert (info["startCursor"], info["endCursor"]) == (conn["edges"][0]["cursor"], conn["edges"][1]["cursor"])
    assert conn["totalCount"] == 3


async def test_a_pages_to_one_field_is_loaded_with_the_page_however_it_is_asked(api: Api, committed) -> None:
    # given a clip with posts on two accounts
    owner = await builders.user(committed)
    ws = await builders.workspace(committed, owner)
    token = await builders.token(committed, owner)
    clip = await builders.clip(committed, await builders.video(committed, ws))
    accounts = [await builders.social_account(committed, ws) for _ in range(2)]
    posts = [await builders.post(committed, accounts[i % 2], clip, created_by=owner.id) for i in range(4)]
    await committed.commit()
    expected = {gid("Post", p.id): gid("SocialAccount", p.social_account_id) for p in posts}
    clip_id = gid("Clip", clip.id)

    # when socialAccount is asked through nodes, edges, a fragment, an inline fragment, and not at all
    shapes = {
        "nodes": "posts(first: 10) { nodes { id socialAccount { id } } }",
        "edges": "posts(first: 10) { edges { node { id socialAccount { id } } } }",
        "fragment": "posts(first: 10) { ...P }",
        "inline": "posts(first: 10) { nodes { ... on Post { id socialAccount { id } } } }",
    }
    answers = {}
    for name, selection in shapes.items():
        fragment = " fragment P on PostConnection { nodes { id socialAccount { id } } }" if name == "fragment" else ""
        body = await api.gql(f'{{ node(id: "{clip_id}") {{ ... on Clip {{ {selection} }} }} }}{fragment}', token=token, workspace=ws)
        assert errors_of(body) == [], body
        conn = body["data"]["node"]["posts"]
        nodes = conn["nodes"] if "nodes" in conn else [e["node"] for e in conn["edges"]]
        answers[name] = {n["id"]: n["socialAccount"]["id"] for n in nodes}
    without = await api.gql(f'{{ node(id: "{clip_id}") {{ ... on Clip {{ posts(first: 10) {{ nodes {{ id }} }} }} }} }}', token=token, workspace=ws)

    # then every shape answers each post's own account, and a page that does not ask loads none
    assert all(found == expected for found in answers.values()), answers
    assert {n["id"] for n in without["data"]["node"]["posts"]["nodes"]} == set(expected)
