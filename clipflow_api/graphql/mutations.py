"""What every mutation resolver shares: the commit boundary, the refusal rule, typed inputs, ids.

A mutation opens its own session (``ctx.write_session()``), calls a service (which checks,
changes rows and writes the audit entry) and commits at the end: services only flush. Jobs created in the
transaction (``jobs.service.create_job``) are handed to arq only after the commit, and
dropped with a rollback. A ``DomainError`` rolls everything back and comes back in the
payload's ``errors``; permission failures raise and become top-level errors.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import strawberry
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession

from ..errors import DomainError, ErrorCode, PermissionDenied, ValidationError
from ..jobs.service import commit_and_enqueue, discard_outbox
from .errors import PermissionDeniedError, from_domain_error
from .relay import parse_global_id

if TYPE_CHECKING:
    from .context import Info

log = logging.getLogger(__name__)
T = TypeVar("T")


@asynccontextmanager
async def unit_of_work(info: Info) -> AsyncIterator[AsyncSession]:
    """A session for one mutation: committed at the end (then its jobs enqueued), rolled back on any error."""
    async with info.context.write_session() as session:
        try:
            yield session
        except BaseException:
            discard_outbox(session)
            await session.rollback()
            raise
        try:
            await commit_and_enqueue(session, info.context.arq)
        except RedisError:
            # Committed, but arq was not reached: the job stays pending and the sweeper enqueues it.
            log.warning("jobs committed but not enqueued; the sweeper will pick them up", exc_info=True)


async def run(info: Info, payload_cls: type, error_cls: type, field: str | Sequence[str], work: Any) -> Any:
    """Run ``work(session)`` in a unit of work; map refusals to payload errors.

    ``work`` returns the payload's ``field`` value, or a tuple of values when ``field``
    names several (``("video", "job")``).
    """
    fields = (field,) if isinstance(field, str) else tuple(field)

    def refused(exc: Exception) -> Any:
        return payload_cls(**dict.fromkeys(fields), errors=[from_domain_error(error_cls, exc)])

    try:
        async with unit_of_work(info) as session:
            result = await work(session)
    except PermissionDenied as exc:
        # one rule: whoever refuses, a permission failure is a top-level PERMISSION_DENIED error
        raise PermissionDeniedError(exc.message, exc.code.value) from None
    except DomainError as exc:
        return refused(exc)
    values = (result,) if len(fields) == 1 else tuple(result)
    return payload_cls(**dict(zip(fields, values, strict=True)), errors=[])


def to_domain(data: Any, cls: type[T], **overrides: Any) -> T:
    """The service's typed input ``cls`` (a dataclass) from a GraphQL input object.

    Fields the client did not send stay ``validation.UNSET``; ``overrides`` replace fields
    the resolver converted itself (global ids parsed into uuids).
    """
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name in overrides:
            values[f.name] = overrides[f.name]
            continue
        value = getattr(data, f.name, strawberry.UNSET)
        if value is not strawberry.UNSET:
            values[f.name] = value
    return cls(**values)


def node_id(value: str, expected: type, field: str = "id") -> uuid.UUID:
    """The uuid of a global id of type ``expected``; a payload error otherwise."""
    from graphql import GraphQLError

    try:
        return parse_global_id(value, expected=expected)[1]
    except GraphQLError as exc:
        raise ValidationError(ErrorCode.INVALID, exc.message, field) from None


async def send_email(info: Info, *, kind: str, to: str, token: str, **extra: Any) -> None:
    """Hand an emailed token to the app's mailer (never to the client)."""
    mailer = info.context.mailer
    if mailer is not None:
        await mailer(kind=kind, to=to, token=token, **extra)
