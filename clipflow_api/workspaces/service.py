"""Workspaces and their people: creation, invitations, roles, custom permissions, removal.

Rules: nobody is invited (or promoted by a non-owner) to owner; only owners change owners;
a workspace always keeps one active owner; a plan's seat limit counts active members plus
pending invitations. Services flush, never commit; a refused action writes nothing.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
import uuid
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from .. import clock
from .. import audit
from ..auth import repository as accounts
from ..auth.principal import Principal
from ..auth.tokens import hash_token, new_token
from ..validation import clean_name, normalize_email
from ..billing.plans import plan_of_workspace
from ..config import get_settings
from ..errors import Conflict, ErrorCode, NotFound, PermissionDenied, ValidationError
from ..models import Invitation, TeamMember, Workspace
from ..models.enums import MemberStatus, Role
from ..models.workspaces import ROLES
from ..permissions import effective_permissions, validate_custom_permissions
from ..rows import is_unique_violation, refreshed
from . import repository
from .repository import Membership, acting_as

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,48}[a-z0-9])$")  # 3-50 characters
RESERVED_SLUGS = frozenset(
    {
        "admin",
        "api",
        "app",
        "auth",
        "billing",
        "dashboard",
        "graphql",
        "help",
        "login",
        "logout",
        "new",
        "oauth",
        "settings",
        "signup",
        "static",
        "support",
        "www",
    }
)
_SLUG_ATTEMPTS = 5



def slugify(name: str) -> str:
    """ "Café Crème Studio" → "cafe-creme-studio" (ASCII, hyphens, at most 40 characters)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:40].strip("-")
    if len(slug) < 3 or slug in RESERVED_SLUGS:
        slug = f"{slug}-workspace".strip("-") if slug else "workspace"
    return slug


def _check_slug(slug: str) -> str:
    value = slug.strip().lower()
    if not SLUG_PATTERN.match(value):
        raise ValidationError(
            ErrorCode.INVALID_SLUG,
            "Use 3-50 lower-case letters, digits and hyphens, not starting or ending with a hyphen.",
            "slug",
        )
    if value in RESERVED_SLUGS:
        raise ValidationError(ErrorCode.INVALID_SLUG, f"{value!r} is reserved.", "slug")
    return value


def _check_role(role: str, *, field: str = "role") -> str:
    if role not in ROLES:
        raise ValidationError(ErrorCode.INVALID_ROLE, f"Role must be one of {', '.join(ROLES)}.", field)
    return role


async def create_workspace(
    session: AsyncSession, *, owner_id: uuid.UUID | None, name: str, slug: str | None = None
) -> Workspace:
    """Create a workspace (slug given or derived from the name) with ``owner_id`` as its owner."""
    name = clean_name(name, max_length=100)
    wanted = _check_slug(slug) if slug is not None else None
    if owner_id is None:
        raise NotFound(ErrorCode.NOT_FOUND, "No such user.", "owner_id")
    async with acting_as(session, workspace_id=None, user_id=owner_id):
        if await accounts.get_user(session, owner_id) is None:  # RLS: a user reads their own row
            raise NotFound(ErrorCode.NOT_FOUND, "No such user.", "owner_id")
        workspace: Workspace | None = None
        base = wanted or slugify(name)
        for attempt in range(_SLUG_ATTEMPTS):
            # Other tenants' slugs are invisible under RLS: the unique constraint is the check.
            candidate = base if attempt == 0 else f"{base[:43]}-{secrets.token_hex(3)}"
            try:
                async with session.begin_nested():
                    workspace = await repository.add_workspace(session, name=name, slug=candidate, owner_id=owner_id)
                break
            except IntegrityError as exc:
                if not is_unique_violation(exc, "uq_workspaces_slug"):
                    raise
                if wanted is not None:
                    raise Conflict(ErrorCode.SLUG_TAKEN, f"The address {wanted!r} is taken.", "slug") from None
        if workspace is None:
            raise Conflict(ErrorCode.SLUG_TAKEN, "Could not find a free address for this name.", "slug")

    async with acting_as(session, workspace_id=workspace.id, user_id=owner_id):
        now = clock.now()
        await repository.add_member(
            session, workspace_id=workspace.id, user_id=owner_id, role=Role.OWNER, status=MemberStatus.ACTIVE, accepted_at=now
        )
        await audit.record(
            session,
            Principal(user_id=owner_id, workspace_id=workspace.id),
            "workspace.create",
            resource_type="workspace",
            resource_id=workspace.id,
            details={"slug": workspace.slug},
        )
        await refreshed(session, workspace)  # server defaults (settings, timestamps) for the caller
    return workspace


async def invite(session: AsyncSession, principal: Principal, *, email: str, role: str) -> tuple[Invitation, str]:
    """Invite an email address to the principal's workspace; returns the invitation and its emailed token."""
    workspace_id = principal.require("member:invite")
    email = normalize_email(email)
    _check_role(role)
    if role == Role.OWNER:
        raise ValidationError(
            ErrorCode.INVALID_ROLE, "Nobody can be invited as an owner; promote a member instead.", "role"
        )

    inviter = None
    if principal.user_id is not None:
        async with acting_as(session, workspace_id=workspace_id, user_id=principal.user_id):
            inviter = await accounts.get_user(session, principal.user_id)
    if inviter is None or not inviter.email_verified:
        # An unproven address could be someone else's: it must not bring people in under it.
        raise Conflict(ErrorCode.EMAIL_NOT_VERIFIED, "Verify your email address before inviting anyone.")

    async with acting_as(session, workspace_id=workspace_id, user_id=principal.user_id):
        if await repository.get_workspace(session, workspace_id) is None:
            raise NotFound(ErrorCode.NOT_FOUND, "No such workspace.")
        invitee = await accounts.get_user_by_email(session, email)
        if invitee is not None:
            member = await repository.get_member_by_user(session, workspace_id, invitee.id)
            if member is not None and member.status == MemberStatus.ACTIVE:
                raise Conflict(ErrorCode.ALREADY_MEMBER, f"{email} is already a member.", "email")

        now = clock.now()
        plan = await plan_of_workspace(session, workspace_id)
        # A re-invitation replaces the pending one, so it does not take a second seat.
        seats = await repository.count_seats(session, workspace_id, now, except_email=email)
        if seats + 1 > plan.team_members:
            raise Conflict(
                ErrorCode.PLAN_LIMIT_REACHED,
                f"The {plan.name} plan allows {plan.team_members} team member(s), pending invitations included.",
                "email",
            )

        token = new_token()
        await repository.delete_pending_invitations(session, workspace_id, email)
        invitation = await repository.add_invitation(
            session,
            workspace_id=workspace_id,
            email=email,
            role=role,
            token=hash_token(token),
            invited_by=principal.user_id,
            expires_at=now + timedelta(days=get_settings().invitation_ttl_days),
        )
        await audit.record(
            session,
            principal,
            "member.invite",
            resource_type="invitation",
            resource_id=invitation.id,
            details={"email": email, "role": role},
        )
    return invitation, token


async def accept_invitation(session: AsyncSession, *, token: str, user_id: uuid.UUID | None) -> TeamMember:
    """Join the invitation's workspace as ``user_id``, whose email must be the invited one."""
    found = await repository.find_invitation_by_token_hash(session, hash_token(token or ""))
    if found is None:
        raise ValidationError(ErrorCode.TOKEN_INVALID, "This invitation link is not valid.", "token")
    if found.accepted_at is not None:
        raise Conflict(ErrorCode.INVITATION_USED, "This invitation has already been used.", "token")
    if found.expires_at <= clock.now():
        raise ValidationError(ErrorCode.TOKEN_EXPIRED, "This invitation has expired; ask for a new one.", "token")
    user = None
    if user_id is not None:
        async with acting_as(session, workspace_id=None, user_id=user_id):
            user = await accounts.get_user(session, user_id)
    if user is None:
        raise NotFound(ErrorCode.NOT_FOUND, "No such user.")
    user_id = user.id
    if user.email.lower() != found.email.lower():
        raise PermissionDenied(
            ErrorCode.EMAIL_MISMATCH, "This invitation was sent to another email address; sign in with that one."
        )

    async with acting_as(session, workspace_id=found.workspace_id, user_id=user_id):
        existing = await repository.get_member_by_user(session, found.workspace_id, user_id)
        if existing is not None and existing.status == MemberStatus.ACTIVE:
            raise Conflict(ErrorCode.ALREADY_MEMBER, "You are already a member of this workspace.")
        now = clock.now()
        if not await repository.mark_invitation_accepted(session, found.id, now):
            raise Conflict(ErrorCode.INVITATION_USED, "This invitation has already been used.", "token")
        if existing is not None:  # a former member coming back
            existing.role = found.role
            existing.status = MemberStatus.ACTIVE
            existing.custom_permissions = None
            existing.invited_by = found.invited_by
            existing.invited_at = found.created_at
            existing.accepted_at = now
            await session.flush()
            member = existing
        else:
            member = await repository.add_member(
                session,
                workspace_id=found.workspace_id,
                user_id=user_id,
                role=found.role,
                status=MemberStatus.ACTIVE,
                invited_by=found.invited_by,
                invited_at=found.created_at,
                accepted_at=now,
            )
        await audit.record(
            session,
            Principal(user_id=user_id, workspace_id=found.workspace_id),
            "member.join",
            resource_type="team_member",
            resource_id=member.id,
            details={"role": member.role, "invitation_id": str(found.id)},
        )
    return member


async def _active_member(session: AsyncSession, workspace_id: uuid.UUID, member_id: uuid.UUID) -> TeamMember:
    member = await repository.get_member(session, workspace_id, member_id)
    if member is None or member.status != MemberStatus.ACTIVE:
        raise NotFound(ErrorCode.NOT_FOUND, "No such member in this workspace.", "member_id")
    return member


async def _keep_an_owner(session: AsyncSession, workspace_id: uuid.UUID) -> None:
    await repository.lock_owner_rows(session, workspace_id)
    if await repository.count_active_owners(session, workspace_id) <= 1:
        raise Conflict(ErrorCode.LAST_OWNER, "A workspace needs an owner: make someone else owner first.")


async def change_role(session: AsyncSession, principal: Principal, *, member_id: uuid.UUID, role: str) -> TeamMember:
    """Give a member another role; owners are made and unmade by owners only, and never the last one."""
    workspace_id = principal.require("member:manage")
    _check_role(role)
    async with acting_as(session, workspace_id=workspace_id, user_id=principal.user_id):
        member = await _active_member(session, workspace_id, member_id)
        if Role.OWNER in (member.role, role) and principal.role != Role.OWNER:
            raise PermissionDenied(ErrorCode.OWNER_PROTECTED, "Only an owner can make or unmake owners.")
        if member.role == role:
            return member
        if member.role == Role.OWNER:
            await _keep_an_owner(session, workspace_id)
        previous = member.role
        member.role = role
        if role == Role.OWNER:
            member.custom_permissions = None  # owners hold everything; an old revocation must not linger
        await session.flush()
        withdrawn = await _withdraw_invitations_without_right(session, member)
        await audit.record(
            session,
            principal,
            "member.role_change",
            resource_type="team_member",
            resource_id=member.id,
            details={"from": previous, "to": role, **_withdrawn(withdrawn)},
        )
        await refreshed(session, member)
    return member


async def set_custom_permissions(
    session: AsyncSession,
    principal: Principal,
    *,
    member_id: uuid.UUID,
    grant: list[str] | None = None,
    revoke: list[str] | None = None,
) -> TeamMember:
    """Adjust one member's permissions beyond their role (empty lists clear the override)."""
    workspace_id = principal.require("member:manage")
    custom = validate_custom_permissions({"grant": list(grant or []), "revoke": list(revoke or [])})
    if custom is not None:
        beyond = [p for p in custom["grant"] if not principal.can(p)]
        if beyond:
            raise PermissionDenied(
                ErrorCode.PERMISSION_DENIED, f"You cannot grant {beyond[0]}, which you do not hold.", "grant"
            )
    async with acting_as(session, workspace_id=workspace_id, user_id=principal.user_id):
        member = await _active_member(session, workspace_id, member_id)
        if member.role == Role.OWNER:
            raise Conflict(ErrorCode.OWNER_PROTECTED, "Owners hold every permission; their set cannot be changed.")
        previous = member.custom_permissions
        member.custom_permissions = custom
        await session.flush()
        withdrawn = await _withdraw_invitations_without_right(session, member)
        await audit.record(
            session,
            principal,
            "member.permissions_change",
            resource_type="team_member",
            resource_id=member.id,
            details={"from": previous, "to": custom, **_withdrawn(withdrawn)},
        )
    return member


async def remove_member(session: AsyncSession, principal: Principal, *, member_id: uuid.UUID) -> TeamMember:
    """Remove a member (or leave, when it is yourself); their API keys here are revoked; returns the membership.

    Owners cannot be removed by others; an owner may leave only while another owner remains.
    """
    if principal.workspace_id is None or principal.user_id is None:
        raise PermissionDenied(ErrorCode.PERMISSION_DENIED, "Choose a workspace first.")
    workspace_id = principal.workspace_id
    async with acting_as(session, workspace_id=workspace_id, user_id=principal.user_id):
        member = await _active_member(session, workspace_id, member_id)
        leaving = member.user_id == principal.user_id
        if not leaving and not principal.can("member:manage"):
            raise PermissionDenied(
                ErrorCode.PERMISSION_DENIED, "You need the member:manage permission in this workspace."
            )
        if member.role == Role.OWNER:
            if not leaving:
                raise PermissionDenied(
                    ErrorCode.OWNER_PROTECTED, "An owner cannot be removed; an owner can leave or step down."
                )
            await _keep_an_owner(session, workspace_id)
        now = clock.now()
        member.status = MemberStatus.REMOVED
        await session.flush()
        revoked = await repository.revoke_member_api_keys(session, workspace_id, member.user_id, now)
        withdrawn = await repository.delete_pending_invitations_from(session, workspace_id, member.user_id)
        await audit.record(
            session,
            principal,
            "member.leave" if leaving else "member.remove",
            resource_type="team_member",
            resource_id=member.id,
            details={"user_id": str(member.user_id), "role": member.role, "api_keys_revoked": revoked, **_withdrawn(withdrawn)},
        )
        await refreshed(session, member)
    return member


def _withdrawn(count: int) -> dict[str, int]:
    return {"invitations_withdrawn": count} if count else {}


async def _withdraw_invitations_without_right(session: AsyncSession, member: TeamMember) -> int:
    """An invitation speaks for its sender: once they may no longer invite, theirs stop working."""
    if "member:invite" in effective_permissions(member.role, member.custom_permissions):
        return 0
    return await repository.delete_pending_invitations_from(session, member.workspace_id, member.user_id)


async def revoke_all_api_keys(session: AsyncSession, *, user_id: uuid.UUID) -> int:
    """Revoke every live key of the user: personal ones and those of every workspace they were in."""
    now = clock.now()
    revoked = 0
    async with acting_as(session, workspace_id=None, user_id=user_id):
        revoked += await repository.revoke_user_api_keys(session, user_id, now)
        workspaces = await repository.user_workspaces(session, user_id)
    for workspace_id, _owned in workspaces:
        async with acting_as(session, workspace_id=workspace_id, user_id=user_id):
            revoked += await repository.revoke_user_api_keys(session, user_id, now)
    return revoked


async def drop_unproven_access(session: AsyncSession, *, user_id: uuid.UUID) -> dict[str, int]:
    """Undo what an account did before anyone proved they own its address.

    Whoever registered the address may not be whoever now proved it: the account leaves the
    workspaces it joined, the people it brought into the workspaces it owns are removed
    (their keys there revoked), and every pending invitation it sent or its workspaces hold
    is withdrawn. The workspaces it owns, and their content, stay with the account.
    """
    now = clock.now()
    counts = {"memberships_dropped": 0, "members_removed": 0, "invitations_withdrawn": 0}
    async with acting_as(session, workspace_id=None, user_id=user_id):
        workspaces = await repository.user_workspaces(session, user_id)
    for workspace_id, owned in workspaces:
        async with acting_as(session, workspace_id=workspace_id, user_id=user_id):
            if owned:
                removed = await repository.remove_other_members(session, workspace_id, keep=user_id)
                for other in removed:
                    await repository.revoke_member_api_keys(session, workspace_id, other, now)
                counts["members_removed"] += len(removed)
                counts["invitations_withdrawn"] += await repository.delete_pending_invitations_from(session, workspace_id)
            else:
                counts["memberships_dropped"] += int(await repository.remove_membership(session, workspace_id, user_id))
                counts["invitations_withdrawn"] += await repository.delete_pending_invitations_from(
                    session, workspace_id, user_id
                )
    return counts


async def list_memberships(session: AsyncSession, *, user_id: uuid.UUID) -> list[Membership]:
    """The user's active memberships with their workspaces: owned ones first, then oldest first."""
    async with acting_as(session, workspace_id=None, user_id=user_id):
        return await repository.list_memberships(session, user_id)
