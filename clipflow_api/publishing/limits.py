"""How fast and how much the worker may publish: per platform, per account, per day.

- Per-platform concurrency: a Redis semaphore per platform (``PlatformSlots``), slots with
  a lease the holder renews, so a killed worker's slot frees itself.
- Per-account rate: a sliding window per account (``take_account_turn``) plus a cool-down
  an answer 429 sets for the whole account (``cool_down``: Retry-After is honoured by every
  post of that account, not only the one that got it).
- Quotas at publish time (``publish_quota``): the account's posts in the last 24 hours
  against the platform's cap (YouTube's daily uploads, TikTok's creator cap) and, for
  Instagram, ``content_publishing_limit`` as the API reports it. Over: defer with a reason.

Every refusal is a ``Deferral``: how long to wait and why, in words a user understands.
"""

from __future__ import annotations

import inspect
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from .. import clock
from ..models.enums import Platform
from . import repository


@dataclass(frozen=True)
class Rate:
    limit: int
    window_s: float


@dataclass(frozen=True)
class Deferral:
    wait_s: float
    reason: str


# Uploads in flight per platform across all workers (bounded by bandwidth and the platforms'
# per-app limits); unknown platforms get DEFAULT_CONCURRENCY.
PLATFORM_CONCURRENCY: dict[Platform, int] = {Platform.YOUTUBE: 20, Platform.TIKTOK: 20, Platform.INSTAGRAM: 20}
DEFAULT_CONCURRENCY = 5

# Publishes an account may start per window. TikTok allows 6 video/init calls a minute per
# user token; the others are kept as gentle.
ACCOUNT_RATE: dict[Platform, Rate] = {
    Platform.YOUTUBE: Rate(6, 60.0),
    Platform.TIKTOK: Rate(6, 60.0),
    Platform.INSTAGRAM: Rate(10, 60.0),
}
DEFAULT_RATE = Rate(5, 60.0)

# Posts an account may publish in 24 hours. YouTube: the channel's daily upload limit (the
# API project's quota of 10,000 units a day is the tighter bound for one project); TikTok:
# the Content Posting API's creator cap; Instagram: the API's own content_publishing_limit
# (read at publish time), this one only when it cannot be read.
DAILY_CAPS: dict[Platform, int] = {Platform.YOUTUBE: 50, Platform.TIKTOK: 15, Platform.INSTAGRAM: 50}
DAY = timedelta(hours=24)

SLOT_LEASE_S = 120.0
_PREFIX = "clipflow:publish"

_NAMES = {Platform.YOUTUBE: "YouTube", Platform.TIKTOK: "TikTok", Platform.INSTAGRAM: "Instagram"}


def platform_name(platform: Platform | str) -> str:
    p = Platform(platform)
    return _NAMES.get(p, p.value.title())


# --- per-platform concurrency ------------------------------------------------------------------------

# KEYS[1] the platform's holder set (score: lease end, ms); ARGV: limit, holder, lease ms.
# Redis' own clock, so workers' clocks do not matter.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], ARGV[2]) or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]) * 2)
  return 1
end
return 0
"""

_RENEW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 2)
  return 1
end
return 0
"""


class PlatformSlots:
    """A counting semaphore per platform on Redis, with leases (a dead holder's slot expires)."""

    def __init__(self, redis: Redis, limits: dict[Platform, int] | None = None, *, lease_s: float = SLOT_LEASE_S) -> None:
        self.redis = redis
        self.limits = dict(PLATFORM_CONCURRENCY if limits is None else limits)
        self.lease_ms = int(lease_s * 1000)

    @staticmethod
    def key(platform: Platform | str) -> str:
        return f"{_PREFIX}:slots:{Platform(platform).value}"

    def limit(self, platform: Platform | str) -> int:
        return self.limits.get(Platform(platform), DEFAULT_CONCURRENCY)

    async def acquire(self, platform: Platform | str, holder: str) -> bool:
        """Take a slot for ``holder`` (True), or False when the platform's slots are all taken."""
        took = await self._eval(_ACQUIRE, [self.key(platform)], self.limit(platform), holder, self.lease_ms)
        return bool(took)

    async def renew(self, platform: Platform | str, holder: str) -> bool:
        """Extend the holder's lease; False when it had expired (the slot may be someone else's)."""
        renewed = await self._eval(_RENEW, [self.key(platform)], holder, self.lease_ms)
        return bool(renewed)

    async def _eval(self, script: str, keys: list[str], *args: str | int) -> Any:
        return await _eval(self.redis, script, keys, *args)

    async def release(self, platform: Platform | str, holder: str) -> None:
        await self.redis.zrem(self.key(platform), holder)

    async def in_use(self, platform: Platform | str) -> int:
        return int(await self.redis.zcount(self.key(platform), "(" + str(await _redis_ms(self.redis)), "+inf"))


async def _eval(redis: Redis, script: str, keys: list[str], *args: str | int) -> Any:
    """Run a Lua script (redis-py types ``eval`` as sync-or-async; on the asyncio client it is awaitable)."""
    result = redis.eval(script, len(keys), *keys, *(str(a) for a in args))
    return await result if inspect.isawaitable(result) else result


async def _redis_ms(redis: Redis) -> int:
    seconds, micros = await redis.time()
    return int(seconds) * 1000 + int(micros) // 1000


# --- per-account rate ---------------------------------------------------------------------------------

# KEYS[1] the account's recent starts (score: ms), KEYS[2] its cool-down; ARGV: limit, window ms, member.
# Returns 0 (go: the start is recorded) or the ms to wait.
_TURN = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local cool = redis.call('PTTL', KEYS[2])
if cool > 0 then return cool end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(tonumber(oldest[2]) + tonumber(ARGV[2]) - now, 1)
"""


def _account_keys(account_id: uuid.UUID | str) -> tuple[str, str]:
    return f"{_PREFIX}:rate:{account_id}", f"{_PREFIX}:cooldown:{account_id}"


async def take_account_turn(redis: Redis, account_id: uuid.UUID | str, platform: Platform | str, member: str,
                            *, rates: dict[Platform, Rate] | None = None) -> Deferral | None:
    """Count one publish start for the account; a Deferral when its rate or a 429 cool-down says wait."""
    rate = (ACCOUNT_RATE if rates is None else rates).get(Platform(platform), DEFAULT_RATE)
    rate_key, cool_key = _account_keys(account_id)
    wait_ms = int(await _eval(redis, _TURN, [rate_key, cool_key], rate.limit, int(rate.window_s * 1000), member))
    if wait_ms <= 0:
        return None
    name = platform_name(platform)
    cooling = await redis.pttl(cool_key)
    if cooling and cooling > 0:
        return Deferral(wait_ms / 1000, f"{name} asked us to slow down for this account; it will be posted in "
                                        f"{_duration(wait_ms / 1000)}.")
    return Deferral(wait_ms / 1000, f"This {name} account is publishing several posts at once; this one follows "
                                    f"in {_duration(wait_ms / 1000)}.")


async def cool_down(redis: Redis, account_id: uuid.UUID | str, seconds: float) -> None:
    """The platform answered 429 with Retry-After: hold every publish of the account that long."""
    if seconds <= 0:
        return
    _, cool_key = _account_keys(account_id)
    ms = int(seconds * 1000)
    current = await redis.pttl(cool_key)
    if current is None or current < ms:
        await redis.set(cool_key, "1", px=ms)


# --- quotas ---------------------------------------------------------------------------------------------


class QuotaLike(Protocol):
    """The publisher's quota answer (``clipflow_worker.publishers.Quota`` fits)."""

    @property
    def used(self) -> int: ...
    @property
    def total(self) -> int: ...
    @property
    def left(self) -> int: ...


async def publish_quota(session: AsyncSession, workspace_id: uuid.UUID, account_id: uuid.UUID, platform: Platform | str,
                        post_id: uuid.UUID, *, reported: QuotaLike | None = None, now: datetime | None = None,
                        caps: dict[Platform, int] | None = None) -> Deferral | None:
    """Whether the account may publish one more post now; a Deferral (until a place frees up) when not.

    ``reported`` is the platform's own count where it has one (Instagram's
    content_publishing_limit): it wins over ours, which cannot see posts made elsewhere."""
    now = now or clock.now()
    p = Platform(platform)
    name = platform_name(p)
    times = await repository.recent_publish_times(session, workspace_id, account_id, post_id, since=now - DAY)
    cap = (DAILY_CAPS if caps is None else caps).get(p)
    if reported is not None and reported.left <= 0:
        wait = _until_a_place_frees(times, now) if times else 3600.0
        return Deferral(wait, f"This {name} account has used its {reported.total} API posts for the last 24 hours; "
                              f"it will be posted when a place frees up (in about {_duration(wait)}).")
    if reported is None and cap is not None and len(times) >= cap:
        wait = _until_a_place_frees(times[len(times) - cap:], now)
        return Deferral(wait, f"This {name} account has reached its limit of {cap} posts in 24 hours; "
                              f"it will be posted when a place frees up (in about {_duration(wait)}).")
    return None


def _until_a_place_frees(times: list[datetime], now: datetime) -> float:
    return max((min(times) + DAY - now).total_seconds(), 1.0)


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(round(seconds), 1)} seconds"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} minutes"
    return f"{round(seconds / 3600)} hours"


def describe_limits() -> dict[str, Any]:
    """The limits in force (for the bench and the logs)."""
    return {
        "concurrency": {p.value: n for p, n in PLATFORM_CONCURRENCY.items()},
        "account_rate": {p.value: f"{r.limit}/{r.window_s:.0f}s" for p, r in ACCOUNT_RATE.items()},
        "daily_caps": {p.value: n for p, n in DAILY_CAPS.items()},
    }
