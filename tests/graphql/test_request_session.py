"""One read session per operation: concurrent siblings take it in turn, the tenant is set once,
mutations write in a session of their own, and the connection goes back when the operation ends."""

from __future__ import annotations

from sqlalchemy import text

from tests.fixtures import builders
from tests.graphql.conftest import Api, gid

SIBLINGS = """
query Siblings {
  a: workspace { videos(first: 10) { nodes { title clips(first: 5) { nodes { startTime } } } } }
  b: workspace { clips(first: 50) { totalCount } }
  c: workspace { videos(first: 10) { totalCount } }
  viewer { user { email } }
}
"""

RENAME = """
mutation Rename($id: ID!, $title: String!) {
  videoUpdate(id: $id, input: {title: $title}) {
    video { title clips(first: 5) { nodes { startTime } } }
    errors { field code }
  }
}
"""


async def _world(db, titles: list[str], clips: int):  # noqa: ANN001, ANN202
    owner = await builders.user(db)
    ws = await builders.workspace(db, owner)
    videos = []
    for title in titles:
        video = await builders.video(db, ws, title=title)
        videos.append(video)
        for i in range(clips):
            await builders.clip(db, video, i)
    token = await builders.token(db, owner)
    await db.commit()
    return owner, ws, videos, token


async def test_concurrent_siblings_share_one_transaction_and_set_the_tenant_once(api: Api, committed) -> None:
    # given two workspaces, the caller a member of the first only
    owner, ws, _videos, token = await _world(committed, ["One", "Two", "Three"], clips=2)
    await _world(committed, ["Other tenant"], clips=4)
    # when one query asks for several sibling lists, resolved concurrently
    body, statements = await api.count(SIBLINGS, token=token, workspace=ws)
    # then every sibling answered, from the caller's workspace only
    assert body.get("errors") is None, body.get("errors")
    data = body["data"]
    assert sorted(v["title"] for v in data["a"]["videos"]["nodes"]) == ["One", "Three", "Two"]
    assert all(sorted(c["startTime"] for c in v["clips"]["nodes"]) == [0.0, 10.0] for v in data["a"]["videos"]["nodes"])
    assert data["b"]["clips"]["totalCount"] == 6
    assert data["c"]["videos"]["totalCount"] == 3
    assert data["viewer"]["user"]["email"] == owner.email
    # and the batches took one transaction in turn: the tenant was set once
    assert sum("set_config" in s for s in api.statements) == 1, api.statements
    assert statements == len(api.statements)
    # and the operation gave its connection back
    assert api.app.state.engine.pool.checkedout() == 0


async def test_a_mutation_writes_apart_and_its_payload_reads_the_change(api: Api, committed) -> None:
    # given a video with clips
    _owner, ws, [video], token = await _world(committed, ["Before"], clips=3)
    # when it is renamed, its payload reading clips through the shared read session
    body = await api.gql(RENAME, {"id": gid("Video", video.id), "title": "After"}, token=token, workspace=ws)
    # then the payload shows the new title and the clips, and the row changed
    assert body.get("errors") is None, body.get("errors")
    payload = body["data"]["videoUpdate"]
    assert payload["errors"] == [] and payload["video"]["title"] == "After"
    assert sorted(c["startTime"] for c in payload["video"]["clips"]["nodes"]) == [0.0, 10.0, 20.0]
    title = (await committed.execute(text("SELECT title FROM videos WHERE id = :id"), {"id": video.id})).scalar_one()
    assert title == "After"
    assert api.app.state.engine.pool.checkedout() == 0


async def test_a_refused_mutation_changes_nothing_and_later_reads_still_work(api: Api, committed) -> None:
    # given a video
    _owner, ws, [video], token = await _world(committed, ["Kept"], clips=1)
    # when a rename is refused (the title is too long), then the same request's caller reads the video
    refused = await api.gql(RENAME, {"id": gid("Video", video.id), "title": "x" * 501}, token=token, workspace=ws)
    after = await api.gql(SIBLINGS, token=token, workspace=ws)
    # then the refusal is in the payload, the row is unchanged and reads are unaffected
    assert refused.get("errors") is None, refused.get("errors")
    assert refused["data"]["videoUpdate"] == {"video": None, "errors": [{"field": "title", "code": "INVALID"}]}
    title = (await committed.execute(text("SELECT title FROM videos WHERE id = :id"), {"id": video.id})).scalar_one()
    assert title == "Kept"
    assert [v["title"] for v in after["data"]["a"]["videos"]["nodes"]] == ["Kept"]
    assert api.app.state.engine.pool.checkedout() == 0
