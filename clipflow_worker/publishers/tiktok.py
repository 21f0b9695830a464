"""TikTok Content Posting API (Direct Post), FILE_UPLOAD source.

Protocol (developers.tiktok.com/doc/content-posting-api-reference-direct-post and the
media transfer guide):
1. ``POST /v2/post/publish/creator_info/query/``: the privacy levels this creator may use,
   interactions they disabled, the longest video they may post.
2. ``POST /v2/post/publish/video/init/`` with ``post_info`` and ``source_info`` (FILE_UPLOAD,
   video_size, chunk_size, total_chunk_count): a ``publish_id`` and an ``upload_url``.
3. ``PUT`` each chunk, in order, to the upload_url with ``Content-Type: video/mp4`` and
   ``Content-Range: bytes first-last/total`` (206 until the last, 201 for the last). The
   last chunk is the call that creates the post: TikTok publishes once it has every byte.
4. ``POST /v2/post/publish/status/fetch/`` until ``PUBLISH_COMPLETE`` or ``FAILED``.
Every answer has the envelope ``{"data": ..., "error": {"code", "message", "log_id"}}``
where ``code`` is ``"ok"`` on success.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

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
    TikTokOptions,
    generic_http_error,
    json_or_empty,
    retry_after_seconds,
    transport_error,
)

NAME = "TikTok"

# Chunk rules of the media transfer guide. "5 MB" and "64 MB" are taken at their stricter
# reading (5 MiB minimum, 64,000,000 bytes maximum) so a plan is valid whichever TikTok means.
MIN_CHUNK = 5 * 1024 * 1024
MAX_CHUNK = 64_000_000
MAX_FINAL_CHUNK = 128_000_000
MAX_CHUNKS = 1000
MAX_VIDEO_SIZE = 4 * 1024**3
DEFAULT_CHUNK = 10 * 1024 * 1024
CAPTION_MAX = 2200  # UTF-16 code units


@dataclass(frozen=True)
class ChunkPlan:
    video_size: int
    chunk_size: int
    total_chunk_count: int

    def ranges(self) -> list[tuple[int, int]]:
        """(first byte, length) of each chunk; the last one carries the trailing bytes."""
        out = [(i * self.chunk_size, self.chunk_size) for i in range(self.total_chunk_count - 1)]
        start = (self.total_chunk_count - 1) * self.chunk_size
        out.append((start, self.video_size - start))
        return out


def plan_chunks(video_size: int, preferred: int = DEFAULT_CHUNK) -> ChunkPlan:
    """The chunk size and count TikTok accepts for a file of ``video_size`` bytes.

    total_chunk_count = floor(video_size / chunk_size); every chunk but the last is exactly
    chunk_size (5 MB..64 MB); the last takes the remainder (up to 128 MB); a file under 5 MB
    is one chunk of its own size; a file over 64 MB is never one chunk; 1..1000 chunks.
    """
    if video_size <= 0:
        raise PublishError(ErrorKind.REJECTED, "The video file is empty.", platform_code="empty_file")
    if video_size > MAX_VIDEO_SIZE:
        raise PublishError(ErrorKind.REJECTED, "TikTok accepts videos up to 4 GB; this one is larger.",
                           platform_code="file_too_large")
    if video_size < MIN_CHUNK:
        return ChunkPlan(video_size, video_size, 1)
    chunk = min(max(preferred, MIN_CHUNK), MAX_CHUNK)
    if video_size // chunk > MAX_CHUNKS:
        chunk = -(-video_size // MAX_CHUNKS)
    count = video_size // chunk
    if count == 0:  # smaller than one preferred chunk: send it whole (it is at most MAX_CHUNK)
        return ChunkPlan(video_size, video_size, 1)
    if count == 1 and video_size > MAX_CHUNK:
        chunk = video_size // 2
        count = 2
    return ChunkPlan(video_size, chunk, count)


_FAIL_REASONS: dict[str, tuple[ErrorKind, str]] = {
    "file_format_check_failed": (ErrorKind.REJECTED, "TikTok could not read the video's format; "
                                 "it accepts MP4, MOV or WebM with H.264, H.265, VP8 or VP9."),
    "duration_check_failed": (ErrorKind.REJECTED, "The video's length is outside what TikTok allows for this account."),
    "frame_rate_check_failed": (ErrorKind.REJECTED, "TikTok refused the video's frame rate (it accepts 23 to 60 fps)."),
    "picture_size_check_failed": (ErrorKind.REJECTED, "TikTok refused the video's size "
                                  "(each side must be 360 to 4096 pixels)."),
    "internal": (ErrorKind.RETRYABLE, "TikTok failed to process the video on its side; it will be tried again."),
    "video_pull_failed": (ErrorKind.RETRYABLE, "TikTok could not fetch the video; it will be tried again."),
    "publish_cancelled": (ErrorKind.REJECTED, "The post was cancelled on TikTok."),
    "auth_removed": (ErrorKind.RECONNECT, "The TikTok account removed this app's access; reconnect the account."),
    "spam_risk_too_many_posts": (ErrorKind.RETRYABLE, "This account has reached TikTok's limit of posts for today; "
                                 "it will be tried again later."),
    "spam_risk_user_banned_from_posting": (ErrorKind.REJECTED, "TikTok does not currently allow this account to post."),
    "spam_risk_text": (ErrorKind.REJECTED, "TikTok flagged the caption as spam; change it and try again."),
    "spam_risk": (ErrorKind.REJECTED, "TikTok flagged this post as spam."),
}

_ERROR_CODES: dict[str, tuple[ErrorKind, str]] = {
    "access_token_invalid": (ErrorKind.RECONNECT, "TikTok no longer accepts this account's sign-in; "
                             "reconnect the TikTok account."),
    "scope_not_authorized": (ErrorKind.RECONNECT, "The TikTok account did not allow posting videos; "
                             "reconnect it and allow posting."),
    "scope_permission_missed": (ErrorKind.RECONNECT, "The TikTok account did not allow posting videos; "
                                "reconnect it and allow posting."),
    "rate_limit_exceeded": (ErrorKind.RETRYABLE, "TikTok is limiting how fast we can post; it will be tried again."),
    "internal_error": (ErrorKind.RETRYABLE, "TikTok had a temporary problem; it will be tried again."),
    "spam_risk_too_many_posts": _FAIL_REASONS["spam_risk_too_many_posts"],
    "spam_risk_too_many_pending_share": (ErrorKind.RETRYABLE, "This account has too many TikTok posts still "
                                         "processing; it will be tried again later."),
    "spam_risk_user_banned_from_posting": _FAIL_REASONS["spam_risk_user_banned_from_posting"],
    "reached_active_user_cap": (ErrorKind.RETRYABLE, "TikTok's daily limit of posting accounts for this app is "
                                "reached; it will be tried again later."),
    "unaudited_client_can_only_post_to_private_accounts": (
        ErrorKind.REJECTED, "Until this app passes TikTok's audit, it can only post to private TikTok accounts."),
    "privacy_level_option_mismatch": (ErrorKind.REJECTED, "TikTok does not offer the chosen privacy level "
                                      "for this account."),
    "invalid_file_upload": (ErrorKind.REJECTED, "TikTok refused the video file."),
}


def tiktok_error(response: httpx.Response, *, may_have_posted: bool = False, ref: str | None = None) -> PublishError:
    """Map a TikTok error answer (its ``error`` envelope, else the status code) to a PublishError."""
    envelope = json_or_empty(response).get("error")
    error: dict[str, Any] = envelope if isinstance(envelope, dict) else {}
    code = str(error.get("code") or "")
    said = str(error.get("message") or "")
    known = _ERROR_CODES.get(code)
    if known is not None:
        kind, message = known
        retry_after = retry_after_seconds(response) if kind is ErrorKind.RETRYABLE else None
        return PublishError(kind, message, retry_after=retry_after, may_have_posted=may_have_posted,
                            platform_code=code, ref=ref)
    generic = generic_http_error(NAME, response, may_have_posted=may_have_posted, ref=ref, code=code or None)
    if generic is not None:
        return generic
    if response.status_code == 401:
        kind, message = _ERROR_CODES["access_token_invalid"]
        return PublishError(kind, message, may_have_posted=may_have_posted, platform_code=code or "401", ref=ref)
    detail = f": {said}" if said else ""
    return PublishError(ErrorKind.REJECTED, f"TikTok refused the post{detail}", may_have_posted=may_have_posted,
                        platform_code=code or str(response.status_code), ref=ref)


def _ok(response: httpx.Response) -> dict[str, Any] | None:
    """The ``data`` of a successful answer, None when it is an error."""
    body = json_or_empty(response)
    error = body.get("error") or {}
    if response.status_code == 200 and isinstance(error, dict) and error.get("code") == "ok":
        data = body.get("data")
        return data if isinstance(data, dict) else {}
    return None


@dataclass(frozen=True)
class CreatorInfo:
    username: str
    nickname: str
    privacy_level_options: tuple[str, ...]
    comment_disabled: bool
    duet_disabled: bool
    stitch_disabled: bool
    max_video_post_duration_sec: int | None


class TikTokPublisher:
    platform = Platform.TIKTOK

    def __init__(self, *, api_url: str | None = None, client: httpx.AsyncClient | None = None,
                 timeout: httpx.Timeout | float | None = None, chunk_size: int = DEFAULT_CHUNK,
                 poll_interval_s: float = 3.0, max_wait_s: float = 600.0) -> None:
        self.api_url = (api_url or get_settings().tiktok_api_url).rstrip("/")
        self.chunk_size = chunk_size
        self.poll_interval_s = poll_interval_s
        self.max_wait_s = max_wait_s
        self._http = OwnedClient.make(client, timeout)

    async def aclose(self) -> None:
        await self._http.aclose()

    def _headers(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}", "Content-Type": "application/json; charset=UTF-8"}

    async def _post(self, path: str, token: str, body: dict[str, Any] | None, *, params: dict[str, str] | None = None,
                    may_have_posted: bool = False, ref: str | None = None) -> dict[str, Any]:
        try:
            response = await self._http.client.post(f"{self.api_url}{path}", params=params, json=body or {},
                                                    headers=self._headers(token))
        except httpx.TransportError as exc:
            raise transport_error(NAME, exc, may_have_posted=may_have_posted, ref=ref) from exc
        data = _ok(response)
        if data is None:
            raise tiktok_error(response, may_have_posted=may_have_posted, ref=ref)
        return data

    async def creator_info(self, access_token: str) -> CreatorInfo:
        """What this creator may post (privacy levels, disabled interactions, longest video)."""
        data = await self._post("/v2/post/publish/creator_info/query/", access_token, None)
        return CreatorInfo(
            username=data.get("creator_username", ""), nickname=data.get("creator_nickname", ""),
            privacy_level_options=tuple(data.get("privacy_level_options") or ()),
            comment_disabled=bool(data.get("comment_disabled")), duet_disabled=bool(data.get("duet_disabled")),
            stitch_disabled=bool(data.get("stitch_disabled")),
            max_video_post_duration_sec=data.get("max_video_post_duration_sec"))

    async def publish(self, request: PublishRequest) -> PublishResult:
        options = request.options if isinstance(request.options, TikTokOptions) else TikTokOptions()
        token = request.access_token
        info = await self.creator_info(token)
        if request.resume_ref:
            return await self._resume(request, info)
        privacy = self._privacy(options, info)
        if request.duration_s is not None and info.max_video_post_duration_sec \
                and request.duration_s > info.max_video_post_duration_sec:
            raise PublishError(ErrorKind.REJECTED, f"This TikTok account can post videos up to "
                               f"{info.max_video_post_duration_sec} seconds; this one lasts "
                               f"{request.duration_s:.0f} seconds.", platform_code="duration_check_failed")
        if len(request.caption.encode("utf-16-le")) // 2 > CAPTION_MAX:
            raise PublishError(ErrorKind.REJECTED, f"TikTok captions are limited to {CAPTION_MAX} characters.",
                               platform_code="invalid_params")
        plan = plan_chunks(request.media.size, self.chunk_size)
        post_info: dict[str, Any] = {
            "title": request.caption,
            "privacy_level": privacy,
            "disable_duet": options.disable_duet or info.duet_disabled,
            "disable_comment": options.disable_comment or info.comment_disabled,
            "disable_stitch": options.disable_stitch or info.stitch_disabled,
            "brand_content_toggle": options.brand_content_toggle,
            "brand_organic_toggle": options.brand_organic_toggle,
            "is_aigc": options.is_aigc,
        }
        if options.cover_timestamp_ms is not None:
            post_info["video_cover_timestamp_ms"] = options.cover_timestamp_ms
        data = await self._post("/v2/post/publish/video/init/", token, {
            "post_info": post_info,
            "source_info": {"source": "FILE_UPLOAD", "video_size": plan.video_size, "chunk_size": plan.chunk_size,
                            "total_chunk_count": plan.total_chunk_count},
        })
        publish_id, upload_url = str(data["publish_id"]), str(data["upload_url"])
        await request.remember(publish_id)
        reader = request.media.open()
        try:
            await self._upload(request, reader, plan, upload_url, publish_id)
        finally:
            reader.close()
        return await self._wait(request, publish_id, info)

    def _privacy(self, options: TikTokOptions, info: CreatorInfo) -> str:
        offered = info.privacy_level_options
        if options.privacy_level is not None:
            if options.privacy_level not in offered:
                raise PublishError(ErrorKind.REJECTED, f"TikTok does not offer the privacy level "
                                   f"{options.privacy_level} for this account (it offers: {', '.join(offered)}).",
                                   platform_code="privacy_level_option_mismatch")
            return options.privacy_level
        if not offered:
            raise PublishError(ErrorKind.REJECTED, "TikTok offers no privacy level to post with for this account.",
                               platform_code="privacy_level_option_mismatch")
        return "SELF_ONLY" if "SELF_ONLY" in offered else offered[-1]

    async def _upload(self, request: PublishRequest, reader: MediaReader, plan: ChunkPlan, upload_url: str,
                      publish_id: str) -> None:
        total = plan.video_size
        sent = 0
        await request.report("upload", 0, total)

        async def advance(n: int) -> None:
            nonlocal sent
            sent += n
            await request.report("upload", sent, total)

        ranges = plan.ranges()
        for index, (start, length) in enumerate(ranges):
            final = index == len(ranges) - 1
            headers = {"Content-Type": request.media.content_type, "Content-Length": str(length),
                       "Content-Range": f"bytes {start}-{start + length - 1}/{total}"}
            try:
                response = await self._http.client.put(upload_url, headers=headers,
                                                       content=reader.iter_range(start, length, advance))
            except httpx.TransportError as exc:
                raise transport_error(NAME, exc, may_have_posted=final, ref=publish_id) from exc
            if response.status_code in (200, 201, 206):
                continue
            if response.status_code in (403, 404, 410):
                # The upload URL is single-use and short-lived: a fresh init gives a new one.
                raise PublishError(ErrorKind.RETRYABLE, "The TikTok upload link expired; the upload will start "
                                   "again.", platform_code="upload_url_expired")
            raise tiktok_error(response, may_have_posted=final and response.status_code >= 500, ref=publish_id)

    async def _wait(self, request: PublishRequest, publish_id: str, info: CreatorInfo) -> PublishResult:
        deadline = time.monotonic() + self.max_wait_s
        total = request.media.size
        while True:
            data = await self._post("/v2/post/publish/status/fetch/", request.access_token,
                                    {"publish_id": publish_id}, may_have_posted=True, ref=publish_id)
            status = data.get("status")
            if status == "PUBLISH_COMPLETE":
                post_ids = [str(i) for i in data.get("publicaly_available_post_id") or []]
                await request.report("publishing", total, total)
                if post_ids:
                    url = f"https://www.tiktok.com/@{info.username}/video/{post_ids[0]}" if info.username else None
                    return PublishResult(post_ids[0], url)
                # Private (SELF_ONLY) posts and posts still in moderation have no public id yet.
                return PublishResult(publish_id, None)
            if status == "SEND_TO_USER_INBOX":
                await request.report("publishing", total, total)
                return PublishResult(publish_id, None, ("The video is in the creator's TikTok inbox; they finish "
                                                        "posting it in the TikTok app.",))
            if status == "FAILED":
                reason = str(data.get("fail_reason") or "")
                kind, message = _FAIL_REASONS.get(reason, (ErrorKind.REJECTED, f"TikTok refused the video ({reason})."))
                raise PublishError(kind, message, platform_code=reason or "FAILED")
            await request.report("processing", int(data.get("uploaded_bytes") or 0), total)
            if time.monotonic() >= deadline:
                raise PublishError(ErrorKind.RETRYABLE, "TikTok is still processing the video; its status will be "
                                   "checked again.", may_have_posted=True, platform_code=str(status), ref=publish_id)
            await asyncio.sleep(self.poll_interval_s)

    async def _resume(self, request: PublishRequest, info: CreatorInfo) -> PublishResult:
        """Continue an earlier attempt from its publish_id: check, never upload a second time."""
        publish_id = str(request.resume_ref)
        data = await self._post("/v2/post/publish/status/fetch/", request.access_token, {"publish_id": publish_id},
                                may_have_posted=True, ref=publish_id)
        if data.get("status") == "PROCESSING_UPLOAD" and int(data.get("uploaded_bytes") or 0) < request.media.size:
            # TikTok never got the whole file, so nothing was posted; a fresh publish is safe.
            raise PublishError(ErrorKind.RETRYABLE, "The earlier TikTok upload did not finish; it will start again.",
                               platform_code="upload_incomplete")
        return await self._wait(request, publish_id, info)

    async def find_recent(self, access_token: str, *, account_id: str | None = None,
                          limit: int = 20) -> list[RecentMedia]:
        """The creator's latest videos (Display API ``/v2/video/list/``, needs the video.list scope)."""
        fields = "id,title,video_description,duration,create_time,share_url"
        found: list[RecentMedia] = []
        cursor: int | None = None
        while len(found) < limit:
            body: dict[str, Any] = {"max_count": min(limit - len(found), 20)}
            if cursor is not None:
                body["cursor"] = cursor
            data = await self._post("/v2/video/list/", access_token, body, params={"fields": fields})
            for video in data.get("videos") or []:
                found.append(RecentMedia(
                    id=str(video["id"]), caption=video.get("video_description") or video.get("title") or "",
                    title=video.get("title"), duration_s=video.get("duration"),
                    created_at=datetime.fromtimestamp(int(video["create_time"]), timezone.utc),
                    url=video.get("share_url")))
            if not data.get("has_more"):
                break
            cursor = data.get("cursor")
        return found[:limit]
