"""Counting in Redis: the API key daily request limit, and sign-in attempts per account and address."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis

from ..errors import AuthError, ErrorCode, RateLimited

# Keep a day's counter a little past midnight so a request straddling it still finds it.
_GRACE_SECONDS = 3600


def usage_key(key_id: uuid.UUID, day: datetime) -> str:
    return f"clipflow:api_key_usage:{key_id}:{day:%Y%m%d}"


def next_reset(now: datetime) -> datetime:
    """The next UTC midnight."""
    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today + timedelta(days=1)


async def count_operations(
    redis: Redis, *, key_id: uuid.UUID, limit: int, operations: int = 1, now: datetime | None = None
) -> int:
    """Count ``operations`` GraphQL operations (or one other request) against the key's daily limit.

    Returns how many of them fit under the limit, in order: a batch of 3 with 2 left runs
    2. None left: RateLimited. INCRBY and EXPIRE go in one MULTI, so no counter is left
    without an expiry, and concurrent requests never share a slot.
    """
    now = now or datetime.now(UTC)
    reset_at = next_reset(now)
    key = usage_key(key_id, now.astimezone(UTC))
    async with redis.pipeline(transaction=True) as pipe:
        pipe.incrby(key, operations)
        pipe.expire(key, int((reset_at - now).total_seconds()) + _GRACE_SECONDS)
        count, _ = await pipe.execute()
    allowed = min(operations, limit - (int(count) - operations))
    if allowed <= 0:
        raise exhausted(limit, now)
    return allowed


def exhausted(limit: int, now: datetime | None = None) -> RateLimited:
    """The error of a key that has used its ``limit`` for today."""
    reset_at = next_reset(now or datetime.now(UTC))
    return RateLimited(
        ErrorCode.RATE_LIMITED,
        f"This API key has used its {limit} requests for today; the limit resets at {reset_at:%Y-%m-%d %H:%M} UTC.",
        reset_at=reset_at,
    )


# Password guessing: failures are counted per (email, client address) and per address over
# a sliding quarter hour. Keying on the pair keeps a stranger from locking someone out from
# elsewhere; the per-address cap stops one client spraying many accounts. Past that cap an
# address may still sign in to accounts it signed in to successfully before (within
# KNOWN_ADDRESS_DAYS), so a sprayer sharing a NAT with real users does not lock them out,
# while the sprayer, who has no such success, gets no more guesses.
LOGIN_WINDOW_S = 15 * 60
LOGIN_FAILURES_PER_ACCOUNT = 10
LOGIN_FAILURES_PER_ADDRESS = 50
KNOWN_ADDRESS_DAYS = 30

# Check and reserve in one step, so concurrent guesses cannot all pass the check before any
# of them is counted. A reservation counts as a failure until it is released.
_RESERVE = """
local pair = tonumber(redis.call('GET', KEYS[1]) or '0')
if pair >= tonumber(ARGV[1]) then return {0, redis.call('TTL', KEYS[1])} end
local address = tonumber(redis.call('GET', KEYS[2]) or '0')
if address >= tonumber(ARGV[2]) and redis.call('EXISTS', KEYS[3]) == 0 then
  return {0, redis.call('TTL', KEYS[2])}
end
redis.call('INCR', KEYS[1]); redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('INCR', KEYS[2]); redis.call('EXPIRE', KEYS[2], ARGV[3])
return {1, 0}
"""

# Give back one reservation (never below zero: the window may have expired meanwhile).
_RELEASE = """
for _, key in ipairs(KEYS) do
  if tonumber(redis.call('GET', key) or '0') > 0 then redis.call('DECR', key) end
end
return 1
"""


def _login_keys(email: str, ip: str | None) -> tuple[str, str, str]:
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    return (
        f"clipflow:login_failures:{digest}:{ip or '-'}",
        f"clipflow:login_failures:ip:{ip or '-'}",
        f"clipflow:login_known:{digest}:{ip or '-'}",
    )


async def reserve_login_attempt(redis: Redis, *, email: str, ip: str | None) -> None:
    """Count one sign-in attempt before the password is checked; RateLimited when none is left."""
    allowed, ttl = await redis.eval(
        _RESERVE, 3, *_login_keys(email, ip), LOGIN_FAILURES_PER_ACCOUNT, LOGIN_FAILURES_PER_ADDRESS, LOGIN_WINDOW_S
    )
    if not int(allowed):
        ttl = max(int(ttl), 1)
        raise RateLimited(
            ErrorCode.RATE_LIMITED,
            f"Too many failed sign-in attempts; try again in {ttl // 60 + 1} minutes or reset your password.",
            reset_at=datetime.now(UTC) + timedelta(seconds=ttl),
        )


async def release_login_attempt(redis: Redis, *, email: str, ip: str | None) -> None:
    """The attempt did not fail on credentials (bad input, our own error): it does not count."""
    pair, address, _known = _login_keys(email, ip)
    await redis.eval(_RELEASE, 2, pair, address)


async def login_succeeded(redis: Redis, *, email: str, ip: str | None) -> None:
    """Forget this account's failures from the address, give back the address's reservation,
    and remember that the address signs in to this account."""
    pair, address, known = _login_keys(email, ip)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.delete(pair)
        pipe.eval(_RELEASE, 1, address)
        pipe.set(known, 1, ex=KNOWN_ADDRESS_DAYS * 86400)
        await pipe.execute()


@asynccontextmanager
async def login_attempt(redis: Redis, *, email: str, ip: str | None) -> AsyncIterator[None]:
    """Reserve an attempt around a password check: it stays counted only when the block
    raises ``INVALID_CREDENTIALS``; success clears the account's failures."""
    await reserve_login_attempt(redis, email=email, ip=ip)
    try:
        yield
    except AuthError as exc:
        if exc.code != ErrorCode.INVALID_CREDENTIALS:
            await release_login_attempt(redis, email=email, ip=ip)
        raise
    except BaseException:
        await release_login_attempt(redis, email=email, ip=ip)
        raise
    await login_succeeded(redis, email=email, ip=ip)
