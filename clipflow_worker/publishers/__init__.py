"""One adapter per social platform behind one Protocol (base.Publisher)."""

from __future__ import annotations

from clipflow_api.models.enums import Platform

from .base import (
    ErrorKind,
    InstagramOptions,
    MediaSource,
    Progress,
    PublishError,
    Publisher,
    PublishRequest,
    PublishResult,
    Quota,
    RecentMedia,
    TikTokOptions,
    YouTubeOptions,
)
from .instagram import InstagramPublisher
from .tiktok import TikTokPublisher
from .youtube import YouTubePublisher

PUBLISHERS: dict[Platform, type[YouTubePublisher] | type[TikTokPublisher] | type[InstagramPublisher]] = {
    Platform.YOUTUBE: YouTubePublisher,
    Platform.TIKTOK: TikTokPublisher,
    Platform.INSTAGRAM: InstagramPublisher,
}


def publisher_for(platform: Platform | str) -> Publisher:
    """A publisher for ``platform`` with its base URLs from settings (call ``aclose`` when done)."""
    try:
        cls = PUBLISHERS[Platform(platform)]
    except (KeyError, ValueError):
        raise LookupError(f"no publisher for platform {platform!r}") from None
    return cls()


__all__ = [
    "ErrorKind", "InstagramOptions", "InstagramPublisher", "MediaSource", "PUBLISHERS", "Progress", "PublishError",
    "PublishRequest", "PublishResult", "Publisher", "Quota", "RecentMedia", "TikTokOptions", "TikTokPublisher",
    "YouTubeOptions", "YouTubePublisher", "publisher_for",
]
