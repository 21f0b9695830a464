"""YouTube Data API v3: resumable video upload, thumbnail, recent uploads.

Protocol (developers.google.com/youtube/v3/guides/using_resumable_upload_protocol):
1. ``POST {upload}/videos?uploadType=resumable&part=snippet,status`` with the video resource
   as JSON and ``X-Upload-Content-Length``/``X-Upload-Content-Type``; the session URL comes
   back in ``Location``.
2. ``PUT`` the bytes to the session URL in chunks whose size is a multiple of 256 KiB (the
   last may be shorter), each with ``Content-Range: bytes first-last/total``. ``308 Resume
   Incomplete`` with ``Range: bytes=0-N`` acknowledges up to N; ``200``/``201`` with the video
   resource ends the upload: that final PUT is the call that creates the video.
3. After an interruption, ``PUT`` with an empty body and ``Content-Range: bytes */total``
   asks where the server is: 308 + Range (continue from N+1), or 200/201 with the video when
   the upload had in fact completed (so a lost answer never means a second video).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from clipflow_api.config import get_settings
from clipflow_api.models.enums import Platform

from .base import (
    ErrorKind,
    MediaReader,
    OwnedClient,
    PublishError,
    PublishRequest,
    PublishResult,
    RecentMedia,
    YouTubeOptions,
    generic_http_error,
    json_or_empty,
    transport_error,
)

NAME = "YouTube"
CHUNK_UNIT = 256 * 1024
DEFAULT_CHUNK_SIZE = 32 * CHUNK_UNIT  # 8 MiB
TITLE_MAX = 100
DESCRIPTION_MAX_BYTES = 5000
_PACIFIC = ZoneInfo("America/Los_Angeles")

_REASONS = {
    "invalidTitle": "YouTube refused the title: it must be 1 to 100 characters, without < or >.",
    "invalidDescription": "YouTube refused the description: it must be under 5,000 bytes, without < or >.",
    "invalidTags": "YouTube refused the tags: together they must stay under 500 characters.",
    "invalidCategoryId": "YouTube does not accept the chosen category for this video.",
    "invalidVideoMetadata": "YouTube refused the video's details (title, description, tags or category).",
    "mediaBodyRequired": "YouTube received no video file.",
    "youtubeSignupRequired": "This Google account has no YouTube channel yet; create one, then try again.",
    "forbidden": "YouTube does not allow this account to upload videos.",
    "uploadLimitExceeded": "This channel has reached YouTube's upload limit for today; it will be tried again tomorrow.",
    "invalidImage": "YouTube refused the thumbnail image (JPEG or PNG, at most 2 MB).",
    "mediaTooLarge": "The video is larger than YouTube allows.",
}


def _seconds_until_pacific_midnight(now: datetime | None = None) -> float:
    """YouTube's API quota resets at midnight Pacific time."""
    now = (now or datetime.now(_PACIFIC)).astimezone(_PACIFIC)
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return (midnight - now).total_seconds()


def youtube_error(response: httpx.Response, *, may_have_posted: bool = False,
                  ref: str | None = None) -> PublishError:
    """Map a YouTube error answer to a PublishError."""
    body = json_or_empty(response).get("error")
    error: dict[str, Any] = body if isinstance(body, dict) else {}
    details = error.get("errors") or [{}]
    reason = details[0].get("reason") if isinstance(details[0], dict) else None
    generic = generic_http_error(NAME, response, may_have_posted=may_have_posted, ref=ref, code=reason)
    if generic is not None:
        return generic
    kw: dict[str, Any] = {"may_have_posted": may_have_posted, "platform_code": reason or str(response.status_code),
                          "ref": ref}
    if response.status_code == 401 or reason in ("authError", "insufficientPermissions", "invalid_grant"):
        return PublishError(ErrorKind.RECONNECT, "YouTube no longer accepts this account's sign-in; "
                            "reconnect the YouTube account.", **kw)
    if reason == "quotaExceeded":
        return PublishError(ErrorKind.RETRYABLE, "Today's YouTube API quota is used up; publishing resumes "
                            "when it resets at midnight Pacific time.",
                            retry_after=_seconds_until_pacific_midnight(), **kw)
    if reason in ("rateLimitExceeded", "userRateLimitExceeded"):
        return PublishError(ErrorKind.RETRYABLE, "YouTube is limiting how fast we can post; it will be tried again.",
                            **kw)
    if reason == "uploadLimitExceeded":
        return PublishError(ErrorKind.RETRYABLE, _REASONS[reason], retry_after=_seconds_until_pacific_midnight(),
                            **kw)
    message = _REASONS.get(reason or "")
    if message is None:
        said = error.get("message") or response.reason_phrase
        message = f"YouTube refused the video: {said}"
    return PublishError(ErrorKind.REJECTED, message, **kw)


_DURATION = re.compile(r"^P(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$")


def parse_duration(value: str | None) -> float | None:
    """ISO 8601 durations as YouTube writes them (PT1M3S) in seconds."""
    match = _DURATION.match(value or "")
    if not match:
        return None
    d, h, m, s = (float(match.group(k) or 0) for k in ("d", "h", "m", "s"))
    return d * 86400 + h * 3600 + m * 60 + s


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class YouTubePublisher:
    platform = Platform.YOUTUBE

    def __init__(self, *, api_url: str | None = None, upload_url: str | None = None,
                 client: httpx.AsyncClient | None = None, timeout: httpx.Timeout | float | None = None,
                 chunk_size: int = DEFAULT_CHUNK_SIZE, max_resumes: int = 5, resume_delay_s: float = 1.0) -> None:
        if chunk_size <= 0 or chunk_size % CHUNK_UNIT:
            raise ValueError("YouTube upload chunks must be a positive multiple of 256 KiB")
        settings = get_settings()
        self.api_url = (api_url or settings.youtube_api_url).rstrip("/")
        self.upload_url = (upload_url or settings.youtube_upload_url).rstrip("/")
        self.chunk_size = chunk_size
        self.max_resumes = max_resumes
        self.resume_delay_s = resume_delay_s
        self._http = OwnedClient.make(client, timeout)

    async def aclose(self) -> None:
        await self._http.aclose()

    # --- publish -------------------------------------------------------------------------------------

    async def publish(self, request: PublishRequest) -> PublishResult:
        options = request.options if isinstance(request.options, YouTubeOptions) else YouTubeOptions()
        total = request.media.size
        if total <= 0:
            raise PublishError(ErrorKind.REJECTED, "The video file is empty.", platform_code="empty_file")
        reader = request.media.open()
        try:
            session, offset, video = None, 0, None
            if request.resume_ref:
                offset, video = await self._status(request, request.resume_ref, total)
                session = request.resume_ref if offset >= 0 else None
            if session is None and video is None:
                session = await self._start(request, options)
                offset = 0
                await request.remember(session)
            if video is None:
                assert session is not None
                video = await self._upload(request, reader, session, offset, total)
        finally:
            reader.close()
        video_id = str(video["id"])
        warnings: list[str] = []
        if options.thumbnail is not None:
            warning = await self._set_thumbnail(request.access_token, video_id, options)
            if warning:
                warnings.append(warning)
        await request.report("publishing", total, total)
        return PublishResult(video_id, f"https://www.youtube.com/watch?v={video_id}", tuple(warnings))

    def _headers(self, token: str, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}", **extra}

    async def _start(self, request: PublishRequest, options: YouTubeOptions) -> str:
        title = (request.title or request.caption.strip().split("\n", 1)[0] or "Untitled").strip()
        if len(title) > TITLE_MAX:
            raise PublishError(ErrorKind.REJECTED, f"YouTube titles are limited to {TITLE_MAX} characters; "
                               f"this one has {len(title)}.", platform_code="invalidTitle")
        if len(request.caption.encode()) > DESCRIPTION_MAX_BYTES:
            raise PublishError(ErrorKind.REJECTED, "The YouTube description is longer than 5,000 bytes.",
                               platform_code="invalidDescription")
        resource: dict[str, Any] = {
            "snippet": {"title": title, "description": request.caption, "categoryId": options.category_id},
            "status": {"privacyStatus": options.privacy_status, "selfDeclaredMadeForKids": options.made_for_kids},
        }
        if options.tags:
            resource["snippet"]["tags"] = list(options.tags)
        params = {"uploadType": "resumable", "part": "snippet,status",
                  "notifySubscribers": "true" if options.notify_subscribers else "false"}
        headers = self._headers(request.access_token, **{
            "X-Upload-Content-Length": str(request.media.size),
            "X-Upload-Content-Type": request.media.content_type,
        })
        try:
            response = await self._http.client.post(f"{self.upload_url}/videos", params=params, json=resource,
                                                    headers=headers)
        except httpx.TransportError as exc:
            raise transport_error(NAME, exc, may_have_posted=False) from exc
        if response.status_code != 200 or not response.headers.get("location"):
            raise youtube_error(response)
        return response.headers["location"]

    async def _status(self, request: PublishRequest, session: str, total: int) -> tuple[int, dict | None]:
        """Where the session stands: (next offset, None), (-1, None) when it is gone, or (total, video)."""
        headers = self._headers(request.access_token, **{"Content-Range": f"bytes */{total}", "Content-Length": "0"})
        try:
            response = await self._http.client.put(session, headers=headers)
        except httpx.TransportError as exc:
            raise transport_error(NAME, exc, may_have_posted=True, ref=session) from exc
        if response.status_code in (200, 201):
            return total, response.json()
        if response.status_code == 308:
            return _next_offset(response), None
        if response.status_code in (404, 410):
            return -1, None  # expired or unknown session: nothing was created; start again
        raise youtube_error(response, may_have_posted=True, ref=session)

    async def _upload(self, request: PublishRequest, reader: MediaReader, session: str, offset: int,
                      total: int) -> dict:
        resumes = 0
        sent = offset
        await request.report("upload", sent, total)

        async def advance(n: int) -> None:
            nonlocal sent
            sent += n
            await request.report("upload", sent, total)

        while True:
            length = min(self.chunk_size, total - offset)
            final = offset + length >= total
            headers = self._headers(request.access_token, **{
                "Content-Length": str(length),
                "Content-Type": request.media.content_type,
                "Content-Range": f"bytes {offset}-{offset + length - 1}/{total}" if length else f"bytes */{total}",
            })
            sent = offset
            try:
                response = await self._http.client.put(
                    session, headers=headers, content=_stream(reader.iter_range(offset, length, advance)))
            except httpx.TransportError as exc:
                # The server may hold part (or, for the last chunk, all) of what was sent: ask it.
                resumes += 1
                if resumes > self.max_resumes:
                    raise transport_error(NAME, exc, may_have_posted=final, ref=session) from exc
                offset, video = await self._resume(request, session, total, resumes)
                if video is not None:
                    return video
                continue
            if response.status_code in (200, 201):
                return response.json()
            if response.status_code == 308:
                acknowledged = _next_offset(response)
                if acknowledged <= offset:  # no progress: count it, so a confused server cannot loop us forever
                    resumes += 1
                    if resumes > self.max_resumes:
                        raise PublishError(ErrorKind.RETRYABLE, "YouTube stopped accepting the upload; it will be "
                                           "tried again.", platform_code="no_progress", ref=session)
                offset = acknowledged
                continue
            if response.status_code >= 500 or response.status_code == 429:
                resumes += 1
                if resumes > self.max_resumes:
                    raise youtube_error(response, may_have_posted=final, ref=session)
                offset, video = await self._resume(request, session, total, resumes)
                if video is not None:
                    return video
                continue
            if response.status_code in (404, 410):
                raise PublishError(ErrorKind.RETRYABLE, "The YouTube upload session expired; the upload will "
                                   "start again.", platform_code=str(response.status_code))
            raise youtube_error(response, may_have_posted=False, ref=session)

    async def _resume(self, request: PublishRequest, session: str, total: int, attempt: int) -> tuple[int, dict | None]:
        await asyncio.sleep(self.resume_delay_s * (2 ** (attempt - 1)))
        offset, video = await self._status(request, session, total)
        if offset < 0:
            raise PublishError(ErrorKind.RETRYABLE, "The YouTube upload session expired; the upload will start "
                               "again.", platform_code="session_gone")
        return offset, video

    async def _set_thumbnail(self, token: str, video_id: str, options: YouTubeOptions) -> str | None:
        thumb = options.thumbnail
        assert thumb is not None
        reader = thumb.open()
        try:
            response = await self._http.client.post(
                f"{self.upload_url}/thumbnails/set", params={"videoId": video_id, "uploadType": "media"},
                headers=self._headers(token, **{"Content-Type": thumb.content_type, "Content-Length": str(thumb.size)}),
                content=_stream(reader.iter_range(0, thumb.size)))
        except httpx.TransportError:
            return "The video is on YouTube, but its thumbnail could not be set (connection failed)."
        except PublishError as exc:
            return f"The video is on YouTube, but its thumbnail could not be set: {exc.message}"
        finally:
            reader.close()
        if response.status_code != 200:
            return f"The video is on YouTube, but its thumbnail could not be set: {youtube_error(response).message}"
        return None

    # --- reconciliation ------------------------------------------------------------------------------

    async def find_recent(self, access_token: str, *, account_id: str | None = None,
                          limit: int = 20) -> list[RecentMedia]:
        """The channel's latest uploads (uploads playlist; 1 quota unit per call, unlike search's 100)."""
        headers = self._headers(access_token)
        channels = await self._get("/channels", {"part": "contentDetails", "mine": "true"}, headers)
        items = channels.get("items") or []
        if not items:
            return []
        uploads = items[0]["contentDetails"]["relatedPlaylists"]["uploads"]
        playlist = await self._get("/playlistItems", {"part": "snippet,contentDetails", "playlistId": uploads,
                                                      "maxResults": str(min(limit, 50))}, headers)
        entries = playlist.get("items") or []
        ids = [e["contentDetails"]["videoId"] for e in entries]
        durations: dict[str, float | None] = {}
        if ids:
            videos = await self._get("/videos", {"part": "contentDetails", "id": ",".join(ids)}, headers)
            durations = {v["id"]: parse_duration(v.get("contentDetails", {}).get("duration"))
                         for v in videos.get("items") or []}
        found = []
        for entry in entries:
            video_id = entry["contentDetails"]["videoId"]
            snippet = entry.get("snippet") or {}
            published = entry["contentDetails"].get("videoPublishedAt") or snippet["publishedAt"]
            found.append(RecentMedia(
                id=video_id, caption=snippet.get("description", ""), title=snippet.get("title"),
                created_at=_parse_time(published), duration_s=durations.get(video_id),
                url=f"https://www.youtube.com/watch?v={video_id}"))
        found.sort(key=lambda m: m.created_at, reverse=True)
        return found[:limit]

    async def _get(self, path: str, params: dict[str, str], headers: dict[str, str]) -> dict:
        try:
            response = await self._http.client.get(f"{self.api_url}{path}", params=params, headers=headers)
        except httpx.TransportError as exc:
            raise transport_error(NAME, exc, may_have_posted=False) from exc
        if response.status_code != 200:
            raise youtube_error(response)
        return response.json()


def _next_offset(response: httpx.Response) -> int:
    """The byte after the last one a 308 acknowledges (``Range: bytes=0-N``); 0 when none yet."""
    value = response.headers.get("range")
    if not value:
        return 0
    match = re.fullmatch(r"bytes=0-(\d+)", value.strip())
    if not match:
        raise PublishError(ErrorKind.RETRYABLE, "YouTube answered the upload in an unexpected way; it will be "
                           "tried again.", platform_code="bad_range")
    return int(match.group(1)) + 1


async def _stream(pieces: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    async for piece in pieces:
        yield piece
