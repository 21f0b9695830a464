"""The shared pieces: Retry-After, bounded reads, the registry."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

import httpx
import pytest

from clipflow_api.config import Settings, get_settings
from clipflow_api.models.enums import Platform
from clipflow_worker.publishers import (
    ErrorKind,
    InstagramPublisher,
    MediaSource,
    PublishError,
    TikTokPublisher,
    YouTubePublisher,
    publisher_for,
)
from clipflow_worker.publishers.base import retry_after_seconds


def test_retry_after_reads_seconds_and_http_dates() -> None:
    later = datetime.now(timezone.utc) + timedelta(seconds=120)
    assert retry_after_seconds(httpx.Response(429, headers={"Retry-After": "30"})) == 30.0
    assert 100 < (retry_after_seconds(httpx.Response(429, headers={"Retry-After": format_datetime(later, usegmt=True)}))
                  or 0) <= 120
    assert retry_after_seconds(httpx.Response(429)) is None
    assert retry_after_seconds(httpx.Response(429, headers={"Retry-After": "soon"})) is None


async def test_reads_are_bounded_and_positioned(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(bytes(range(256)) * 40)
    reader = MediaSource.from_path(path).open()
    reader.read_size = 1000
    pieces = [p async for p in reader.iter_range(2000, 2500)]
    again = [p async for p in reader.iter_range(0, 10)]
    reader.close()
    assert [len(p) for p in pieces] == [1000, 1000, 500]
    assert b"".join(pieces) == path.read_bytes()[2000:4500]
    assert b"".join(again) == path.read_bytes()[:10]


async def test_a_forward_only_stream_cannot_rewind() -> None:
    class ForwardOnly(io.RawIOBase):
        def __init__(self) -> None:
            self.data = io.BytesIO(b"x" * 100)

        def readable(self) -> bool:
            return True

        def read(self, n: int = -1) -> bytes:
            return self.data.read(n)

    reader = MediaSource.from_stream(ForwardOnly(), 100).open()  # type: ignore[arg-type]
    skipped = [p async for p in reader.iter_range(50, 10)]
    assert b"".join(skipped) == b"x" * 10
    with pytest.raises(PublishError) as refused:
        _ = [p async for p in reader.iter_range(0, 10)]
    assert refused.value.kind is ErrorKind.RETRYABLE


async def test_a_file_shorter_than_announced_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"abc")
    reader = MediaSource(size=10, path=path).open()
    with pytest.raises(PublishError) as refused:
        _ = [p async for p in reader.iter_range(0, 10)]
    reader.close()
    assert refused.value.kind is ErrorKind.REJECTED


async def test_the_registry_builds_each_publisher_from_settings() -> None:
    settings = get_settings()
    built = [publisher_for(p) for p in (Platform.YOUTUBE, Platform.TIKTOK, "instagram")]
    assert [type(p) for p in built] == [YouTubePublisher, TikTokPublisher, InstagramPublisher]
    assert built[0].upload_url == settings.youtube_upload_url  # type: ignore[attr-defined]
    assert built[1].api_url == settings.tiktok_api_url  # type: ignore[attr-defined]
    assert built[2].api_url == settings.instagram_api_url  # type: ignore[attr-defined]
    for p in built:
        await p.aclose()
    with pytest.raises(LookupError):
        publisher_for(Platform.LINKEDIN)


def test_platform_urls_default_to_the_real_hosts() -> None:
    defaults = {name: Settings.model_fields[name].default for name in (
        "youtube_api_url", "youtube_upload_url", "tiktok_api_url", "instagram_api_url")}
    assert defaults == {
        "youtube_api_url": "https://www.googleapis.com/youtube/v3",
        "youtube_upload_url": "https://www.googleapis.com/upload/youtube/v3",
        "tiktok_api_url": "https://open.tiktokapis.com",
        "instagram_api_url": "https://graph.instagram.com/v24.0",
    }
