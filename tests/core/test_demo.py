"""``make demo`` copies the top clips into a folder that outlives the demo's server."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from clipflow_api.demo import save_top_clips


def clip(name: str, *formats: str) -> dict[str, object]:
    return {"title": name, "downloadUrls": [{"format": f, "url": f"http://api.test/files/{name}/{f}"} for f in formats]}


async def test_the_top_clips_are_saved_in_every_format_best_first(tmp_path: Path) -> None:
    # given: three clips, best first, served by a stand-in for the API's signed links
    requested: list[str] = []

    def serve(request: httpx.Request) -> httpx.Response:
        requested.append(request.url.path)
        return httpx.Response(200, content=f"bytes of {request.url.path}".encode())

    clips = [clip("best", "16:9", "1:1", "9:16"), clip("second", "9:16"), clip("third", "9:16")]
    dest = tmp_path / "demo-out"
    # when
    async with httpx.AsyncClient(transport=httpx.MockTransport(serve)) as client:
        saved = await save_top_clips(client, clips, dest, top=2)
    # then
    assert [p.name for p in saved] == ["clip_1_16x9.mp4", "clip_1_1x1.mp4", "clip_1_9x16.mp4", "clip_2_9x16.mp4"]
    assert sorted(p.name for p in dest.iterdir()) == ["clip_1_16x9.mp4", "clip_1_1x1.mp4", "clip_1_9x16.mp4", "clip_2_9x16.mp4"]
    assert (dest / "clip_1_1x1.mp4").read_bytes() == b"bytes of /files/best/1:1"
    assert (dest / "clip_2_9x16.mp4").read_bytes() == b"bytes of /files/second/9:16"
    assert "/files/third/9:16" not in requested


async def test_a_rerun_replaces_the_previous_runs_clips_and_leaves_other_files(tmp_path: Path) -> None:
    # given: a folder from an earlier run that had more clips, and a file of the user's own
    dest = tmp_path / "demo-out"
    dest.mkdir()
    (dest / "clip_3_9x16.mp4").write_bytes(b"old")
    (dest / "notes.txt").write_text("mine")
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=b"new"))
    # when
    async with httpx.AsyncClient(transport=transport) as client:
        saved = await save_top_clips(client, [clip("only", "9:16")], dest)
    # then
    assert sorted(p.name for p in dest.iterdir()) == ["clip_1_9x16.mp4", "notes.txt"]
    assert saved == [dest / "clip_1_9x16.mp4"]
    assert (dest / "notes.txt").read_text() == "mine"


async def test_a_failed_download_leaves_no_partial_clip(tmp_path: Path) -> None:
    dest = tmp_path / "demo-out"
    transport = httpx.MockTransport(lambda request: httpx.Response(403, content=b"expired"))
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(httpx.HTTPStatusError):
            await save_top_clips(client, [clip("gone", "9:16")], dest)
    assert list(dest.iterdir()) == []
