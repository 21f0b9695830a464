"""The SQL statement count of a dashboard query is pinned and does not grow with the lists."""

from __future__ import annotations

from tests.fixtures import builders
from tests.graphql.conftest import Api

DASHBOARD = """
query Dashboard {
  workspace {
    name
    videos(first: 20) {
      totalCount
      edges { node {
        id title status
        clips(first: 10, sortBy: {field: VIRALITY, direction: DESC}) {
          totalCount
          nodes { id viralityScore captions { style words { word start end } } }
        }
      } }
    }
    posts(first: 20) {
      nodes { id status latestMetrics { views likes } socialAccount { platform } }
    }
  }
}
"""

# workspace, videos, clips, captions, posts, latest metrics, social accounts: one SELECT each,
# and one set_config: the loader batches share the request's transaction, which set the tenant once.
PINNED_STATEMENTS = 8


async def _world(db, videos: int, clips: int, posts: int):  # noqa: ANN001, ANN202
    owner = await builders.user(db)
    ws = await builders.workspace(db, owner)
    account = await builders.social_account(db, ws)
    first_clip = None
    for v in range(videos):
        video = await builders.video(db, ws, title=f"Video {v}")
        for c in range(clips):
            clip = await builders.clip(db, video, c)
            first_clip = first_clip or clip
            await builders.caption(db, clip)
    for p in range(posts):
        post = await builders.post(db, account, first_clip, created_by=owner.id)
        await builders.metric(db, post, hours_ago=2, views=10 * p)
        await builders.metric(db, post, hours_ago=1, views=10 * p + 5)
    token = await builders.token(db, owner)
    await db.commit()
    return ws, token


async def test_dashboard_statement_count_is_pinned_and_flat(api: Api, committed) -> None:
    # given a small workspace and a big one
    small_ws, small_token = await _world(committed, videos=2, clips=2, posts=2)
    big_ws, big_token = await _world(committed, videos=20, clips=10, posts=20)
    # when the same dashboard query runs on both
    small, small_count = await api.count(DASHBOARD, token=small_token, workspace=small_ws)
    big, big_count = await api.count(DASHBOARD, token=big_token, workspace=big_ws)
    # then both answer completely, with the same number of statements
    assert small.get("errors") is None and big.get("errors") is None, (small.get("errors"), big.get("errors"))
    videos = big["data"]["workspace"]["videos"]
    assert videos["totalCount"] == 20 and len(videos["edges"]) == 20
    assert all(len(e["node"]["clips"]["nodes"]) == 10 for e in videos["edges"])
    assert all(len(c["captions"]) == 1 for e in videos["edges"] for c in e["node"]["clips"]["nodes"])
    posts = big["data"]["workspace"]["posts"]["nodes"]
    assert len(posts) == 20 and sorted(p["latestMetrics"]["views"] for p in posts) == [10 * i + 5 for i in range(20)]
    scores = [c["viralityScore"] for c in videos["edges"][0]["node"]["clips"]["nodes"]]
    assert scores == sorted(scores, reverse=True)
    print(f"\nSQL statements: small world {small_count}, big world {big_count}")
    assert small_count == big_count == PINNED_STATEMENTS
