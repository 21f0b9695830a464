"""Webhook rules (clipflow_api.webhooks.service), as the app role (RLS on)."""

from __future__ import annotations

import ipaddress
import uuid

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from clipflow_api.billing.plans import PlanFeatureRequired
from clipflow_api.config import get_settings
from clipflow_api.crypto import decrypt_token
from clipflow_api.errors import NotFound, PermissionDenied, ValidationError
from clipflow_api.webhooks import service
from clipflow_api.webhooks.service import WebhookChanges, WebhookInput
from clipflow_api.workspaces import service as workspaces
from tests.auth.helpers import principal
from tests.fixtures.builders import use_tenant
from tests.fixtures import builders

HOOK_COLUMNS = "SELECT url, events, is_active, failure_count, secret FROM webhooks WHERE workspace_id = :w ORDER BY created_at"


async def _workspace(db: AsyncSession, plan: str | None = "pro"):
    """A workspace (on ``plan``) with its owner acting in it; returns (ws, owner principal)."""
    owner = await builders.user(db, email_verified=True)
    if plan:
        await builders.subscribe(db, owner.id, plan)
    ws = await workspaces.create_workspace(db, owner_id=owner.id, name="Hooks")
    await use_tenant(db, ws.id, owner.id)
    return ws, principal(owner.id, ws.id, "owner")


async def _hooks(owner_sql, ws) -> list[tuple]:
    return [tuple(r) for r in await owner_sql(HOOK_COLUMNS, w=ws.id)]


async def _audit(owner_sql, ws) -> list[tuple]:
    """The workspace's webhook entries, by action then details (one transaction: created_at ties)."""
    return [tuple(r) for r in await owner_sql(
        "SELECT action, resource_type, details FROM audit_logs WHERE workspace_id = :w AND action LIKE 'webhook.%' "
        "ORDER BY action, details::text",
        w=ws.id,
    )]


# -- create ----------------------------------------------------------------------------------------


async def test_create_stores_the_secret_encrypted_and_returns_it_once(app_db: AsyncSession, owner_sql) -> None:
    ws, owner = await _workspace(app_db)
    # when
    row, secret = await service.create_webhook(
        app_db, owner, WebhookInput(url=" https://hooks.example.com/in ", events=["clip.generated", " post.published", "clip.generated"])
    )
    # then the URL is trimmed, the events de-duplicated in order, the secret sealed to the row
    assert (row.url, row.events, row.is_active, row.failure_count) == (
        "https://hooks.example.com/in", ["clip.generated", "post.published"], True, 0
    )
    assert secret.startswith("whsec_") and len(secret) == len("whsec_") + 44
    [(url, events, active, failures, stored)] = await _hooks(owner_sql, ws)
    assert secret not in stored
    assert decrypt_token(stored, associated_data=f"webhooks.secret:{row.id}") == secret
    assert await _audit(owner_sql, ws) == [
        ("webhook.create", "webhook", {"url": "https://hooks.example.com/in", "events": ["clip.generated", "post.published"]})
    ]


async def test_two_webhooks_get_different_secrets(app_db: AsyncSession) -> None:
    _, owner = await _workspace(app_db)
    first = await service.create_webhook(app_db, owner, WebhookInput(url="https://a.example.com", events=["clip.generated"]))
    second = await service.create_webhook(app_db, owner, WebhookInput(url="https://a.example.com", events=["clip.generated"]))
    assert first[1] != second[1]


async def test_a_free_workspace_gets_no_webhooks(app_db: AsyncSession, owner_sql) -> None:
    ws, owner = await _workspace(app_db, plan=None)
    with pytest.raises(PlanFeatureRequired) as err:
        await service.create_webhook(app_db, owner, WebhookInput(url="https://hooks.example.com", events=["clip.generated"]))
    assert (err.value.code, err.value.message) == (
        "PLAN_FEATURE_REQUIRED", "The Free plan does not include webhooks; upgrade to Pro or above."
    )
    assert await _hooks(owner_sql, ws) == []


async def test_a_member_without_webhook_manage_is_refused(app_db: AsyncSession, owner_sql) -> None:
    ws, owner = await _workspace(app_db)
    viewer = principal(owner.user_id, ws.id, "viewer")
    with pytest.raises(PermissionDenied) as err:
        await service.create_webhook(app_db, viewer, WebhookInput(url="https://hooks.example.com", events=["clip.generated"]))
    assert (err.value.code, err.value.message) == ("PERMISSION_DENIED", "You need the webhook:manage permission in this workspace.")
    assert await _hooks(owner_sql, ws) == []


HTTPS_ONLY = ("INVALID", "Use an https:// URL.")
LOCAL = ("INVALID_URL", "Use a public address: webhooks cannot be sent to local or private networks.")


@pytest.mark.parametrize(
    ("url", "code", "message"),
    [
        ("", "REQUIRED", "This field is required."),
        ("   ", "REQUIRED", "This field is required."),
        ("https://example.com/" + "x" * 2000, "INVALID", "At most 2000 characters."),
        ("ftp://hooks.example.com/x", *HTTPS_ONLY),
        ("hooks.example.com/x", *HTTPS_ONLY),
        ("https:///path-only", *HTTPS_ONLY),
        ("https://[::1", *HTTPS_ONLY),
        ("https://user:pass@hooks.example.com/x", "INVALID_URL", "A webhook URL cannot hold a user name or password."),
        ("https://127.0.0.1/x", *LOCAL),
        ("https://10.1.2.3/x", *LOCAL),
        ("https://192.168.0.10:8443/x", *LOCAL),
        ("https://169.254.169.254/latest/meta-data", *LOCAL),
        ("https://100.64.0.1/x", *LOCAL),
        ("https://[::1]/x", *LOCAL),
        ("https://[fd00::1]/x", *LOCAL),
        ("https://[::ffff:127.0.0.1]/x", *LOCAL),
        ("https://0.0.0.0/x", *LOCAL),
        ("https://localhost/x", *LOCAL),
        ("https://api.localhost/x", *LOCAL),
        ("https://metadata.google.internal/x", *LOCAL),
        ("https://printer.local/x", *LOCAL),
        ("https://intranet/x", *LOCAL),
        ("https://2130706433/x", *LOCAL),
        ("https://0x7f.1/x", *LOCAL),
    ],
)
def test_urls_that_are_refused(url: str, code: str, message: str) -> None:
    with pytest.raises(ValidationError) as err:
        service.check_url(url, get_settings())
    assert (err.value.code, err.value.message, err.value.field) == (code, message, "url")


@pytest.mark.parametrize(
    "url", ["https://hooks.example.com/in?x=1", "https://93.184.216.34/x", "https://[2606:4700::1111]/x", "http://hooks.example.com/dev"]
)
def test_public_urls_pass_outside_production(url: str) -> None:
    assert service.check_url(url, get_settings()) == url


def test_production_takes_https_only() -> None:
    production = get_settings().model_copy(update={"environment": "production"})
    with pytest.raises(ValidationError) as err:
        service.check_url("http://hooks.example.com/x", production)
    assert (err.value.code, err.value.message) == HTTPS_ONLY
    assert service.check_url("https://hooks.example.com/x", production) == "https://hooks.example.com/x"


def test_allowed_networks_open_private_addresses() -> None:
    settings = get_settings().model_copy(update={"import_allow_networks": [ipaddress.ip_network("10.0.0.0/8")]})
    assert service.check_url("https://10.1.2.3/x", settings) == "https://10.1.2.3/x"
    with pytest.raises(ValidationError):
        service.check_url("https://192.168.0.1/x", settings)


@pytest.mark.parametrize(
    ("events", "code", "message"),
    [
        ([], "REQUIRED", "Choose at least one event."),
        ([" ", ""], "REQUIRED", "Choose at least one event."),
        (["clip.generated"] * 51, "INVALID", "At most 50 items."),
        (["clip." + "x" * 100], "INVALID", "Event names are at most 100 characters."),
        (["clip"], "INVALID", "Event names look like clip.generated."),
        (["Clip.Generated"], "INVALID", "Event names look like clip.generated."),
        (["clip.generated", "clip generated"], "INVALID", "Event names look like clip.generated."),
    ],
)
def test_events_that_are_refused(events: list[str], code: str, message: str) -> None:
    with pytest.raises(ValidationError) as err:
        service.check_events(events)
    assert (err.value.code, err.value.message, err.value.field) == (code, message, "events")


async def test_a_refused_create_writes_nothing(app_db: AsyncSession, owner_sql) -> None:
    ws, owner = await _workspace(app_db)
    with pytest.raises(ValidationError):
        await service.create_webhook(app_db, owner, WebhookInput(url="https://10.0.0.1/x", events=["clip.generated"]))
    assert await _hooks(owner_sql, ws) == []
    assert await _audit(owner_sql, ws) == []


# -- update / delete -------------------------------------------------------------------------------


async def test_update_changes_given_fields_and_reactivation_clears_failures(app_db: AsyncSession, owner_sql) -> None:
    ws, owner = await _workspace(app_db)
    row, secret = await service.create_webhook(app_db, owner, WebhookInput(url="https://a.example.com", events=["clip.generated"]))
    row.is_active, row.failure_count = False, 9
    await app_db.flush()
    # when only the activity changes
    updated, new_secret = await service.update_webhook(app_db, owner, row.id, WebhookChanges(is_active=True))
    # then the rest stays, the failures reset, and no secret is made
    assert new_secret is None
    [(url, events, active, failures, stored)] = await _hooks(owner_sql, ws)
    assert (url, events, active, failures) == ("https://a.example.com", ["clip.generated"], True, 0)
    assert decrypt_token(stored, associated_data=f"webhooks.secret:{row.id}") == secret
    # and a URL / events change is audited with what changed
    await service.update_webhook(app_db, owner, row.id, WebhookChanges(url="https://b.example.com", events=["post.published"]))
    assert (await _audit(owner_sql, ws))[1:] == [
        ("webhook.update", "webhook", {"is_active": True}),
        ("webhook.update", "webhook", {"url": "https://b.example.com", "events": ["post.published"]}),
    ]


async def test_rotation_makes_a_new_sealed_secret(app_db: AsyncSession, owner_sql) -> None:
    ws, owner = await _workspace(app_db)
    row, first = await service.create_webhook(app_db, owner, WebhookInput(url="https://a.example.com", events=["clip.generated"]))
    _, second = await service.update_webhook(app_db, owner, row.id, WebhookChanges(rotate_secret=True))
    assert second is not None and second.startswith("whsec_") and second != first
    [(*_, stored)] = await _hooks(owner_sql, ws)
    assert decrypt_token(stored, associated_data=f"webhooks.secret:{row.id}") == second
    assert (await _audit(owner_sql, ws))[1:] == [("webhook.update", "webhook", {"secret_rotated": True})]


async def test_a_refused_update_changes_nothing(app_db: AsyncSession, owner_sql) -> None:
    ws, owner = await _workspace(app_db)
    row, _ = await service.create_webhook(app_db, owner, WebhookInput(url="https://a.example.com", events=["clip.generated"]))
    before = await _hooks(owner_sql, ws)
    for changes in (WebhookChanges(url="https://localhost/x", rotate_secret=True), WebhookChanges(events=[" "], is_active=False)):
        with pytest.raises(ValidationError):
            await service.update_webhook(app_db, owner, row.id, changes)
    assert await _hooks(owner_sql, ws) == before
    assert [a[0] for a in await _audit(owner_sql, ws)] == ["webhook.create"]


async def test_another_workspaces_webhook_is_not_found(app_db: AsyncSession, owner_sql) -> None:
    ws, owner = await _workspace(app_db)
    row, _ = await service.create_webhook(app_db, owner, WebhookInput(url="https://a.example.com", events=["clip.generated"]))
    other_ws, other = await _workspace(app_db)
    for call in (
        service.update_webhook(app_db, other, row.id, WebhookChanges(is_active=False)),
        service.delete_webhook(app_db, other, row.id),
        service.delete_webhook(app_db, other, uuid.uuid4()),
    ):
        with pytest.raises(NotFound) as err:
            await call
        assert (err.value.code, err.value.message, err.value.field) == ("NOT_FOUND", "No such webhook.", "id")
    await use_tenant(app_db, ws.id, owner.user_id)
    assert [r[:3] for r in await _hooks(owner_sql, ws)] == [("https://a.example.com", ["clip.generated"], True)]


async def test_delete_takes_the_delivery_log_along(app_db: AsyncSession, owner_sql) -> None:
    ws, owner = await _workspace(app_db)
    row, _ = await service.create_webhook(app_db, owner, WebhookInput(url="https://a.example.com", events=["clip.generated"]))
    await owner_sql(
        "INSERT INTO webhook_logs (workspace_id, webhook_id, event_type, event_id, request_body, success) "
        "VALUES (:w, :h, 'clip.generated', gen_random_uuid(), '{}', true)", w=ws.id, h=row.id,
    )
    deleted = await service.delete_webhook(app_db, owner, row.id)
    assert (deleted.id, deleted.url) == (row.id, "https://a.example.com")
    assert await _hooks(owner_sql, ws) == []
    assert await owner_sql("SELECT count(*) FROM webhook_logs WHERE webhook_id = :h", h=row.id) == [(0,)]
    assert (await _audit(owner_sql, ws))[1:] == [("webhook.delete", "webhook", {"url": "https://a.example.com"})]
