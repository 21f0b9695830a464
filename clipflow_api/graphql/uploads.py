"""File uploads over the GraphQL multipart request spec, behind a CSRF guard and a size cap.

A ``multipart/form-data`` POST is a "simple" request: a browser sends it cross-site with the
user's cookies and without a CORS preflight. So, like Apollo Server's CSRF prevention, a
multipart request must carry a header no simple request can (``apollo-require-preflight``
or ``x-apollo-operation-name``); without one it is answered 400 before authentication or
parsing, and an anonymous one is answered 401 before its body is read (``app.get_context``).
The body is capped at the largest upload any plan accepts (plus room for the form fields):
a ``Content-Length`` above it is refused at once (413), and a body that grows past it while
streaming is cut off. The caller's own plan limit is the service's to enforce
(``processing.service.create_video_from_file`` -> ``FILE_TOO_LARGE`` in the payload).
Every other request body (JSON) is capped at ``MAX_JSON_BODY_BYTES`` the same way.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path, PurePosixPath
from typing import Any

from cross_web import FormData, StarletteRequestAdapter
from sqlalchemy import func, select
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse
from starlette.types import Message, Receive, Scope, Send

from ..models import SubscriptionPlan

# Headers a cross-site form cannot set without a preflight (Apollo's list).
PREFLIGHT_HEADERS = (b"apollo-require-preflight", b"x-apollo-operation-name")
# Room for the ``operations`` and ``map`` fields and the multipart framing.
FORM_OVERHEAD_BYTES = 1024 * 1024
# When no plan says (an empty table), the service's own default.
DEFAULT_UPLOAD_MB = 500
_LIMIT_TTL_S = 300.0
# Any other request (JSON): generous for the largest input (5000 caption words), small for a server.
MAX_JSON_BODY_BYTES = 2 * 1024 * 1024
MAX_UPLOAD_FILES = 1  # videoUpload takes one file
MAX_FORM_FIELDS = 2  # operations, map


class BodyTooLarge(Exception):
    """The request body grew past the cap while it was being read."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers") or ():
        if key.lower() == name:
            return value
    return None


def is_multipart(scope: Scope) -> bool:
    content_type = (_header(scope, b"content-type") or b"").decode("latin-1")
    return content_type.split(";", 1)[0].strip().lower().startswith("multipart/")


def has_preflight_header(scope: Scope) -> bool:
    return any((_header(scope, name) or b"").strip() for name in PREFLIGHT_HEADERS)


def _refusal(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"data": None, "errors": [{"message": message, "extensions": {"code": code}}]}, status_code=status)


class UploadLimit:
    """The largest request body to accept: the largest plan's upload limit, re-read every few minutes."""

    def __init__(self) -> None:
        self._value: int | None = None
        self._read_at = 0.0
        self._lock = asyncio.Lock()

    async def bytes(self, session_factory: Any) -> int:
        if self._value is not None and time.monotonic() - self._read_at < _LIMIT_TTL_S:
            return self._value
        async with self._lock:
            if self._value is None or time.monotonic() - self._read_at >= _LIMIT_TTL_S:
                async with session_factory() as session:
                    mb = await session.scalar(
                        select(func.max(SubscriptionPlan.features["max_upload_mb"].as_float()))
                    )
                self._value = int((mb or DEFAULT_UPLOAD_MB) * 1024 * 1024) + FORM_OVERHEAD_BYTES
                self._read_at = time.monotonic()
        return self._value


async def guard_multipart(scope: Scope, receive: Receive, send: Send, *, limit: Callable[[], Awaitable[int]]) -> Receive | None:
    """For a multipart request: a size-capped ``receive``, or None when it was refused (answered here)."""
    if not has_preflight_header(scope):
        response = _refusal(
            400, "BAD_REQUEST",
            "Multipart requests must carry an 'apollo-require-preflight' (or 'x-apollo-operation-name') header.",
        )
        await response(scope, receive, send)
        return None
    cap = await limit()
    message = f"The request is larger than the largest upload accepted ({cap // (1024 * 1024)} MB)."
    return await cap_body(scope, receive, send, cap=cap, code="FILE_TOO_LARGE", message=message)


async def cap_body(scope: Scope, receive: Receive, send: Send, *, cap: int, code: str = "REQUEST_TOO_LARGE",
                   message: str | None = None) -> Receive | None:
    """A ``receive`` that stops the body at ``cap`` bytes; None when the declared length is over it (answered 413)."""
    message = message or f"The request body is larger than {cap // 1024} KB."
    declared = _header(scope, b"content-length")
    if declared is not None and declared.strip().isdigit() and int(declared) > cap:
        await _refusal(413, code, message)(scope, receive, send)
        return None
    seen = 0

    async def capped() -> Message:
        nonlocal seen
        received = await receive()
        if received["type"] == "http.request":
            seen += len(received.get("body", b""))
            if seen > cap:
                raise BodyTooLarge(code, message)
        return received

    return capped


async def answer_too_large(scope: Scope, receive: Receive, send: Send, exc: BodyTooLarge) -> None:
    await _refusal(413, exc.code, exc.message)(scope, receive, send)


class CappedFormRequestAdapter(StarletteRequestAdapter):
    """Strawberry's Starlette adapter, parsing forms with one file and two fields at most."""

    async def get_form_data(self) -> FormData:
        try:
            form = await self._request.form(max_files=MAX_UPLOAD_FILES, max_fields=MAX_FORM_FIELDS)
        except StarletteHTTPException as exc:  # too many parts: Strawberry answers 400 for a ValueError
            raise ValueError(exc.detail) from None
        return FormData(files=form, form=form)


def upload_filename(upload: Any) -> str:
    """The client's file name without any directory part (it is only a hint)."""
    name = PurePosixPath(str(getattr(upload, "filename", None) or "upload.mp4").replace("\\", "/")).name
    return name[:255] or "upload.mp4"


async def save_upload(upload: Any) -> Path:
    """Copy an uploaded file to a named temporary file (the caller deletes it)."""

    def copy() -> Path:
        upload.file.seek(0)
        with tempfile.NamedTemporaryFile(prefix="clipflow-upload-", delete=False) as out:
            shutil.copyfileobj(upload.file, out, 1024 * 1024)
        return Path(out.name)

    return await asyncio.to_thread(copy)
