"""Email verification and password reset over GraphQL, with the tokens taken from the
mailbox (they are emailed, never returned), and feature flags for platform staff only."""

from __future__ import annotations

import dataclasses
import uuid

from sqlalchemy import select

from clipflow_api.models import AuditLog, FeatureFlag, User
from clipflow_api.permissions import SYSTEM_PERMISSIONS
from tests.fixtures import builders
from tests.graphql.conftest import Api, gid, open_api

PASSWORD = "a long passphrase 42!"
SIGN_UP = "mutation($i: SignUpInput!) { signUp(input: $i) { token user { id } errors { code } } }"
LOG_IN = "mutation($e: String!, $p: String!) { logIn(input: {email: $e, password: $p}) { token errors { code } } }"
VERIFY = "mutation($t: String!) { emailVerify(token: $t) { user { email emailVerified } errors { field code message } } }"
REQUEST_VERIFY = "mutation { emailVerificationRequest { ok errors { code message } } }"
REQUEST_RESET = "mutation($e: String!) { passwordResetRequest(email: $e) { ok errors { code } } }"
RESET = "mutation($t: String!, $p: String!) { passwordReset(token: $t, newPassword: $p) { user { email emailVerified } errors { field code message } } }"


async def _sign_up(api: Api, email: str) -> str:
    body = await api.gql(SIGN_UP, {"i": {"email": email, "password": PASSWORD, "name": "Ann"}})
    assert body["data"]["signUp"]["errors"] == [], body
    return body["data"]["signUp"]["token"]


async def test_email_verification_flow(api: Api, committed, user_domain: str, cheap_password_hashing) -> None:  # noqa: ANN001
    email = f"ann@{user_domain}"
    token = await _sign_up(api, email)
    # when the user asks for a verification link, it is emailed to them (not returned)
    asked = await api.gql(REQUEST_VERIFY, token=token)
    assert asked["data"]["emailVerificationRequest"] == {"ok": True, "errors": []}
    [mail] = [m for m in api.mailbox if m["kind"] == "email-verify"]
    assert mail["to"] == email and mail["token"] not in str(asked)
    # an older link stops working when a new one is sent
    await api.gql(REQUEST_VERIFY, token=token)
    old, new = [m["token"] for m in api.mailbox if m["kind"] == "email-verify"]
    stale = await api.gql(VERIFY, {"t": old})
    assert stale["data"]["emailVerify"]["errors"] == [{"field": "token", "code": "TOKEN_INVALID", "message": "This link is not valid (it may have been used already)."}]
    # and the newest verifies the address, without signing in
    done = await api.gql(VERIFY, {"t": new})
    assert done["data"]["emailVerify"] == {"user": {"email": email, "emailVerified": True}, "errors": []}
    user = (await committed.execute(select(User).where(User.email == email))).scalar_one()
    assert user.email_verified is True
    actions = (await committed.execute(select(AuditLog.action).where(AuditLog.user_id == user.id).order_by(AuditLog.created_at))).scalars().all()
    assert "user.email_verified" in actions
    # it works once, and a verified address needs no new link
    again = await api.gql(VERIFY, {"t": new})
    assert again["data"]["emailVerify"]["errors"][0]["code"] == "TOKEN_INVALID"
    verified = await api.gql(REQUEST_VERIFY, token=token)
    assert verified["data"]["emailVerificationRequest"] == {"ok": False, "errors": [{"code": "ALREADY_VERIFIED", "message": "This email address is already verified."}]}
    # asking needs a signed-in caller
    anonymous = await api.gql(REQUEST_VERIFY)
    assert [e["extensions"]["code"] for e in anonymous["errors"]] == ["UNAUTHENTICATED"]


async def test_password_reset_flow(api: Api, committed, user_domain: str, cheap_password_hashing) -> None:  # noqa: ANN001
    email = f"bob@{user_domain}"
    session = await _sign_up(api, email)
    # an unknown address gets the same answer, and no email
    unknown = await api.gql(REQUEST_RESET, {"e": f"nobody@{user_domain}"})
    assert unknown["data"]["passwordResetRequest"] == {"ok": True, "errors": []}
    assert [m for m in api.mailbox if m["kind"] == "password-reset"] == []
    # a known one gets a link by email
    known = await api.gql(REQUEST_RESET, {"e": email.upper()})
    assert known["data"]["passwordResetRequest"] == {"ok": True, "errors": []}
    [mail] = [m for m in api.mailbox if m["kind"] == "password-reset"]
    assert mail["to"] == email
    # a weak new password is refused, and the link still works afterwards
    weak = await api.gql(RESET, {"t": mail["token"], "p": "short"})
    assert weak["data"]["passwordReset"] == {"user": None, "errors": [{"field": "newPassword", "code": "WEAK_PASSWORD", "message": "Use at least 10 characters."}]}
    assert (await api.gql(LOG_IN, {"e": email, "p": PASSWORD}))["data"]["logIn"]["errors"] == []
    # a strong one is set, proves the address, and signs the user out everywhere
    reset = await api.gql(RESET, {"t": mail["token"], "p": "a brand new passphrase 9"})
    assert reset["data"]["passwordReset"] == {"user": {"email": email, "emailVerified": True}, "errors": []}
    gone = await api.gql("{ viewer { role } }", token=session)
    assert gone["_status"] == 401
    assert (await api.gql(LOG_IN, {"e": email, "p": PASSWORD}))["data"]["logIn"] == {"token": None, "errors": [{"code": "INVALID_CREDENTIALS"}]}
    assert (await api.gql(LOG_IN, {"e": email, "p": "a brand new passphrase 9"}))["data"]["logIn"]["errors"] == []
    # and the link works once
    twice = await api.gql(RESET, {"t": mail["token"], "p": "yet another passphrase 3"})
    assert twice["data"]["passwordReset"]["errors"][0]["code"] == "TOKEN_INVALID"
    # a verification token is not a reset token
    await api.gql(REQUEST_RESET, {"e": email})
    wrong_kind = await api.gql(VERIFY, {"t": [m for m in api.mailbox if m["kind"] == "password-reset"][-1]["token"]})
    assert wrong_kind["data"]["emailVerify"]["errors"][0]["code"] == "TOKEN_INVALID"


FLAG_UPDATE = "mutation($id: ID!, $i: FeatureFlagInput!) { r: featureFlagUpdate(id: $id, input: $i) { featureFlag { name isEnabled rolloutPercentage environment } errors { field code message } } }"


async def test_feature_flags_are_changed_by_platform_staff_only(migrated_database, committed) -> None:  # noqa: ANN001
    # given a workspace owner, and a platform staff member (staff hold the system permissions)
    owner = await builders.user(committed)
    ws = await builders.workspace(committed, owner)
    staff = await builders.user(committed)
    staff_ws = await builders.workspace(committed, staff)
    owner_token, staff_token = await builders.token(committed, owner), await builders.token(committed, staff)
    flag = FeatureFlag(name=f"beta-{uuid.uuid4().hex[:6]}", rollout_percentage=0)
    committed.add(flag)
    await committed.commit()

    def grant(principal):  # noqa: ANN001, ANN202
        if principal.user_id == staff.id:
            return dataclasses.replace(principal, permissions=principal.permissions | SYSTEM_PERMISSIONS)
        return principal

    try:
        async with open_api(grant=grant) as api:
            flag_id = gid("FeatureFlag", flag.id)
            # an owner holds every workspace permission, but not this one
            refused = await api.gql(FLAG_UPDATE, {"id": flag_id, "i": {"isEnabled": True}}, token=owner_token, workspace=ws)
            assert refused["data"] == {"r": None}
            assert [e["extensions"]["code"] for e in refused["errors"]] == ["PERMISSION_DENIED"]
            await committed.refresh(flag)
            assert (flag.is_enabled, flag.rollout_percentage) == (False, 0)
            # staff change it, within the rules
            bad = await api.gql(FLAG_UPDATE, {"id": flag_id, "i": {"rolloutPercentage": 101}}, token=staff_token, workspace=staff_ws)
            assert bad["data"] is None  # refused before the resolver: the range is declared on the input type
            assert [(e["extensions"], e["message"]) for e in bad["errors"]] == [
                ({"code": "BAD_REQUEST", "field": "input.rolloutPercentage"}, "`input.rolloutPercentage` must be between 0 and 100 (got 101).")
            ]
            ok = await api.gql(FLAG_UPDATE, {"id": flag_id, "i": {"isEnabled": True, "rolloutPercentage": 25, "environment": "staging"}},
                               token=staff_token, workspace=staff_ws)
            assert ok["data"]["r"] == {"featureFlag": {"name": flag.name, "isEnabled": True, "rolloutPercentage": 25, "environment": "staging"}, "errors": []}
            await committed.refresh(flag)
            assert (flag.is_enabled, flag.rollout_percentage, flag.environment) == (True, 25, "staging")
            audit = (await committed.execute(select(AuditLog).where(AuditLog.resource_id == flag.id))).scalars().all()
            assert [(a.action, a.user_id, a.details) for a in audit] == [
                ("feature_flag.update", staff.id, {"is_enabled": True, "rollout_percentage": 25, "environment": "staging"})
            ]
            # and only staff see flags by id
            seen = await api.gql("query($id: ID!) { node(id: $id) { id } }", {"id": flag_id}, token=owner_token, workspace=ws)
            assert seen["data"] == {"node": None}
    finally:
        await committed.delete(flag)
        await committed.commit()


async def test_repeated_wrong_passwords_lock_the_account_from_that_address(api: Api, committed, user_domain: str, redis, cheap_password_hashing) -> None:  # noqa: ANN001
    from clipflow_api.auth.ratelimit import LOGIN_FAILURES_PER_ACCOUNT

    email = f"guess@{user_domain}"
    await _sign_up(api, email)
    # a success in between forgets earlier failures
    for _ in range(LOGIN_FAILURES_PER_ACCOUNT - 1):
        wrong = await api.gql(LOG_IN, {"e": email, "p": "not the password"})
        assert wrong["data"]["logIn"]["errors"] == [{"code": "INVALID_CREDENTIALS"}]
    ok = await api.gql(LOG_IN, {"e": email, "p": PASSWORD})
    assert ok["data"]["logIn"]["errors"] == [] and ok["data"]["logIn"]["token"]
    # ten failures in a row lock it: even the right password is refused for a while
    for _ in range(LOGIN_FAILURES_PER_ACCOUNT):
        await api.gql(LOG_IN, {"e": email, "p": "not the password"})
    locked = await api.gql(LOG_IN, {"e": email, "p": PASSWORD})
    assert locked["data"]["logIn"] == {"token": None, "errors": [{"code": "RATE_LIMITED"}]}
    # another account from the same address is not locked by it
    other = f"other@{user_domain}"
    await _sign_up(api, other)
    assert (await api.gql(LOG_IN, {"e": other, "p": PASSWORD}))["data"]["logIn"]["errors"] == []
