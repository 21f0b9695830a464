"""Declarative permission classes for fields and mutations.

``Require("clip:write")`` returns one ``BasePermission`` subclass per permission set
(cached), so a field reads ``permission_classes=[Require("clip:write")]``. The names come
from ``clipflow_api.permissions.PERMISSIONS``; a test checks every name used here exists.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from strawberry.permission import BasePermission

from .errors import PermissionDeniedError, UnauthenticatedError

USED_PERMISSIONS: set[str] = set()


class IsAuthenticated(BasePermission):
    message = "Authentication required."
    error_extensions = {"code": "UNAUTHENTICATED"}

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        return info.context.principal.is_authenticated

    def on_unauthorized(self) -> None:
        raise UnauthenticatedError(self.message)


class NotApiKey(BasePermission):
    """Account-level data and actions: a person signed in, not an API key (a key acts only in its workspace)."""

    message = "API keys act only in their workspace; sign in to do this."
    error_extensions = {"code": "PERMISSION_DENIED"}

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        p = info.context.principal
        return p.is_authenticated and p.api_key_id is None

    def on_unauthorized(self) -> None:
        raise PermissionDeniedError(self.message)


class InWorkspace(BasePermission):
    """The caller is signed in and acting in a workspace."""

    message = "Choose a workspace to act in (the X-Workspace-Id header)."
    error_extensions = {"code": "PERMISSION_DENIED"}

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        p = info.context.principal
        return p.is_authenticated and p.workspace_id is not None

    def on_unauthorized(self) -> None:
        raise PermissionDeniedError(self.message)


@functools.cache
def Require(*permissions: str) -> type[BasePermission]:  # noqa: N802 - reads like a decorator
    """A permission class granting access when the caller holds every one of ``permissions``."""
    USED_PERMISSIONS.update(permissions)
    wanted = frozenset(permissions)
    label = " and ".join(sorted(wanted))

    def has_permission(self: BasePermission, source: Any, info: Any, **kwargs: Any) -> bool:
        p = info.context.principal
        return p.is_authenticated and p.workspace_id is not None and wanted <= p.permissions

    def on_unauthorized(self: BasePermission) -> None:
        raise PermissionDeniedError(f"You need the {label} permission to do this.")

    name = "Require_" + re.sub(r"\W", "_", "_".join(sorted(wanted)))
    return type(
        name,
        (BasePermission,),
        {
            "permissions": wanted,
            "message": f"You need the {label} permission to do this.",
            "error_extensions": {"code": "PERMISSION_DENIED"},
            "has_permission": has_permission,
            "on_unauthorized": on_unauthorized,
        },
    )
