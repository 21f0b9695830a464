"""The permission matrix: each role's exact set, and custom grants/revocations."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from clipflow_api.errors import ValidationError
from clipflow_api.permissions import (
    PERMISSIONS,
    ROLE_PERMISSIONS,
    SYSTEM_PERMISSIONS,
    effective_permissions,
    validate_custom_permissions,
)

READ = {"workspace:read", "member:read", "video:read", "clip:read", "post:read", "project:read", "analytics:read"}

EXPECTED = {
    "viewer": READ,
    "client": READ | {"clip:approve", "post:approve"},
    "scheduler": READ | {"post:write", "post:schedule", "comment:write"},
    "editor": READ
    | {
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
    },
    "admin": READ
    | {
        "workspace:update",
        "member:invite",
        "member:manage",
        "video:write",
        "video:delete",
        "clip:write",
        "clip:approve",
        "caption:write",
        "post:write",
        "post:schedule",
        "post:approve",
        "comment:write",
        "social_account:manage",
        "brand_kit:write",
        "asset:write",
        "template:write",
        "media:write",
        "project:write",
        "webhook:manage",
        "api_key:manage",
        "audit:read",
    },
}
EXPECTED["owner"] = EXPECTED["admin"] | {"billing:manage", "workspace:delete"}


# Declared for domains that do not check them yet; each leaves this list once code uses it.
RESERVED = {
    "workspace:delete": "workspace deletion (owner only) is not an API yet",
    "comment:write": "the inbox",
    "billing:manage": "billing",
    "analytics:read": "analytics",
}


def permission_names_in_code() -> set[str]:
    """Every "<resource>:<action>" string literal in the application, outside the matrix itself."""
    root = Path(__file__).resolve().parents[2]
    found: set[str] = set()
    for package in ("clipflow_api", "clipflow_worker"):
        for path in (root / package).rglob("*.py"):
            if path == root / "clipflow_api" / "permissions.py":
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    match = re.fullmatch(r"([a-z_]+):[a-z_]+", node.value)
                    if match and match.group(1) != "clipflow":  # Redis queue and channel names
                        found.add(node.value)
    return found


def test_every_permission_is_named() -> None:
    # given: the names the code checks (Require(...), node rules, services), found independently
    used = permission_names_in_code()
    # then: each is declared, and each declared one is checked somewhere or reserved on purpose
    assert used - PERMISSIONS == set()
    assert PERMISSIONS - used == set(RESERVED)
    assert SYSTEM_PERMISSIONS == {"feature_flag:admin"}


@pytest.mark.parametrize("role", ["owner", "admin", "editor", "scheduler", "viewer", "client"])
def test_each_role_holds_exactly_its_set(role: str) -> None:
    assert ROLE_PERMISSIONS[role] == EXPECTED[role]
    assert effective_permissions(role, None) == EXPECTED[role]


def test_owner_holds_everything_but_staff_permissions() -> None:
    assert ROLE_PERMISSIONS["owner"] == PERMISSIONS - SYSTEM_PERMISSIONS
    assert all("feature_flag:admin" not in perms for perms in ROLE_PERMISSIONS.values())


def test_unknown_role_holds_nothing() -> None:
    assert effective_permissions("superhero", None) == frozenset()
    assert effective_permissions(None, {"grant": ["video:read"]}) == frozenset()


def test_custom_grant_and_revoke() -> None:
    got = effective_permissions("editor", {"grant": ["video:delete", "post:schedule"], "revoke": ["clip:write"]})
    assert got == (EXPECTED["editor"] | {"video:delete", "post:schedule"}) - {"clip:write"}
    # granting what the role has, or revoking what it lacks, is harmless
    assert (
        effective_permissions("viewer", {"grant": ["video:read"], "revoke": ["billing:manage"]}) == EXPECTED["viewer"]
    )


@pytest.mark.parametrize(
    ("custom", "field", "message"),
    [
        ({"grant": ["video:fly"]}, "grant", "Unknown permission 'video:fly'."),
        ({"revoke": ["nope"]}, "revoke", "Unknown permission 'nope'."),
        ({"grant": "video:read"}, "grant", '"grant" must be a list'),
        ({"grant": ["feature_flag:admin"]}, "grant", "feature_flag:admin cannot be granted"),
        ({"grant": ["video:read"], "revoke": ["video:read"]}, "grant", "video:read is both granted and revoked"),
        ({"allow": ["video:read"]}, "custom_permissions", 'custom permissions take only "grant" and "revoke" lists'),
    ],
)
def test_invalid_custom_permissions(custom, field: str, message: str) -> None:
    with pytest.raises(ValidationError) as err:
        effective_permissions("editor", custom)
    assert (err.value.code, err.value.field, err.value.message) == ("INVALID_PERMISSION", field, message)


def test_validate_normalises() -> None:
    assert validate_custom_permissions({"grant": ["video:delete", "video:delete"]}) == {
        "grant": ["video:delete"],
        "revoke": [],
    }
    assert validate_custom_permissions({"grant": [], "revoke": []}) is None
    assert validate_custom_permissions(None) is None
