"""Sign-up, log-in, log-out, verification and reset tokens, run as the app role (RLS on)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy.ext.asyncio import AsyncSession

from clipflow_api.auth import service
from clipflow_api.auth.principal import Principal
from clipflow_api.auth.passwords import verify_password
from clipflow_api.errors import AuthError, Conflict, NotFound, ValidationError

from tests.fixtures import builders

from .helpers import STRONG_PASSWORD, about, sha256
from tests.fixtures.builders import email

pytestmark = pytest.mark.asyncio


async def test_sign_up_creates_user_session_and_personal_workspace(app_db: AsyncSession, owner_sql) -> None:
    # given an address typed with capitals and spaces
    address = email("Alice").replace("alice", "ALICE")
    # when
    user, token = await service.sign_up(
        app_db,
        email=f"  {address} ",
        password=STRONG_PASSWORD,
        name="  Alice   Liddell ",
        ip="203.0.113.9",
        user_agent="pytest/1",
    )
    # then the user is stored normalised, with an argon2id hash
    assert user.email == address.strip().lower()
    assert user.name == "Alice Liddell"
    assert user.password_hash.startswith("$argon2id$")
    assert verify_password(user.password_hash, STRONG_PASSWORD)
    assert user.email_verified is False
    # a session keeps only the token's hash, for 30 days
    assert len(token) == 43
    rows = await owner_sql(
        "SELECT token_hash, host(ip_address), user_agent, expires_at FROM sessions WHERE user_id = :u", u=user.id
    )
    assert [(r[0], r[1], r[2]) for r in rows] == [(sha256(token), "203.0.113.9", "pytest/1")]
    assert about(datetime.now(UTC) + timedelta(days=30), rows[0][3])
    # a personal workspace with the user as its owner
    ws = await owner_sql(
        "SELECT w.name, w.slug, m.role, m.status FROM workspaces w JOIN team_members m ON m.workspace_id = w.id "
        "WHERE w.owner_id = :u",
        u=user.id,
    )
    assert [tuple(r) for r in ws] == [("Alice Liddell's workspace", "alice-liddell-s-workspace", "owner", "active")]
    # and the audit trail says so
    actions = await owner_sql(
        "SELECT action, host(ip_address) FROM audit_logs WHERE user_id = :u ORDER BY created_at, action", u=user.id
    )
    assert sorted(tuple(a) for a in actions) == [("user.signup", "203.0.113.9"), ("workspace.create", None)]


async def test_duplicate_email_is_refused_and_writes_nothing(app_db: AsyncSession, owner_sql) -> None:
    address = email("dup")
    await service.sign_up(app_db, email=address, password=STRONG_PASSWORD, name="First")
    before = await owner_sql(
        "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM workspaces), (SELECT count(*) FROM sessions)"
    )
    with pytest.raises(Conflict) as err:
        await service.sign_up(app_db, email=address.upper(), password=STRONG_PASSWORD, name="Second")
    assert (err.value.code, err.value.field) == ("EMAIL_TAKEN", "email")
    after = await owner_sql(
        "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM workspaces), (SELECT count(*) FROM sessions)"
    )
    assert after == before


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("Short1!", "at least 10"),
        ("abcdefghij", "Mix letters"),
        ("aaaaaaaaaaaaaaaaaaaa", "different characters"),
        ("x" * 257, "at most 256"),
    ],
)
async def test_weak_passwords_are_refused(app_db: AsyncSession, owner_sql, password: str, reason: str) -> None:
    address = email("weak")
    with pytest.raises(ValidationError) as err:
        await service.sign_up(app_db, email=address, password=password, name="Weak")
    assert (err.value.code, err.value.field) == ("WEAK_PASSWORD", "password")
    assert reason in err.value.message
    assert await owner_sql("SELECT count(*) FROM users WHERE email = :e", e=address) == [(0,)]


async def test_password_containing_the_email_name_is_weak(app_db: AsyncSession) -> None:
    with pytest.raises(ValidationError) as err:
        await service.sign_up(app_db, email="marguerite@example.com", password="Marguerite2026", name="M")
    assert err.value.code == "WEAK_PASSWORD"


async def test_invalid_email_and_missing_name(app_db: AsyncSession) -> None:
    with pytest.raises(ValidationError) as err:
        await service.sign_up(app_db, email="not-an-email", password=STRONG_PASSWORD, name="X")
    assert (err.value.code, err.value.field) == ("INVALID_EMAIL", "email")
    with pytest.raises(ValidationError) as err:
        await service.sign_up(app_db, email=email(), password=STRONG_PASSWORD, name="   ")
    assert (err.value.code, err.value.field) == ("REQUIRED", "name")


async def test_log_in_opens_a_new_session(app_db: AsyncSession, owner_sql) -> None:
    address = email("login")
    user, first = await service.sign_up(app_db, email=address, password=STRONG_PASSWORD, name="Lo")
    # when
    again, second = await service.log_in(app_db, email=address.upper(), password=STRONG_PASSWORD, ip="::1")
    # then
    assert again.id == user.id and second != first
    hashes = {r[0] for r in await owner_sql("SELECT token_hash FROM sessions WHERE user_id = :u", u=user.id)}
    assert hashes == {sha256(first), sha256(second)}
    assert about(datetime.now(UTC), again.last_login_at)
    logins = await owner_sql(
        "SELECT host(ip_address) FROM audit_logs WHERE user_id = :u AND action = 'user.login'", u=user.id
    )
    assert logins == [("::1",)]


@pytest.mark.parametrize("case", ["wrong password", "unknown email", "malformed email", "oauth-only user"])
async def test_log_in_failures_all_read_the_same(app_db: AsyncSession, owner_sql, case: str) -> None:
    address = email("fail")
    await service.sign_up(app_db, email=address, password=STRONG_PASSWORD, name="Fa")
    oauth_only = await builders.user(app_db)  # no password hash
    attempt = {
        "wrong password": (address, STRONG_PASSWORD + "x"),
        "unknown email": (email("nobody"), STRONG_PASSWORD),
        "malformed email": ("nobody", STRONG_PASSWORD),
        "oauth-only user": (oauth_only.email, ""),
    }[case]
    before = await owner_sql("SELECT count(*) FROM sessions")
    with pytest.raises(AuthError) as err:
        await service.log_in(app_db, email=attempt[0], password=attempt[1])
    assert (err.value.code, err.value.message, err.value.field) == (
        "INVALID_CREDENTIALS",
        "Wrong email or password.",
        None,
    )
    assert await owner_sql("SELECT count(*) FROM sessions") == before


async def test_log_in_rehashes_an_outdated_hash(app_db: AsyncSession, owner_sql) -> None:
    # given a user whose hash was made with weaker parameters than today's defaults
    old_hash = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(STRONG_PASSWORD)
    user = await builders.user(app_db, password_hash=old_hash)
    # when they log in
    await service.log_in(app_db, email=user.email, password=STRONG_PASSWORD)
    # then the stored hash was upgraded and still verifies
    stored = (await owner_sql("SELECT password_hash FROM users WHERE id = :u", u=user.id))[0][0]
    assert stored != old_hash
    assert PasswordHasher().check_needs_rehash(stored) is False
    assert verify_password(stored, STRONG_PASSWORD)


async def test_log_out_deletes_only_that_session(app_db: AsyncSession, owner_sql) -> None:
    address = email("out")
    user, first = await service.sign_up(app_db, email=address, password=STRONG_PASSWORD, name="Out")
    _, second = await service.log_in(app_db, email=address, password=STRONG_PASSWORD)
    signed_in = Principal(user_id=user.id, session_id=uuid.uuid4())
    await service.log_out(app_db, signed_in, token=first)
    assert await owner_sql("SELECT token_hash FROM sessions WHERE user_id = :u", u=user.id) == [(sha256(second),)]
    # an unknown token is a no-op
    await service.log_out(app_db, signed_in, token="nope")
    assert await owner_sql("SELECT count(*) FROM sessions WHERE user_id = :u", u=user.id) == [(1,)]
    assert await owner_sql(
        "SELECT count(*) FROM audit_logs WHERE user_id = :u AND action = 'user.logout'", u=user.id
    ) == [(1,)]


@pytest.mark.parametrize(
    ("by_key", "token"), [(True, "the session token"), (False, None), (False, "")], ids=["api-key", "no-token", "empty-token"]
)
async def test_log_out_needs_a_session_and_its_token(app_db: AsyncSession, owner_sql, by_key: bool, token: str | None) -> None:
    # given a signed-in user, calling with an API key or without the session's token
    address = email("keyout")
    user, session_token = await service.sign_up(app_db, email=address, password=STRONG_PASSWORD, name="Key")
    caller = (
        Principal(user_id=user.id, api_key_id=uuid.uuid4()) if by_key else Principal(user_id=user.id, session_id=uuid.uuid4())
    )
    # when they log out
    with pytest.raises(ValidationError) as err:
        await service.log_out(app_db, caller, token=session_token if token == "the session token" else token)
    # then it is refused, and the session stays
    assert (err.value.code, err.value.field, err.value.message) == (
        "INVALID", None, "Sign out with the session token (API keys are revoked instead)."
    )
    assert await owner_sql("SELECT token_hash FROM sessions WHERE user_id = :u", u=user.id) == [(sha256(session_token),)]


# -- email verification --------------------------------------------------------------------------


async def test_email_verification_round_trip_and_single_use(app_db: AsyncSession, owner_sql) -> None:
    user = await builders.user(app_db)
    mail = await service.request_email_verification(app_db, user_id=user.id)
    assert mail.to == user.email
    token = mail.token
    rows = await owner_sql(
        "SELECT identifier, value, expires_at FROM verifications WHERE identifier LIKE :p", p=f"%{user.id}%"
    )
    assert [(r[0], r[1]) for r in rows] == [(f"email-verify:{user.id}:{user.email}", sha256(token))]
    assert about(datetime.now(UTC) + timedelta(hours=48), rows[0][2])
    # when verified
    verified = await service.verify_email(app_db, token=token)
    assert verified.id == user.id and verified.email_verified is True
    assert await owner_sql("SELECT count(*) FROM verifications WHERE identifier LIKE :p", p=f"%{user.id}%") == [(0,)]
    # then the same link does not work twice
    with pytest.raises(ValidationError) as err:
        await service.verify_email(app_db, token=token)
    assert (err.value.code, err.value.field) == ("TOKEN_INVALID", "token")
    # and a verified address needs no new link
    with pytest.raises(Conflict) as err:
        await service.request_email_verification(app_db, user_id=user.id)
    assert err.value.code == "ALREADY_VERIFIED"


async def test_expired_verification_token_is_refused(app_db: AsyncSession, owner_sql) -> None:
    user = await builders.user(app_db)
    token = (await service.request_email_verification(app_db, user_id=user.id)).token
    await owner_sql(
        "UPDATE verifications SET expires_at = now() - interval '1 second' WHERE value = :v", v=sha256(token)
    )
    with pytest.raises(ValidationError) as err:
        await service.verify_email(app_db, token=token)
    assert (err.value.code, err.value.field) == ("TOKEN_EXPIRED", "token")
    assert await owner_sql("SELECT email_verified FROM users WHERE id = :u", u=user.id) == [(False,)]


async def test_a_new_verification_link_replaces_the_old_one(app_db: AsyncSession) -> None:
    user = await builders.user(app_db)
    old = (await service.request_email_verification(app_db, user_id=user.id)).token
    new = (await service.request_email_verification(app_db, user_id=user.id)).token
    with pytest.raises(ValidationError) as err:
        await service.verify_email(app_db, token=old)
    assert err.value.code == "TOKEN_INVALID"
    assert (await service.verify_email(app_db, token=new)).email_verified is True


async def test_verification_link_is_bound_to_the_address_it_was_sent_to(app_db: AsyncSession, owner_sql) -> None:
    user = await builders.user(app_db)
    token = (await service.request_email_verification(app_db, user_id=user.id)).token
    await owner_sql("UPDATE users SET email = :e WHERE id = :u", e=email("changed"), u=user.id)
    app_db.expire_all()
    with pytest.raises(ValidationError) as err:
        await service.verify_email(app_db, token=token)
    assert err.value.code == "TOKEN_INVALID"


async def test_verification_for_unknown_user(app_db: AsyncSession) -> None:
    import uuid

    with pytest.raises(NotFound) as err:
        await service.request_email_verification(app_db, user_id=uuid.uuid4())
    assert err.value.code == "NOT_FOUND"


async def test_pending_verifications_are_the_users_live_tokens_newest_first(app_db: AsyncSession, owner_sql) -> None:
    # given a user with a verification link, then a reset link, an expired link, and another user's link
    user = await builders.user(app_db)
    other = await builders.user(app_db)
    await service.request_email_verification(app_db, user_id=other.id)
    await service.request_email_verification(app_db, user_id=user.id)
    await owner_sql("UPDATE verifications SET created_at = now() - interval '1 minute' WHERE identifier LIKE :p", p=f"%{user.id}%")
    await service.request_password_reset(app_db, email=user.email)
    await owner_sql(
        "INSERT INTO verifications (id, identifier, value, expires_at) VALUES (gen_random_uuid(), :i, 'spent', now() - interval '1 second')",
        i=f"email-verify:{user.id}:old@example.com",
    )
    # when the user's pending ones are listed
    await builders.use_tenant(app_db, None, user.id)
    pending = await service.pending_verifications(app_db, user_id=user.id)
    # then only their two live tokens come back, newest first
    assert [v.identifier for v in pending] == [f"password-reset:{user.id}:", f"email-verify:{user.id}:{user.email}"]


# -- password reset --------------------------------------------------------------------------------


async def test_password_reset_sets_the_password_and_ends_every_session(app_db: AsyncSession, owner_sql) -> None:
    address = email("reset")
    user, _ = await service.sign_up(app_db, email=address, password=STRONG_PASSWORD, name="Re")
    await service.log_in(app_db, email=address, password=STRONG_PASSWORD)
    assert await owner_sql("SELECT count(*) FROM sessions WHERE user_id = :u", u=user.id) == [(2,)]
    mail = await service.request_password_reset(app_db, email=address.upper())
    assert mail is not None and mail.to == address
    token = mail.token
    rows = await owner_sql("SELECT identifier, expires_at FROM verifications WHERE value = :v", v=sha256(token))
    assert rows[0][0] == f"password-reset:{user.id}:"
    assert about(datetime.now(UTC) + timedelta(minutes=60), rows[0][1])
    # when
    done = await service.reset_password(app_db, token=token, new_password="Brand-new-pass-7")
    # then
    assert done.id == user.id and done.email_verified is True
    assert await owner_sql("SELECT count(*) FROM sessions WHERE user_id = :u", u=user.id) == [(0,)]
    with pytest.raises(AuthError):
        await service.log_in(app_db, email=address, password=STRONG_PASSWORD)
    _, fresh = await service.log_in(app_db, email=address, password="Brand-new-pass-7")
    assert fresh
    # and the link is spent
    with pytest.raises(ValidationError) as err:
        await service.reset_password(app_db, token=token, new_password="Another-pass-8")
    assert (err.value.code, err.value.field) == ("TOKEN_INVALID", "token")


async def test_password_reset_for_unknown_email_returns_none_and_writes_nothing(
    app_db: AsyncSession, owner_sql
) -> None:
    before = await owner_sql("SELECT count(*) FROM verifications")
    assert await service.request_password_reset(app_db, email=email("ghost")) is None
    assert await service.request_password_reset(app_db, email="garbage") is None
    assert await owner_sql("SELECT count(*) FROM verifications") == before


async def test_expired_reset_token_is_refused(app_db: AsyncSession, owner_sql) -> None:
    user = await builders.user(app_db, password_hash=PasswordHasher().hash(STRONG_PASSWORD))
    token = (await service.request_password_reset(app_db, email=user.email)).token
    await owner_sql(
        "UPDATE verifications SET expires_at = now() - interval '1 second' WHERE value = :v", v=sha256(token)
    )
    with pytest.raises(ValidationError) as err:
        await service.reset_password(app_db, token=token, new_password="Brand-new-pass-7")
    assert (err.value.code, err.value.field) == ("TOKEN_EXPIRED", "token")
    stored = (await owner_sql("SELECT password_hash FROM users WHERE id = :u", u=user.id))[0][0]
    assert verify_password(stored, STRONG_PASSWORD)


async def test_weak_new_password_keeps_the_token_usable(app_db: AsyncSession, owner_sql) -> None:
    user = await builders.user(app_db, password_hash=PasswordHasher().hash(STRONG_PASSWORD))
    token = (await service.request_password_reset(app_db, email=user.email)).token
    with pytest.raises(ValidationError) as err:
        await service.reset_password(app_db, token=token, new_password="short")
    assert (err.value.code, err.value.field) == ("WEAK_PASSWORD", "new_password")
    assert await owner_sql("SELECT count(*) FROM verifications WHERE value = :v", v=sha256(token)) == [(1,)]
    await service.reset_password(app_db, token=token, new_password="Brand-new-pass-7")


async def test_tokens_only_work_for_their_purpose(app_db: AsyncSession) -> None:
    user = await builders.user(app_db)
    verify_token = (await service.request_email_verification(app_db, user_id=user.id)).token
    reset_token = (await service.request_password_reset(app_db, email=user.email)).token
    with pytest.raises(ValidationError) as err:
        await service.reset_password(app_db, token=verify_token, new_password="Brand-new-pass-7")
    assert err.value.code == "TOKEN_INVALID"
    with pytest.raises(ValidationError) as err:
        await service.verify_email(app_db, token=reset_token)
    assert err.value.code == "TOKEN_INVALID"
