"""Resumable uploads over the tus 1.0 protocol (core + creation + termination).

A client creates an upload (``POST /uploads`` with ``Upload-Length`` and
``Upload-Metadata: filename <b64>,title <b64>``), then sends the bytes in any number of
``PATCH`` requests at the offset the server reports (``HEAD``); a dropped connection
resumes where it stopped. When the last byte arrives the server stores the file, creates
the video and its processing job, and answers with ``ClipFlow-Video-Id`` and
``ClipFlow-Job-Id`` (global ids, as everywhere in the API). The plan's upload limit applies at
creation, before any byte is sent.

A PATCH keeps what arrived: the bytes are written as they stream, and when the client
disconnects mid-body the offset of what was written is recorded (tus core's recommendation),
so a client that sends the whole file in one PATCH can resume it. Only media files are
accepted: a ``filetype`` in the metadata that is not video or audio is refused at creation,
and the first bytes are sniffed (``sniff.media_container``) as soon as they arrive; a file
that is not a media container is refused (415) and forgotten, nothing stored.

State lives in Redis (one hash per upload) and the partial bytes on the API host's disk
(``UPLOAD_DIR``), so resumption needs the same host (sticky sessions behind a load
balancer). Both expire together: the state's TTL and the part's mtime are renewed by each
PATCH, and ``sweep_stale_uploads`` (API start-up and the worker's cron) deletes parts and
state idle for ``UPLOAD_STALE_HOURS``. Requests that change an upload (PATCH, DELETE) hold a
Redis lock per upload, so concurrent final PATCHes create one video, not several. A user
may have ``UPLOAD_MAX_OPEN_PER_USER`` unfinished uploads at once.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import time
import uuid
from pathlib import Path
from typing import Any

from redis.exceptions import LockError
from strawberry.relay import GlobalID

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from ..auth.client_ip import client_ip
from ..auth.principal import resolve_principal
from ..config import Settings
from ..db import tenant_session
from ..errors import DomainError
from ..graphql.inputcheck import invalid_character
from ..jobs.service import commit_and_enqueue
from ..models.enums import CaptionStyle
from . import service
from .sniff import REFUSED_MESSAGE, SNIFF_BYTES, is_media_file_type, media_container

log = logging.getLogger(__name__)

TUS_VERSION = "1.0.0"
_TUS = {"Tus-Resumable": TUS_VERSION}
# How long a PATCH may hold an upload's lock (a slow client streaming a large piece), and
# how long a concurrent one waits for it before it is told to retry.
LOCK_TTL_S = 15 * 60
LOCK_WAIT_S = 10.0


def _key(upload_id: str) -> str:
    return f"clipflow:upload:{upload_id}"


def _lock_key(upload_id: str) -> str:
    return f"clipflow:upload-lock:{upload_id}"


def _open_key(user_id: Any) -> str:
    """A user's unfinished uploads: a sorted set of upload ids scored by creation time."""
    return f"clipflow:uploads-open:{user_id}"


def upload_dir(settings: Settings) -> Path:
    """The folder of partial uploads, created on first use."""
    path = settings.upload_path
    path.mkdir(parents=True, exist_ok=True)
    return path


def _stale_s(settings: Settings) -> int:
    return max(1, int(settings.upload_stale_hours * 3600))


def _part(request: Request, upload_id: str) -> Path:
    return upload_dir(request.app.state.settings) / upload_id


def _error(status: int, message: str, **headers: str) -> Response:
    return Response(message, status_code=status, headers={**_TUS, **headers}, media_type="text/plain")


def _metadata(header: str | None) -> dict[str, str]:
    """``key b64value,key b64value`` -> dict (values decoded as UTF-8)."""
    out: dict[str, str] = {}
    for item in filter(None, (header or "").split(",")):
        key, _, value = item.strip().partition(" ")
        try:
            out[key] = base64.b64decode(value, validate=True).decode("utf-8") if value else ""
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise ValueError(f"Upload-Metadata {key!r} is not valid base64") from exc
        if bad := invalid_character(out[key]):  # the file name and title become text columns
            raise ValueError(f"Upload-Metadata {key!r} contains a character that is not allowed ({bad})")
    return out


async def _principal(request: Request) -> Any:
    state = request.app.state
    return await resolve_principal(headers=request.headers, client_ip=client_ip(request),
                                   session_factory=state.session_factory, redis=state.redis)


async def options(_request: Request) -> Response:
    return Response(status_code=204, headers={**_TUS, "Tus-Version": TUS_VERSION, "Tus-Extension": "creation,termination"})


async def create(request: Request) -> Response:
    if request.headers.get("tus-resumable") != TUS_VERSION:
        return _error(412, "Tus-Resumable 1.0.0 required", **{"Tus-Version": TUS_VERSION})
    try:
        principal = await _principal(request)
    except DomainError as exc:
        return _error(401, exc.message)
    if not principal.can("video:write") or principal.workspace_id is None:
        return _error(403, "You cannot add videos to this workspace.")
    try:
        length = int(request.headers["upload-length"])
        meta = _metadata(request.headers.get("upload-metadata"))
        if length <= 0:
            raise ValueError("Upload-Length must be positive")
    except (KeyError, ValueError) as exc:
        return _error(400, f"Bad upload request: {exc}")
    if not is_media_file_type(meta.get("filetype")):
        return _error(415, REFUSED_MESSAGE)
    async with tenant_session(request.app.state.session_factory, workspace_id=principal.workspace_id,
                              user_id=principal.user_id) as s:
        limit = await service.upload_limit_bytes(s, principal.workspace_id)
    if length > limit:
        return _error(413, f"The file is {length / 1024 / 1024:.0f} MB; your plan accepts up to {limit // 1024 // 1024} MB.",
                      **{"Tus-Max-Size": str(limit)})
    settings: Settings = request.app.state.settings
    redis = request.app.state.redis
    upload_id = uuid.uuid4().hex
    if not await _reserve_slot(redis, principal.user_id, upload_id, settings):
        cap = settings.upload_max_open_per_user
        return _error(429, f"You have {cap} unfinished uploads; finish or cancel one (DELETE) before starting another.",
                      **{"Retry-After": "60"})
    _part(request, upload_id).touch()
    await redis.hset(_key(upload_id), mapping={
        "workspace_id": str(principal.workspace_id), "user_id": str(principal.user_id), "length": length, "offset": 0,
        "filename": meta.get("filename", "upload.mp4")[:255], "title": meta.get("title", "")[:500],
        "style": meta.get("style", CaptionStyle.HORMOZI.value),
    })
    await redis.expire(_key(upload_id), _stale_s(settings))
    return Response(status_code=201, headers={**_TUS, "Location": f"/uploads/{upload_id}", "Upload-Offset": "0"})


async def _reserve_slot(redis: Any, user_id: Any, upload_id: str, settings: Settings) -> bool:
    """Count ``upload_id`` among the user's open uploads unless that passes the cap.

    Added first, counted after: concurrent creations can only refuse each other, never
    slip past the cap together. Entries whose state is gone (finished, cancelled, expired)
    are dropped before counting.
    """
    key = _open_key(user_id)
    now = time.time()
    await redis.zremrangebyscore(key, "-inf", now - _stale_s(settings))
    for member in await redis.zrange(key, 0, -1):
        if not await redis.exists(_key(member.decode())):
            await redis.zrem(key, member)
    await redis.zadd(key, {upload_id: now})
    await redis.expire(key, _stale_s(settings))
    if await redis.zcard(key) > settings.upload_max_open_per_user:
        await redis.zrem(key, upload_id)
        return False
    return True


async def _forget_upload(redis: Any, upload_id: str, user_id: str, part: Path) -> None:
    part.unlink(missing_ok=True)
    await redis.delete(_key(upload_id))
    await redis.zrem(_open_key(user_id), upload_id)


async def _state(request: Request, upload_id: str, principal: Any) -> dict[str, str] | None:
    raw = await request.app.state.redis.hgetall(_key(upload_id))
    state = {k.decode(): v.decode() for k, v in raw.items()}
    # another user's upload is as invisible as a missing one
    if not state or state["user_id"] != str(principal.user_id) or state["workspace_id"] != str(principal.workspace_id):
        return None
    return state


async def _owned(request: Request) -> tuple[str, dict[str, str], Any] | Response:
    upload_id = request.path_params["upload_id"]
    try:
        principal = await _principal(request)
    except DomainError as exc:
        return _error(401, exc.message)
    state = await _state(request, upload_id, principal)
    if state is None:
        return _error(404, "No such upload (it may have expired).")
    return upload_id, state, principal


def _lock(request: Request, upload_id: str) -> Any:
    return request.app.state.redis.lock(_lock_key(upload_id), timeout=LOCK_TTL_S, blocking_timeout=LOCK_WAIT_S)


async def head(request: Request) -> Response:
    found = await _owned(request)
    if isinstance(found, Response):
        return found
    _, state, _ = found
    return Response(status_code=200, headers={**_TUS, "Upload-Offset": state["offset"], "Upload-Length": state["length"],
                                              "Cache-Control": "no-store"})


async def patch(request: Request) -> Response:
    found = await _owned(request)
    if isinstance(found, Response):
        return found
    upload_id, _, principal = found
    if request.headers.get("content-type") != "application/offset+octet-stream":
        return _error(415, "Content-Type must be application/offset+octet-stream")
    lock = _lock(request, upload_id)
    if not await lock.acquire():
        return _error(423, "Another request is writing to this upload; check its offset (HEAD) and try again.",
                      **{"Retry-After": "5"})
    try:
        # read again under the lock: a concurrent PATCH may have moved the offset or finished the upload
        state = await _state(request, upload_id, principal)
        if state is None:
            return _error(404, "No such upload (it may have expired or been completed).")
        return await _append(request, upload_id, state, principal)
    finally:
        try:
            await lock.release()
        except LockError:  # held past LOCK_TTL_S: it expired, nothing to release
            log.warning("upload %s: lock expired before the PATCH finished", upload_id)


async def _append(request: Request, upload_id: str, state: dict[str, str], principal: Any) -> Response:
    offset, length = int(state["offset"]), int(state["length"])
    if request.headers.get("upload-offset") != str(offset):
        return _error(409, f"Upload-Offset must be {offset}", **{"Upload-Offset": str(offset)})
    path = _part(request, upload_id)
    if not path.is_file():  # swept while its state lived on
        await _forget_upload(request.app.state.redis, upload_id, state["user_id"], path)
        return _error(404, "No such upload (it may have expired).")
    written = offset
    sniffed = offset >= SNIFF_BYTES  # the head was checked by an earlier PATCH
    with path.open("r+b") as out:
        out.seek(offset)
        out.truncate()
        try:
            async for chunk in request.stream():
                if written + len(chunk) > length:
                    out.truncate(offset)
                    return _error(413, "More bytes than Upload-Length")
                out.write(chunk)
                out.flush()  # on disk as it streams: the recorded offset never runs ahead of the file
                written += len(chunk)
                if not sniffed and written >= min(SNIFF_BYTES, length):
                    if media_container(_head(path)) is None:
                        await _forget_upload(request.app.state.redis, upload_id, state["user_id"], path)
                        return _error(415, REFUSED_MESSAGE)
                    sniffed = True
        except ClientDisconnect:
            # an ordinary event for a resumable upload: keep what arrived, no traceback
            log.info("upload %s: client disconnected at byte %d of %d; kept for resumption", upload_id, written, length)
    redis = request.app.state.redis
    await redis.hset(_key(upload_id), "offset", written)
    await redis.expire(_key(upload_id), _stale_s(request.app.state.settings))
    headers = {**_TUS, "Upload-Offset": str(written)}
    if written < length:
        return Response(status_code=204, headers=headers)
    return await _complete(request, upload_id, state, principal, path, headers)


def _head(path: Path) -> bytes:
    with path.open("rb") as part:
        return part.read(SNIFF_BYTES)


async def _complete(request: Request, upload_id: str, state: dict[str, str], principal: Any, path: Path,
                    headers: dict[str, str]) -> Response:
    app = request.app.state
    video = None
    try:
        async with tenant_session(app.session_factory, workspace_id=principal.workspace_id, user_id=principal.user_id) as s:
            options = service.processing_input(style=state.get("style") or CaptionStyle.HORMOZI)
            video, job = await service.create_video_from_file(
                s, principal, app.storage, path=path, filename=state["filename"], title=state["title"] or None,
                options=options,
            )
            await commit_and_enqueue(s, app.arq)
    except BaseException as exc:
        if video is not None:  # stored but never committed: no row will ever point at it
            await asyncio.to_thread(app.storage.delete, video.file_url)
        if isinstance(exc, DomainError):
            return _error(422, exc.message)
        raise
    finally:
        await _forget_upload(app.redis, upload_id, state["user_id"], path)
    # the global ids of the Video and Job types: what `node(id:)` and every other field take
    ids = {"ClipFlow-Video-Id": str(GlobalID("Video", str(video.id))), "ClipFlow-Job-Id": str(GlobalID("Job", str(job.id)))}
    return Response(status_code=204, headers={**headers, **ids})


async def terminate(request: Request) -> Response:
    found = await _owned(request)
    if isinstance(found, Response):
        return found
    upload_id, state, _ = found
    lock = _lock(request, upload_id)
    if not await lock.acquire():
        return _error(423, "Another request is writing to this upload; try again.", **{"Retry-After": "5"})
    try:
        await _forget_upload(request.app.state.redis, upload_id, state["user_id"], _part(request, upload_id))
    finally:
        try:
            await lock.release()
        except LockError:
            pass
    return Response(status_code=204, headers=_TUS)


async def sweep_stale_uploads(redis: Any, settings: Settings, *, now: float | None = None) -> int:
    """Delete partial uploads (bytes and state) idle for ``UPLOAD_STALE_HOURS``; returns how many.

    A part's mtime and its state's TTL are both renewed by each PATCH, so a part older than
    the cutoff belongs to an upload nobody is sending; a part without state lost it to the
    TTL. Parts younger than the cutoff are left alone even without state here: another API
    process with its own Redis database may share the folder.
    """
    cutoff = (now if now is not None else time.time()) - _stale_s(settings)
    folder = upload_dir(settings)
    swept = 0
    for part in folder.iterdir():
        try:
            if not part.is_file() or part.stat().st_mtime >= cutoff:
                continue
        except FileNotFoundError:  # finished or cancelled meanwhile
            continue
        upload_id = part.name
        user_id = await redis.hget(_key(upload_id), "user_id")
        part.unlink(missing_ok=True)
        await redis.delete(_key(upload_id))
        if user_id is not None:
            await redis.zrem(_open_key(user_id.decode()), upload_id)
        swept += 1
    if swept:
        log.info("swept %d stale partial upload(s) from %s", swept, folder)
    return swept


routes = [
    Route("/uploads", options, methods=["OPTIONS"]),
    Route("/uploads", create, methods=["POST"]),
    Route("/uploads/{upload_id:str}", head, methods=["HEAD"]),
    Route("/uploads/{upload_id:str}", patch, methods=["PATCH"]),
    Route("/uploads/{upload_id:str}", terminate, methods=["DELETE"]),
]
