"""The API key daily request limit, counted in Redis per key per UTC day."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis

from ..errors import ErrorCode, RateLimited

# Keep a day's counter a little past midnight so a request straddling it still finds it.
_GRACE_SECONDS = 3600


def usage_key(key_id: uuid.UUID, day: datetime) -> str:
    return f"clipflow:api_key_usage:{key_id}:{day:%Y%m%d}"


def next_reset(now: datetime) -> datetime:
    """The next UTC midnight."""
    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today + timedelta(days=1)


async def count_request(redis: Redis, *, key_id: uuid.UUID, limit: int, now: datetime | None = None) -> int:
    """Count one request against the key's daily limit; RateLimited once it is exceeded.

    INCR and EXPIRE go in one MULTI, so no counter is left without an expiry.
    """
    now = now or datetime.now(UTC)
    reset_at = next_reset(now)
    key = usage_key(key_id, now.astimezone(UTC))
    async with redis.pipeline(transaction=True) as pipe:
        pipe.incr(key)
        pipe.expire(key, int((reset_at - now).total_seconds()) + _GRACE_SECONDS)
        count, _ = await pipe.execute()
    if count > limit:
        raise RateLimited(
            ErrorCode.RATE_LIMITED,
            f"This API key has used its {limit} requests for today; the limit resets at {reset_at:%Y-%m-%d %H:%M} UTC.",
            reset_at=reset_at,
        )
    return int(count)


# Password guessing: failures are counted per (email, client address) and per address over
# a sliding quarter hour. Keying on the pair keeps a stranger from locking someone out from
# elsewhere; the per-address cap stops one client spraying many accounts.
LOGIN_WINDOW_S = 15 * 60
LOGIN_FAILURES_PER_ACCOUNT = 10
LOGIN_FAILURES_PER_ADDRESS = 50


def _login_keys(email: str, ip: str | None) -> tuple[str, str]:
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    return f"clipflow:login_failures:{digest}:{ip or '-'}", f"clipflow:login_failures:ip:{ip or '-'}"


async def check_login_allowed(redis: Redis, *, email: str, ip: str | None) -> None:
    """RateLimited while too many recent sign-in attempts failed."""
    pair, address = _login_keys(email, ip)
    counts = await redis.mget(pair, address)
    per_pair, per_address = (int(c or 0) for c in counts)
    if per_pair >= LOGIN_FAILURES_PER_ACCOUNT or per_address >= LOGIN_FAILURES_PER_ADDRESS:
        ttl = max(await redis.ttl(pair), await redis.ttl(address), 1)
        raise RateLimited(
            ErrorCode.RATE_LIMITED,
            f"Too many failed sign-in attempts; try again in {ttl // 60 + 1} minutes or reset your password.",
            reset_at=datetime.now(UTC) + timedelta(seconds=ttl),
        )


async def record_login_failure(redis: Redis, *, email: str, ip: str | None) -> None:
    async with redis.pipeline(transaction=True) as pipe:
        for key in _login_keys(email, ip):
            pipe.incr(key)
            pipe.expire(key, LOGIN_WINDOW_S)
        await pipe.execute()


async def clear_login_failures(redis: Redis, *, email: str, ip: str | None) -> None:
    """A successful sign-in forgets this account's failures from that address."""
    await redis.delete(_login_keys(email, ip)[0])
