"""Subscriptions: live progress of a job or a video, from the Redis channels the worker
publishes on (``clipflow_api.jobs.progress``).

The job or video is looked up under the caller's workspace first (RLS): another
workspace's id gets the same "not found" error as a missing one. The stream ends after a
``completed``, ``failed`` or ``cancelled`` event. The subscription listens before it
reads the current state, so an event published in between is not lost: the current
state goes out first (for a video still being processed too), then everything newer.
All subscriptions of a process share one Redis pub/sub connection
(``clipflow_api.pubsub.PubSubHub``).

How a subscription fails, one rule for every failure and both protocols: whatever keeps a
subscription from starting (an invalid id, a missing or another workspace's job or video,
a missing permission, the API key's daily limit, too many subscriptions) is answered with
a single ``error`` message carrying the GraphQL errors, and nothing more for that id: no
``next``, no ``complete``. That is graphql-transport-ws's "operation execution error"
before the stream starts; graphql-ws's client hands it to ``sink.error`` (its
``iterate()`` throws), Apollo's ``GraphQLWsLink`` turns it into an ``ApolloError`` with
``graphQLErrors``, gql raises ``TransportQueryError``, so every client reports a failed
subscription rather than an empty event. The checks therefore run in the resolver before
it returns its stream: graphql-core reports what is raised there as a pre-execution error
(``error``), while an error raised inside the stream would arrive as ``next`` with
errors. Refusals of the socket layer (``graphql.sockets``) use the same message.

Fan-out: a Redis message becomes one ``ProgressEvent`` object for all its listeners
(``_decode`` is memoised on the message), and ``SharedEventExecution`` executes each
distinct operation (document, operation name, variables) on such an event once, handing
the result to every subscriber that asked the same; only the send stays per socket.
"""

from __future__ import annotations

import functools
import json
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Annotated, Any, Self, TypeVar, cast

import strawberry
from graphql import ExecutionResult, GraphQLError
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from ..errors import NotFound
from ..jobs import service as jobs
from ..jobs.progress import job_channel, video_channel
from .base import desc
from .context import Info
from .jobs.types import Job
from .media.types import Video
from .permissions import Require
from .relay import global_id, parse_global_id

TERMINAL = frozenset({"completed", "failed", "cancelled"})


def _gid(node_type: type, row_id: Any) -> strawberry.ID:
    return strawberry.ID(global_id(node_type, row_id))


@strawberry.type(description="A progress event of a background job.")
class ProgressEvent:
    job_id: strawberry.ID = desc("The job's global id (for a finished video: its last job's; empty when it never had one).")
    video_id: strawberry.ID | None = desc("The video's global id, for video work.")
    status: str = desc("pending, processing, completed, failed or cancelled.")
    step: str | None = desc("The pipeline step, e.g. transcribe.")
    progress: int = desc("Progress, 0-100.")
    message: str | None = desc("What is happening, for people.")
    error: str | None = desc("Why it failed.")
    at: str | None = desc("When the event was published (ISO 8601).")

    @classmethod
    def from_event(cls, event: dict[str, Any]) -> Self:
        return cls(
            job_id=_gid(Job, event["jobId"]) if event.get("jobId") else strawberry.ID(""),
            video_id=_gid(Video, event["videoId"]) if event.get("videoId") else None,
            status=str(event.get("status") or ""),
            step=event.get("step"),
            progress=int(event.get("progress") or 0),
            message=event.get("message"),
            error=event.get("error"),
            at=event.get("at"),
        )


class _SharedEvent(ProgressEvent):
    """A progress event handed to every listener of its channel, with the results of the operations run on it."""

    results: dict[tuple[Any, ...], Any]


@functools.lru_cache(maxsize=512)
def _decode(data: bytes) -> _SharedEvent | None:
    """One event object per Redis message, however many subscribers receive it."""
    try:
        event = json.loads(data)
    except (TypeError, ValueError):
        return None
    if not isinstance(event, dict):
        return None
    shared = _SharedEvent.from_event(event)
    shared.results = {}
    return shared


class SharedEventExecution(StrawberryGraphQLCoreExecutionContext):
    """Executes an operation on a shared event once; subscribers with the same operation get that result.

    The result of a progress event depends only on the event and the operation: the
    caller's rights were checked when the subscription started, and an event's fields are
    plain values.
    """

    _operation_key: tuple[Any, ...] | None = None
    _shared: _SharedEvent | None = None

    def operation_key(self) -> tuple[Any, ...]:
        """What makes two subscriptions' results on one event equal: document, operation name, variables."""
        if self._operation_key is None:
            source = self.operation.loc.source.body if self.operation.loc else id(self.operation)
            name = self.operation.name.value if self.operation.name else None
            self._operation_key = (source, name, json.dumps(self.variable_values, sort_keys=True, default=str))
        return self._operation_key

    def build_per_event_executor(self, payload: Any) -> Any:
        if isinstance(payload, _SharedEvent):
            known = payload.results.get(self.operation_key())
            if known is not None:
                return _Executed(known)  # no per-event executor to build: the result exists
        executor = cast(SharedEventExecution, super().build_per_event_executor(payload))
        executor._shared = payload if isinstance(payload, _SharedEvent) else None
        return executor

    def execute_operation(self, serially: bool | None = None) -> Any:
        result = super().execute_operation(serially)
        # An event's fields are plain values, so its result is ready at once; one with errors
        # (or, should a field ever await, one not ready) stays this subscriber's own.
        if self._shared is not None and isinstance(result, ExecutionResult) and not result.errors:
            self._shared.results[self.operation_key()] = result
        return result


class _Executed:
    """Stands in for a per-event executor whose result is already known."""

    def __init__(self, result: Any) -> None:
        self.result = result

    def execute_operation(self, serially: bool | None = None) -> Any:
        return self.result


E = TypeVar("E")


async def progress_stream(
    info: Any, channel: str, current: Callable[[], Awaitable[E]], decode: Callable[[bytes], E | None],
    final: Callable[[E], bool],
) -> AsyncGenerator[E, None]:
    """The current state, then every event on ``channel`` until a ``final`` one: what every
    progress subscription (jobs, videos, posts) streams."""
    # The process's one shared pub/sub connection (clipflow_api.pubsub), not one per subscription.
    async with info.context.pubsub.listen(channel) as events:
        initial = await current()  # after subscribing: nothing published meanwhile is missed
        yield initial
        if final(initial):
            return
        while True:
            event = decode(await events.get())
            if event is None:
                continue
            yield event
            if final(event):
                return


def _stream(info: Any, channel: str, current: Callable[[], Awaitable[ProgressEvent]]) -> AsyncGenerator[ProgressEvent, None]:
    return progress_stream(info, channel, current, _decode, lambda e: e.status in TERMINAL)


T = TypeVar("T")


async def read_visible(info: Info, load: Callable[[Any, Any], Awaitable[T]], row_id: Any) -> T:
    """``load(session, row_id)`` under the caller's workspace (RLS); its NOT_FOUND as a GraphQL error."""
    try:
        async with info.context.session() as session:
            return await load(session, row_id)
    except NotFound as exc:
        raise GraphQLError(exc.message, extensions={"code": "NOT_FOUND"}) from None


@strawberry.type(description="Live updates.")
class Subscription:
    @strawberry.subscription(description="Progress of one job until it completes or fails.", permission_classes=[Require("video:read")])
    async def job_progress(
        self, info: Info, job_id: Annotated[strawberry.ID, strawberry.argument(description="The job's id.")]
    ) -> AsyncGenerator[ProgressEvent, None]:
        # checked before the stream starts: a refusal is the operation's `error` message (see the module docstring)
        _, jid = parse_global_id(job_id, expected=Job)
        await read_visible(info, jobs.get_job, jid)

        async def current() -> ProgressEvent:
            row = await read_visible(info, jobs.get_job, jid)
            return ProgressEvent(
                job_id=_gid(Job, row.id), video_id=_gid(Video, row.video_id) if row.video_id else None,
                status=row.status, step=None, progress=row.progress, message=row.progress_message, error=row.error,
                at=row.updated_at.isoformat() if row.updated_at else None,
            )

        return _stream(info, job_channel(jid), current)

    @strawberry.subscription(description="Processing progress of one video until it completes or fails.", permission_classes=[Require("video:read")])
    async def video_progress(
        self, info: Info, video_id: Annotated[strawberry.ID, strawberry.argument(description="The video's id.")]
    ) -> AsyncGenerator[ProgressEvent, None]:
        _, vid = parse_global_id(video_id, expected=Video)
        await read_visible(info, jobs.video_progress, vid)

        async def current() -> ProgressEvent:
            state = await read_visible(info, jobs.video_progress, vid)
            running = state.status not in TERMINAL
            return ProgressEvent(
                job_id=_gid(Job, state.last_job_id) if state.last_job_id else strawberry.ID(""), video_id=_gid(Video, state.video_id),
                status=state.status, step=None, progress=state.progress,
                # while it runs, its job's last words say where it is; a finished video speaks through `error`
                message=state.last_job_message if running else None, error=state.error,
                at=state.last_job_updated_at.isoformat() if running and state.last_job_updated_at else None,
            )

        return _stream(info, video_channel(vid), current)
