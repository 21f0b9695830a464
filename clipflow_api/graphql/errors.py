"""Errors: payload errors for expected business failures, top-level errors for the rest.

Saleor's split: a mutation's payload carries ``errors: [<Domain>Error!]!`` (field,
message, code) for failures a client should show the user; permission and
authentication failures are top-level GraphQL errors with ``extensions.code``.
"""

from __future__ import annotations

import enum
from typing import Any

import strawberry
from graphql import GraphQLError

from ..errors import ErrorCode as DomainErrorCode


# The domain's codes (clipflow_api.errors.ErrorCode) plus a few the GraphQL layer adds.
_EXTRA_CODES = ("UNIQUE", "CONFLICT", "GRAPHQL_ERROR")
ErrorCode = strawberry.enum(
    enum.Enum("ErrorCode", {c.name: c.value for c in DomainErrorCode} | {c: c for c in _EXTRA_CODES}),
    description="Why a mutation could not do what it was asked (stable: clients switch on it).",
)


_DOMAIN_CODES = {code.value: code for code in ErrorCode}


@strawberry.type
class _ErrorFields:
    field: str | None = strawberry.field(
        default=None, description="The input field at fault (camelCase), or null when the error is not about one field."
    )
    message: str = strawberry.field(default="", description="A sentence a user can read.")
    code: ErrorCode = strawberry.field(default=ErrorCode.INVALID, description="A stable code a client can switch on.")


def code_for(domain_code: Any) -> Any:
    key = str(getattr(domain_code, "value", domain_code) or "").upper()
    return _DOMAIN_CODES.get(key) or ErrorCode.INVALID


def _camel(name: str | None) -> str | None:
    if not name:
        return name
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


def from_domain_error(cls: type, exc: Exception) -> Any:
    """A payload error from the domain services' ``DomainError`` (code, message, field)."""
    return cls(
        field=_camel(getattr(exc, "field", None)),
        message=getattr(exc, "message", None) or str(exc),
        code=code_for(getattr(exc, "code", None)),
    )


def error_type(name: str, description: str) -> type:
    """A payload error type ``<name>Error`` (field, message, code)."""
    return strawberry.type(type(f"{name}Error", (_ErrorFields,), {}), description=description)


# --- top-level errors ------------------------------------------------------------------

class PermissionDeniedError(GraphQLError):
    def __init__(self, message: str = "You do not have permission to perform this action.") -> None:
        super().__init__(message, extensions={"code": "PERMISSION_DENIED"})


class UnauthenticatedError(GraphQLError):
    def __init__(self, message: str = "Authentication required.") -> None:
        super().__init__(message, extensions={"code": "UNAUTHENTICATED"})


class BadRequestError(GraphQLError):
    def __init__(self, message: str) -> None:
        super().__init__(message, extensions={"code": "BAD_REQUEST"})


# Errors whose message is meant for clients: never masked in production.
SAFE_CODES = frozenset({"PERMISSION_DENIED", "UNAUTHENTICATED", "BAD_REQUEST", "RATE_LIMITED", "QUERY_TOO_COMPLEX", "NOT_FOUND"})


def should_mask_error(err: GraphQLError) -> bool:
    """Mask unexpected exceptions; keep validation errors and our own coded errors."""
    original = err.original_error
    if original is None:
        return False  # parse/validation errors: about the query, not the server
    if isinstance(original, GraphQLError):
        return (original.extensions or {}).get("code") not in SAFE_CODES
    if (err.extensions or {}).get("code") in SAFE_CODES:
        return False
    return True
