"""GraphQL over HTTP (the graphql-over-http spec): media types, request errors, CORS.

- A client that accepts ``application/graphql-response+json`` gets that media type, and a
  request error (a document that does not parse or validate, variables that do not coerce:
  nothing executed) is answered 400 without a ``data`` entry. ``application/json`` keeps the
  legacy behaviour: 200 for every well-formed request.
- A malformed request (bad JSON, no query, a body that is not an object) is answered 400 with
  a JSON ``errors`` list, never plain text.
- GET never executes an operation: a link, an ``<img>`` or a prefetch must not run a mutation,
  and a query string ends up in logs and caches. It is answered 405 with ``Allow: POST``.
- CORS for ``/graphql`` and ``/uploads`` when ``CORS_ORIGINS`` lists origins (none: no CORS
  headers at all). Credentials are headers, never cookies, so no ``Allow-Credentials``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from graphql import GraphQLError, OperationDefinitionNode, parse
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
LEGACY_JSON = "application/json"

_OPERATION_KEYWORD = re.compile(r"\b(?:query|mutation|subscription)\b")

CORS_PATHS = ("/graphql", "/uploads")
CORS_METHODS = ("GET", "POST", "HEAD", "PATCH", "DELETE", "OPTIONS")
CORS_REQUEST_HEADERS = (
    "authorization", "content-type", "x-api-key", "x-workspace-id", "apollo-require-preflight",
    "x-apollo-operation-name", "tus-resumable", "upload-length", "upload-offset", "upload-metadata",
)
# What a browser script may read from an answer: tus needs the offset and location to resume.
CORS_EXPOSED_HEADERS = (
    "Location", "Tus-Resumable", "Tus-Version", "Tus-Extension", "Tus-Max-Size", "Upload-Offset", "Upload-Length",
    "ClipFlow-Video-Id", "ClipFlow-Job-Id", "Retry-After",
)
CORS_MAX_AGE_S = 600


def wants_graphql_response(headers: Mapping[str, str]) -> bool:
    """Whether the client accepts ``application/graphql-response+json`` (listed in ``Accept``, not with q=0)."""
    for media_range in (headers.get("accept") or "").split(","):
        media_type, *params = (part.strip() for part in media_range.split(";"))
        if media_type.lower() == GRAPHQL_RESPONSE_JSON:
            return not any(p.replace(" ", "").lower() in ("q=0", "q=0.0", "q=0.00", "q=0.000") for p in params)
    return False


def response_media_type(headers: Mapping[str, str]) -> str:
    """The media type of a GraphQL answer to a request with these headers."""
    return GRAPHQL_RESPONSE_JSON if wants_graphql_response(headers) else LEGACY_JSON


def is_request_error(result: Any) -> bool:
    """Nothing was executed: a parse, validation or variable coercion failure (errors without a path)."""
    return result.data is None and bool(result.errors) and all(not getattr(e, "path", None) for e in result.errors)


def several_operations(query: str | None, *, max_tokens: int) -> list[str]:
    """The operation names of a document holding several operations, else [].

    Several operations that validate are all named, so a document with fewer than two
    operation keywords is answered without parsing it here (strawberry parses it once more).
    """
    if not query or len(_OPERATION_KEYWORD.findall(query)) < 2:
        return []
    try:
        document = parse(query, no_location=True, max_tokens=max_tokens)
    except GraphQLError:
        return []  # strawberry reports the syntax error
    names = [d.name.value if d.name else "(anonymous)" for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    return names if len(names) > 1 else []


def request_error_response(status: int, message: str, *, headers: Mapping[str, str],
                           extra_headers: Mapping[str, str] | None = None) -> JSONResponse:
    """A malformed or refused HTTP request, as a GraphQL response with no ``data``."""
    code = "METHOD_NOT_ALLOWED" if status == 405 else "BAD_REQUEST"
    return JSONResponse({"errors": [{"message": message, "extensions": {"code": code}}]}, status_code=status,
                        headers=dict(extra_headers or {}), media_type=response_media_type(headers))


class ScopedCORS:
    """Starlette's CORSMiddleware for the API paths only (not the OAuth redirects or file downloads)."""

    def __init__(self, app: ASGIApp, origins: Sequence[str], paths: Sequence[str] = CORS_PATHS) -> None:
        self.app = app
        self.paths = tuple(paths)
        self.cors = CORSMiddleware(
            app, allow_origins=list(origins), allow_methods=list(CORS_METHODS), allow_headers=list(CORS_REQUEST_HEADERS),
            expose_headers=list(CORS_EXPOSED_HEADERS), max_age=CORS_MAX_AGE_S,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and any(path == p or path.startswith(p + "/") for p in self.paths):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)
