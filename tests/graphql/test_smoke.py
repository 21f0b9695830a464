from __future__ import annotations

from tests.fixtures import builders
from tests.graphql.conftest import Api, gid


async def test_viewer_and_workspace(api: Api, committed) -> None:
    owner = await builders.user(committed)
    ws = await builders.workspace(committed, owner)
    v = await builders.video(committed, ws)
    await builders.clip(committed, v)
    token = await builders.token(committed, owner)
    await committed.commit()
    body = await api.gql(
        "{ viewer { role user { email } workspaces { name } } workspace { name videos { totalCount edges { node { id title clips { totalCount nodes { startTime } } } } } } }",
        token=token, workspace=ws,
    )
    assert body.get("errors") is None, body
    assert body["data"]["viewer"]["role"] == "OWNER"
    assert body["data"]["workspace"]["videos"]["edges"][0]["node"]["id"] == gid("Video", v.id)
    assert body["data"]["workspace"]["videos"]["edges"][0]["node"]["clips"]["nodes"] == [{"startTime": 0.0}]
