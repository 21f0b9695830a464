"""The fakes refuse what the real platforms refuse (raw HTTP), so a test passing against them means something."""

from __future__ import annotations

import httpx

from tests.fixtures.platforms import FakeInstagram, FakeTikTok, FakeYouTube

from .conftest import IG_TOKEN, IG_USER, TT_TOKEN, YT_TOKEN

KIB = 1024
MIB = 1024 * KIB


async def _youtube_session(client: httpx.AsyncClient, server: FakeYouTube, size: int) -> str:
    response = await client.post(
        f"{server.upload_url}/videos", params={"uploadType": "resumable", "part": "snippet,status"},
        json={"snippet": {"title": "t"}, "status": {"privacyStatus": "private"}},
        headers={"Authorization": f"Bearer {YT_TOKEN}", "X-Upload-Content-Length": str(size),
                 "X-Upload-Content-Type": "video/mp4"})
    assert response.status_code == 200
    return response.headers["location"]


async def test_fake_youtube_enforces_the_resumable_protocol(youtube: FakeYouTube) -> None:
    auth = {"Authorization": f"Bearer {YT_TOKEN}"}
    async with httpx.AsyncClient() as client:
        session = await _youtube_session(client, youtube, 600 * KIB)
        not_multiple = await client.put(session, content=b"x" * 300 * KIB, headers={
            **auth, "Content-Range": f"bytes 0-{300 * KIB - 1}/{600 * KIB}"})
        out_of_order = await client.put(session, content=b"x" * 256 * KIB, headers={
            **auth, "Content-Range": f"bytes {256 * KIB}-{512 * KIB - 1}/{600 * KIB}"})
        wrong_total = await client.put(session, content=b"x" * 256 * KIB, headers={
            **auth, "Content-Range": f"bytes 0-{256 * KIB - 1}/{700 * KIB}"})
        no_range = await client.put(session, content=b"x", headers=auth)
        other_token = await client.put(session, headers={"Authorization": "Bearer nope",
                                                         "Content-Range": f"bytes */{600 * KIB}"})
        good = await client.put(session, content=b"x" * 256 * KIB, headers={
            **auth, "Content-Range": f"bytes 0-{256 * KIB - 1}/{600 * KIB}"})
        status = await client.put(session, headers={**auth, "Content-Range": f"bytes */{600 * KIB}"})
        unknown = await client.put(session.replace("upload_id=", "upload_id=x"), headers={
            **auth, "Content-Range": f"bytes */{600 * KIB}"})
        bad_title = await client.post(
            f"{youtube.upload_url}/videos", params={"uploadType": "resumable", "part": "snippet,status"},
            json={"snippet": {"title": "x" * 101}, "status": {"privacyStatus": "private"}},
            headers={**auth, "X-Upload-Content-Length": "10", "X-Upload-Content-Type": "video/mp4"})
    assert [r.status_code for r in (not_multiple, out_of_order, wrong_total, no_range)] == [400, 400, 400, 400]
    assert other_token.status_code == 401 and unknown.status_code == 404
    assert (good.status_code, good.headers["range"]) == (308, f"bytes=0-{256 * KIB - 1}")
    assert (status.status_code, status.headers["range"]) == (308, f"bytes=0-{256 * KIB - 1}")
    assert bad_title.json()["error"]["errors"][0]["reason"] == "invalidTitle"
    assert youtube.state.videos == []


async def test_fake_tiktok_enforces_chunk_rules_and_order(tiktok: FakeTikTok) -> None:
    auth = {"Authorization": f"Bearer {TT_TOKEN}"}
    size = 12 * MIB
    post_info = {"title": "t", "privacy_level": "SELF_ONLY"}
    async with httpx.AsyncClient() as client:
        bad_plan = await client.post(f"{tiktok.api_url}/v2/post/publish/video/init/", headers=auth, json={
            "post_info": post_info,
            "source_info": {"source": "FILE_UPLOAD", "video_size": size, "chunk_size": 4 * MIB,
                            "total_chunk_count": 3}})
        no_token = await client.post(f"{tiktok.api_url}/v2/post/publish/creator_info/query/", json={})
        init = await client.post(f"{tiktok.api_url}/v2/post/publish/video/init/", headers=auth, json={
            "post_info": post_info,
            "source_info": {"source": "FILE_UPLOAD", "video_size": size, "chunk_size": 5 * MIB,
                            "total_chunk_count": 2}})
        upload_url = init.json()["data"]["upload_url"]
        second_first = await client.put(upload_url, content=b"x" * 7 * MIB, headers={
            "Content-Type": "video/mp4", "Content-Range": f"bytes {5 * MIB}-{size - 1}/{size}"})
        wrong_type = await client.put(upload_url, content=b"x" * 5 * MIB, headers={
            "Content-Type": "application/octet-stream", "Content-Range": f"bytes 0-{5 * MIB - 1}/{size}"})
        bad_token = await client.put(upload_url.replace("upload_token=", "upload_token=x"), content=b"x", headers={
            "Content-Type": "video/mp4", "Content-Range": f"bytes 0-0/{size}"})
        first = await client.put(upload_url, content=b"x" * 5 * MIB, headers={
            "Content-Type": "video/mp4", "Content-Range": f"bytes 0-{5 * MIB - 1}/{size}"})
    assert (bad_plan.status_code, bad_plan.json()["error"]["code"]) == (400, "invalid_params")
    assert no_token.json()["error"]["code"] == "access_token_invalid"
    assert init.json()["error"]["code"] == "ok"
    assert [r.status_code for r in (second_first, wrong_type, bad_token, first)] == [400, 400, 404, 206]
    assert tiktok.state.posts == []


async def test_fake_instagram_publishes_only_finished_containers_once(instagram: FakeInstagram,
                                                                     tmp_path) -> None:  # noqa: ANN001
    auth = {"Authorization": f"Bearer {IG_TOKEN}"}
    path = tmp_path / "v.mp4"
    path.write_bytes(b"video")
    base = instagram.api_url
    async with httpx.AsyncClient() as client:
        video_type = await client.post(f"{base}/{IG_USER}/media", headers=auth, data={
            "media_type": "VIDEO", "video_url": instagram.state.host(path)})
        other_user = await client.post(f"{base}/999/media", headers=auth, data={
            "media_type": "REELS", "video_url": instagram.state.host(path)})
        created = await client.post(f"{base}/{IG_USER}/media", headers=auth, data={
            "media_type": "REELS", "video_url": instagram.state.host(path)})
        container = created.json()["id"]
        too_early = await client.post(f"{base}/{IG_USER}/media_publish", headers=auth, data={"creation_id": container})
        for _ in range(50):
            status = (await client.get(f"{base}/{container}", headers=auth, params={"fields": "status_code"})).json()
            if status["status_code"] == "FINISHED":
                break
        first = await client.post(f"{base}/{IG_USER}/media_publish", headers=auth, data={"creation_id": container})
        again = await client.post(f"{base}/{IG_USER}/media_publish", headers=auth, data={"creation_id": container})
        bad_token = await client.get(f"{base}/{IG_USER}/media", params={"access_token": "nope"})
    assert video_type.status_code == 400 and other_user.json()["error"]["error_subcode"] == 33
    assert too_early.json()["error"]["error_subcode"] == 2207027
    assert first.status_code == 200 and again.status_code == 400
    assert bad_token.json()["error"]["code"] == 190
    assert len(instagram.state.media) == 1
