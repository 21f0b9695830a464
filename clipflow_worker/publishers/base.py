"""What every platform publisher shares: the Protocol, the request and result, the error kinds.

A publisher is one small adapter over a platform's real HTTP API (httpx, async). It never
reads a file whole: media is streamed from disk (or from a storage stream) in bounded reads,
so a 4 GB video costs the worker a few MiB of memory.

Exactly-once is decided above this layer (the post state machine); this layer makes that
possible by saying, on every failure, whether the platform may already hold the post
(`PublishError.may_have_posted`) and by listing the account's recent media (`find_recent`)
so an interrupted publish can be reconciled instead of blindly retried.
"""

from __future__ import annotations

import asyncio
import inspect
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from enum import StrEnum
from pathlib import Path
from typing import IO, Protocol

import httpx

from clipflow_api.models.enums import Platform

# One read from the source: what a publisher holds of a file at any time (plus httpx's own
# small buffers), whatever the platform's chunk size.
READ_SIZE = 1 << 20

DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=120.0, write=120.0, pool=10.0)


class ErrorKind(StrEnum):
    RETRYABLE = "retryable"  # 5xx, timeouts, network, 429: try again later (honour retry_after)
    RECONNECT = "reconnect"  # the token is invalid, expired or revoked: the user must reconnect
    REJECTED = "rejected"  # the platform refused the media or the input: retrying will not help


class PublishError(Exception):
    """A publish that did not complete, with what the caller should do about it.

    ``message`` is a sentence a user understands. ``may_have_posted`` is true when the failure
    came at or after the call that creates the post, so the platform may hold it: the caller
    must reconcile (``find_recent``) before publishing again. ``ref`` is the platform handle
    that lets a later call continue (YouTube upload session URL, TikTok publish_id, Instagram
    container id); pass it back as ``PublishRequest.resume_ref``.
    """

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        retry_after: float | None = None,
        may_have_posted: bool = False,
        platform_code: str | None = None,
        ref: str | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.retry_after = retry_after
        self.may_have_posted = may_have_posted
        self.platform_code = platform_code
        self.ref = ref

    def __repr__(self) -> str:
        return (f"PublishError({self.kind.value!r}, {self.message!r}, retry_after={self.retry_after!r}, "
                f"may_have_posted={self.may_have_posted!r}, platform_code={self.platform_code!r})")


@dataclass(frozen=True)
class MediaSource:
    """The file to publish: a path on disk, or a readable binary stream from storage with its size.

    A stream is read forward only unless it is seekable; resuming an upload behind the
    current position needs a seekable stream (a path always is).
    """

    size: int
    path: Path | None = None
    stream: IO[bytes] | None = None
    content_type: str = "video/mp4"

    @classmethod
    def from_path(cls, path: str | os.PathLike[str], content_type: str = "video/mp4") -> MediaSource:
        p = Path(path)
        return cls(size=p.stat().st_size, path=p, content_type=content_type)

    @classmethod
    def from_stream(cls, stream: IO[bytes], size: int, content_type: str = "video/mp4") -> MediaSource:
        return cls(size=size, stream=stream, content_type=content_type)

    def open(self) -> MediaReader:
        return MediaReader(self)


class MediaReader:
    """Bounded, positioned reads of a MediaSource, off the event loop."""

    def __init__(self, source: MediaSource, read_size: int = READ_SIZE) -> None:
        self.source = source
        self.read_size = read_size
        self._own = source.stream is None
        self._file: IO[bytes] | None = source.stream
        self._pos = 0
        if self._file is not None and self._file.seekable():
            self._pos = self._file.tell()

    def _handle(self) -> IO[bytes]:
        if self._file is None:
            assert self.source.path is not None, "a MediaSource needs a path or a stream"
            self._file = open(self.source.path, "rb")  # noqa: SIM115 - closed in close()
        return self._file

    async def _seek(self, offset: int) -> None:
        f = self._handle()
        if offset == self._pos:
            return
        if f.seekable():
            await asyncio.to_thread(f.seek, offset)
            self._pos = offset
        elif offset > self._pos:  # skip forward by reading
            async for _ in self._read(offset - self._pos):
                pass
        else:
            raise PublishError(ErrorKind.RETRYABLE, "The upload was interrupted and the file cannot be re-read "
                               "from where the platform stopped; it will start again.")

    async def _read(self, length: int) -> AsyncIterator[bytes]:
        f = self._handle()
        left = length
        while left > 0:
            piece = await asyncio.to_thread(f.read, min(self.read_size, left))
            if not piece:
                raise PublishError(ErrorKind.REJECTED, "The video file is shorter than expected; "
                                   "it may have changed while being published.")
            self._pos += len(piece)
            left -= len(piece)
            yield piece

    async def iter_range(self, start: int, length: int,
                         on_bytes: Callable[[int], Awaitable[None]] | None = None) -> AsyncIterator[bytes]:
        """Yield ``length`` bytes from ``start`` in reads of at most ``read_size``."""
        await self._seek(start)
        async for piece in self._read(length):
            yield piece
            if on_bytes is not None:
                await on_bytes(len(piece))

    def close(self) -> None:
        if self._own and self._file is not None:
            self._file.close()
            self._file = None


@dataclass(frozen=True)
class Progress:
    stage: str  # "upload" | "processing" | "publishing"
    done: int
    total: int

    @property
    def percent(self) -> float:
        return 100.0 * self.done / self.total if self.total else 0.0


ProgressCallback = Callable[[Progress], Awaitable[None] | None]


@dataclass(frozen=True)
class YouTubeOptions:
    privacy_status: str = "private"  # public | unlisted | private
    category_id: str = "22"  # People & Blogs
    made_for_kids: bool = False
    tags: tuple[str, ...] = ()
    notify_subscribers: bool = True
    thumbnail: MediaSource | None = None


@dataclass(frozen=True)
class TikTokOptions:
    privacy_level: str | None = None  # one of creator_info's privacy_level_options; None: the most private offered
    disable_duet: bool = False
    disable_comment: bool = False
    disable_stitch: bool = False
    cover_timestamp_ms: int | None = None
    brand_content_toggle: bool = False
    brand_organic_toggle: bool = False
    is_aigc: bool = False


@dataclass(frozen=True)
class InstagramOptions:
    share_to_feed: bool = True
    thumb_offset_ms: int | None = None
    first_comment: str | None = None


@dataclass
class PublishRequest:
    """What one publish needs. ``account_id`` is the platform's id of the account where the API
    wants it in the path (Instagram's ig-user-id). ``video_url`` is Instagram's: a signed,
    expiring public URL of the same file (Instagram fetches it; nothing is uploaded)."""

    access_token: str
    media: MediaSource
    caption: str = ""
    title: str | None = None
    account_id: str | None = None
    video_url: str | None = None
    duration_s: float | None = None  # checked against the platform's limit where it says one
    options: YouTubeOptions | TikTokOptions | InstagramOptions | None = None
    on_progress: ProgressCallback | None = None
    # Called as soon as the platform hands out the handle a later attempt continues from
    # (YouTube session URL, TikTok publish_id, Instagram container id): persist it, so even
    # a killed worker's successor can resume or check instead of posting again.
    on_ref: Callable[[str], Awaitable[None] | None] | None = None
    resume_ref: str | None = None  # PublishError.ref (or on_ref's value) of an earlier attempt

    async def remember(self, ref: str) -> None:
        if self.on_ref is None:
            return
        result = self.on_ref(ref)
        if inspect.isawaitable(result):
            await result

    async def report(self, stage: str, done: int, total: int) -> None:
        if self.on_progress is None:
            return
        result = self.on_progress(Progress(stage, done, total))
        if inspect.isawaitable(result):
            await result


@dataclass(frozen=True)
class PublishResult:
    platform_post_id: str
    url: str | None
    # Steps after the post exists that did not work (thumbnail, first comment): the post
    # stands, so these never fail the publish.
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class RecentMedia:
    id: str
    caption: str
    created_at: datetime
    duration_s: float | None = None
    title: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class Quota:
    used: int
    total: int
    window_s: int

    @property
    def left(self) -> int:
        return max(self.total - self.used, 0)


class Publisher(Protocol):
    platform: Platform

    async def publish(self, request: PublishRequest) -> PublishResult:
        """Publish one video; raises PublishError."""
        ...

    async def find_recent(self, access_token: str, *, account_id: str | None = None,
                          limit: int = 20) -> list[RecentMedia]:
        """The account's most recent media, newest first (for reconciliation)."""
        ...

    async def aclose(self) -> None: ...


# --- HTTP helpers shared by the adapters -------------------------------------------------------------


def retry_after_seconds(response: httpx.Response) -> float | None:
    """Retry-After as seconds (delta-seconds or an HTTP date); None when absent or unreadable."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max((when - datetime.now(timezone.utc)).total_seconds(), 0.0)


NETWORK_MESSAGE = "The connection to {platform} failed; it will be tried again."
TIMEOUT_MESSAGE = "{platform} did not answer in time; it will be tried again."


def transport_error(platform: str, exc: httpx.TransportError, *, may_have_posted: bool,
                    ref: str | None = None) -> PublishError:
    template = TIMEOUT_MESSAGE if isinstance(exc, httpx.TimeoutException) else NETWORK_MESSAGE
    return PublishError(ErrorKind.RETRYABLE, template.format(platform=platform),
                        may_have_posted=may_have_posted, platform_code=type(exc).__name__, ref=ref)


def generic_http_error(platform: str, response: httpx.Response, *, may_have_posted: bool,
                       ref: str | None = None, code: str | None = None) -> PublishError | None:
    """The error for status codes every platform means the same way (429, 5xx); None otherwise."""
    if response.status_code == 429:
        return PublishError(ErrorKind.RETRYABLE, f"{platform} is limiting how fast we can post; it will be tried again.",
                            retry_after=retry_after_seconds(response), may_have_posted=may_have_posted,
                            platform_code=code or "429", ref=ref)
    if response.status_code >= 500:
        return PublishError(ErrorKind.RETRYABLE, f"{platform} had a temporary problem; it will be tried again.",
                            retry_after=retry_after_seconds(response), may_have_posted=may_have_posted,
                            platform_code=code or str(response.status_code), ref=ref)
    return None


def json_or_empty(response: httpx.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


@dataclass
class OwnedClient:
    """An httpx client the adapter made itself (closed by aclose) or one it was given (left open)."""

    client: httpx.AsyncClient
    owned: bool = field(default=False)

    @classmethod
    def make(cls, client: httpx.AsyncClient | None, timeout: httpx.Timeout | float | None) -> OwnedClient:
        if client is not None:
            return cls(client, owned=False)
        return cls(httpx.AsyncClient(timeout=timeout if timeout is not None else DEFAULT_TIMEOUT), owned=True)

    async def aclose(self) -> None:
        if self.owned:
            await self.client.aclose()
