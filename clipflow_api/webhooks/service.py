"""Webhook endpoints: where a workspace's events go, and the secret that signs them.

Rules: webhooks are a plan feature (``webhooks``); the caller needs ``webhook:manage``; a
URL is https (http outside production), names a host, carries no credentials and does not
point at a loopback, private or link-local address or a local name (the delivery worker
checks the resolved address again when it connects: a name can resolve anywhere); events
are 1-50 dotted names. Signing secrets (Standard Webhooks ``whsec_<base64>``) are made
here, returned once, and stored encrypted (``crypto.encrypt_token`` with
``webhooks.secret:<id>`` as associated data) for the delivery worker to decrypt.
Services flush, never commit; a refused change writes nothing.
"""

from __future__ import annotations

import base64
import ipaddress
import re
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from .. import audit
from ..auth.principal import Principal
from ..billing.plans import require_feature
from ..config import Settings, get_settings
from ..crypto import encrypt_token
from ..errors import ErrorCode, ValidationError
from ..models import Webhook
from ..processing.importer import is_public_address
from ..validation import UNSET, check_list, given, require_text
from . import repository

PERMISSION = "webhook:manage"
PLAN_FEATURE = "webhooks"
MAX_URL = 2000
MAX_EVENTS = 50
MAX_EVENT_NAME = 100
EVENT_NAME = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")  # clip.generated, post.published
# Names that only mean something inside our own network.
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain", ".home.arpa")
_NUMERIC_LABEL = re.compile(r"0x[0-9a-f]*|[0-9]+")


@dataclass
class WebhookInput:
    url: str
    events: list[str]
    is_active: bool = True


@dataclass
class WebhookChanges:
    url: Any = UNSET
    events: Any = UNSET
    is_active: Any = UNSET
    rotate_secret: bool = False


def new_secret() -> str:
    """A Standard Webhooks signing secret: ``whsec_`` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _sealed(secret: str, webhook_id: uuid.UUID) -> str:
    return encrypt_token(secret, associated_data=f"webhooks.secret:{webhook_id}")


def _is_local_host(host: str, allow: Iterable[Any]) -> bool:
    """A loopback / private / link-local address, or a name that only resolves locally."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        name = host.rstrip(".").lower()
        # "0x7f.1" or "2130706433": resolvers read such names as (loopback) addresses
        numeric = all(_NUMERIC_LABEL.fullmatch(label) for label in name.split("."))
        return numeric or name == "localhost" or "." not in name or name.endswith(_LOCAL_SUFFIXES)
    return not is_public_address(host, allow)


def check_url(url: str, settings: Settings) -> str:
    """The trimmed URL if events may be sent there; INVALID (field ``url``) otherwise."""
    url = require_text(url, "url", max_length=MAX_URL)
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        raise ValidationError(ErrorCode.INVALID, "Use an https:// URL.", "url") from None
    schemes = ("https",) if settings.is_production else ("https", "http")
    if parts.scheme not in schemes or not host:
        raise ValidationError(ErrorCode.INVALID, "Use an https:// URL.", "url")
    if parts.username is not None or parts.password is not None:
        raise ValidationError(ErrorCode.INVALID_URL, "A webhook URL cannot hold a user name or password.", "url")
    if _is_local_host(host, settings.import_allow_networks):
        raise ValidationError(
            ErrorCode.INVALID_URL, "Use a public address: webhooks cannot be sent to local or private networks.", "url"
        )
    return url


def check_events(events: list[str] | None) -> list[str]:
    """Trimmed, de-duplicated event names (in order); at least one, at most 50."""
    check_list(events, "events", max_items=MAX_EVENTS)
    cleaned = [e.strip() for e in events or [] if e.strip()]
    if not cleaned:
        raise ValidationError(ErrorCode.REQUIRED, "Choose at least one event.", "events")
    if any(len(e) > MAX_EVENT_NAME for e in cleaned):
        raise ValidationError(ErrorCode.INVALID, f"Event names are at most {MAX_EVENT_NAME} characters.", "events")
    if not all(EVENT_NAME.fullmatch(e) for e in cleaned):
        raise ValidationError(ErrorCode.INVALID, "Event names look like clip.generated.", "events")
    return list(dict.fromkeys(cleaned))


async def create_webhook(
    session: AsyncSession, principal: Principal, data: WebhookInput, *, settings: Settings | None = None
) -> tuple[Webhook, str]:
    """Add a webhook to the principal's workspace; returns it and its signing secret (shown once)."""
    workspace_id = principal.require(PERMISSION)
    await require_feature(session, workspace_id, PLAN_FEATURE)
    settings = settings or get_settings()
    url, events = check_url(data.url, settings), check_events(data.events)
    webhook_id, secret = uuid.uuid4(), new_secret()
    row = await repository.add(
        session, id=webhook_id, workspace_id=workspace_id, url=url, events=events, is_active=data.is_active,
        secret=_sealed(secret, webhook_id),
    )
    await audit.record(
        session, principal, "webhook.create", resource_type="webhook", resource_id=row.id,
        details={"url": row.url, "events": row.events},
    )
    return row, secret


async def update_webhook(
    session: AsyncSession, principal: Principal, webhook_id: uuid.UUID, changes: WebhookChanges,
    *, settings: Settings | None = None,
) -> tuple[Webhook, str | None]:
    """Change a webhook; switching it back on clears its failure count. Returns it and a new secret when rotated."""
    principal.require(PERMISSION)
    settings = settings or get_settings()
    url = check_url(changes.url, settings) if given(changes.url) and changes.url is not None else None
    events = check_events(changes.events) if given(changes.events) and changes.events is not None else None
    row = await repository.get_for_update(session, webhook_id)
    done: dict[str, Any] = {}
    if url is not None:
        done["url"] = row.url = url
    if events is not None:
        done["events"] = row.events = events
    if given(changes.is_active) and changes.is_active is not None:
        done["is_active"] = row.is_active = changes.is_active
        if changes.is_active:
            row.failure_count = 0
    secret = None
    if changes.rotate_secret:
        secret = new_secret()
        row.secret = _sealed(secret, row.id)
        done["secret_rotated"] = True
    row = await repository.save(session, row)
    await audit.record(session, principal, "webhook.update", resource_type="webhook", resource_id=row.id, details=done)
    return row, secret


async def delete_webhook(session: AsyncSession, principal: Principal, webhook_id: uuid.UUID) -> Webhook:
    """Delete a webhook and its delivery log; returns its last state."""
    principal.require(PERMISSION)
    row = await repository.get_for_update(session, webhook_id)
    await repository.delete(session, row)
    await audit.record(
        session, principal, "webhook.delete", resource_type="webhook", resource_id=row.id, details={"url": row.url}
    )
    return row
