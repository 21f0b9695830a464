"""What every mutation shares: payload types, the commit boundary, audit, input checks.

A mutation opens its own session (``ctx.write_session()``), calls services or changes rows,
records an audit entry, and commits at the end: services only flush. Jobs created in the
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
from typing import Any, Optional, TypeVar

import strawberry
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession

from .. import audit
from ..errors import DomainError, ErrorCode, PermissionDenied, ValidationError
from ..rows import get_row, refreshed  # noqa: F401 - re-exported while resolvers move to services
from ..validation import UNSET, check_color, check_list, check_text  # noqa: F401 - same
from ..jobs.service import commit_and_enqueue, discard_outbox
from .errors import PermissionDeniedError, from_domain_error
from .relay import parse_global_id

log = logging.getLogger(__name__)
T = TypeVar("T")



def payload(name: str, field: str, type_: Any, error_cls: type, description: str) -> type:
    """``<name>Payload { <field>: <type_>, errors: [<error_cls>!]! }``."""
    cls = type(
        f"{name}Payload",
        (),
        {
            "__annotations__": {field: Optional[type_], "errors": list[error_cls]},  # noqa: UP045 - runtime typing
            field: strawberry.field(default=None, description=f"The {field} after the change (null when refused)."),
            "errors": strawberry.field(default_factory=list, description="Why the change was refused; empty on success."),
        },
    )
    return strawberry.type(cls, description=description)


class Refused(ValidationError):
    """Deprecated while resolvers move to services: raise a ``clipflow_api.errors`` class."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(code, message, field)


@asynccontextmanager
async def unit_of_work(info: Any) -> AsyncIterator[AsyncSession]:
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


async def run(info: Any, payload_cls: type, error_cls: type, field: str | Sequence[str], work: Any) -> Any:
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
        raise PermissionDeniedError(exc.message) from None
    except DomainError as exc:
        return refused(exc)
    values = (result,) if len(fields) == 1 else tuple(result)
    return payload_cls(**dict(zip(fields, values, strict=True)), errors=[])


async def record(session: AsyncSession, info: Any, action: str, resource_type: str, resource_id: uuid.UUID, details: dict | None = None) -> None:
    await audit.record(
        session, info.context.principal, action, resource_type=resource_type, resource_id=resource_id, details=details
    )


def given(value: Any) -> bool:
    """True when a GraphQL input field was sent (``null`` included)."""
    return value is not strawberry.UNSET


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


async def delete_recorded(session: AsyncSession, info: Any, row: Any, node_type: Any, resource_type: str,
                          details: dict[str, Any]) -> Any:
    """Delete ``row``, audit it as ``<resource_type>.delete``, and return its last state as ``node_type``."""
    out = node_type.from_row(row)
    await session.delete(row)
    await session.flush()
    await record(session, info, f"{resource_type}.delete", resource_type, row.id, details)
    return out


async def send_email(info: Any, *, kind: str, to: str, token: str, **extra: Any) -> None:
    """Hand an emailed token to the app's mailer (never to the client)."""
    mailer = info.context.mailer
    if mailer is not None:
        await mailer(kind=kind, to=to, token=token, **extra)
