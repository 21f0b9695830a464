"""Feature flags: platform-wide switches, changed by platform staff only.

Rules: the caller holds ``feature_flag:admin`` (a system permission no workspace role
has); the write goes through the staff path (``db.as_platform_staff`` opens the table's
write policy for the transaction); names are unique (1-100 characters); rollout is 0-100
percent; target lists hold at most 1000 ids; the environment is production, staging or
development. Services flush, never commit; a refused change writes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from .. import audit
from ..auth.principal import Principal
from ..errors import Conflict, ErrorCode, PermissionDenied, ValidationError
from ..models import FeatureFlag
from ..validation import UNSET, check_list, check_text, given, require_text
from . import repository

PERMISSION = "feature_flag:admin"
ENVIRONMENTS = ("production", "staging", "development")
MAX_NAME = 100
MAX_DESCRIPTION = 2000
MAX_TARGETS = 1000


@dataclass
class FeatureFlagChanges:
    name: Any = UNSET
    description: Any = UNSET
    is_enabled: Any = UNSET
    rollout_percentage: Any = UNSET
    target_users: Any = UNSET
    target_teams: Any = UNSET
    conditions: Any = UNSET
    environment: Any = UNSET


def _require(principal: Principal) -> None:
    if not principal.can(PERMISSION):
        raise PermissionDenied(ErrorCode.PERMISSION_DENIED, "Only platform staff manage feature flags.")


def _checked(data: FeatureFlagChanges) -> dict[str, Any]:
    """The columns to set, checked; ``None`` sent for a required column leaves it as it is."""
    values: dict[str, Any] = {}
    if given(data.name) and data.name is not None:
        values["name"] = require_text(data.name, "name", max_length=MAX_NAME)
    if given(data.description):
        values["description"] = check_text(data.description, "description", max_length=MAX_DESCRIPTION)
    if given(data.is_enabled) and data.is_enabled is not None:
        values["is_enabled"] = data.is_enabled
    if given(data.rollout_percentage) and data.rollout_percentage is not None:
        if not 0 <= data.rollout_percentage <= 100:
            raise ValidationError(ErrorCode.INVALID, "Rollout is 0 to 100 percent.", "rollout_percentage")
        values["rollout_percentage"] = data.rollout_percentage
    for name in ("target_users", "target_teams"):
        targets = getattr(data, name)
        if given(targets) and targets is not None:
            values[name] = check_list(targets, name, max_items=MAX_TARGETS)
    if given(data.conditions):
        values["conditions"] = data.conditions
    if given(data.environment) and data.environment is not None:
        if data.environment not in ENVIRONMENTS:
            raise ValidationError(ErrorCode.INVALID, "Environment is production, staging or development.", "environment")
        values["environment"] = data.environment
    return values


def _audited(values: dict[str, Any]) -> dict[str, Any]:
    """What the audit entry says changed: target lists by size, conditions not at all."""
    details = {k: v for k, v in values.items() if k != "conditions"}
    for name in ("target_users", "target_teams"):
        if name in details:
            details[name] = len(details[name])
    return details


@asynccontextmanager
async def _unique_name() -> AsyncIterator[None]:
    try:
        yield
    except IntegrityError as exc:
        if repository.is_name_taken(exc):
            raise Conflict(ErrorCode.UNIQUE, "A flag with this name exists.", "name") from None
        raise


async def create_flag(session: AsyncSession, principal: Principal, data: FeatureFlagChanges) -> FeatureFlag:
    """Create a flag (``name`` required) as platform staff."""
    _require(principal)
    if not given(data.name) or data.name is None:
        raise ValidationError(ErrorCode.REQUIRED, "This field is required.", "name")
    values = _checked(data)
    await repository.open_staff_writes(session)
    async with _unique_name():
        row = await repository.add(session, created_by=principal.user_id, **values)
    await audit.record(
        session, principal, "feature_flag.create", resource_type="feature_flag", resource_id=row.id, details=_audited(values)
    )
    return row


async def update_flag(session: AsyncSession, principal: Principal, flag_id: uuid.UUID, changes: FeatureFlagChanges) -> FeatureFlag:
    """Change a flag as platform staff; fields left UNSET keep their value."""
    _require(principal)
    values = _checked(changes)
    await repository.open_staff_writes(session)
    row = await repository.get_for_update(session, flag_id)
    async with _unique_name():
        row = await repository.update(session, row, values)
    await audit.record(
        session, principal, "feature_flag.update", resource_type="feature_flag", resource_id=row.id, details=_audited(values)
    )
    return row
