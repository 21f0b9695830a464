"""The Starlette application: lifespan owns the engine, Redis and the arq pool; GraphQL at
/graphql (GraphiQL in development only), health checks, OAuth sign-in routes.

Authentication happens once per request in ``ClipFlowGraphQL.get_context`` through
``auth.principal.resolve_principal``; no credentials means the anonymous principal. A bad
credential is answered before any GraphQL runs: 401 (or 403/429/400) with a GraphQL-shaped
``errors`` body. Websockets authenticate from the ``connection_init`` payload
(``{"authorization": "Bearer ..."}``, ``X-Workspace-Id`` as ``workspaceId``) on both
graphql-transport-ws and the legacy graphql-ws protocol; a refused credential closes the
connection (4401/4403 with the reason), and every later operation re-checks it
(``graphql.sockets``). An API key's daily limit counts operations, not requests: an HTTP
batch of N counts N (``execute_operation``), and so does each websocket operation.
Multipart uploads (``videoUpload``) are on behind a CSRF guard and a body cap
(``graphql.uploads``): a multipart POST without a preflight-forcing header is answered 400,
an anonymous one 401 before its body is read, and one over the largest plan's upload limit
413. Other bodies are capped at ``MAX_JSON_BODY_BYTES``.
GraphQL over HTTP follows the spec (``graphql.http_protocol``): ``application/graphql-response+json``
when accepted (400 for a request error), JSON errors for malformed requests, several
operations need an ``operationName``, GET runs nothing (405); CORS for ``CORS_ORIGINS`` on
/graphql and /uploads. GraphiQL's files are served from the package (``graphql.ide``).
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from arq import create_pool
from arq.connections import RedisSettings
from graphql import GraphQLError
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from cross_web import HTTPException
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL
from strawberry.types import ExecutionResult

from .auth import ratelimit
from .auth.client_ip import client_ip
from .auth.principal import count_operations
from .config import Settings, check_production_settings, get_settings
from .db import create_app_engine, session_factory
from .errors import AuthError, DomainError, ErrorCode, PermissionDenied, RateLimited, ValidationError
from .graphql.context import Context
from .graphql.http_protocol import (
    GRAPHQL_RESPONSE_JSON,
    ScopedCORS,
    is_request_error,
    several_operations,
    request_error_response,
    response_media_type,
    wants_graphql_response,
)
from .graphql.ide import offline_page
from .graphql.ide import routes as ide_routes
from .graphql.jsonbody import MAX_JSON_DEPTH, json_too_deep
from .graphql.schema import build_schema
from .graphql.errors import domain_error
from .graphql.sockets import LegacyWSHandler, SocketRefused, SocketRegistry, TransportWSHandler
from .graphql.uploads import (
    MAX_JSON_BODY_BYTES,
    BodyTooLarge,
    CappedFormRequestAdapter,
    UploadLimit,
    answer_too_large,
    cap_body,
    guard_multipart,
    is_multipart,
)
from .processing.uploads import routes as upload_routes
from .processing.uploads import sweep_stale_uploads
from .pubsub import PubSubHub
from .storage import get_storage
from .storage.routes import routes as file_routes

log = logging.getLogger(__name__)

PrincipalResolver = Callable[..., Awaitable[Any]]
Mailer = Callable[..., Awaitable[None]]

# The cyclic garbage collector, tuned for a server whose heap is mostly import-time objects
# (the schema, SQLAlchemy's mappers and compiled cache): measured on the dashboard query, it
# took a third of a request's CPU with CPython's defaults, each full collection walking the
# whole heap again, and with 16 requests in flight every young collection walked (and
# promoted) their live objects. At startup the heap built so far is frozen (never walked
# again), and the young generation is collected only after 200 000 net allocations: a
# request's objects die by reference count (the GraphQL layer leaves ~300 objects of cyclic
# garbage per request: a collection every several hundred requests, tens of MB at most).
GC_THRESHOLDS = (200_000, 20, 20)


@contextlib.contextmanager
def tuned_gc() -> Iterator[None]:
    """Freeze the startup heap and raise the collection thresholds, for the app's lifetime."""
    before = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()


async def healthz(_request: Request) -> JSONResponse:
    """Liveness: the process answers."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    """Readiness: the database and Redis answer."""
    state = request.app.state
    checks: dict[str, str] = {}
    try:
        async with state.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        await state.redis.ping()
        checks["redis"] = "ok"
    except Exception as exc:  # noqa: BLE001
        checks["redis"] = f"error: {type(exc).__name__}"
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse({"status": "ready" if ready else "not ready", "checks": checks}, status_code=200 if ready else 503)


class JSONTooDeep(json.JSONDecodeError):
    """A JSON text nested deeper than ``MAX_JSON_DEPTH``: refused before ``json.loads`` recurses."""


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list with a non-object item"
    kinds = {str: "a string", bool: "a boolean", int: "a number", float: "a number", type(None): "null"}
    return kinds.get(type(value), "a value")


def _status_for(exc: DomainError) -> int:
    if isinstance(exc, AuthError):
        return 401
    if isinstance(exc, PermissionDenied):
        return 403
    if isinstance(exc, RateLimited):
        return 429
    if isinstance(exc, ValidationError):
        return 400
    return 400


def _error_body(exc: DomainError) -> dict[str, Any]:
    return {"data": None, "errors": [domain_error(exc)]}


async def internal_error(request: Request, exc: Exception) -> JSONResponse:
    """A database error outside GraphQL: logged with a reference, answered without its text."""
    reference = uuid.uuid4().hex[:16]
    log.error("internal error %s on %s", reference, request.url.path, exc_info=exc)
    body = {"data": None, "errors": [{"message": "Unexpected error.", "extensions": {"code": "INTERNAL", "reference": reference}}]}
    return JSONResponse(body, status_code=500)


async def log_mailer(*, kind: str, to: str, token: str, **extra: Any) -> None:
    """Development stand-in for the email sender: logs that a token would be emailed."""
    log.info("email %s to %s (token not logged)", kind, to)


class ClipFlowGraphQL(GraphQL):
    request_adapter_class = CappedFormRequestAdapter
    # Sockets re-check their caller per operation and close on revocation (graphql.sockets).
    graphql_transport_ws_handler_class = TransportWSHandler
    graphql_ws_handler_class = LegacyWSHandler

    def __init__(self, schema: Any, *, settings: Settings, principal_resolver: PrincipalResolver, mailer: Mailer | None) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if settings.environment == "development" else None,
            allow_queries_via_get=False,  # GET cannot carry mutations, but keep reads off GET too (CSRF, caches)
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL),
            multipart_uploads_enabled=True,  # guarded in __call__
            max_subscriptions_per_connection=20,
            allowed_origins=settings.cors_origins,  # browser pages allowed by CORS may open subscriptions too
        )
        self.upload_limit = UploadLimit()
        self.settings = settings
        self.principal_resolver = principal_resolver
        self.mailer = mailer
        self.sockets = SocketRegistry(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            request = Request(scope, receive=receive)
            if request.method == "GET" and not self._renders_ide(request):
                refused = request_error_response(
                    405, "Send GraphQL operations with POST: GET never runs one (a link must not run a mutation).",
                    headers=request.headers, extra_headers={"Allow": "POST"},
                )
                await refused(scope, receive, send)
                return
            if is_multipart(scope):
                factory = scope["app"].state.session_factory
                guarded = await guard_multipart(scope, receive, send, limit=lambda: self.upload_limit.bytes(factory))
            else:
                guarded = await cap_body(scope, receive, send, cap=MAX_JSON_BODY_BYTES)
            if guarded is None:
                return
            receive = guarded
            try:
                await self._serve_http(scope, receive, send)
            except BodyTooLarge as exc:
                await answer_too_large(scope, receive, send, exc)
            except DomainError as exc:
                headers = {}
                if isinstance(exc, RateLimited) and exc.reset_at is not None:
                    headers["Retry-After"] = str(max(1, int((exc.reset_at - datetime.now(UTC)).total_seconds())))
                response = JSONResponse(_error_body(exc), status_code=_status_for(exc), headers=headers,
                                        media_type=response_media_type(request.headers))
                await response(scope, receive, send)
            return
        await super().__call__(scope, receive, send)

    async def render_graphql_ide(self, request: Any) -> Any:
        return HTMLResponse(offline_page(self.graphql_ide_html))

    def _renders_ide(self, request: Request) -> bool:
        # a browser opening /graphql: GraphiQL in development, 404 elsewhere (strawberry decides)
        return self.should_render_graphql_ide(self.request_adapter_class(request))

    async def _serve_http(self, scope: Scope, receive: Receive, send: Send) -> None:
        # strawberry answers a malformed request in plain text; clients parse JSON errors
        request = Request(scope, receive=receive)
        try:
            response = await self.run(request)
        except HTTPException as exc:
            response = request_error_response(exc.status_code, exc.reason, headers=request.headers)
        await response(scope, receive, send)

    async def get_sub_response(self, request: Any) -> Any:
        sub_response = await super().get_sub_response(request)
        sub_response.graphql_request = request  # create_response negotiates with the request's Accept
        return sub_response

    async def process_result(self, request: Any, result: ExecutionResult) -> Any:
        response_data = await super().process_result(request, result)
        if is_request_error(result) and wants_graphql_response(request.headers):
            response_data.pop("data", None)  # the spec: a request error has no data entry, and a 4xx status
            request.state.graphql_request_error = True
        return response_data

    def create_response(self, response_data: Any, sub_response: Any) -> Any:
        response = super().create_response(response_data, sub_response)
        request = getattr(sub_response, "graphql_request", None)
        if request is not None and wants_graphql_response(request.headers):
            response.headers["content-type"] = GRAPHQL_RESPONSE_JSON
            single = not isinstance(response_data, list)
            if single and not sub_response.status_code and getattr(request.state, "graphql_request_error", False):
                response.status_code = 400
        return response

    def parse_json(self, data: str | bytes) -> Any:
        try:
            parsed = super().parse_json(data)
        except HTTPException as exc:
            if isinstance(exc.__cause__, JSONTooDeep):
                raise ValidationError(ErrorCode.INVALID, f"The JSON body is nested deeper than {MAX_JSON_DEPTH} levels.") from None
            raise
        # a request, its operations/map/variables: objects (a batch: a list of objects); anything
        # else would reach strawberry's `.get` and fail as a 500
        if not (isinstance(parsed, dict) or (isinstance(parsed, list) and all(isinstance(i, dict) for i in parsed))):
            raise HTTPException(400, f"Expected a JSON object (a batch: a list of objects), got {_json_kind(parsed)}.")
        return parsed

    def decode_json(self, data: str | bytes) -> object:
        # every JSON body, multipart's operations and every websocket message passes here;
        # a socket answers a JSONDecodeError by closing with 4400
        if json_too_deep(data):
            raise JSONTooDeep(f"nested deeper than {MAX_JSON_DEPTH} levels", "", 0)
        return super().decode_json(data)

    async def get_context(self, request: Any, response: Any) -> Context:
        state = request.app.state
        ctx = Context(
            settings=self.settings,
            session_factory=state.session_factory,
            redis=state.redis,
            arq=state.arq,
            storage=state.storage,
            request=request,
            response=response,
            mailer=self.mailer,
            pubsub=state.pubsub,
        )
        if request.scope["type"] == "http":
            ctx.principal = await self._resolve(request.app, request.headers, request)
            if is_multipart(request.scope) and ctx.principal.workspace_id is None:
                # refuse before the body is read: nobody spools a file to disk without signing in
                raise AuthError(ErrorCode.INVALID_CREDENTIALS, "Sign in and choose a workspace to upload files.")
        return ctx

    async def _resolve(self, app: Any, headers: Any, request: Any) -> Any:
        # Nothing counted here: the daily limit counts operations (execute_operation, sockets).
        return await self.principal_resolver(
            headers=dict(headers),
            client_ip=client_ip(request),
            session_factory=app.state.session_factory,
            redis=app.state.redis,
            operations=0,
        )

    async def execute_operation(self, **kwargs: Any) -> Any:
        """Count each operation of an HTTP request (a batch counts its length); those over the limit are refused."""
        request_data, context = kwargs["request_data"], kwargs["context"]
        batch = request_data if isinstance(request_data, list) else [request_data]
        allowed = await count_operations(context.redis, context.principal, len(batch))  # none left: 429
        if allowed == len(batch):
            return await super().execute_operation(**kwargs)
        ran = await super().execute_operation(**{**kwargs, "request_data": batch[:allowed]})
        refused = domain_error(ratelimit.exhausted(context.principal.daily_limit))
        error = GraphQLError(refused["message"], extensions=refused["extensions"])
        return [*ran, *(ExecutionResult(data=None, errors=[error]) for _ in batch[allowed:])]

    async def execute_single(self, **kwargs: Any) -> ExecutionResult:
        request_data = kwargs["request_data"]
        if request_data.operation_name is None:
            # strawberry would run the first operation of several; the spec says refuse
            names = several_operations(request_data.query, max_tokens=self.settings.graphql_max_tokens)
            if names:
                raise HTTPException(
                    400, f"The document holds several operations ({', '.join(names)}): name the one to run in `operationName`."
                )
        return await super().execute_single(**kwargs)

    async def on_ws_connect(self, context: Context) -> Any:
        params = context.connection_params or {}
        headers: dict[str, str] = {}
        for key, header in (("authorization", "authorization"), ("Authorization", "authorization"),
                            ("workspaceId", "x-workspace-id"), ("x-workspace-id", "x-workspace-id")):
            value = params.get(key)
            if isinstance(value, str) and value:
                headers[header] = value
        ua = context.request.headers.get("user-agent")
        if ua:
            headers["user-agent"] = ua
        try:
            context.principal = await self._resolve(context.request.app, headers, context.request)
        except DomainError as exc:
            raise SocketRefused.from_domain_error(exc) from None
        self.sockets.admit(context.socket, context.principal, headers)
        return None


def create_app(
    settings: Settings | None = None,
    *,
    engine: AsyncEngine | None = None,
    principal_resolver: PrincipalResolver | None = None,
    mailer: Mailer | None = None,
) -> Starlette:
    """The API. ``engine`` (tests: count statements), ``principal_resolver`` and ``mailer`` can be injected."""
    settings = settings or get_settings()
    check_production_settings(settings)
    if principal_resolver is None:
        from .auth.principal import resolve_principal

        principal_resolver = resolve_principal

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        own_engine = engine is None
        app.state.settings = settings
        app.state.engine = engine or create_app_engine(settings)
        app.state.session_factory = session_factory(app.state.engine)
        app.state.redis = Redis.from_url(settings.redis_url)
        app.state.arq = await create_pool(RedisSettings.from_dsn(settings.redis_url))
        app.state.storage = get_storage(settings)
        if hasattr(app.state.storage, "ensure_bucket"):  # S3: create the bucket on first start
            app.state.storage.ensure_bucket()
        await sweep_stale_uploads(app.state.redis, settings)  # parts left by a previous run of this host
        app.state.pubsub = PubSubHub(app.state.redis)
        await app.state.pubsub.start()
        await graphql_app.sockets.start(
            hub=app.state.pubsub, redis=app.state.redis,
            resolve=lambda headers, request: graphql_app._resolve(app, headers, request),
        )
        try:
            with tuned_gc():
                yield
        finally:
            await graphql_app.sockets.stop()
            await app.state.pubsub.stop()
            await app.state.arq.aclose()
            await app.state.redis.aclose()
            if own_engine:
                await app.state.engine.dispose()

    from .auth.routes import routes as auth_routes
    from .publishing.routes import routes as social_oauth_routes

    graphql_app = ClipFlowGraphQL(
        build_schema(settings), settings=settings, principal_resolver=principal_resolver,
        mailer=mailer or (log_mailer if settings.environment == "development" else None),
    )
    routes: list[Any] = [
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        *auth_routes,
        *social_oauth_routes,  # GET /oauth/social/{platform}/callback
        *upload_routes,  # resumable (tus) uploads
        *file_routes,  # signed downloads from local storage
        Route("/graphql", graphql_app, methods=["GET", "POST"]),
        *(ide_routes if settings.environment == "development" else []),  # GraphiQL's files, served locally
    ]
    from starlette.routing import WebSocketRoute

    routes.append(WebSocketRoute("/graphql", graphql_app))
    # debug off everywhere: its traceback page would show SQL text and bound parameters
    middleware = [Middleware(ScopedCORS, origins=settings.cors_origins)] if settings.cors_origins else []
    return Starlette(routes=routes, lifespan=lifespan, middleware=middleware,
                     exception_handlers={SQLAlchemyError: internal_error})


