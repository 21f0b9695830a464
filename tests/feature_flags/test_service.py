"""Feature flag rules (clipflow_api.feature_flags.service), as the app role (RLS on)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from clipflow_api.auth.principal import Principal
from clipflow_api.errors import Conflict, NotFound, PermissionDenied, ValidationError
from clipflow_api.feature_flags import service
from clipflow_api.feature_flags.service import FeatureFlagChanges
from clipflow_api.permissions import ROLE_PERMISSIONS, SYSTEM_PERMISSIONS
from tests.fixtures.builders import use_tenant
from tests.fixtures import builders

FLAG = "SELECT name, description, is_enabled, rollout_percentage, target_users, target_teams, conditions, environment, created_by FROM feature_flags WHERE id = :f"


async def _staff(db: AsyncSession) -> Principal:
    """A platform staff member acting in no workspace (audit entries land in their own trail)."""
    user = await builders.user(db)
    await use_tenant(db, None, user.id)
    return Principal(user_id=user.id, permissions=SYSTEM_PERMISSIONS)


def _name() -> str:
    return f"beta-{uuid.uuid4().hex[:8]}"


async def _audit(owner_sql, flag_id) -> list[tuple]:
    return [tuple(r) for r in await owner_sql(
        "SELECT action, user_id, workspace_id, details FROM audit_logs WHERE resource_id = :f ORDER BY action", f=flag_id
    )]


async def test_staff_create_a_flag(app_db: AsyncSession, owner_sql) -> None:
    staff = await _staff(app_db)
    name = _name()
    # when
    flag = await service.create_flag(app_db, staff, FeatureFlagChanges(
        name=f"  {name} ", description="New editor", rollout_percentage=10, target_users=["u1", "u2"],
        target_teams=["t1"], conditions={"country": "FR"}, environment="staging",
    ))
    # then every column is as asked, and the entry counts the target lists
    assert [tuple(r) for r in await owner_sql(FLAG, f=flag.id)] == [
        (name, "New editor", False, 10, ["u1", "u2"], ["t1"], {"country": "FR"}, "staging", staff.user_id)
    ]
    assert await _audit(owner_sql, flag.id) == [("feature_flag.create", staff.user_id, None, {
        "name": name, "description": "New editor", "rollout_percentage": 10, "target_users": 2, "target_teams": 1,
        "environment": "staging",
    })]


async def test_defaults_of_a_new_flag(app_db: AsyncSession, owner_sql) -> None:
    staff = await _staff(app_db)
    flag = await service.create_flag(app_db, staff, FeatureFlagChanges(name=(name := _name())))
    assert [tuple(r) for r in await owner_sql(FLAG, f=flag.id)] == [(name, None, False, 0, [], [], None, "production", staff.user_id)]


async def test_a_taken_name_is_refused_and_the_transaction_goes_on(app_db: AsyncSession, owner_sql) -> None:
    staff = await _staff(app_db)
    first = await service.create_flag(app_db, staff, FeatureFlagChanges(name=(name := _name())))
    with pytest.raises(Conflict) as err:
        await service.create_flag(app_db, staff, FeatureFlagChanges(name=name, is_enabled=True))
    assert (err.value.code, err.value.message, err.value.field) == ("UNIQUE", "A flag with this name exists.", "name")
    other = await service.create_flag(app_db, staff, FeatureFlagChanges(name=_name()))
    with pytest.raises(Conflict):
        await service.update_flag(app_db, staff, other.id, FeatureFlagChanges(name=name))
    assert await owner_sql("SELECT count(*), bool_or(is_enabled) FROM feature_flags WHERE name = :n", n=name) == [(1, False)]
    assert [a[0] for a in await _audit(owner_sql, first.id)] == ["feature_flag.create"]


@pytest.mark.parametrize(
    ("changes", "code", "message", "field"),
    [
        (FeatureFlagChanges(name=" "), "REQUIRED", "This field is required.", "name"),
        (FeatureFlagChanges(name="x" * 101), "INVALID", "At most 100 characters.", "name"),
        (FeatureFlagChanges(description="x" * 2001), "INVALID", "At most 2000 characters.", "description"),
        (FeatureFlagChanges(rollout_percentage=101), "INVALID", "Rollout is 0 to 100 percent.", "rollout_percentage"),
        (FeatureFlagChanges(rollout_percentage=-1), "INVALID", "Rollout is 0 to 100 percent.", "rollout_percentage"),
        (FeatureFlagChanges(target_users=["u"] * 1001), "INVALID", "At most 1000 items.", "target_users"),
        (FeatureFlagChanges(target_teams=["t"] * 1001), "INVALID", "At most 1000 items.", "target_teams"),
        (FeatureFlagChanges(environment="prod"), "INVALID", "Environment is production, staging or development.", "environment"),
    ],
)
async def test_refused_changes_change_nothing(app_db: AsyncSession, owner_sql, changes, code, message, field) -> None:
    staff = await _staff(app_db)
    flag = await service.create_flag(app_db, staff, FeatureFlagChanges(name=_name(), rollout_percentage=5))
    before = await owner_sql(FLAG, f=flag.id)
    with pytest.raises(ValidationError) as err:
        await service.update_flag(app_db, staff, flag.id, changes)
    assert (err.value.code, err.value.message, err.value.field) == (code, message, field)
    assert await owner_sql(FLAG, f=flag.id) == before
    assert [a[0] for a in await _audit(owner_sql, flag.id)] == ["feature_flag.create"]


async def test_create_needs_a_name(app_db: AsyncSession, owner_sql) -> None:
    staff = await _staff(app_db)
    with pytest.raises(ValidationError) as err:
        await service.create_flag(app_db, staff, FeatureFlagChanges(is_enabled=True))
    assert (err.value.code, err.value.field) == ("REQUIRED", "name")


async def test_update_changes_only_what_is_given(app_db: AsyncSession, owner_sql) -> None:
    staff = await _staff(app_db)
    flag = await service.create_flag(app_db, staff, FeatureFlagChanges(
        name=(name := _name()), description="d", target_users=["u1"], conditions={"a": 1},
    ))
    # when: a switch and a cleared description; name=None (not nullable) keeps the name
    await service.update_flag(app_db, staff, flag.id, FeatureFlagChanges(is_enabled=True, description=None, name=None))
    assert [tuple(r) for r in await owner_sql(FLAG, f=flag.id)] == [
        (name, None, True, 0, ["u1"], [], {"a": 1}, "production", staff.user_id)
    ]
    assert (await _audit(owner_sql, flag.id))[1] == ("feature_flag.update", staff.user_id, None, {"is_enabled": True, "description": None})


async def test_only_platform_staff_manage_flags(app_db: AsyncSession, owner_sql) -> None:
    staff = await _staff(app_db)
    flag = await service.create_flag(app_db, staff, FeatureFlagChanges(name=_name()))
    owner = Principal(user_id=staff.user_id, workspace_id=uuid.uuid4(), role="owner", permissions=ROLE_PERMISSIONS["owner"])
    for call in (
        service.create_flag(app_db, owner, FeatureFlagChanges(name=_name())),
        service.update_flag(app_db, owner, flag.id, FeatureFlagChanges(is_enabled=True)),
    ):
        with pytest.raises(PermissionDenied) as err:
            await call
        assert (err.value.code, err.value.message) == ("PERMISSION_DENIED", "Only platform staff manage feature flags.")
    assert await owner_sql("SELECT is_enabled FROM feature_flags WHERE id = :f", f=flag.id) == [(False,)]


async def test_a_missing_flag_is_not_found(app_db: AsyncSession) -> None:
    staff = await _staff(app_db)
    with pytest.raises(NotFound) as err:
        await service.update_flag(app_db, staff, uuid.uuid4(), FeatureFlagChanges(is_enabled=True))
    assert (err.value.code, err.value.message, err.value.field) == ("NOT_FOUND", "No such feature flag.", "id")
