"""Invitations: create, accept, wrong email, expiry, reuse, plan seat limits (app role, RLS on)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clipflow_api.errors import Conflict, PermissionDenied, ValidationError
from clipflow_api.models import Invitation
from clipflow_api.workspaces import service
from tests.auth.helpers import about, principal, sha256
from tests.fixtures.builders import email, use_tenant
from tests.fixtures import builders


async def _team(db: AsyncSession, plan: str | None = "pro"):
    owner = await builders.user(db, email_verified=True)  # only a proven address sends invitations
    if plan:
        await builders.subscribe(db, owner.id, plan)
    ws = await service.create_workspace(db, owner_id=owner.id, name="Team")
    return owner, ws, principal(owner.id, ws.id, "owner", ip_address="192.0.2.10")


async def _counts(owner_sql, ws) -> tuple:
    return tuple(
        (
            await owner_sql(
                "SELECT (SELECT count(*) FROM invitations WHERE workspace_id = :w), "
                "(SELECT count(*) FROM invitations WHERE workspace_id = :w AND accepted_at IS NOT NULL), "
                "(SELECT count(*) FROM team_members WHERE workspace_id = :w AND status = 'active')",
                w=ws.id,
            )
        )[0]
    )


async def test_invite_stores_a_hashed_token_for_seven_days(app_db: AsyncSession, owner_sql) -> None:
    owner, ws, who = await _team(app_db)
    invitation, token = await service.invite(app_db, who, email="  New.Person@Example.COM ", role="editor")
    assert (invitation.workspace_id, invitation.email, invitation.role, invitation.invited_by) == (
        ws.id,
        "new.person@example.com",
        "editor",
        owner.id,
    )
    assert invitation.token == sha256(token) and token not in invitation.token
    assert about(datetime.now(UTC) + timedelta(days=7), invitation.expires_at)
    entries = await owner_sql(
        "SELECT action, details, host(ip_address) FROM audit_logs WHERE resource_id = :i", i=invitation.id
    )
    assert [tuple(e) for e in entries] == [
        ("member.invite", {"email": "new.person@example.com", "role": "editor"}, "192.0.2.10")
    ]


async def test_accept_joins_with_the_invited_role(app_db: AsyncSession, owner_sql) -> None:
    owner, ws, who = await _team(app_db)
    invitation, token = await service.invite(app_db, who, email="joiner@example.com", role="scheduler")
    joiner = await builders.user(app_db, email="Joiner@Example.com".lower())
    # the invitee's session knows no workspace yet: invitations are invisible to it under RLS
    await use_tenant(app_db, None, joiner.id)
    assert (await app_db.execute(select(Invitation))).all() == []
    # when
    member = await service.accept_invitation(app_db, token=token, user_id=joiner.id)
    # then
    assert (member.workspace_id, member.user_id, member.role, member.status, member.invited_by) == (
        ws.id,
        joiner.id,
        "scheduler",
        "active",
        owner.id,
    )
    assert about(datetime.now(UTC), member.accepted_at)
    assert await _counts(owner_sql, ws) == (1, 1, 2)
    # and the link is spent
    with pytest.raises(Conflict) as err:
        await service.accept_invitation(app_db, token=token, user_id=joiner.id)
    assert (err.value.code, err.value.field) == ("INVITATION_USED", "token")
    assert await _counts(owner_sql, ws) == (1, 1, 2)
    assert (app_db.info["workspace_id"], app_db.info["user_id"]) == (None, joiner.id)


async def test_wrong_email_is_refused_and_changes_nothing(app_db: AsyncSession, owner_sql) -> None:
    _, ws, who = await _team(app_db)
    _, token = await service.invite(app_db, who, email=email("invitee"), role="viewer")
    intruder = await builders.user(app_db)
    with pytest.raises(PermissionDenied) as err:
        await service.accept_invitation(app_db, token=token, user_id=intruder.id)
    assert err.value.code == "EMAIL_MISMATCH"
    assert await _counts(owner_sql, ws) == (1, 0, 1)


async def test_expired_and_unknown_tokens(app_db: AsyncSession, owner_sql) -> None:
    _, ws, who = await _team(app_db)
    address = email("late")
    invitation, token = await service.invite(app_db, who, email=address, role="viewer")
    late = await builders.user(app_db, email=address)
    await owner_sql("UPDATE invitations SET expires_at = now() - interval '1 second' WHERE id = :i", i=invitation.id)
    with pytest.raises(ValidationError) as err:
        await service.accept_invitation(app_db, token=token, user_id=late.id)
    assert (err.value.code, err.value.field) == ("TOKEN_EXPIRED", "token")
    with pytest.raises(ValidationError) as err:
        await service.accept_invitation(app_db, token="made-up", user_id=late.id)
    assert (err.value.code, err.value.field) == ("TOKEN_INVALID", "token")
    assert await _counts(owner_sql, ws) == (1, 0, 1)


async def test_reinviting_replaces_the_pending_invitation(app_db: AsyncSession, owner_sql) -> None:
    _, ws, who = await _team(app_db)
    address = email("twice")
    _, first = await service.invite(app_db, who, email=address, role="viewer")
    second_inv, second = await service.invite(app_db, who, email=address, role="editor")
    assert await _counts(owner_sql, ws) == (1, 0, 1)
    user = await builders.user(app_db, email=address)
    with pytest.raises(ValidationError) as err:
        await service.accept_invitation(app_db, token=first, user_id=user.id)
    assert err.value.code == "TOKEN_INVALID"
    member = await service.accept_invitation(app_db, token=second, user_id=user.id)
    assert member.role == "editor"


@pytest.mark.parametrize(("role", "code"), [("owner", "INVALID_ROLE"), ("god", "INVALID_ROLE")])
async def test_invalid_roles(app_db: AsyncSession, owner_sql, role: str, code: str) -> None:
    _, ws, who = await _team(app_db)
    with pytest.raises(ValidationError) as err:
        await service.invite(app_db, who, email=email(), role=role)
    assert (err.value.code, err.value.field) == (code, "role")
    assert await _counts(owner_sql, ws) == (0, 0, 1)


async def test_only_inviters_invite(app_db: AsyncSession, owner_sql) -> None:
    owner, ws, _ = await _team(app_db)
    editor = await builders.user(app_db)
    with pytest.raises(PermissionDenied) as err:
        await service.invite(app_db, principal(editor.id, ws.id, "editor"), email=email(), role="viewer")
    assert err.value.code == "PERMISSION_DENIED"
    admin = await builders.user(app_db, email_verified=True)
    invitation, _ = await service.invite(app_db, principal(admin.id, ws.id, "admin"), email=email(), role="admin")
    assert invitation.role == "admin"


async def test_existing_member_cannot_be_invited(app_db: AsyncSession, owner_sql) -> None:
    owner, ws, who = await _team(app_db)
    with pytest.raises(Conflict) as err:
        await service.invite(app_db, who, email=owner.email.upper(), role="viewer")
    assert (err.value.code, err.value.field) == ("ALREADY_MEMBER", "email")
    assert await _counts(owner_sql, ws) == (0, 0, 1)


async def test_plan_seat_limit_counts_members_and_pending_invitations(app_db: AsyncSession, owner_sql) -> None:
    # given the pro plan's 3 seats: the owner plus two pending invitations
    _, ws, who = await _team(app_db, plan="pro")
    await service.invite(app_db, who, email=email("a"), role="viewer")
    await service.invite(app_db, who, email=email("b"), role="viewer")
    # when a third is invited
    with pytest.raises(Conflict) as err:
        await service.invite(app_db, who, email=email("c"), role="viewer")
    # then
    assert (err.value.code, err.value.message) == (
        "PLAN_LIMIT_REACHED",
        "The pro plan allows 3 team member(s), pending invitations included.",
    )
    assert await _counts(owner_sql, ws) == (2, 0, 1)


async def test_free_plan_has_no_room_for_a_team(app_db: AsyncSession, owner_sql) -> None:
    _, ws, who = await _team(app_db, plan=None)
    with pytest.raises(Conflict) as err:
        await service.invite(app_db, who, email=email(), role="viewer")
    assert err.value.code == "PLAN_LIMIT_REACHED" and "free plan allows 1" in err.value.message
    assert await _counts(owner_sql, ws) == (0, 0, 1)


async def test_a_removed_member_can_come_back(app_db: AsyncSession, owner_sql) -> None:
    _, ws, who = await _team(app_db)
    address = email("returning")
    _, token = await service.invite(app_db, who, email=address, role="editor")
    user = await builders.user(app_db, email=address)
    member = await service.accept_invitation(app_db, token=token, user_id=user.id)
    await service.remove_member(app_db, who, member_id=member.id)
    _, token2 = await service.invite(app_db, who, email=address, role="viewer")
    back = await service.accept_invitation(app_db, token=token2, user_id=user.id)
    assert (back.id, back.role, back.status) == (member.id, "viewer", "active")


async def test_revoking_member_invite_withdraws_that_members_pending_invitations(app_db: AsyncSession, owner_sql) -> None:
    # given an admin's pending invitation and the owner's
    from clipflow_api.models import TeamMember

    owner, ws, who = await _team(app_db, plan="business")  # seats for the admin and two invitations
    admin = await builders.user(app_db, email_verified=True)
    await use_tenant(app_db, ws.id, owner.id)
    member = TeamMember(workspace_id=ws.id, user_id=admin.id, role="admin")
    app_db.add(member)
    await app_db.flush()
    await service.invite(app_db, principal(admin.id, ws.id, "admin"), email=email(), role="editor")
    await service.invite(app_db, who, email=email(), role="viewer")
    # an override that keeps member:invite changes nothing
    await service.set_custom_permissions(app_db, who, member_id=member.id, revoke=["webhook:manage"])
    assert await _counts(owner_sql, ws) == (2, 0, 2)
    # when the owner withdraws member:invite from the admin
    await service.set_custom_permissions(app_db, who, member_id=member.id, revoke=["member:invite"])
    # then only the admin's invitation is gone
    left = await owner_sql("SELECT invited_by FROM invitations WHERE workspace_id = :w", w=ws.id)
    assert [tuple(r) for r in left] == [(owner.id,)]
    entries = await owner_sql(
        "SELECT details->>'invitations_withdrawn' FROM audit_logs WHERE resource_id = :m AND action = 'member.permissions_change'",
        m=member.id,
    )
    assert sorted(str(e[0]) for e in entries) == ["1", "None"]  # one transaction: same created_at
