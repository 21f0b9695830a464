"""The permission matrix, written once: every permission, what each role holds, and how a
member's ``custom_permissions`` ({"grant": [...], "revoke": [...]}) adjust it.

A permission is ``<resource>:<action>``. Roles build on each other where that reads
naturally (every role reads; client approves; scheduler schedules; editor makes; admin
manages people and integrations; owner also pays and deletes the workspace).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .errors import ErrorCode, ValidationError
from .models.workspaces import ROLES

PERMISSIONS: frozenset[str] = frozenset(
    {
        "workspace:read",
        "workspace:update",
        "workspace:delete",
        "member:read",
        "member:invite",
        "member:manage",
        "video:read",
        "video:write",
        "video:delete",
        "clip:read",
        "clip:write",
        "clip:approve",
        "caption:write",
        "post:read",
        "post:write",
        "post:schedule",
        "post:approve",
        "comment:write",
        "social_account:manage",
        "brand_kit:write",
        "asset:write",
        "template:write",
        "media:write",
        "project:read",
        "project:write",
        "webhook:manage",
        "api_key:manage",
        "billing:manage",
        "audit:read",
        "analytics:read",
        "feature_flag:admin",
    }
)

# Staff-only: held by no workspace role and never grantable through custom_permissions.
SYSTEM_PERMISSIONS: frozenset[str] = frozenset({"feature_flag:admin"})

_READ = frozenset(
    {
        "workspace:read",
        "member:read",
        "video:read",
        "clip:read",
        "post:read",
        "project:read",
        "analytics:read",
    }
)
_CLIENT = _READ | {"clip:approve", "post:approve"}
_SCHEDULER = _READ | {"post:write", "post:schedule", "comment:write"}
_EDITOR = _READ | {
    "video:write",
    "clip:write",
    "caption:write",
    "post:write",
    "comment:write",
    "brand_kit:write",
    "asset:write",
    "template:write",
    "media:write",
    "project:write",
}
_OWNER = PERMISSIONS - SYSTEM_PERMISSIONS
_ADMIN = _OWNER - {"billing:manage", "workspace:delete"}

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "owner": frozenset(_OWNER),
    "admin": frozenset(_ADMIN),
    "editor": frozenset(_EDITOR),
    "scheduler": frozenset(_SCHEDULER),
    "viewer": frozenset(_READ),
    "client": frozenset(_CLIENT),
}
assert set(ROLE_PERMISSIONS) == set(ROLES), "every role of the data model needs a row in the matrix"
assert all(p <= PERMISSIONS for p in ROLE_PERMISSIONS.values())


def check_permission_names(names: Iterable[str], *, field: str) -> list[str]:
    """The names, deduplicated in order; ValidationError(INVALID_PERMISSION) for any unknown one."""
    out: list[str] = []
    for name in names:
        if not isinstance(name, str) or name not in PERMISSIONS:
            raise ValidationError(ErrorCode.INVALID_PERMISSION, f"Unknown permission {name!r}.", field)
        if name not in out:
            out.append(name)
    return out


def validate_custom_permissions(custom: Mapping[str, Any] | None) -> dict[str, list[str]] | None:
    """Normalise {"grant": [...], "revoke": [...]}; None (or both empty) means no override."""
    if custom is None:
        return None
    if not isinstance(custom, Mapping) or set(custom) - {"grant", "revoke"}:
        raise ValidationError(
            ErrorCode.INVALID_PERMISSION,
            'custom permissions take only "grant" and "revoke" lists',
            "custom_permissions",
        )
    result: dict[str, list[str]] = {}
    for key in ("grant", "revoke"):
        values = custom.get(key) or []
        if isinstance(values, str | bytes) or not isinstance(values, Iterable):
            raise ValidationError(ErrorCode.INVALID_PERMISSION, f'"{key}" must be a list', key)
        result[key] = check_permission_names(values, field=key)
    system = SYSTEM_PERMISSIONS.intersection(result["grant"])
    if system:
        raise ValidationError(ErrorCode.INVALID_PERMISSION, f"{sorted(system)[0]} cannot be granted", "grant")
    both = set(result["grant"]) & set(result["revoke"])
    if both:
        raise ValidationError(ErrorCode.INVALID_PERMISSION, f"{sorted(both)[0]} is both granted and revoked", "grant")
    if not result["grant"] and not result["revoke"]:
        return None
    return result


def effective_permissions(role: str | None, custom_permissions: Mapping[str, Any] | None = None) -> frozenset[str]:
    """The role's permissions plus grants minus revocations. Unknown roles hold nothing."""
    base = ROLE_PERMISSIONS.get(role or "", frozenset())
    if not base:
        return frozenset()
    custom = validate_custom_permissions(custom_permissions)
    if custom is None:
        return base
    return frozenset((base | set(custom["grant"])) - set(custom["revoke"]))
