"""Helpers shared by the account and workspace tests."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clipflow_api.auth.principal import Principal
from clipflow_api.db import apply_tenant, set_tenant
from clipflow_api.models import SubscriptionPlan, User
from clipflow_api.models.billing import Subscription
from clipflow_api.permissions import ROLE_PERMISSIONS

STRONG_PASSWORD = "Correct-horse-42"


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def email(tag: str = "user", domain: str = "example.com") -> str:
    return f"{tag}-{uuid.uuid4().hex[:8]}@{domain}"


@asynccontextmanager
async def _as_user(db: AsyncSession, user_id: uuid.UUID) -> AsyncIterator[None]:
    """RLS lets a user write only their own identity rows: write as them, then put the tenant back."""
    before = (db.info.get("workspace_id"), db.info.get("user_id"))
    await use_tenant(db, before[0], user_id)
    try:
        yield
    finally:
        await use_tenant(db, *before)


async def add_user(db: AsyncSession, *, address: str | None = None, name: str = "Test User", **kw: object) -> User:
    """A user row without the cost of hashing a password (written as that user, as sign-up does)."""
    user = User(id=uuid.uuid4(), email=address or email(), name=name, **kw)
    async with _as_user(db, user.id):
        db.add(user)
        await db.flush()
    return user


async def use_tenant(db: AsyncSession, workspace_id: uuid.UUID | None, user_id: uuid.UUID | None) -> None:
    """Switch the open transaction's tenant, as a request scoped to that workspace would have it."""
    set_tenant(db, workspace_id=workspace_id, user_id=user_id)
    await apply_tenant(db)


def principal(user_id: uuid.UUID, workspace_id: uuid.UUID, role: str, **kw: object) -> Principal:
    """What resolve_principal gives a member with no custom permissions."""
    return Principal(user_id=user_id, workspace_id=workspace_id, role=role, permissions=ROLE_PERMISSIONS[role], **kw)


async def subscribe(db: AsyncSession, user_id: uuid.UUID, plan: str) -> Subscription:
    plan_id = (await db.execute(select(SubscriptionPlan.id).where(SubscriptionPlan.name == plan))).scalar_one()
    now = datetime.now(UTC)
    row = Subscription(
        user_id=user_id, plan_id=plan_id, current_period_start=now, current_period_end=now + timedelta(days=30)
    )
    async with _as_user(db, user_id):
        db.add(row)
        await db.flush()
    return row


def about(expected: datetime, actual: datetime, seconds: float = 5) -> bool:
    return abs((actual - expected).total_seconds()) <= seconds
