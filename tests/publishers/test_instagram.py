"""InstagramPublisher against the strict fake Graph API: Reels containers, publish, faults, quota."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from clipflow_worker.publishers import (
    ErrorKind,
    InstagramOptions,
    MediaSource,
    PublishError,
    PublishRequest,
    Quota,
)
from clipflow_worker.publishers.instagram import InstagramPublisher
from tests.fixtures.platforms import FakeInstagram, Fault

from .conftest import IG_TOKEN, IG_USER, ProgressLog, make_file

KIB = 1024


def publisher(server: FakeInstagram, **kw: object) -> InstagramPublisher:
    kw.setdefault("poll_interval_s", 0.01)
    return InstagramPublisher(api_url=server.api_url, **kw)  # type: ignore[arg-type]


def request(server: FakeInstagram, path: Path, *, ttl_s: float = 600, **kw: object) -> PublishRequest:
    kw.setdefault("caption", "Three cuts #reels")
    return PublishRequest(access_token=IG_TOKEN, account_id=IG_USER, media=MediaSource.from_path(path),
                          video_url=server.state.host(path, ttl_s), **kw)  # type: ignore[arg-type]


async def test_publishes_a_reel_with_its_first_comment(instagram: FakeInstagram, tmp_path: Path) -> None:
    # given
    path, sha = make_file(tmp_path, 700 * KIB)
    progress = ProgressLog()
    refs: list[str] = []
    ig = publisher(instagram)
    # when
    result = await ig.publish(request(instagram, path, on_progress=progress, on_ref=refs.append, options=InstagramOptions(
        share_to_feed=False, thumb_offset_ms=2500, first_comment="Full video on the channel")))
    await ig.aclose()
    # then Instagram fetched the very bytes, and one Reel exists with its comment
    [media] = instagram.state.media
    [container] = instagram.state.containers.values()
    assert (media.sha256, media.size, media.caption) == (sha, 700 * KIB, "Three cuts #reels")
    assert (container.id, container.share_to_feed, container.thumb_offset) == (refs[0], False, 2500)
    assert container.status_code == "PUBLISHED"
    assert media.comments == ["Full video on the channel"]
    assert (result.platform_post_id, result.url, result.warnings) == (
        media.id, f"https://www.instagram.com/reel/{media.id}/", ())
    assert "processing" in {p.stage for p in progress.events}
    assert progress.events[-1].stage == "publishing"


@pytest.mark.parametrize(("reason", "kind", "message"), [
    ("2207026", ErrorKind.REJECTED, "Instagram cannot use this video for a Reel: its format, codec, length or size "
                                    "is not supported (MP4/MOV, H.264 or HEVC, 3 seconds to 15 minutes, at most "
                                    "300 MB)."),
    ("EXPIRED", ErrorKind.RETRYABLE, "The prepared Instagram upload expired (after 24 hours) before it was "
                                     "published; it will be prepared again."),
    ("2207001", ErrorKind.RETRYABLE, "Instagram had a temporary problem processing the video; it will be tried again."),
])
async def test_a_container_that_ends_error_or_expired_fails_in_words(
        instagram: FakeInstagram, tmp_path: Path, reason: str, kind: ErrorKind, message: str) -> None:
    path, _ = make_file(tmp_path, 100 * KIB)
    instagram.state.faults.add("process", Fault.processing_failure(reason))
    ig = publisher(instagram)
    with pytest.raises(PublishError) as failed:
        await ig.publish(request(instagram, path))
    await ig.aclose()
    assert (failed.value.kind, failed.value.message, failed.value.may_have_posted) == (kind, message, False)
    assert instagram.state.media == []


async def test_an_expired_video_link_fails_the_container(instagram: FakeInstagram, tmp_path: Path) -> None:
    path, _ = make_file(tmp_path, 100 * KIB)
    ig = publisher(instagram)
    with pytest.raises(PublishError) as failed:
        await ig.publish(request(instagram, path, ttl_s=-1))
    await ig.aclose()
    assert (failed.value.kind, failed.value.platform_code) == (ErrorKind.RETRYABLE, "2207052")
    assert instagram.state.media == []


@pytest.mark.parametrize(("op", "fault", "kind", "retry_after", "may_have_posted"), [
    ("container", Fault.rate_limit(retry_after=60), ErrorKind.RETRYABLE, 60.0, False),
    ("container", Fault.expired_token(), ErrorKind.RECONNECT, None, False),
    ("container_status", Fault.hang(5), ErrorKind.RETRYABLE, None, False),
    ("publish", Fault.server_error(), ErrorKind.RETRYABLE, None, True),
    ("publish", Fault.hang(5), ErrorKind.RETRYABLE, None, True),
])
async def test_faults_map_to_error_kinds(instagram: FakeInstagram, tmp_path: Path, op: str, fault: Fault,
                                         kind: ErrorKind, retry_after: float | None, may_have_posted: bool) -> None:
    path, _ = make_file(tmp_path, 100 * KIB)
    instagram.state.faults.add(op, fault)
    ig = publisher(instagram, timeout=httpx.Timeout(0.3))
    with pytest.raises(PublishError) as failed:
        await ig.publish(request(instagram, path))
    await ig.aclose()
    assert (failed.value.kind, failed.value.retry_after, failed.value.may_have_posted) == (
        kind, retry_after, may_have_posted)
    assert instagram.state.media == []


async def test_an_expired_token_asks_for_a_reconnect(instagram: FakeInstagram, tmp_path: Path) -> None:
    path, _ = make_file(tmp_path, 100 * KIB)
    instagram.state.expire(IG_TOKEN)
    ig = publisher(instagram)
    with pytest.raises(PublishError) as failed:
        await ig.publish(request(instagram, path))
    await ig.aclose()
    assert (failed.value.kind, failed.value.platform_code) == (ErrorKind.RECONNECT, "190/463")


async def test_a_dropped_publish_answer_is_found_and_never_published_twice(instagram: FakeInstagram,
                                                                          tmp_path: Path) -> None:
    # given media_publish creates the Reel and the connection drops before the answer
    path, _ = make_file(tmp_path, 100 * KIB)
    instagram.state.faults.add("publish", Fault.drop())
    ig = publisher(instagram)
    with pytest.raises(PublishError) as failed:
        await ig.publish(request(instagram, path, caption="find me #reels"))
    assert (failed.value.kind, failed.value.may_have_posted) == (ErrorKind.RETRYABLE, True)
    # when the caller reconciles, and (wrongly) also resumes from the container
    recent = await ig.find_recent(IG_TOKEN, account_id=IG_USER)
    with pytest.raises(PublishError) as resumed:
        await ig.publish(request(instagram, path, resume_ref=failed.value.ref))
    await ig.aclose()
    # then the one Reel is found, and the resume refuses to publish again
    [media] = instagram.state.media
    assert [(m.id, m.caption, m.url) for m in recent] == [(media.id, "find me #reels", media.permalink)]
    assert (resumed.value.may_have_posted, resumed.value.platform_code) == (True, "PUBLISHED")
    assert len(instagram.state.containers) == 1


async def test_resuming_a_finished_container_publishes_it_without_a_new_one(instagram: FakeInstagram,
                                                                            tmp_path: Path) -> None:
    path, sha = make_file(tmp_path, 100 * KIB)
    instagram.state.faults.add("publish", Fault.server_error())
    ig = publisher(instagram)
    with pytest.raises(PublishError) as failed:
        await ig.publish(request(instagram, path))
    assert instagram.state.media == []  # the 500 came before anything was created
    result = await ig.publish(request(instagram, path, resume_ref=failed.value.ref))
    await ig.aclose()
    [media] = instagram.state.media
    assert (media.id, media.sha256, len(instagram.state.containers)) == (result.platform_post_id, sha, 1)


async def test_a_failed_first_comment_is_a_warning(instagram: FakeInstagram, tmp_path: Path) -> None:
    path, _ = make_file(tmp_path, 100 * KIB)
    instagram.state.faults.add("comment", Fault.server_error())
    ig = publisher(instagram)
    result = await ig.publish(request(instagram, path, options=InstagramOptions(first_comment="hi")))
    await ig.aclose()
    assert len(instagram.state.media) == 1
    assert result.warnings == ("The Reel is on Instagram, but the first comment could not be added: Instagram had "
                               "a temporary problem; it will be tried again.",)


async def test_reads_the_publishing_quota_and_refuses_past_it(instagram: FakeInstagram, tmp_path: Path) -> None:
    path, _ = make_file(tmp_path, 100 * KIB)
    instagram.state.quota_total = 1
    ig = publisher(instagram)
    before = await ig.publishing_limit(IG_TOKEN, IG_USER)
    await ig.publish(request(instagram, path))
    after = await ig.publishing_limit(IG_TOKEN, IG_USER)
    with pytest.raises(PublishError) as refused:
        await ig.publish(request(instagram, path))
    await ig.aclose()
    assert (before, after, after.left) == (Quota(0, 1, 86400), Quota(1, 1, 86400), 0)
    assert (refused.value.kind, refused.value.platform_code, refused.value.may_have_posted) == (
        ErrorKind.RETRYABLE, "9/2207042", False)
    assert len(instagram.state.media) == 1


async def test_a_caption_over_2200_characters_is_refused_before_any_call(instagram: FakeInstagram,
                                                                         tmp_path: Path) -> None:
    path, _ = make_file(tmp_path, 10 * KIB)
    ig = publisher(instagram)
    with pytest.raises(PublishError) as refused:
        await ig.publish(request(instagram, path, caption="x" * 2201))
    await ig.aclose()
    assert refused.value.message == "Instagram captions are limited to 2200 characters."
    assert instagram.state.calls == []
