"""Resumable uploads over the tus 1.0 protocol (core + creation + termination).

A client creates an upload (``POST /uploads`` with ``Upload-Length`` and
``Upload-Metadata: filename <b64>,title <b64>``), then sends the bytes in any number of
``PATCH`` requests at the offset the server reports (``HEAD``); a dropped connection
resumes where it stopped. When the last byte arrives the server stores the file, creates
the video and its processing job, and answers with ``ClipFlow-Video-Id`` and
``ClipFlow-Job-Id``. The plan's upload limit applies at creation, before any byte is sent.

State lives in Redis (one hash per upload, 24 h) and the partial bytes on the API host's
disk, so resumption needs the same host (sticky sessions behind a load balancer).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import uuid
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..auth.principal import resolve_principal
from ..config import ROOT
from ..db import tenant_session
from ..errors import DomainError
from ..jobs.service import commit_and_enqueue
from . import service

TUS_VERSION = "1.0.0"
UPLOAD_TTL_S = 24 * 3600
UPLOAD_DIR = ROOT / ".clipflow" / "uploads"
_TUS = {"Tus-Resumable": TUS_VERSION}


def _key(upload_id: str) -> str:
    return f"clipflow:upload:{upload_id}"


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
    return out


async def _principal(request: Request) -> Any:
    state = request.app.state
    return await resolve_principal(headers=request.headers, client_ip=request.client.host if request.client else None,
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
    async with tenant_session(request.app.state.session_factory, workspace_id=principal.workspace_id,
                              user_id=principal.user_id) as s:
        limit = await service.upload_limit_bytes(s, principal.workspace_id)
    if length > limit:
        return _error(413, f"The file is {length / 1024 / 1024:.0f} MB; your plan accepts up to {limit // 1024 // 1024} MB.",
                      **{"Tus-Max-Size": str(limit)})
    upload_id = uuid.uuid4().hex
    UPLOAD_DIR.mkdir(parents=True, exist_ok=True)
    (UPLOAD_DIR / upload_id).touch()
    redis = request.app.state.redis
    await redis.hset(_key(upload_id), mapping={
        "workspace_id": str(principal.workspace_id), "user_id": str(principal.user_id), "length": length, "offset": 0,
        "filename": meta.get("filename", "upload.mp4")[:255], "title": meta.get("title", "")[:500],
        "style": meta.get("style", "hormozi"),
    })
    await redis.expire(_key(upload_id), UPLOAD_TTL_S)
    return Response(status_code=201, headers={**_TUS, "Location": f"/uploads/{upload_id}", "Upload-Offset": "0"})


async def _owned(request: Request) -> tuple[str, dict[str, str], Any] | Response:
    upload_id = request.path_params["upload_id"]
    try:
        principal = await _principal(request)
    except DomainError as exc:
        return _error(401, exc.message)
    raw = await request.app.state.redis.hgetall(_key(upload_id))
    state = {k.decode(): v.decode() for k, v in raw.items()}
    # another user's upload is as invisible as a missing one
    if not state or state["user_id"] != str(principal.user_id) or state["workspace_id"] != str(principal.workspace_id):
        return _error(404, "No such upload (it may have expired).")
    return upload_id, state, principal


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
    upload_id, state, principal = found
    if request.headers.get("content-type") != "application/offset+octet-stream":
        return _error(415, "Content-Type must be application/offset+octet-stream")
    offset, length = int(state["offset"]), int(state["length"])
    if request.headers.get("upload-offset") != str(offset):
        return _error(409, f"Upload-Offset must be {offset}", **{"Upload-Offset": str(offset)})
    path = UPLOAD_DIR / upload_id
    written = offset
    with path.open("r+b") as out:
        out.seek(offset)
        out.truncate()
        async for chunk in request.stream():
            if written + len(chunk) > length:
                out.truncate(offset)
                return _error(413, "More bytes than Upload-Length")
            out.write(chunk)
            written += len(chunk)
    redis = request.app.state.redis
    await redis.hset(_key(upload_id), "offset", written)
    headers = {**_TUS, "Upload-Offset": str(written)}
    if written < length:
        return Response(status_code=204, headers=headers)
    return await _complete(request, upload_id, state, principal, path, headers)


async def _complete(request: Request, upload_id: str, state: dict[str, str], principal: Any, path: Path,
                    headers: dict[str, str]) -> Response:
    app = request.app.state
    video = None
    try:
        async with tenant_session(app.session_factory, workspace_id=principal.workspace_id, user_id=principal.user_id) as s:
            options = service.processing_input(style=state.get("style") or "hormozi")
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
        path.unlink(missing_ok=True)
        await app.redis.delete(_key(upload_id))
    return Response(status_code=204, headers={**headers, "ClipFlow-Video-Id": str(video.id), "ClipFlow-Job-Id": str(job.id)})


async def terminate(request: Request) -> Response:
    found = await _owned(request)
    if isinstance(found, Response):
        return found
    upload_id, _, _ = found
    (UPLOAD_DIR / upload_id).unlink(missing_ok=True)
    await request.app.state.redis.delete(_key(upload_id))
    return Response(status_code=204, headers=_TUS)


routes = [
    Route("/uploads", options, methods=["OPTIONS"]),
    Route("/uploads", create, methods=["POST"]),
    Route("/uploads/{upload_id:str}", head, methods=["HEAD"]),
    Route("/uploads/{upload_id:str}", patch, methods=["PATCH"]),
    Route("/uploads/{upload_id:str}", terminate, methods=["DELETE"]),
]
