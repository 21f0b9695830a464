"""Social account tokens for publishing: refresh ahead of expiry under a row lock, TikTok's
rotation, dead grants (reconnect_required + outbox event + audit), transient failures (nothing
changes), and the refresh cron. Against the fake platforms' OAuth endpoints."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from clipflow_api import clock
from clipflow_api.crypto import decrypt_token, encrypt_token
from clipflow_api.db import session_factory, tenant_session
from clipflow_api.errors import Conflict, ErrorCode
from clipflow_api.models import OutboxEvent, SocialAccount
from clipflow_api.publishing import accounts, oauth
from clipflow_api.publishing import accounts_repository as repository
from clipflow_api.publishing.accounts import PlatformUnavailable, ReconnectRequired
from clipflow_worker.tasks.accounts import refresh_social_tokens
from tests.fixtures import builders
from tests.fixtures.platforms import Fault
from tests.publishing.test_oauth import (  # noqa: F401
    CHANNEL,
    IG_USER,
    OPEN_ID,
    Fakes,
    _servers,
    fakes,
)

USERS = {"youtube": CHANNEL, "tiktok": OPEN_ID, "instagram": IG_USER}


async def seed(db: AsyncSession, ws: Any, fakes: Fakes, platform: str, *, expires_in: timedelta,
               status: str = "active") -> SocialAccount:
    """An account holding tokens the fake issued, expiring in ``expires_in``."""
    fake = fakes.of(platform)
    access, refresh = fake.state.oauth.issue(fake.state, USERS[platform])
    row_id = uuid.uuid4()
    row = SocialAccount(
        id=row_id, workspace_id=ws.id, platform=platform, platform_user_id=USERS[platform], username=f"{platform}-user",
        access_token=encrypt_token(access, associated_data=f"social_account:{row_id}:access"),
        refresh_token=encrypt_token(refresh, associated_data=f"social_account:{row_id}:refresh") if refresh else None,
        token_expires_at=clock.now() + expires_in, status=status,
    )
    db.add(row)
    await db.flush()
    return row


def plain(account: SocialAccount, kind: str = "access") -> str | None:
    value = account.access_token if kind == "access" else account.refresh_token
    return decrypt_token(value, associated_data=f"social_account:{account.id}:{kind}") if value else None


async def reload(db: AsyncSession, account: SocialAccount) -> SocialAccount:
    return (await db.execute(select(SocialAccount).where(SocialAccount.id == account.id)
                             .execution_options(populate_existing=True))).scalar_one()


async def events_of(db: AsyncSession, account: SocialAccount) -> list[tuple[str, dict]]:
    rows = await db.execute(select(OutboxEvent.type, OutboxEvent.payload).where(OutboxEvent.workspace_id == account.workspace_id))
    return [(t, p) for t, p in rows]


# --- refresh ahead of expiry ----------------------------------------------------------------


async def test_a_token_far_from_expiry_is_used_as_is(db: AsyncSession, fakes: Fakes) -> None:
    ws = await builders.workspace(db)
    account = await seed(db, ws, fakes, "tiktok", expires_in=timedelta(hours=1))
    before = plain(account)
    token = await accounts.access_token(db, account, settings=fakes.settings())
    assert token == before
    assert fakes.tiktok.state.oauth.refreshes == 0


@pytest.mark.parametrize("platform", ["youtube", "tiktok", "instagram"])
async def test_a_token_expiring_soon_is_refreshed_first(db: AsyncSession, fakes: Fakes, platform: str) -> None:
    # given a token expiring in two minutes (within the five-minute margin)
    ws = await builders.workspace(db)
    account = await seed(db, ws, fakes, platform, expires_in=timedelta(minutes=2))
    old_access, old_refresh = plain(account), plain(account, "refresh")
    # when publishing asks for it
    token = await accounts.access_token(db, account, settings=fakes.settings())
    # then the platform issued a new one, stored encrypted with its new expiry
    fake = fakes.of(platform)
    row = await reload(db, account)
    assert token != old_access and fake.state.tokens[token] == USERS[platform]
    assert plain(row) == token and row.access_token != token
    assert fake.state.oauth.refreshes == 1
    ttl = {"youtube": 3599, "tiktok": 86400, "instagram": 5184000}[platform]
    assert row.token_expires_at is not None
    assert timedelta(seconds=ttl - 30) < row.token_expires_at - clock.now() <= timedelta(seconds=ttl)
    if platform == "youtube":
        assert plain(row, "refresh") == old_refresh  # Google's refresh tokens do not rotate
    elif platform == "tiktok":
        assert plain(row, "refresh") not in (None, old_refresh)  # rotated
        assert old_refresh in fake.state.oauth.retired
    else:
        assert row.refresh_token is None  # the long-lived token refreshes itself
    assert row.status == "active" and await events_of(db, account) == []


async def test_tiktok_rotation_lands_with_the_access_token_in_one_update(db: AsyncSession, fakes: Fakes) -> None:
    ws = await builders.workspace(db)
    account = await seed(db, ws, fakes, "tiktok", expires_in=timedelta(minutes=1))
    old_refresh = plain(account, "refresh")
    updates: list[tuple[str, Any]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001, ANN202
        if statement.lstrip().upper().startswith("UPDATE SOCIAL_ACCOUNTS"):
            updates.append((statement, parameters))

    sync_engine = (await db.connection()).sync_engine
    event.listen(sync_engine, "before_cursor_execute", capture)
    try:
        await accounts.access_token(db, account, settings=fakes.settings())
    finally:
        event.remove(sync_engine, "before_cursor_execute", capture)
    # one UPDATE wrote both tokens (and the expiry)
    [(statement, _)] = updates
    assert "access_token=" in statement.replace(" ", "") and "refresh_token=" in statement.replace(" ", "")
    assert "token_expires_at=" in statement.replace(" ", "")
    # and the stored refresh token is the live one: the next refresh works
    row = await reload(db, account)
    new_refresh = plain(row, "refresh")
    assert new_refresh != old_refresh and fakes.tiktok.state.oauth.refresh_tokens[new_refresh or ""] == OPEN_ID
    row.token_expires_at = clock.now()
    await db.flush()
    await accounts.access_token(db, row, settings=fakes.settings())
    assert fakes.tiktok.state.oauth.refreshes == 2 and (await reload(db, row)).status == "active"


async def test_two_concurrent_refreshes_make_one_call(committed, app_engine, fakes: Fakes) -> None:  # noqa: ANN001
    # given a committed TikTok account about to expire, and a slow token endpoint
    ws = await builders.workspace(committed)
    account = await seed(committed, ws, fakes, "tiktok", expires_in=timedelta(minutes=1))
    await committed.commit()
    fakes.tiktok.state.oauth.delay_s = 0.4
    factory = session_factory(app_engine)
    settings = fakes.settings()

    async def publish() -> str:
        async with tenant_session(factory, workspace_id=ws.id) as session:
            row = await repository.get_account(session, ws.id, account.id)
            assert row is not None
            token = await accounts.access_token(session, row, settings=settings)
            await session.commit()
            return token

    # when two workers ask at once
    first, second = await asyncio.gather(publish(), publish())
    # then one refresh reached TikTok; the second waited for the lock and used its result
    assert fakes.tiktok.state.oauth.refreshes == 1
    assert first == second and fakes.tiktok.state.tokens[first] == OPEN_ID
    row = await reload(committed, account)
    assert plain(row) == first
    assert fakes.tiktok.state.oauth.refresh_tokens[plain(row, "refresh") or ""] == OPEN_ID
    await committed.commit()


# --- dead grants ----------------------------------------------------------------------------


@pytest.mark.parametrize("platform", ["youtube", "tiktok", "instagram"])
async def test_a_revoked_grant_marks_the_account_reconnect_required(db: AsyncSession, fakes: Fakes, platform: str) -> None:
    # given the user removed ClipFlow in the platform's settings
    ws = await builders.workspace(db)
    account = await seed(db, ws, fakes, platform, expires_in=timedelta(minutes=1))
    fake = fakes.of(platform)
    fake.state.oauth.revoke_account(fake.state, USERS[platform])
    old_access = account.access_token
    # when publishing asks for a token
    with pytest.raises(ReconnectRequired) as caught:
        await accounts.access_token(db, account, settings=fakes.settings())
    # then the account says why, with an outbox event and an audit entry; tokens are kept for a later look
    name = {"youtube": "YouTube", "tiktok": "TikTok", "instagram": "Instagram"}[platform]
    reason = {"youtube": "Token has been expired or revoked.", "tiktok": "Refresh token is invalid or expired.",
              "instagram": "Error validating access token: Session has expired."}[platform]
    message = f"{name} no longer accepts ClipFlow's access ({reason}); connect the account again."
    assert caught.value.code == ErrorCode.RECONNECT_REQUIRED and caught.value.message == message
    row = await reload(db, account)
    assert (row.status, row.last_error, row.access_token) == ("reconnect_required", message, old_access)
    assert await events_of(db, account) == [("social_account.reconnect_required", {
        "social_account_id": str(account.id), "platform": platform, "username": f"{platform}-user", "reason": message})]
    audit = (await db.execute(text("SELECT action, details FROM audit_logs WHERE resource_id = :id"),
                              {"id": account.id})).all()
    assert audit == [("social_account.reconnect_required", {"reason": message})]
    # and the next caller is refused without asking the platform again
    with pytest.raises(ReconnectRequired):
        await accounts.access_token(db, row, settings=fakes.settings())
    assert fake.state.oauth.refreshes == 1


async def test_a_reused_tiktok_refresh_token_is_a_dead_grant(db: AsyncSession, fakes: Fakes) -> None:
    # given a rotation whose new refresh token was lost (the old one put back)
    ws = await builders.workspace(db)
    account = await seed(db, ws, fakes, "tiktok", expires_in=timedelta(minutes=1))
    stale = account.refresh_token
    await accounts.access_token(db, account, settings=fakes.settings())
    row = await reload(db, account)
    row.refresh_token, row.token_expires_at = stale, clock.now()
    await db.flush()
    # then TikTok treats the reuse as theft and the account must be connected again
    with pytest.raises(ReconnectRequired):
        await accounts.access_token(db, row, settings=fakes.settings())
    assert (await reload(db, row)).status == "reconnect_required"


async def test_a_disconnected_account_has_no_token(db: AsyncSession, fakes: Fakes) -> None:
    ws = await builders.workspace(db)
    account = await seed(db, ws, fakes, "tiktok", expires_in=timedelta(minutes=1), status="disconnected")
    with pytest.raises(Conflict) as caught:
        await accounts.access_token(db, account, settings=fakes.settings())
    assert caught.value.code == ErrorCode.RECONNECT_REQUIRED
    assert fakes.tiktok.state.oauth.refreshes == 0


# --- transient failures never disconnect ----------------------------------------------------


@pytest.mark.parametrize("fault", ["server_error", "rate_limit", "timeout", "network"])
@pytest.mark.parametrize("platform", ["youtube", "tiktok", "instagram"])
async def test_transient_failures_change_nothing(
    db: AsyncSession, fakes: Fakes, platform: str, fault: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = await builders.workspace(db)
    account = await seed(db, ws, fakes, platform, expires_in=timedelta(minutes=1))
    before = (account.status, account.access_token, account.refresh_token, account.token_expires_at)
    fake = fakes.of(platform)
    settings = fakes.settings()
    if fault == "server_error":
        fake.state.faults.add("token", Fault.server_error())
    elif fault == "rate_limit":
        fake.state.faults.add("token", Fault.rate_limit(retry_after=7))
    elif fault == "timeout":
        monkeypatch.setattr(oauth, "HTTP_TIMEOUT_SECONDS", 0.3)
        fake.state.faults.add("token", Fault.hang(seconds=2))
    else:  # nothing listens there
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
        key = {"youtube": "youtube_oauth_token_url", "tiktok": "tiktok_oauth_token_url",
               "instagram": "instagram_oauth_refresh_url"}[platform]
        settings = fakes.settings(**{key: dead + "/token"})
    with pytest.raises(PlatformUnavailable) as caught:
        await accounts.access_token(db, account, settings=settings)
    assert caught.value.code == ErrorCode.PLATFORM_UNAVAILABLE and caught.value.retryable
    if fault == "rate_limit":
        assert caught.value.retry_after == 7
    row = await reload(db, account)
    assert (row.status, row.access_token, row.refresh_token, row.token_expires_at) == before
    assert row.last_error is None and await events_of(db, account) == []


# --- the refresh cron -----------------------------------------------------------------------


async def test_due_token_refreshes_lists_active_accounts_expiring_soon(db: AsyncSession, fakes: Fakes) -> None:
    ws = await builders.workspace(db)
    soon = await seed(db, ws, fakes, "tiktok", expires_in=timedelta(minutes=10))
    later = await seed(db, ws, fakes, "youtube", expires_in=timedelta(hours=2))
    dead = await seed(db, ws, fakes, "instagram", expires_in=timedelta(minutes=5), status="reconnect_required")
    due = await repository.due_token_refreshes(db, 30 * 60, 100)
    ids = {d.id for d in due}
    assert soon.id in ids and later.id not in ids and dead.id not in ids
    assert repository.DueRefresh(soon.id, ws.id) in due


async def test_the_cron_refreshes_each_account_in_its_own_transaction(committed, owner_engine, fakes: Fakes) -> None:  # noqa: ANN001
    # given three accounts expiring soon: one fine, one revoked, one whose platform is down
    ws = await builders.workspace(committed)
    fine = await seed(committed, ws, fakes, "tiktok", expires_in=timedelta(minutes=10))
    revoked = await seed(committed, ws, fakes, "youtube", expires_in=timedelta(minutes=10))
    down = await seed(committed, ws, fakes, "instagram", expires_in=timedelta(minutes=10))
    await committed.commit()
    fakes.youtube.state.oauth.revoke_account(fakes.youtube.state, CHANNEL)
    fakes.instagram.state.faults.add("token", Fault.server_error())
    down_before = down.access_token
    ctx = {"settings": fakes.settings(), "session_factory": session_factory(owner_engine)}
    # when the cron runs
    refreshed = await refresh_social_tokens(ctx)
    # then the fine one is refreshed, the revoked one marked (committed), the other untouched
    assert refreshed >= 1
    rows = {a.platform: a for a in [await reload(committed, x) for x in (fine, revoked, down)]}
    assert rows["tiktok"].status == "active" and rows["tiktok"].token_expires_at is not None
    assert rows["tiktok"].token_expires_at - clock.now() > timedelta(hours=23)
    assert rows["youtube"].status == "reconnect_required"
    assert (rows["instagram"].status, rows["instagram"].access_token) == ("active", down_before)
    assert [t for t, _ in await events_of(committed, fine)] == ["social_account.reconnect_required"]
    await committed.commit()


# --- disconnect (the service; the HTTP flow is in test_oauth.py) -------------------------------


async def test_disconnect_goes_ahead_when_the_platform_cannot_be_told(db: AsyncSession, fakes: Fakes) -> None:
    from tests.auth.helpers import principal

    ws = await builders.workspace(db)
    account = await seed(db, ws, fakes, "tiktok", expires_in=timedelta(hours=1))
    settings = fakes.settings(tiktok_oauth_revoke_url="http://127.0.0.1:9/revoke")  # nothing listens on the discard port
    row = await accounts.disconnect(db, principal(ws.owner_id, ws.id, "owner"), account.id, settings=settings)
    assert (row.status, row.access_token, row.refresh_token, row.token_expires_at) == ("disconnected", "", None, None)
    [details] = (await db.execute(text("SELECT details FROM audit_logs WHERE resource_id = :id"), {"id": account.id})).scalars()
    # the note says what happened, and that nothing retries (nothing does)
    assert details == {"platform": "tiktok", "revoked": False, "revoke_error": (
        "TikTok could not be reached, so ClipFlow's access was not revoked at TikTok. Nothing will retry: ClipFlow "
        "deleted its copy of the tokens; the access ends when it expires at TikTok or when the account's owner "
        "removes ClipFlow in the TikTok settings.")}


async def test_disconnect_notes_a_revoke_the_platform_refused_or_an_unreadable_token(db: AsyncSession, fakes: Fakes) -> None:
    from tests.auth.helpers import principal

    ws = await builders.workspace(db)
    down = await seed(db, ws, fakes, "youtube", expires_in=timedelta(hours=1))
    unreadable = await seed(db, ws, fakes, "tiktok", expires_in=timedelta(hours=1))
    unreadable.access_token = "1:not-a-ciphertext"
    await db.flush()
    fakes.youtube.state.faults.add("revoke", Fault.server_error())
    owner = principal(ws.owner_id, ws.id, "owner")
    for account in (down, unreadable):
        row = await accounts.disconnect(db, owner, account.id, settings=fakes.settings())
        assert row.status == "disconnected"
    notes = dict((await db.execute(text("SELECT details->>'platform', details->>'revoke_error' FROM audit_logs "
                                        "WHERE action = 'social_account.disconnect' AND workspace_id = :w"),
                                   {"w": ws.id})).all())
    tail = "Nothing will retry: ClipFlow deleted its copy of the tokens;"
    assert notes["youtube"].startswith("YouTube answered with an error (HTTP 500), so ClipFlow's access was not "
                                       "revoked at YouTube. " + tail)
    assert notes["tiktok"].startswith("ClipFlow could not read the stored tokens, so ClipFlow's access was not "
                                      "revoked at TikTok. " + tail)
    assert "try again" not in notes["youtube"] + notes["tiktok"]


async def test_disconnect_of_another_workspaces_account_is_not_found(db: AsyncSession, fakes: Fakes) -> None:
    from clipflow_api.errors import NotFound
    from tests.auth.helpers import principal

    mine, theirs = await builders.workspace(db), await builders.workspace(db)
    account = await seed(db, theirs, fakes, "tiktok", expires_in=timedelta(hours=1))
    before = (account.status, account.access_token)
    with pytest.raises(NotFound):
        await accounts.disconnect(db, principal(mine.owner_id, mine.id, "owner"), account.id, settings=fakes.settings())
    row = await reload(db, account)
    assert (row.status, row.access_token) == before and fakes.tiktok.state.oauth.revoked == []
