"""All SQL for workspaces, members and invitations.

Queries run under the session's tenant (RLS): the workspace named in ``session.info``,
plus the rows the policies open to ``app.user_id`` (own memberships, owned or joined
workspaces). ``acting_as`` switches that tenant for a block and puts it back.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from ..db import apply_tenant
from ..models import ApiKey, Invitation, TeamMember, Workspace

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


async def revoke_user_api_keys(session: AsyncSession, user_id: uuid.UUID, now: datetime) -> int:
    """The user's live keys visible to the session's tenant (one workspace's, or the personal ones)."""
    result = await session.execute(
        update(ApiKey).where(ApiKey.user_id == user_id, ApiKey.revoked_at.is_(None)).values(revoked_at=now)
    )
    return result.rowcount or 0


async def user_workspaces(session: AsyncSession, user_id: uuid.UUID) -> list[tuple[uuid.UUID, bool]]:
    """(workspace id, owned) of every workspace the user ever joined or owns (needs ``app.user_id``)."""
    joined = select(TeamMember.workspace_id).where(TeamMember.user_id == user_id)
    owned = select(Workspace.id).where(Workspace.owner_id == user_id)
    ids = {row[0] for row in await session.execute(joined.union(owned))}
    owned_ids = {row[0] for row in await session.execute(owned)}
    return sorted(((w, w in owned_ids) for w in ids), key=lambda item: str(item[0]))


async def remove_other_members(session: AsyncSession, workspace_id: uuid.UUID, keep: uuid.UUID) -> list[uuid.UUID]:
    """Mark every active member but ``keep`` removed; returns their user ids."""
    result = await session.execute(
        update(TeamMember)
        .where(TeamMember.workspace_id == workspace_id, TeamMember.user_id != keep, TeamMember.status == "active")
        .values(status="removed")
        .returning(TeamMember.user_id)
    )
    return list(result.scalars())


async def remove_membership(session: AsyncSession, workspace_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    result = await session.execute(
        update(TeamMember)
        .where(TeamMember.workspace_id == workspace_id, TeamMember.user_id == user_id, TeamMember.status == "active")
        .values(status="removed")
    )
    return (result.rowcount or 0) > 0


# -- invitations -----------------------------------------------------------------------------


async def delete_pending_invitations_from(
    session: AsyncSession, workspace_id: uuid.UUID, invited_by: uuid.UUID | None = None
) -> int:
    """Withdraw the workspace's unaccepted invitations (only ``invited_by``'s when given)."""
    stmt = delete(Invitation).where(Invitation.workspace_id == workspace_id, Invitation.accepted_at.is_(None))
    if invited_by is not None:
        stmt = stmt.where(Invitation.invited_by == invited_by)
    result = await session.execute(stmt)
    return result.rowcount or 0


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
