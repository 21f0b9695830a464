"""All SQL for workspaces, members and invitations.

Queries run under the session's tenant (RLS): the workspace named in ``session.info``,
plus the rows the policies open to ``app.user_id`` (own memberships, owned or joined
workspaces). ``acting_as`` switches that tenant for a block and puts it back.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from ..db import apply_tenant
from ..models import ApiKey, Invitation, SubscriptionPlan, TeamMember, Workspace
from ..models.billing import Subscription

# Subscription states in which the plan's limits apply (a lapsed one falls back to free).
LIVE_SUBSCRIPTION_STATUSES = ("active", "trialing", "past_due")


@asynccontextmanager
async def acting_as(
    session: AsyncSession, *, workspace_id: uuid.UUID | None, user_id: uuid.UUID | None
) -> AsyncIterator[AsyncSession]:
    """Run the block under another tenant (RLS), then restore the session's own."""
    before = (session.info.get("workspace_id"), session.info.get("user_id"))
    session.info["workspace_id"], session.info["user_id"] = workspace_id, user_id
    try:
        await apply_tenant(session)
        yield session
    except BaseException:
        session.info["workspace_id"], session.info["user_id"] = before
        try:
            if session.in_transaction():
                await apply_tenant(session)
        except DBAPIError:
            pass  # a failed transaction must be rolled back anyway; keep the original error
        raise
    session.info["workspace_id"], session.info["user_id"] = before
    await apply_tenant(session)


class Membership(NamedTuple):
    member: TeamMember
    workspace: Workspace


@dataclass(frozen=True)
class PlanLimits:
    plan: str
    team_members: int
    api_requests_daily: int | None  # None: unlimited


# -- workspaces ------------------------------------------------------------------------------


async def add_workspace(session: AsyncSession, **values: Any) -> Workspace:
    workspace = Workspace(**values)
    session.add(workspace)
    await session.flush()
    return workspace


async def get_workspace(session: AsyncSession, workspace_id: uuid.UUID) -> Workspace | None:
    return (
        await session.execute(select(Workspace).where(Workspace.id == workspace_id, Workspace.deleted_at.is_(None)))
    ).scalar_one_or_none()


async def plan_limits(session: AsyncSession, workspace_id: uuid.UUID) -> PlanLimits | None:
    """The limits of the plan paying for the workspace: its owner's live subscription, else free.

    None when neither resolves (no plan rows seeded): callers then apply no plan limit.
    """
    live = (
        select(SubscriptionPlan.name, SubscriptionPlan.team_members, SubscriptionPlan.api_requests_daily)
        .join(Subscription, Subscription.plan_id == SubscriptionPlan.id)
        .join(Workspace, Workspace.owner_id == Subscription.user_id)
        .where(Workspace.id == workspace_id, Subscription.status.in_(LIVE_SUBSCRIPTION_STATUSES))
        .order_by(Subscription.created_at.desc())
        .limit(1)
    )
    row = (await session.execute(live)).first()
    if row is None:
        row = (
            await session.execute(
                select(SubscriptionPlan.name, SubscriptionPlan.team_members, SubscriptionPlan.api_requests_daily).where(
                    SubscriptionPlan.name == "free"
                )
            )
        ).first()
    if row is None:
        return None
    return PlanLimits(plan=row.name, team_members=row.team_members, api_requests_daily=row.api_requests_daily)


# -- members ---------------------------------------------------------------------------------


async def add_member(session: AsyncSession, **values: Any) -> TeamMember:
    member = TeamMember(**values)
    session.add(member)
    await session.flush()
    return member


async def get_member(session: AsyncSession, workspace_id: uuid.UUID, member_id: uuid.UUID) -> TeamMember | None:
    return (
        await session.execute(
            select(TeamMember).where(TeamMember.id == member_id, TeamMember.workspace_id == workspace_id)
        )
    ).scalar_one_or_none()


async def get_member_by_user(session: AsyncSession, workspace_id: uuid.UUID, user_id: uuid.UUID) -> TeamMember | None:
    return (
        await session.execute(
            select(TeamMember).where(TeamMember.workspace_id == workspace_id, TeamMember.user_id == user_id)
        )
    ).scalar_one_or_none()


async def get_active_membership(
    session: AsyncSession, workspace_id: uuid.UUID, user_id: uuid.UUID
) -> TeamMember | None:
    """The user's active membership of a live workspace (needs ``app.user_id`` or the workspace tenant)."""
    return (
        await session.execute(
            select(TeamMember)
            .join(Workspace, Workspace.id == TeamMember.workspace_id)
            .where(
                TeamMember.workspace_id == workspace_id,
                TeamMember.user_id == user_id,
                TeamMember.status == "active",
                Workspace.deleted_at.is_(None),
            )
        )
    ).scalar_one_or_none()


async def default_membership(session: AsyncSession, user_id: uuid.UUID) -> TeamMember | None:
    """The workspace a session lands in: the oldest one the user owns, else the oldest joined."""
    return (
        await session.execute(
            select(TeamMember)
            .join(Workspace, Workspace.id == TeamMember.workspace_id)
            .where(TeamMember.user_id == user_id, TeamMember.status == "active", Workspace.deleted_at.is_(None))
            .order_by((Workspace.owner_id == user_id).desc(), Workspace.created_at, Workspace.name, Workspace.id)
            .limit(1)
        )
    ).scalar_one_or_none()


async def list_memberships(session: AsyncSession, user_id: uuid.UUID) -> list[Membership]:
    rows = await session.execute(
        select(TeamMember, Workspace)
        .join(Workspace, Workspace.id == TeamMember.workspace_id)
        .where(TeamMember.user_id == user_id, TeamMember.status == "active", Workspace.deleted_at.is_(None))
        .order_by((Workspace.owner_id == user_id).desc(), Workspace.created_at, Workspace.name, Workspace.id)
    )
    return [Membership(member, workspace) for member, workspace in rows]


async def count_active_owners(session: AsyncSession, workspace_id: uuid.UUID) -> int:
    return (
        await session.execute(
            select(func.count())
            .select_from(TeamMember)
            .where(TeamMember.workspace_id == workspace_id, TeamMember.role == "owner", TeamMember.status == "active")
        )
    ).scalar_one()


async def count_seats(
    session: AsyncSession, workspace_id: uuid.UUID, now: datetime, *, except_email: str | None = None
) -> int:
    """Active members plus pending, unexpired invitations (but ``except_email``'s): the seats a plan counts."""
    members = (
        select(func.count())
        .select_from(TeamMember)
        .where(TeamMember.workspace_id == workspace_id, TeamMember.status == "active")
    )
    pending = (
        select(func.count())
        .select_from(Invitation)
        .where(Invitation.workspace_id == workspace_id, Invitation.accepted_at.is_(None), Invitation.expires_at > now)
    )
    if except_email is not None:
        pending = pending.where(Invitation.email != except_email)
    return (await session.execute(select(members.scalar_subquery() + pending.scalar_subquery()))).scalar_one()


async def lock_owner_rows(session: AsyncSession, workspace_id: uuid.UUID) -> None:
    """Serialise owner changes in one workspace, so two demotions cannot both pass the last-owner check."""
    await session.execute(
        select(TeamMember.id)
        .where(TeamMember.workspace_id == workspace_id, TeamMember.role == "owner", TeamMember.status == "active")
        .with_for_update()
    )


async def revoke_member_api_keys(
    session: AsyncSession, workspace_id: uuid.UUID, user_id: uuid.UUID, now: datetime
) -> int:
    result = await session.execute(
        update(ApiKey)
        .where(ApiKey.workspace_id == workspace_id, ApiKey.user_id == user_id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return result.rowcount or 0


# -- invitations -----------------------------------------------------------------------------


async def add_invitation(session: AsyncSession, **values: Any) -> Invitation:
    invitation = Invitation(**values)
    session.add(invitation)
    await session.flush()
    return invitation


async def delete_pending_invitations(session: AsyncSession, workspace_id: uuid.UUID, email: str) -> None:
    await session.execute(
        delete(Invitation).where(
            Invitation.workspace_id == workspace_id, Invitation.email == email, Invitation.accepted_at.is_(None)
        )
    )


class InvitationRow(NamedTuple):
    id: uuid.UUID
    workspace_id: uuid.UUID
    email: str
    role: str
    invited_by: uuid.UUID
    expires_at: datetime
    accepted_at: datetime | None
    created_at: datetime


async def find_invitation_by_token_hash(session: AsyncSession, token_hash: str) -> InvitationRow | None:
    """Across tenants, through the ``clipflow_invitation_by_token`` SECURITY DEFINER function."""
    row = (
        await session.execute(
            text(
                "SELECT id, workspace_id, email, role, invited_by, expires_at, accepted_at, created_at "
                "FROM clipflow_invitation_by_token(:hash)"
            ),
            {"hash": token_hash},
        )
    ).first()
    return InvitationRow(*row) if row is not None else None


async def mark_invitation_accepted(session: AsyncSession, invitation_id: uuid.UUID, now: datetime) -> bool:
    """True when this call accepted it (a concurrent acceptance makes it False)."""
    result = await session.execute(
        update(Invitation)
        .where(Invitation.id == invitation_id, Invitation.accepted_at.is_(None))
        .values(accepted_at=now)
    )
    return (result.rowcount or 0) == 1
