"""What every mutation shares: payload types, the commit boundary, audit, input checks.

A mutation opens its own session (``ctx.write_session()``), calls services or changes rows,
records an audit entry, and commits at the end: services only flush. Jobs created in the
transaction (``jobs.service.create_job``) are handed to arq only after the commit, and
dropped with a rollback. A ``DomainError`` rolls everything back and comes back in the
payload's ``errors``; permission failures raise and become top-level errors.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, Optional

import strawberry
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession

from .. import audit
from ..errors import DomainError, PermissionDenied
from ..jobs.service import commit_and_enqueue, discard_outbox
from .errors import PermissionDeniedError, from_domain_error
from .relay import parse_global_id

log = logging.getLogger(__name__)

MAX_LIST_INPUT = 50
MAX_TEXT = 10_000


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


class Refused(Exception):
    """A business failure found by the GraphQL layer itself (bad input, not found)."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.field = code, message, field


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
        if str(getattr(exc.code, "value", exc.code)) == "PERMISSION_DENIED":
            raise PermissionDeniedError(exc.message) from None
        return refused(exc)
    except (DomainError, Refused) as exc:
        return refused(exc)
    values = (result,) if len(fields) == 1 else tuple(result)
    return payload_cls(**dict(zip(fields, values, strict=True)), errors=[])


async def record(session: AsyncSession, info: Any, action: str, resource_type: str, resource_id: uuid.UUID, details: dict | None = None) -> None:
    await audit.record(
        session, info.context.principal, action, resource_type=resource_type, resource_id=resource_id, details=details
    )


def node_id(value: str, expected: type, field: str = "id") -> uuid.UUID:
    """The uuid of a global id of type ``expected``; a payload error otherwise."""
    from graphql import GraphQLError

    try:
        return parse_global_id(value, expected=expected)[1]
    except GraphQLError as exc:
        raise Refused("INVALID", exc.message, field) from None


async def get_row(session: AsyncSession, model: Any, row_id: uuid.UUID, field: str = "id", *, lock: bool = True) -> Any:
    """The row in the caller's workspace (RLS), or NOT_FOUND: another workspace's row looks absent."""
    row = await session.get(model, row_id, with_for_update=lock)
    if row is None or getattr(row, "deleted_at", None) is not None:
        raise Refused("NOT_FOUND", f"No such {model.__tablename__.rstrip('s').replace('_', ' ')}.", field)
    return row


def given(value: Any) -> bool:
    return value is not strawberry.UNSET


def check_text(value: str | None, field: str, *, max_length: int = MAX_TEXT, required: bool = False) -> str | None:
    if value is None:
        if required:
            raise Refused("REQUIRED", "This field is required.", field)
        return None
    value = value.strip()
    if required and not value:
        raise Refused("REQUIRED", "This field is required.", field)
    if len(value) > max_length:
        raise Refused("INVALID", f"At most {max_length} characters.", field)
    return value


def check_list(values: list | None, field: str, *, max_items: int = MAX_LIST_INPUT) -> list | None:
    if values is not None and len(values) > max_items:
        raise Refused("INVALID", f"At most {max_items} items.", field)
    return values


def check_color(value: str | None, field: str, *, alpha: bool = False) -> str | None:
    import re

    if value is None:
        return None
    pattern = r"#[0-9a-fA-F]{6}([0-9a-fA-F]{2})?" if alpha else r"#[0-9a-fA-F]{6}"
    if not re.fullmatch(pattern, value):
        raise Refused("INVALID", "Use a color like #1a2b3c.", field)
    return value


async def delete_recorded(session: AsyncSession, info: Any, row: Any, node_type: Any, resource_type: str,
                          details: dict[str, Any]) -> Any:
    """Delete ``row``, audit it as ``<resource_type>.delete``, and return its last state as ``node_type``."""
    out = node_type.from_row(row)
    await session.delete(row)
    await session.flush()
    await record(session, info, f"{resource_type}.delete", resource_type, row.id, details)
    return out


async def refreshed(session: AsyncSession, row: Any) -> Any:
    """Flush and reload server-side values (updated_at, computed columns) before returning."""
    await session.flush()
    await session.refresh(row)
    return row


async def send_email(info: Any, *, kind: str, to: str, token: str, **extra: Any) -> None:
    """Hand an emailed token to the app's mailer (never to the client)."""
    mailer = info.context.mailer
    if mailer is not None:
        await mailer(kind=kind, to=to, token=token, **extra)
