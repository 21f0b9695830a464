"""Errors: payload errors for expected business failures, top-level errors for the rest.

Saleor's split: a mutation's payload carries ``errors: [<Domain>Error!]!`` (field,
message, code) for failures a client should show the user; permission and
authentication failures are top-level GraphQL errors with ``extensions.code``.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import strawberry
from graphql import GraphQLError, GraphQLFormattedError
from strawberry.extensions import MaskErrors

from ..errors import AuthError, DomainError
from ..errors import ErrorCode as DomainErrorCode

log = logging.getLogger(__name__)


# The domain's codes, defined once (clipflow_api.errors.ErrorCode), as the GraphQL enum.
strawberry.enum(DomainErrorCode, description="Why a mutation could not do what it was asked (stable: clients switch on it).")
ErrorCode = DomainErrorCode


_DOMAIN_CODES = {code.value: code for code in ErrorCode}


@strawberry.type
class MutationError:
    """The fields of every ``<Domain>Error``: subclass it with ``@strawberry.type(description=...)``."""

    field: str | None = strawberry.field(
        default=None, description="The input field at fault (camelCase), or null when the error is not about one field."
    )
    message: str = strawberry.field(default="", description="A sentence a user can read.")
    code: DomainErrorCode = strawberry.field(default=DomainErrorCode.INVALID, description="A stable code a client can switch on.")


def code_for(domain_code: Any) -> Any:
    key = str(getattr(domain_code, "value", domain_code) or "").upper()
    return _DOMAIN_CODES.get(key) or ErrorCode.INVALID


def camel(name: str | None) -> str | None:
    """``caption_style`` → ``captionStyle`` (error fields name GraphQL input fields)."""
    if not name:
        return name
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


def from_domain_error(cls: type, exc: Exception) -> Any:
    """A payload error from the domain services' ``DomainError`` (code, message, field)."""
    return cls(
        field=camel(getattr(exc, "field", None)),
        message=getattr(exc, "message", None) or str(exc),
        code=code_for(getattr(exc, "code", None)),
    )


# --- top-level errors ------------------------------------------------------------------

class PermissionDeniedError(GraphQLError):
    """The one shape of every permission failure: ``extensions.code`` PERMISSION_DENIED, and
    ``extensions.reason`` when the service named a finer one (``OWNER_PROTECTED``)."""

    def __init__(self, message: str = "You do not have permission to perform this action.", reason: str | None = None) -> None:
        extensions = {"code": "PERMISSION_DENIED"}
        if reason and reason != "PERMISSION_DENIED":
            extensions["reason"] = reason
        super().__init__(message, extensions=extensions)


class UnauthenticatedError(GraphQLError):
    def __init__(self, message: str = "Authentication required.") -> None:
        super().__init__(message, extensions={"code": "UNAUTHENTICATED"})


class BadRequestError(GraphQLError):
    def __init__(self, message: str) -> None:
        super().__init__(message, extensions={"code": "BAD_REQUEST"})


# Errors whose message is meant for clients: never masked in production.
SAFE_CODES = frozenset({"PERMISSION_DENIED", "UNAUTHENTICATED", "BAD_REQUEST", "RATE_LIMITED", "QUERY_TOO_COMPLEX", "NOT_FOUND"})


def is_database_error(exc: BaseException | None) -> bool:
    """A driver or SQLAlchemy error: its text holds SQL and bound parameters (hashes, secrets)."""
    from asyncpg.exceptions import PostgresError
    from sqlalchemy.exc import SQLAlchemyError

    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, (SQLAlchemyError, PostgresError)):
            return True
        seen.add(id(exc))
        # a refusal raised on purpose while handling one (a coded GraphQL or domain error) is
        # not one; anything else raised meanwhile may carry its text
        deliberate = isinstance(exc, (GraphQLError, DomainError))
        exc = exc.__cause__ or (None if deliberate else exc.__context__)
    return False


def should_mask_error(err: GraphQLError) -> bool:
    """Mask unexpected exceptions; keep validation errors and our own coded errors."""
    original = err.original_error
    if is_database_error(original):
        return True
    if original is None:
        return False  # parse/validation errors: about the query, not the server
    if isinstance(original, GraphQLError):
        code = (original.extensions or {}).get("code")
        if code is None and err.path is None:
            return False  # graphql-core refusing a variable's value (an unknown enum value): about the request
        return code not in SAFE_CODES
    if (err.extensions or {}).get("code") in SAFE_CODES:
        return False
    return True


def is_database_error_of(err: GraphQLError) -> bool:
    """Whether a GraphQL error wraps a database error."""
    return is_database_error(err.original_error)


class MaskInternalErrors(MaskErrors):
    """Replaces an internal error with "Unexpected error." and a reference the server logged.

    Outside development every error ``should_mask_error`` picks; in development only
    database errors (other messages help there, SQL text and parameters never do).
    """

    def __init__(self, *, development: bool) -> None:
        super().__init__(should_mask_error=is_database_error_of if development else should_mask_error)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        reference = uuid.uuid4().hex[:16]
        log.error("internal error %s at %s", reference, error.path, exc_info=error.original_error or error)
        return GraphQLError(
            message=self.error_message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            original_error=None,
            extensions={"code": "INTERNAL", "reference": reference},
        )


# -- domain errors as GraphQL errors (HTTP answers, socket operations) --------------------------


def graphql_error(message: str, code: str, **extensions: Any) -> GraphQLFormattedError:
    return {"message": message, "extensions": {"code": code, **extensions}}


def domain_error(exc: DomainError) -> GraphQLFormattedError:
    """A domain error as a GraphQL error: how HTTP answers one before GraphQL runs, and sockets an operation."""
    code = "UNAUTHENTICATED" if isinstance(exc, AuthError) else str(exc.code.value)
    extensions: dict[str, Any] = {"reason": str(exc.code.value)}
    reset_at = getattr(exc, "reset_at", None)
    if reset_at is not None:
        extensions["resetAt"] = reset_at.isoformat()
    return graphql_error(exc.message, code, **extensions)
