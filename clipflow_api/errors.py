"""Typed domain errors: every service raises one of these, the GraphQL layer maps them.

``code`` is an UPPER_SNAKE value of ``ErrorCode`` (the GraphQL error enum), ``field`` names
the input field at fault when there is one. The class says how bad it is:

- ``AuthError``: the caller is not who they claim (401 outside GraphQL).
- ``PermissionDenied``: known caller, not allowed (403).
- ``NotFound``: nothing there, or nothing the caller may see (404).
- ``Conflict``: the state forbids it (taken, already done, a limit reached) (409).
- ``RateLimited``: too many requests until ``reset_at`` (429).
- ``ValidationError``: the input is wrong (400).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum


class ErrorCode(StrEnum):
    INVALID = "INVALID"
    REQUIRED = "REQUIRED"
    NOT_FOUND = "NOT_FOUND"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    RATE_LIMITED = "RATE_LIMITED"
    CONFLICT = "CONFLICT"
    # auth
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    INVALID_EMAIL = "INVALID_EMAIL"
    EMAIL_TAKEN = "EMAIL_TAKEN"
    EMAIL_NOT_VERIFIED = "EMAIL_NOT_VERIFIED"
    ALREADY_VERIFIED = "ALREADY_VERIFIED"
    WEAK_PASSWORD = "WEAK_PASSWORD"
    TOKEN_INVALID = "TOKEN_INVALID"
    TOKEN_EXPIRED = "TOKEN_EXPIRED"
    API_KEY_INVALID = "API_KEY_INVALID"
    API_KEY_REVOKED = "API_KEY_REVOKED"
    API_KEY_EXPIRED = "API_KEY_EXPIRED"
    INVALID_SCOPE = "INVALID_SCOPE"
    OAUTH_FAILED = "OAUTH_FAILED"
    # workspaces
    SLUG_TAKEN = "SLUG_TAKEN"
    INVALID_SLUG = "INVALID_SLUG"
    INVALID_ROLE = "INVALID_ROLE"
    INVALID_PERMISSION = "INVALID_PERMISSION"
    NOT_A_MEMBER = "NOT_A_MEMBER"
    ALREADY_MEMBER = "ALREADY_MEMBER"
    EMAIL_MISMATCH = "EMAIL_MISMATCH"
    INVITATION_USED = "INVITATION_USED"
    OWNER_PROTECTED = "OWNER_PROTECTED"
    LAST_OWNER = "LAST_OWNER"
    PLAN_LIMIT_REACHED = "PLAN_LIMIT_REACHED"
    PLAN_FEATURE_REQUIRED = "PLAN_FEATURE_REQUIRED"
    # media
    FILE_TOO_LARGE = "FILE_TOO_LARGE"
    INVALID_URL = "INVALID_URL"
    UPLOAD_INCOMPLETE = "UPLOAD_INCOMPLETE"
    # a unique name is taken (feature flags); the GraphQL ErrorCode already lists it
    UNIQUE = "UNIQUE"
    # publishing: social accounts
    RECONNECT_REQUIRED = "RECONNECT_REQUIRED"
    PLATFORM_UNAVAILABLE = "PLATFORM_UNAVAILABLE"
    UNSUPPORTED_ACCOUNT = "UNSUPPORTED_ACCOUNT"
    # publishing: posts
    QUOTA_EXCEEDED = "QUOTA_EXCEEDED"  # the account's platform cap for the chosen time is reached
    MEDIA_NOT_READY = "MEDIA_NOT_READY"  # the clip has no rendering in the platform's format yet
    MEDIA_UNSUPPORTED = "MEDIA_UNSUPPORTED"  # the rendering breaks the platform's rules and cannot be fixed


class DomainError(Exception):
    """A refused action, in words a user understands."""

    default_code: ErrorCode = ErrorCode.INVALID

    def __init__(self, code: str | None = None, message: str = "", field: str | None = None) -> None:
        self.code = ErrorCode(code) if code is not None else self.default_code
        self.message = message or self.code.value.replace("_", " ").capitalize()
        self.field = field
        super().__init__(self.message)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code.value!r}, message={self.message!r}, field={self.field!r})"


class AuthError(DomainError):
    default_code = ErrorCode.INVALID_CREDENTIALS


class PermissionDenied(DomainError):
    default_code = ErrorCode.PERMISSION_DENIED


class NotFound(DomainError):
    default_code = ErrorCode.NOT_FOUND


class Conflict(DomainError):
    default_code = ErrorCode.INVALID


class ValidationError(DomainError):
    default_code = ErrorCode.INVALID


class RateLimited(DomainError):
    default_code = ErrorCode.RATE_LIMITED

    def __init__(
        self, code: str | None = None, message: str = "", field: str | None = None, *, reset_at: datetime | None = None
    ) -> None:
        super().__init__(code, message, field)
        self.reset_at = reset_at
