from __future__ import annotations

from tests.graphql.conftest import Api, gid, make_clip, make_token, make_video, make_workspace, make_user


async def test_viewer_and_workspace(api: Api, committed) -> None:
    owner = await make_user(committed)
    ws = await make_workspace(committed, owner)
    v = await make_video(committed, ws)
    await make_clip(committed, v)
    token = await make_token(committed, owner)
    await committed.commit()
    body = await api.gql(
        "{ viewer { role user { email } workspaces { name } } workspace { name videos { totalCount edges { node { id title clips { totalCount nodes { startTime } } } } } } }",
        token=token, workspace=ws,
    )
    assert body.get("errors") is None, body
    assert body["data"]["viewer"]["role"] == "owner"
    assert body["data"]["workspace"]["videos"]["edges"][0]["node"]["id"] == gid("Video", v.id)
    assert body["data"]["workspace"]["videos"]["edges"][0]["node"]["clips"]["nodes"] == [{"startTime": 0.0}]
