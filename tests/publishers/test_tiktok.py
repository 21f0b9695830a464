"""TikTokPublisher against the strict fake TikTok: chunk plan, direct post, faults, reconciliation."""

from __future__ import annotations

import random
import tracemalloc
from pathlib import Path
from typing import IO, cast

import httpx
import pytest

from clipflow_worker.publishers import ErrorKind, MediaSource, PublishError, PublishRequest, TikTokOptions
from clipflow_worker.publishers.base import READ_SIZE
from clipflow_worker.publishers.tiktok import MAX_VIDEO_SIZE, ChunkPlan, TikTokPublisher, plan_chunks
from tests.fixtures.platforms import FakeTikTok, Fault, check_chunk_plan

from .conftest import TT_TOKEN, TT_USERNAME, CountingStream, ProgressLog, make_file

MIB = 1024 * 1024


def publisher(server: FakeTikTok, **kw: object) -> TikTokPublisher:
    kw.setdefault("poll_interval_s", 0.0)
    return TikTokPublisher(api_url=server.api_url, **kw)  # type: ignore[arg-type]


def request(path: Path, **kw: object) -> PublishRequest:
    kw.setdefault("caption", "Cutting long videos #fyp")
    return PublishRequest(access_token=TT_TOKEN, media=MediaSource.from_path(path), **kw)  # type: ignore[arg-type]


# --- the chunk plan against the documented rules -----------------------------------------------------


def test_the_docs_example_plan() -> None:
    # the media transfer guide: 50,000,123 bytes in 10,000,000-byte chunks -> 5 chunks, the last 10,000,123
    plan = plan_chunks(50_000_123, preferred=10_000_000)
    assert plan == ChunkPlan(50_000_123, 10_000_000, 5)
    assert plan.ranges()[-1] == (40_000_000, 10_000_123)


@pytest.mark.parametrize(("size", "expected"), [
    (1, ChunkPlan(1, 1, 1)),
    (5 * MIB - 1, ChunkPlan(5 * MIB - 1, 5 * MIB - 1, 1)),  # under 5 MB: whole
    (5 * MIB, ChunkPlan(5 * MIB, 5 * MIB, 1)),
    (10 * MIB - 1, ChunkPlan(10 * MIB - 1, 10 * MIB - 1, 1)),
    (10 * MIB, ChunkPlan(10 * MIB, 10 * MIB, 1)),
    (25 * MIB + 7, ChunkPlan(25 * MIB + 7, 10 * MIB, 2)),  # the last chunk carries 15 MiB + 7
    (1024 * MIB, ChunkPlan(1024 * MIB, 10 * MIB, 102)),
    (MAX_VIDEO_SIZE, ChunkPlan(MAX_VIDEO_SIZE, 10 * MIB, 409)),
])
def test_plans_for_several_sizes(size: int, expected: ChunkPlan) -> None:
    plan = plan_chunks(size)
    assert plan == expected
    assert check_chunk_plan(plan.video_size, plan.chunk_size, plan.total_chunk_count) is None


def test_every_plan_obeys_the_rules_for_any_size_and_preference() -> None:
    rng = random.Random(9)
    sizes = [rng.randint(1, MAX_VIDEO_SIZE) for _ in range(800)] + [64_000_000, 64_000_001, 127_999_999, 128_000_001]
    preferences = [1, 5 * MIB, 10 * MIB, 64_000_000, 64 * MIB, 10**9]
    for size in sizes:
        for preferred in preferences:
            plan = plan_chunks(size, preferred)
            assert check_chunk_plan(size, plan.chunk_size, plan.total_chunk_count) is None, (size, preferred, plan)
            ranges = plan.ranges()
            assert ranges[0][0] == 0 and sum(n for _, n in ranges) == size
            assert all(a + n == b for (a, n), (b, _) in zip(ranges, ranges[1:]))


def test_a_big_single_chunk_is_split_in_two() -> None:
    plan = plan_chunks(100_000_001, preferred=64_000_000)
    assert plan == ChunkPlan(100_000_001, 50_000_000, 2)


@pytest.mark.parametrize(("size", "chunk", "count"), [
    (50_000_123, 10_000_000, 6),  # count is not floor(size / chunk)
    (3 * MIB, MIB, 3),  # under 5 MB must go whole
    (100_000_000, 100_000_000, 1),  # over 64 MB in one chunk
    (20 * MIB, 4 * MIB, 5),  # chunk under 5 MB
    (300_000_000, 100_000_000, 3),  # chunk over 64 MB
])
def test_the_fake_refuses_plans_that_break_a_rule(size: int, chunk: int, count: int) -> None:
    assert check_chunk_plan(size, chunk, count) is not None


@pytest.mark.parametrize("size", [0, MAX_VIDEO_SIZE + 1])
def test_sizes_tiktok_cannot_take_are_rejected(size: int) -> None:
    with pytest.raises(PublishError) as refused:
        plan_chunks(size)
    assert refused.value.kind is ErrorKind.REJECTED


# --- publishing -----------------------------------------------------------------------------------------


async def test_posts_in_ordered_chunks_and_creates_one_post(tiktok: FakeTikTok, tmp_path: Path) -> None:
    # given a 12 MiB file and 5 MiB chunks: 2 chunks, the last carrying 7 MiB
    path, sha = make_file(tmp_path, 12 * MIB)
    progress = ProgressLog()
    tt = publisher(tiktok, chunk_size=5 * MIB)
    # when
    result = await tt.publish(request(path, on_progress=progress, options=TikTokOptions(
        privacy_level="PUBLIC_TO_EVERYONE", disable_duet=True, cover_timestamp_ms=1500)))
    await tt.aclose()
    # then
    assert tiktok.state.chunk_puts == [(0, 5 * MIB), (5 * MIB, 7 * MIB)]
    [post] = tiktok.state.posts
    assert (post.sha256, post.size, post.title, post.privacy_level) == (
        sha, 12 * MIB, "Cutting long videos #fyp", "PUBLIC_TO_EVERYONE")
    assert result.platform_post_id == str(post.id)
    assert result.url == f"https://www.tiktok.com/@{TT_USERNAME}/video/{post.id}"
    [publish] = tiktok.state.publishes.values()
    assert publish.post_info["disable_duet"] is True and publish.post_info["video_cover_timestamp_ms"] == 1500
    assert progress.stage("upload")[-1] == 12 * MIB
    assert "processing" in {p.stage for p in progress.events}
    assert tiktok.state.calls == ["creator_info", "init", "upload", "upload", "status", "status"]


async def test_a_private_post_has_no_public_id_yet(tiktok: FakeTikTok, tmp_path: Path) -> None:
    path, _ = make_file(tmp_path, 1 * MIB)
    refs: list[str] = []
    tt = publisher(tiktok)
    result = await tt.publish(request(path, on_ref=refs.append))  # no privacy chosen: the most private offered
    await tt.aclose()
    [post] = tiktok.state.posts
    assert post.privacy_level == "SELF_ONLY"
    assert (result.platform_post_id, result.url) == (refs[0], None)
    assert refs[0].startswith("v_pub_file~v2-1.")


async def test_a_privacy_level_the_creator_lacks_is_refused_before_init(tiktok: FakeTikTok, tmp_path: Path) -> None:
    path, _ = make_file(tmp_path, 1 * MIB)
    tiktok.state.creators["open-id-1"].privacy_level_options = ["SELF_ONLY"]
    tt = publisher(tiktok)
    with pytest.raises(PublishError) as refused:
        await tt.publish(request(path, options=TikTokOptions(privacy_level="PUBLIC_TO_EVERYONE")))
    await tt.aclose()
    assert (refused.value.kind, refused.value.platform_code) == (ErrorKind.REJECTED, "privacy_level_option_mismatch")
    assert refused.value.message == ("TikTok does not offer the privacy level PUBLIC_TO_EVERYONE for this account "
                                     "(it offers: SELF_ONLY).")
    assert tiktok.state.calls == ["creator_info"]


async def test_a_video_longer_than_the_creator_may_post_is_refused(tiktok: FakeTikTok, tmp_path: Path) -> None:
    path, _ = make_file(tmp_path, 1 * MIB)
    tiktok.state.creators["open-id-1"].max_video_post_duration_sec = 60
    tt = publisher(tiktok)
    with pytest.raises(PublishError) as refused:
        await tt.publish(request(path, duration_s=75))
    await tt.aclose()
    assert refused.value.message == "This TikTok account can post videos up to 60 seconds; this one lasts 75 seconds."
    assert tiktok.state.posts == [] and "init" not in tiktok.state.calls


@pytest.mark.parametrize(("reason", "kind", "message"), [
    ("frame_rate_check_failed", ErrorKind.REJECTED, "TikTok refused the video's frame rate (it accepts 23 to 60 fps)."),
    ("internal", ErrorKind.RETRYABLE, "TikTok failed to process the video on its side; it will be tried again."),
    ("auth_removed", ErrorKind.RECONNECT, "The TikTok account removed this app's access; reconnect the account."),
])
async def test_processing_failures_say_why(tiktok: FakeTikTok, tmp_path: Path, reason: str, kind: ErrorKind,
                                           message: str) -> None:
    path, _ = make_file(tmp_path, 1 * MIB)
    tiktok.state.faults.add("process", Fault.processing_failure(reason))
    tt = publisher(tiktok)
    with pytest.raises(PublishError) as failed:
        await tt.publish(request(path))
    await tt.aclose()
    assert (failed.value.kind, failed.value.message, failed.value.platform_code) == (kind, message, reason)
    assert failed.value.may_have_posted is False
    assert tiktok.state.posts == []


@pytest.mark.parametrize(("op", "fault", "kind", "retry_after", "may_have_posted"), [
    ("init", Fault.rate_limit(retry_after=7), ErrorKind.RETRYABLE, 7.0, False),
    ("creator_info", Fault.expired_token(), ErrorKind.RECONNECT, None, False),
    ("init", Fault.server_error(), ErrorKind.RETRYABLE, None, False),
    ("upload", Fault.server_error(), ErrorKind.RETRYABLE, None, True),  # the last (only) chunk: maybe accepted
    ("upload", Fault.hang(5), ErrorKind.RETRYABLE, None, True),
    ("status", Fault.hang(5), ErrorKind.RETRYABLE, None, True),
])
async def test_faults_map_to_error_kinds(tiktok: FakeTikTok, tmp_path: Path, op: str, fault: Fault,
                                         kind: ErrorKind, retry_after: float | None, may_have_posted: bool) -> None:
    path, _ = make_file(tmp_path, 1 * MIB)
    tiktok.state.faults.add(op, fault)
    tt = publisher(tiktok, timeout=httpx.Timeout(0.3))
    with pytest.raises(PublishError) as failed:
        await tt.publish(request(path))
    await tt.aclose()
    assert (failed.value.kind, failed.value.retry_after, failed.value.may_have_posted) == (
        kind, retry_after, may_have_posted)


async def test_an_expired_token_asks_for_a_reconnect(tiktok: FakeTikTok, tmp_path: Path) -> None:
    path, _ = make_file(tmp_path, 1 * MIB)
    tiktok.state.expire(TT_TOKEN)
    tt = publisher(tiktok)
    with pytest.raises(PublishError) as failed:
        await tt.publish(request(path))
    await tt.aclose()
    assert (failed.value.kind, failed.value.platform_code) == (ErrorKind.RECONNECT, "access_token_invalid")
    assert failed.value.message == "TikTok no longer accepts this account's sign-in; reconnect the TikTok account."


async def test_an_expired_upload_url_means_start_again(tiktok: FakeTikTok, tmp_path: Path) -> None:
    path, _ = make_file(tmp_path, 1 * MIB)
    tiktok.state.upload_url_ttl_s = -1
    tt = publisher(tiktok)
    with pytest.raises(PublishError) as failed:
        await tt.publish(request(path))
    await tt.aclose()
    assert (failed.value.kind, failed.value.platform_code, failed.value.may_have_posted) == (
        ErrorKind.RETRYABLE, "upload_url_expired", False)
    assert tiktok.state.posts == []


async def test_a_dropped_answer_after_the_last_chunk_is_reconciled_not_reposted(tiktok: FakeTikTok,
                                                                                tmp_path: Path) -> None:
    # given TikTok takes the last chunk (the post exists) and the connection drops
    path, _ = make_file(tmp_path, 12 * MIB)
    tiktok.state.faults.add("upload", Fault.drop(skip=1))
    tt = publisher(tiktok, chunk_size=5 * MIB)
    with pytest.raises(PublishError) as failed:
        await tt.publish(request(path, caption="find me", options=TikTokOptions(privacy_level="PUBLIC_TO_EVERYONE")))
    assert (failed.value.kind, failed.value.may_have_posted) == (ErrorKind.RETRYABLE, True)
    # when the caller looks at recent media, and resumes from the publish_id
    recent = await tt.find_recent(TT_TOKEN)
    resumed = await tt.publish(request(path, resume_ref=failed.value.ref))
    await tt.aclose()
    # then both find the one post; nothing was uploaded again
    [post] = tiktok.state.posts
    assert [(m.id, m.caption, m.duration_s) for m in recent] == [(str(post.id), "find me", 30)]
    assert recent[0].url == f"https://www.tiktok.com/@{TT_USERNAME}/video/{post.id}"
    assert resumed.platform_post_id == str(post.id)
    assert tiktok.state.calls.count("init") == 1 and tiktok.state.calls.count("upload") == 2


async def test_resuming_an_unfinished_upload_says_start_again(tiktok: FakeTikTok, tmp_path: Path) -> None:
    path, _ = make_file(tmp_path, 12 * MIB)
    tiktok.state.faults.add("upload", Fault.drop(after_bytes=MIB))
    tt = publisher(tiktok, chunk_size=5 * MIB)
    with pytest.raises(PublishError) as failed:
        await tt.publish(request(path))
    assert failed.value.may_have_posted is False
    with pytest.raises(PublishError) as resumed:
        await tt.publish(request(path, resume_ref=failed.value.ref))
    await tt.aclose()
    assert (resumed.value.kind, resumed.value.platform_code, resumed.value.may_have_posted) == (
        ErrorKind.RETRYABLE, "upload_incomplete", False)
    assert tiktok.state.posts == []


async def test_a_50_mb_file_is_streamed_in_bounded_reads(tiktok: FakeTikTok, tmp_path: Path) -> None:
    path, sha = make_file(tmp_path, 50 * 1000 * 1000)
    stream = CountingStream(path)
    tt = publisher(tiktok)
    tracemalloc.start()
    try:
        await tt.publish(PublishRequest(access_token=TT_TOKEN, caption="big",
                                        media=MediaSource.from_stream(cast(IO[bytes], stream), path.stat().st_size)))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        stream.close()
        await tt.aclose()
    assert max(stream.reads) <= READ_SIZE and sum(stream.reads) == 50 * 1000 * 1000
    assert peak < 6 * MIB, peak  # below one 10 MiB chunk
    assert len(tiktok.state.chunk_puts) == 4  # 10 MiB chunks, the last carrying the rest
    [post] = tiktok.state.posts
    assert post.sha256 == sha
