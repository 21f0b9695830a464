"""YouTubePublisher against the strict fake YouTube: resumable upload, resume, faults, reconciliation."""

from __future__ import annotations

import tracemalloc
from pathlib import Path
from typing import IO, cast

import httpx
import pytest

from clipflow_worker.publishers import ErrorKind, MediaSource, PublishError, PublishRequest, YouTubeOptions
from clipflow_worker.publishers.base import READ_SIZE
from clipflow_worker.publishers.youtube import CHUNK_UNIT, YouTubePublisher, parse_duration, youtube_error
from tests.fixtures.platforms import FakeYouTube, Fault

from .conftest import YT_CHANNEL, YT_TOKEN, CountingStream, ProgressLog, make_file

KIB = 1024
MIB = 1024 * KIB


def publisher(server: FakeYouTube, **kw: object) -> YouTubePublisher:
    kw.setdefault("chunk_size", 2 * CHUNK_UNIT)
    kw.setdefault("resume_delay_s", 0.0)
    return YouTubePublisher(api_url=server.api_url, upload_url=server.upload_url, **kw)  # type: ignore[arg-type]


def request(path: Path, **kw: object) -> PublishRequest:
    kw.setdefault("caption", "Three ways to cut a long video #shorts")
    kw.setdefault("title", "Cutting long videos")
    return PublishRequest(access_token=YT_TOKEN, media=MediaSource.from_path(path), **kw)  # type: ignore[arg-type]


async def test_uploads_in_256k_multiple_chunks_and_creates_one_video(youtube: FakeYouTube, tmp_path: Path) -> None:
    # given a file that is not a multiple of 256 KiB
    path, sha = make_file(tmp_path, 2 * CHUNK_UNIT * 2 + 12345)
    progress = ProgressLog()
    yt = publisher(youtube)
    # when
    result = await yt.publish(request(path, on_progress=progress,
                                      options=YouTubeOptions(privacy_status="unlisted", tags=("a", "b"))))
    await yt.aclose()
    # then the bytes arrived identical, in 512 KiB chunks and a short last one, as one video
    size = path.stat().st_size
    assert youtube.state.chunk_puts == [(0, 524288), (524288, 524288), (1048576, 12345)]
    [video] = youtube.state.videos
    assert (video.sha256, video.size, video.channel) == (sha, size, YT_CHANNEL)
    assert (video.title, video.description, video.privacy) == (
        "Cutting long videos", "Three ways to cut a long video #shorts", "unlisted")
    assert result.platform_post_id == video.id
    assert result.url == f"https://www.youtube.com/watch?v={video.id}"
    assert result.warnings == ()
    uploads = progress.stage("upload")
    assert uploads[0] == 0 and uploads[-1] == size and uploads == sorted(uploads)
    assert progress.events[-1].stage == "publishing" and progress.events[-1].percent == 100.0


async def test_sets_the_thumbnail(youtube: FakeYouTube, tmp_path: Path) -> None:
    path, _ = make_file(tmp_path, 300 * KIB)
    thumb, thumb_sha = make_file(tmp_path, 50 * KIB, "thumb.jpg")
    yt = publisher(youtube)
    result = await yt.publish(request(path, options=YouTubeOptions(
        thumbnail=MediaSource.from_path(thumb, content_type="image/jpeg"))))
    await yt.aclose()
    [video] = youtube.state.videos
    assert video.thumbnail_sha256 == thumb_sha
    assert result.warnings == ()


async def test_a_failed_thumbnail_is_a_warning_not_a_failure(youtube: FakeYouTube, tmp_path: Path) -> None:
    path, _ = make_file(tmp_path, 300 * KIB)
    thumb, _ = make_file(tmp_path, 10 * KIB, "thumb.gif")
    yt = publisher(youtube)
    result = await yt.publish(request(path, options=YouTubeOptions(
        thumbnail=MediaSource.from_path(thumb, content_type="image/gif"))))
    await yt.aclose()
    assert len(youtube.state.videos) == 1
    assert result.warnings == ("The video is on YouTube, but its thumbnail could not be set: "
                               "YouTube refused the thumbnail image (JPEG or PNG, at most 2 MB).",)


async def test_resumes_an_interrupted_chunk_from_the_range_the_server_reports(youtube: FakeYouTube,
                                                                             tmp_path: Path) -> None:
    # given the second chunk breaks after 600,000 bytes (the server keeps 2 x 256 KiB of it)
    path, sha = make_file(tmp_path, 3 * MIB + 100)
    youtube.state.faults.add("upload", Fault.drop(after_bytes=600_000, skip=1))
    yt = publisher(youtube, chunk_size=4 * CHUNK_UNIT)
    # when
    result = await yt.publish(request(path))
    await yt.aclose()
    # then the client asked where the server was and continued from there
    assert youtube.state.chunk_puts == [(0, MIB), (MIB, MIB), (MIB + 2 * CHUNK_UNIT, MIB),
                                        (2 * MIB + 2 * CHUNK_UNIT, MIB - 2 * CHUNK_UNIT + 100)]
    [video] = youtube.state.videos
    assert (video.sha256, result.platform_post_id) == (sha, video.id)
    assert youtube.state.calls.count("insert") == 1


async def test_a_later_attempt_resumes_the_session_of_an_earlier_one(youtube: FakeYouTube, tmp_path: Path) -> None:
    # given an attempt that dies mid-upload (no resume left) after handing out its session URL
    path, sha = make_file(tmp_path, 2 * MIB)
    youtube.state.faults.add("upload", Fault.drop(after_bytes=300_000, skip=1))
    refs: list[str] = []
    yt = publisher(youtube, max_resumes=0)
    with pytest.raises(PublishError) as failed:
        await yt.publish(request(path, on_ref=refs.append))
    assert (failed.value.kind, failed.value.may_have_posted) == (ErrorKind.RETRYABLE, False)
    assert failed.value.ref == refs[0] and "upload_id=" in refs[0]
    assert youtube.state.videos == []
    # when the next attempt resumes from that session
    result = await yt.publish(request(path, resume_ref=refs[0]))
    await yt.aclose()
    # then it continues where the server stopped; one session, one video, identical bytes
    [video] = youtube.state.videos
    assert (video.sha256, result.platform_post_id) == (sha, video.id)
    assert youtube.state.calls.count("insert") == 1
    assert youtube.state.chunk_puts[2][0] == 2 * CHUNK_UNIT + CHUNK_UNIT  # 300,000 bytes kept as 1 x 256 KiB


async def test_a_lost_answer_to_the_last_chunk_resumes_to_the_same_video(youtube: FakeYouTube,
                                                                         tmp_path: Path) -> None:
    # given the server completes the video, then the connection drops before the answer
    path, sha = make_file(tmp_path, 1 * MIB + 5)
    youtube.state.faults.add("upload", Fault.drop(skip=2))
    yt = publisher(youtube)
    result = await yt.publish(request(path))
    await yt.aclose()
    # then the status query returns the video that exists: still exactly one
    [video] = youtube.state.videos
    assert (video.sha256, result.platform_post_id) == (sha, video.id)


async def test_a_lost_answer_with_no_resume_left_may_have_posted_and_find_recent_sees_it(
        youtube: FakeYouTube, tmp_path: Path) -> None:
    path, _ = make_file(tmp_path, 700 * KIB)
    youtube.state.faults.add("upload", Fault.drop(skip=1))
    youtube.state.default_duration_s = 63
    yt = publisher(youtube, max_resumes=0)
    with pytest.raises(PublishError) as failed:
        await yt.publish(request(path, caption="A caption to match"))
    assert (failed.value.kind, failed.value.may_have_posted) == (ErrorKind.RETRYABLE, True)
    recent = await yt.find_recent(YT_TOKEN)
    await yt.aclose()
    [video] = youtube.state.videos
    assert [(m.id, m.caption, m.title, m.duration_s, m.url) for m in recent] == [
        (video.id, "A caption to match", "Cutting long videos", 63.0, f"https://www.youtube.com/watch?v={video.id}")]
    assert recent[0].created_at.tzinfo is not None


@pytest.mark.parametrize(("op", "fault", "kind", "retry_after"), [
    ("insert", Fault.rate_limit(retry_after=42), ErrorKind.RETRYABLE, 42.0),
    ("insert", Fault.server_error(), ErrorKind.RETRYABLE, None),
    ("insert", Fault.expired_token(), ErrorKind.RECONNECT, None),
    ("insert", Fault.hang(5), ErrorKind.RETRYABLE, None),
    ("upload", Fault.expired_token(), ErrorKind.RECONNECT, None),
])
async def test_faults_map_to_error_kinds(youtube: FakeYouTube, tmp_path: Path, op: str, fault: Fault,
                                         kind: ErrorKind, retry_after: float | None) -> None:
    path, _ = make_file(tmp_path, 300 * KIB)
    youtube.state.faults.add(op, fault)
    yt = publisher(youtube, timeout=httpx.Timeout(0.3))
    with pytest.raises(PublishError) as failed:
        await yt.publish(request(path))
    await yt.aclose()
    assert (failed.value.kind, failed.value.retry_after, failed.value.may_have_posted) == (kind, retry_after, False)
    assert youtube.state.videos == []


async def test_5xx_during_upload_resumes_within_the_attempt(youtube: FakeYouTube, tmp_path: Path) -> None:
    path, sha = make_file(tmp_path, 1 * MIB)
    youtube.state.faults.add("upload", Fault.server_error(skip=1))
    yt = publisher(youtube)
    await yt.publish(request(path))
    await yt.aclose()
    [video] = youtube.state.videos
    assert video.sha256 == sha


async def test_an_expired_token_asks_for_a_reconnect(youtube: FakeYouTube, tmp_path: Path) -> None:
    path, _ = make_file(tmp_path, 300 * KIB)
    youtube.state.expire(YT_TOKEN)
    yt = publisher(youtube)
    with pytest.raises(PublishError) as failed:
        await yt.publish(request(path))
    await yt.aclose()
    assert failed.value.kind is ErrorKind.RECONNECT
    assert failed.value.message == "YouTube no longer accepts this account's sign-in; reconnect the YouTube account."


async def test_a_title_youtube_refuses_is_rejected_in_words(youtube: FakeYouTube, tmp_path: Path) -> None:
    path, _ = make_file(tmp_path, 300 * KIB)
    yt = publisher(youtube)
    with pytest.raises(PublishError) as failed:
        await yt.publish(request(path, title="Cut <this>"))
    with pytest.raises(PublishError) as too_long:
        await yt.publish(request(path, title="x" * 101))
    await yt.aclose()
    assert (failed.value.kind, failed.value.platform_code) == (ErrorKind.REJECTED, "invalidTitle")
    assert failed.value.message == "YouTube refused the title: it must be 1 to 100 characters, without < or >."
    assert too_long.value.message == "YouTube titles are limited to 100 characters; this one has 101."
    assert youtube.state.calls.count("insert") == 1 and youtube.state.videos == []


def test_quota_exceeded_waits_for_the_pacific_midnight_reset() -> None:
    response = httpx.Response(403, json={"error": {"code": 403, "message": "quota", "errors": [
        {"reason": "quotaExceeded", "domain": "youtube.quota"}]}})
    error = youtube_error(response)
    assert error.kind is ErrorKind.RETRYABLE and error.platform_code == "quotaExceeded"
    assert error.retry_after is not None and 0 < error.retry_after <= 25 * 3600


def test_parses_youtube_durations() -> None:
    assert [parse_duration(v) for v in ("PT1M3S", "PT45S", "PT1H", "P1DT2S", "bad", None)] == [
        63.0, 45.0, 3600.0, 86402.0, None, None]


async def test_a_50_mb_file_is_streamed_in_bounded_reads(youtube: FakeYouTube, tmp_path: Path) -> None:
    # given a 50 MB file read through a stream that records every read
    path, sha = make_file(tmp_path, 50 * 1000 * 1000)
    stream = CountingStream(path)
    media = MediaSource.from_stream(cast(IO[bytes], stream), path.stat().st_size)
    yt = publisher(youtube, chunk_size=32 * CHUNK_UNIT)
    # when
    tracemalloc.start()
    try:
        await yt.publish(PublishRequest(access_token=YT_TOKEN, media=media, caption="big", title="big"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        stream.close()
        await yt.aclose()
    # then no read asked for more than READ_SIZE, and memory stayed far below the file's size
    assert max(stream.reads) <= READ_SIZE
    assert sum(stream.reads) == 50 * 1000 * 1000
    assert peak < 6 * MIB, peak  # below one 8 MiB chunk: not even a chunk is held whole (measured ~3.3 MB)
    [video] = youtube.state.videos
    assert video.sha256 == sha
