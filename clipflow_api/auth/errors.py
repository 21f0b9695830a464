"""The domain errors, importable from the auth package too (they live in ``clipflow_api.errors``)."""

from ..errors import (
    AuthError,
    Conflict,
    DomainError,
    ErrorCode,
    NotFound,
    PermissionDenied,
    RateLimited,
    ValidationError,
)

__all__ = [
    "AuthError",
    "Conflict",
    "DomainError",
    "ErrorCode",
    "NotFound",
    "PermissionDenied",
    "RateLimited",
    "ValidationError",
]
