"""Serving local-storage objects behind signed, expiring URLs (S3 serves its own)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

from . import LocalStorage, StorageError, verify_local_signature


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


routes = [Route("/files/{key:path}", download)]
