"""Sign up, create a workspace, invite, accept: through HTTP, with the real services."""

from __future__ import annotations

import uuid

from sqlalchemy import delete

from clipflow_api.models import User
from tests.fixtures import builders
from tests.graphql.conftest import Api

SIGN_UP = "mutation($i: SignUpInput!) { signUp(input: $i) { token user { email } errors { field code message } } }"


async def _sign_up(api: Api, email: str) -> str:
    body = await api.gql(SIGN_UP, {"i": {"email": email, "password": "a long passphrase 42!", "name": "Ann"}})
    assert body["data"]["signUp"]["errors"] == [], body
    return body["data"]["signUp"]["token"]


async def _verify(api: Api, token: str) -> None:
    """Prove the address through the emailed link (keys and invitations need it)."""
    await api.gql("mutation { emailVerificationRequest { ok } }", token=token)
    link = [m for m in api.mailbox if m["kind"] == "email-verify"][-1]["token"]
    done = await api.gql("mutation($t: String!) { emailVerify(token: $t) { errors { code } } }", {"t": link})
    assert done["data"]["emailVerify"]["errors"] == []


async def _on_pro_plan(db, email: str) -> None:  # noqa: ANN001
    from sqlalchemy import select

    from clipflow_api.models import Workspace

    ws = (await db.execute(select(Workspace).join(User, User.id == Workspace.owner_id).where(User.email == email))).scalar_one()
    await builders.subscribe(db, ws)
    await db.commit()


async def test_signup_workspace_invite_accept(api: Api, committed) -> None:
    a, b = f"a{uuid.uuid4().hex[:8]}@example.com", f"b{uuid.uuid4().hex[:8]}@example.com"
    try:
        # given two people who signed up
        token_a = await _sign_up(api, a)
        token_b = await _sign_up(api, b)
        again = await api.gql(SIGN_UP, {"i": {"email": a, "password": "a long passphrase 42!", "name": "Ann"}})
        assert again["data"]["signUp"]["errors"] == [{"field": "email", "code": "EMAIL_TAKEN", "message": "An account with this email already exists."}]
        # (A pays for a plan with seats for a team)
        from sqlalchemy import select

        from clipflow_api.models import SubscriptionPlan

        user_a = (await committed.execute(select(User).where(User.email == a))).scalar_one()
        plan = (await committed.execute(select(SubscriptionPlan).order_by(SubscriptionPlan.team_members.desc()).limit(1))).scalar_one()
        await builders.subscribe(committed, user_a, plan.name)
        await committed.commit()
        await _verify(api, token_a)
        # when A creates a workspace and invites B as editor
        created = await api.gql(
            'mutation { workspaceCreate(input: {name: "Acme Studio"}) { workspace { id slug } errors { code } } }', token=token_a
        )
        ws_gid = created["data"]["workspaceCreate"]["workspace"]["id"]
        ws_id = str(uuid.UUID(__import__("base64").b64decode(ws_gid).decode().split(":", 1)[1]))
        invited = await api.gql(
            "mutation($e: String!) { invitationCreate(input: {email: $e, role: EDITOR}) { invitation { email role } errors { code } } }",
            {"e": b}, token=token_a, workspace=ws_id,
        )
        assert invited["data"]["invitationCreate"] == {"invitation": {"email": b, "role": "EDITOR"}, "errors": []}
        mail = [m for m in api.mailbox if m["kind"] == "invitation"]
        assert [m["to"] for m in mail] == [b]
        # and B accepts with the emailed token
        accepted = await api.gql(
            "mutation($t: String!) { invitationAccept(token: $t) { member { role user { email } } errors { code } } }",
            {"t": mail[0]["token"]}, token=token_b,
        )
        assert accepted["data"]["invitationAccept"] == {"member": {"role": "EDITOR", "user": {"email": b}}, "errors": []}
        # then B acts in the workspace as an editor
        viewer = await api.gql("{ viewer { role currentWorkspace { name } } }", token=token_b, workspace=ws_id)
        assert viewer["data"]["viewer"] == {"role": "EDITOR", "currentWorkspace": {"name": "Acme Studio"}}
        # and the token cannot be used twice
        twice = await api.gql(
            "mutation($t: String!) { invitationAccept(token: $t) { member { id } errors { code } } }", {"t": mail[0]["token"]}, token=token_b
        )
        assert twice["data"]["invitationAccept"]["errors"][0]["code"] in ("INVITATION_USED", "ALREADY_MEMBER")
        # and logging out ends the session
        out = await api.gql("mutation { logOut { errors { code } } }", token=token_a)
        assert out["data"]["logOut"]["errors"] == []
        gone = await api.gql("{ viewer { role } }", token=token_a)
        assert gone["_status"] == 401 and gone["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    finally:
        from sqlalchemy import text

        await committed.execute(text("DELETE FROM workspaces WHERE owner_id IN (SELECT id FROM users WHERE email IN (:a, :b))"), {"a": a, "b": b})
        await committed.execute(delete(User).where(User.email.in_([a, b])))
        await committed.commit()


async def test_login_errors_and_api_key_day_limit(api: Api, committed) -> None:
    email = f"k{uuid.uuid4().hex[:8]}@example.com"
    try:
        token = await _sign_up(api, email)
        await _on_pro_plan(committed, email)  # API access is a paid feature
        await _verify(api, token)
        wrong = await api.gql('mutation($e: String!) { logIn(input: {email: $e, password: "nope nope nope"}) { token errors { code } } }', {"e": email})
        assert wrong["data"]["logIn"] == {"token": None, "errors": [{"code": "INVALID_CREDENTIALS"}]}
        # an API key limited to 3 requests a day
        made = await api.gql(
            'mutation { apiKeyCreate(input: {name: "ci", scopes: ["video:read"], rateLimit: 3}) { secret apiKey { keyPrefix scopes } errors { code } } }',
            token=token,
        )
        payload = made["data"]["apiKeyCreate"]
        assert payload["errors"] == [] and payload["secret"].startswith("cf_live_")
        secret = payload["secret"]
        statuses = []
        for _ in range(4):
            r = await api.gql("{ viewer { permissions } }", headers={"x-api-key": secret})
            statuses.append(r["_status"])
        assert statuses == [200, 200, 200, 429]
        assert r["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        ok = await api.gql("{ viewer { permissions } }", headers={"x-api-key": "cf_live_bad"})
        assert ok["_status"] == 401
    finally:
        from sqlalchemy import text

        await committed.execute(text("DELETE FROM workspaces WHERE owner_id IN (SELECT id FROM users WHERE email = :a)"), {"a": email})
        await committed.execute(delete(User).where(User.email == email))
        await committed.commit()


ROLE_UPDATE = "mutation($id: ID!, $r: Role!) { memberRoleUpdate(id: $id, role: $r) { member { role } errors { code } } }"


async def test_a_permission_refused_inside_the_service_is_a_top_level_error_with_its_reason(api: Api, committed) -> None:  # noqa: ANN001
    from sqlalchemy import func, select

    from clipflow_api.models import AuditLog, TeamMember
    from tests.graphql.conftest import gid

    # given an admin (who holds member:manage, so the resolver lets the call through) and an editor
    ws = await builders.workspace(committed)
    _admin, admin_token = await builders.member(committed, ws, "admin")
    editor, _ = await builders.member(committed, ws, "editor")
    membership = (
        await committed.execute(select(TeamMember).where(TeamMember.workspace_id == ws.id, TeamMember.user_id == editor.id))
    ).scalar_one()
    await committed.commit()
    # when the admin makes the editor an owner (the service allows that to owners only)
    body = await api.gql(ROLE_UPDATE, {"id": gid("TeamMember", membership.id), "r": "OWNER"}, token=admin_token, workspace=ws)
    # then it is a top-level PERMISSION_DENIED naming the service's reason, not a payload error
    assert body["data"] == {"memberRoleUpdate": None}
    assert [(e["message"], e["extensions"], e["path"]) for e in body["errors"]] == [
        ("Only an owner can make or unmake owners.", {"code": "PERMISSION_DENIED", "reason": "OWNER_PROTECTED"}, ["memberRoleUpdate"])
    ]
    # and nothing changed: the role, and the audit trail
    await committed.refresh(membership)
    assert membership.role == "editor"
    changes = select(func.count()).select_from(AuditLog).where(AuditLog.workspace_id == ws.id, AuditLog.action == "member.role_change")
    assert (await committed.execute(changes)).scalar_one() == 0


async def test_a_state_refusal_stays_in_the_payload(api: Api, committed) -> None:  # noqa: ANN001
    from sqlalchemy import select

    from clipflow_api.models import TeamMember
    from tests.graphql.conftest import gid

    # given a workspace with one owner
    owner = await builders.user(committed)
    ws = await builders.workspace(committed, owner)
    token = await builders.token(committed, owner)
    mine = (await committed.execute(select(TeamMember).where(TeamMember.workspace_id == ws.id))).scalar_one()
    await committed.commit()
    # when the only owner steps down
    body = await api.gql(ROLE_UPDATE, {"id": gid("TeamMember", mine.id), "r": "ADMIN"}, token=token, workspace=ws)
    # then the refusal is a payload error (the state forbids it), and the owner stays owner
    assert body.get("errors") is None
    assert body["data"] == {"memberRoleUpdate": {"member": None, "errors": [{"code": "LAST_OWNER"}]}}
    await committed.refresh(mine)
    assert mine.role == "owner"
