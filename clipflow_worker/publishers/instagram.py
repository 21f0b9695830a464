"""Instagram Graph API content publishing, Reels.

Protocol (developers.facebook.com/docs/instagram-platform/content-publishing):
1. ``POST /{ig-user-id}/media`` with ``media_type=REELS``, ``video_url`` (Instagram cURLs the
   file from that public URL: here a signed, expiring storage URL the caller provides),
   ``caption``, ``share_to_feed``, ``thumb_offset``: a container id. Containers that are not
   published expire after 24 hours; creating one posts nothing.
2. ``GET /{container-id}?fields=status_code,status`` until ``FINISHED`` (``IN_PROGRESS`` while
   Instagram processes; ``ERROR`` and ``EXPIRED`` are failures, ``status`` says why).
3. ``POST /{ig-user-id}/media_publish`` with ``creation_id``: the call that creates the post.
4. Optionally ``POST /{media-id}/comments`` with the first comment.
``GET /{ig-user-id}/content_publishing_limit`` gives the rolling 24 h publishing quota.
Errors come as ``{"error": {"message", "type", "code", "error_subcode", "is_transient", ...}}``.
"""

from __future__ import annotations

import asyncio
import re
import time
from datetime import datetime
from typing import Any

import httpx

from clipflow_api.config import get_settings
from clipflow_api.models.enums import Platform

from .base import (
    ErrorKind,
    InstagramOptions,
    OwnedClient,
    PublishError,
    PublishRequest,
    PublishResult,
    Quota,
    RecentMedia,
    generic_http_error,
    json_or_empty,
    retry_after_seconds,
    transport_error,
)

NAME = "Instagram"
CAPTION_MAX = 2200

_RECONNECT_CODES = {102, 190}  # session / OAuth token invalid, expired (subcode 463) or revoked
_PERMISSION_CODES = {10} | set(range(200, 300))
_RATE_CODES = {4, 17, 32, 613, 80002}
_TRANSIENT_CODES = {1, 2}

# Error subcodes Instagram puts in a failed container's ``status`` (and in error_subcode).
_SUBCODES: dict[int, tuple[ErrorKind, str]] = {
    2207001: (ErrorKind.RETRYABLE, "Instagram had a temporary problem processing the video; it will be tried again."),
    2207003: (ErrorKind.RETRYABLE, "Instagram took too long to fetch the video; it will be tried again."),
    2207020: (ErrorKind.RETRYABLE, "The prepared Instagram upload expired before it was published; "
              "it will be prepared again."),
    2207052: (ErrorKind.RETRYABLE, "Instagram could not fetch the video from its link (the link may have expired); "
              "it will be tried again with a new link."),
    2207053: (ErrorKind.RETRYABLE, "Instagram could not fetch the video; it will be tried again."),
    2207026: (ErrorKind.REJECTED, "Instagram cannot use this video for a Reel: its format, codec, length or size "
              "is not supported (MP4/MOV, H.264 or HEVC, 3 seconds to 15 minutes, at most 300 MB)."),
    2207009: (ErrorKind.REJECTED, "Instagram does not accept this video's aspect ratio for a Reel."),
    2207004: (ErrorKind.REJECTED, "The media is larger than Instagram accepts."),
    2207005: (ErrorKind.REJECTED, "Instagram does not support this media format."),
    2207010: (ErrorKind.REJECTED, "The caption is too long for Instagram (2,200 characters, 30 hashtags, "
              "20 mentions at most)."),
    2207042: (ErrorKind.RETRYABLE, "This Instagram account has reached its limit of API posts for the last "
              "24 hours; it will be tried again later."),
}


def instagram_error(response: httpx.Response, *, may_have_posted: bool = False,
                    ref: str | None = None) -> PublishError:
    """Map a Graph API error answer to a PublishError."""
    body = json_or_empty(response).get("error")
    error: dict[str, Any] = body if isinstance(body, dict) else {}
    code = error.get("code")
    subcode = error.get("error_subcode")
    platform_code = f"{code}/{subcode}" if subcode else (str(code) if code is not None else None)
    kw: dict[str, Any] = {"may_have_posted": may_have_posted, "platform_code": platform_code, "ref": ref}
    if code in _RECONNECT_CODES:
        return PublishError(ErrorKind.RECONNECT, "Instagram no longer accepts this account's sign-in "
                            "(it expired or was revoked); reconnect the Instagram account.", **kw)
    if code in _PERMISSION_CODES:
        return PublishError(ErrorKind.RECONNECT, "The Instagram account did not allow publishing; reconnect it "
                            "and allow content publishing.", **kw)
    if isinstance(subcode, int) and subcode in _SUBCODES:
        kind, message = _SUBCODES[subcode]
        retry_after = retry_after_seconds(response) if kind is ErrorKind.RETRYABLE else None
        return PublishError(kind, message, retry_after=retry_after, **kw)
    if code in _RATE_CODES:
        return PublishError(ErrorKind.RETRYABLE, "Instagram is limiting how fast we can post; it will be tried again.",
                            retry_after=retry_after_seconds(response), **kw)
    generic = generic_http_error(NAME, response, may_have_posted=may_have_posted, ref=ref, code=platform_code)
    if generic is not None:
        return generic
    if code in _TRANSIENT_CODES or error.get("is_transient"):
        return PublishError(ErrorKind.RETRYABLE, "Instagram had a temporary problem; it will be tried again.",
                            retry_after=retry_after_seconds(response), **kw)
    said = error.get("error_user_msg") or error.get("message") or response.reason_phrase
    return PublishError(ErrorKind.REJECTED, f"Instagram refused the post: {said}", **kw)


def container_failure(status_code: str, status: str, container_id: str) -> PublishError:
    """Why a container ended ERROR or EXPIRED, in words a user understands."""
    if status_code == "EXPIRED":
        return PublishError(ErrorKind.RETRYABLE, "The prepared Instagram upload expired (after 24 hours) before "
                            "it was published; it will be prepared again.", platform_code="EXPIRED")
    match = re.search(r"\b(22\d{5})\b", status or "")
    if match and int(match.group(1)) in _SUBCODES:
        kind, message = _SUBCODES[int(match.group(1))]
        return PublishError(kind, message, platform_code=match.group(1))
    detail = f" ({status})" if status else ""
    return PublishError(ErrorKind.REJECTED, f"Instagram could not process the video{detail}.",
                        platform_code=(match.group(1) if match else "ERROR"))


def _parse_time(value: str) -> datetime:
    # Graph API timestamps look like 2026-12-02T12:00:00+0000
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")


class InstagramPublisher:
    platform = Platform.INSTAGRAM

    def __init__(self, *, api_url: str | None = None, client: httpx.AsyncClient | None = None,
                 timeout: httpx.Timeout | float | None = None, poll_interval_s: float = 5.0,
                 max_wait_s: float = 600.0) -> None:
        self.api_url = (api_url or get_settings().instagram_api_url).rstrip("/")
        self.poll_interval_s = poll_interval_s
        self.max_wait_s = max_wait_s
        self._http = OwnedClient.make(client, timeout)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _call(self, method: str, path: str, token: str, *, params: dict[str, str] | None = None,
                    data: dict[str, str] | None = None, may_have_posted: bool = False,
                    ref: str | None = None) -> dict[str, Any]:
        # The token travels in the Authorization header, never in the URL (URLs end up in logs).
        try:
            response = await self._http.client.request(method, f"{self.api_url}{path}", params=params, data=data,
                                                       headers={"Authorization": f"Bearer {token}"})
        except httpx.TransportError as exc:
            raise transport_error(NAME, exc, may_have_posted=may_have_posted, ref=ref) from exc
        if response.status_code != 200:
            # A 4xx is a considered refusal (nothing was created); a 5xx may come after the work was done.
            raise instagram_error(response, may_have_posted=may_have_posted and response.status_code >= 500, ref=ref)
        return json_or_empty(response)

    async def publish(self, request: PublishRequest) -> PublishResult:
        if not request.account_id:
            raise ValueError("Instagram publishing needs account_id (the ig-user-id)")
        if not request.video_url:
            raise ValueError("Instagram publishing needs video_url (a signed public URL of the file)")
        options = request.options if isinstance(request.options, InstagramOptions) else InstagramOptions()
        if len(request.caption) > CAPTION_MAX:
            raise PublishError(ErrorKind.REJECTED, f"Instagram captions are limited to {CAPTION_MAX} characters.",
                               platform_code="caption_too_long")
        token, user = request.access_token, request.account_id
        container_id = None
        if request.resume_ref:
            container_id = await self._reuse(request, request.resume_ref)
        if container_id is None:
            form = {"media_type": "REELS", "video_url": request.video_url, "caption": request.caption,
                    "share_to_feed": "true" if options.share_to_feed else "false"}
            if options.thumb_offset_ms is not None:
                form["thumb_offset"] = str(options.thumb_offset_ms)
            created = await self._call("POST", f"/{user}/media", token, data=form)
            container_id = str(created["id"])
            await request.remember(container_id)
        await self._wait(request, container_id)
        await request.report("publishing", request.media.size, request.media.size)
        published = await self._call("POST", f"/{user}/media_publish", token, data={"creation_id": container_id},
                                     may_have_posted=True, ref=container_id)
        media_id = str(published["id"])
        warnings: list[str] = []
        if options.first_comment:
            try:
                await self._call("POST", f"/{media_id}/comments", token, data={"message": options.first_comment})
            except PublishError as exc:
                warnings.append(f"The Reel is on Instagram, but the first comment could not be added: {exc.message}")
        url = None
        try:
            url = (await self._call("GET", f"/{media_id}", token, params={"fields": "permalink"})).get("permalink")
        except PublishError:
            pass  # the post exists; its link can be read later
        return PublishResult(media_id, url, tuple(warnings))

    async def _reuse(self, request: PublishRequest, container_id: str) -> str | None:
        """The earlier attempt's container if it can still be published; None to make a new one."""
        data = await self._call("GET", f"/{container_id}", request.access_token,
                                params={"fields": "status_code,status"}, ref=container_id)
        status = data.get("status_code")
        if status == "PUBLISHED":
            # media_publish went through but its answer was lost: the post exists; find it.
            raise PublishError(ErrorKind.RETRYABLE, "The Reel was already published; it is being looked up.",
                               may_have_posted=True, platform_code="PUBLISHED", ref=container_id)
        if status in ("FINISHED", "IN_PROGRESS"):
            return container_id
        return None  # ERROR or EXPIRED: start over with a new container

    async def _wait(self, request: PublishRequest, container_id: str) -> None:
        deadline = time.monotonic() + self.max_wait_s
        total = request.media.size
        while True:
            data = await self._call("GET", f"/{container_id}", request.access_token,
                                    params={"fields": "status_code,status"}, ref=container_id)
            status = data.get("status_code")
            if status == "FINISHED":
                return
            if status in ("ERROR", "EXPIRED"):
                raise container_failure(status, str(data.get("status") or ""), container_id)
            if status == "PUBLISHED":
                raise PublishError(ErrorKind.RETRYABLE, "The Reel was already published; it is being looked up.",
                                   may_have_posted=True, platform_code="PUBLISHED", ref=container_id)
            await request.report("processing", 0, total)
            if time.monotonic() >= deadline:
                raise PublishError(ErrorKind.RETRYABLE, "Instagram is still processing the video; it will be "
                                   "checked again.", platform_code=str(status), ref=container_id)
            await asyncio.sleep(self.poll_interval_s)

    async def publishing_limit(self, access_token: str, account_id: str) -> Quota:
        """The account's API publishing quota over the rolling 24 hours."""
        data = await self._call("GET", f"/{account_id}/content_publishing_limit", access_token,
                                params={"fields": "quota_usage,config"})
        entry = (data.get("data") or [{}])[0]
        config = entry.get("config") or {}
        return Quota(used=int(entry.get("quota_usage") or 0), total=int(config.get("quota_total") or 100),
                     window_s=int(config.get("quota_duration") or 86400))

    async def find_recent(self, access_token: str, *, account_id: str | None = None,
                          limit: int = 20) -> list[RecentMedia]:
        """The account's latest media, newest first (the Graph API gives no duration)."""
        if not account_id:
            raise ValueError("Instagram needs account_id (the ig-user-id) to list media")
        data = await self._call("GET", f"/{account_id}/media", access_token, params={
            "fields": "id,caption,media_type,media_product_type,timestamp,permalink", "limit": str(min(limit, 100))})
        found = [RecentMedia(id=str(m["id"]), caption=m.get("caption") or "", created_at=_parse_time(m["timestamp"]),
                             url=m.get("permalink")) for m in data.get("data") or []]
        found.sort(key=lambda m: m.created_at, reverse=True)
        return found[:limit]
