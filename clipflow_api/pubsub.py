"""One Redis pub/sub connection per process, shared by everything that listens.

A subscription per GraphQL subscription took one Redis connection each (5 sockets x 20
subscriptions: 93 connections). ``PubSubHub`` holds a single pubsub connection, subscribes
a channel while at least one listener wants it (reference counted) and fans each message
out to the listeners' in-process queues. The app starts it in its lifespan.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from redis.asyncio import Redis

log = logging.getLogger(__name__)

# A listener that falls this far behind loses its oldest messages, not the newest: progress
# events supersede each other and the terminal one comes last.
QUEUE_SIZE = 256
_SUBSCRIBE_TIMEOUT_S = 10.0


class PubSubHub:
    """Fans messages of one shared Redis pubsub connection out to in-process listeners."""

    def __init__(self, redis: Redis) -> None:
        self._pubsub = redis.pubsub()
        self._listeners: dict[str, set[asyncio.Queue[bytes]]] = {}
        self._confirmed: dict[str, asyncio.Event] = {}
        self._lock = asyncio.Lock()
        self._connected = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start reading (a no-op once started)."""
        if self._reader is None:
            self._reader = asyncio.create_task(self._read(), name="pubsub-hub")

    async def stop(self) -> None:
        """Stop reading and release the connection."""
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None
        with contextlib.suppress(Exception):
            await self._pubsub.aclose()

    def channels(self) -> dict[str, int]:
        """Listeners per subscribed channel (for tests and diagnostics)."""
        return {channel: len(queues) for channel, queues in self._listeners.items()}

    @contextlib.asynccontextmanager
    async def listen(self, channel: str) -> AsyncIterator[asyncio.Queue[bytes]]:
        """A queue of ``channel``'s messages, filled from the moment Redis confirmed the subscription."""
        queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=QUEUE_SIZE)
        await self._add(channel, queue)
        try:
            yield queue
        finally:
            await self._remove(channel, queue)

    async def _add(self, channel: str, queue: asyncio.Queue[bytes]) -> None:
        async with self._lock:
            queues = self._listeners.get(channel)
            if queues:
                queues.add(queue)
                return
            self._listeners[channel] = {queue}
            confirmed = self._confirmed[channel] = asyncio.Event()
            try:
                await self._pubsub.subscribe(channel)
                self._connected.set()
                # Held under the lock: a later unsubscribe of this channel must not overtake it.
                await asyncio.wait_for(confirmed.wait(), _SUBSCRIBE_TIMEOUT_S)
            except BaseException:
                self._listeners.pop(channel, None)
                self._confirmed.pop(channel, None)
                with contextlib.suppress(Exception):
                    await self._pubsub.unsubscribe(channel)
                raise

    async def _remove(self, channel: str, queue: asyncio.Queue[bytes]) -> None:
        async with self._lock:
            queues = self._listeners.get(channel)
            if queues is None:
                return
            queues.discard(queue)
            if queues:
                return
            del self._listeners[channel]
            self._confirmed.pop(channel, None)
            try:
                await self._pubsub.unsubscribe(channel)
            except Exception:  # noqa: BLE001 - a broken connection resubscribes only what is still listened to
                log.warning("pubsub unsubscribe of %s failed", channel, exc_info=True)

    async def _read(self) -> None:
        await self._connected.wait()  # the pubsub has no connection before its first subscribe
        while True:
            try:
                message = await self._pubsub.get_message(timeout=None)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - redis-py reconnects and resubscribes on the next read
                log.warning("pubsub read failed; retrying", exc_info=True)
                await asyncio.sleep(1.0)
                continue
            if message is not None:
                self._dispatch(message)

    def _dispatch(self, message: dict[str, Any]) -> None:
        channel = message["channel"]
        channel = channel.decode() if isinstance(channel, bytes) else str(channel)
        if message["type"] == "subscribe":
            confirmed = self._confirmed.get(channel)
            if confirmed is not None:
                confirmed.set()
            return
        if message["type"] != "message":
            return
        for queue in tuple(self._listeners.get(channel, ())):
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(message["data"])
