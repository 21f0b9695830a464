"""Helpers shared by the account and workspace tests (the rows themselves come from
``tests.fixtures.builders``)."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from typing import Any

from clipflow_api.auth.principal import Principal
from clipflow_api.permissions import ROLE_PERMISSIONS


STRONG_PASSWORD = "Correct-horse-42"


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def principal(user_id: uuid.UUID, workspace_id: uuid.UUID, role: str, **kw: Any) -> Principal:
    """What resolve_principal gives a member with no custom permissions."""
    return Principal(user_id=user_id, workspace_id=workspace_id, role=role, permissions=ROLE_PERMISSIONS[role], **kw)


def about(expected: datetime, actual: datetime, seconds: float = 5) -> bool:
    return abs((actual - expected).total_seconds()) <= seconds
