"""The API key daily request limit, counted in Redis per key per UTC day."""

from __future__ import annotations

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
