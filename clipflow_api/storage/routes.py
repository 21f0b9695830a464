"""Serving local-storage objects behind signed, expiring URLs (S3 serves its own).

``GET /files/<key>`` downloads; ``PUT /files/<key>`` stores the body of a signed upload
(``LocalStorage.signed_upload_url``): the signature covers the key, expiry, size and
content type, the request must match them exactly, and a key is written once.
"""

from __future__ import annotations

import os
import uuid

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

from . import LocalStorage, StorageError, verify_local_signature, verify_upload_signature


async def download(request: Request) -> Response:
    storage = request.app.state.storage
    if not isinstance(storage, LocalStorage):
        return PlainTextResponse("not found", status_code=404)
    key = request.path_params["key"]
    try:
        expires = int(request.query_params.get("expires", "0"))
    except ValueError:
        expires = 0
    if not verify_local_signature(storage.secret, key, expires, request.query_params.get("signature", "")):
        return PlainTextResponse("this link is invalid or has expired", status_code=403)
    try:
        path = storage.path(key)
    except StorageError:
        return PlainTextResponse("not found", status_code=404)
    if not path.is_file():
        return PlainTextResponse("not found", status_code=404)
    return FileResponse(path)


def _int(value: str | None) -> int:
    try:
        return int(value or "")
    except ValueError:
        return -1


async def upload(request: Request) -> Response:
    storage = request.app.state.storage
    if not isinstance(storage, LocalStorage):
        return PlainTextResponse("not found", status_code=404)
    key, query = request.path_params["key"], request.query_params
    size, content_type = _int(query.get("size")), query.get("type", "")
    if not verify_upload_signature(storage.secret, key, expires=_int(query.get("expires")), size=size,
                                   content_type=content_type, signature=query.get("signature", "")):
        return PlainTextResponse("this upload link is invalid or has expired", status_code=403)
    if request.headers.get("content-type") != content_type:
        return PlainTextResponse(f"Content-Type must be {content_type}", status_code=415)
    if _int(request.headers.get("content-length")) != size:
        return PlainTextResponse(f"Content-Length must be {size}", status_code=411)
    try:
        dest = storage.path(key)
    except StorageError:
        return PlainTextResponse("not found", status_code=404)
    if dest.exists():
        return PlainTextResponse("this upload link was already used", status_code=409)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(f".{dest.name}.{uuid.uuid4().hex}.part")
    written = 0
    try:
        with part.open("wb") as out:
            async for chunk in request.stream():
                written += len(chunk)
                if written > size:
                    return PlainTextResponse(f"the body is larger than the signed {size} bytes", status_code=413)
                out.write(chunk)
        if written != size:
            return PlainTextResponse(f"the body has {written} bytes, not the signed {size}", status_code=400)
        try:
            # link, not rename: of two concurrent PUTs with one link, exactly one stores the file
            os.link(part, dest)
        except FileExistsError:
            return PlainTextResponse("this upload link was already used", status_code=409)
    finally:
        part.unlink(missing_ok=True)
    return Response(status_code=201)


routes = [Route("/files/{key:path}", download, methods=["GET", "HEAD"]), Route("/files/{key:path}", upload, methods=["PUT"])]
