"""Carrying progress from pipeline threads to the job's async progress recorder, in order."""

from __future__ import annotations

import asyncio
import contextlib

from .runner import JobRun

# Which video status a pipeline step means for the user.
VIDEO_STATUS = {
    "probe": "processing",
    "audio": "processing",
    "transcribe": "transcribing",
    "analyze": "analyzing",
    "render": "generating_clips",
}


class ProgressPump:
    """``report`` may be called from any thread; one consumer records events in order.

    Reports that arrive while an earlier one is being written are coalesced to the newest,
    so a fast step cannot flood the database; a step change is never dropped.
    """

    def __init__(self, run: JobRun) -> None:
        self.run = run
        self.loop = asyncio.get_running_loop()
        self.queue: asyncio.Queue[tuple[str, int, str] | None] = asyncio.Queue()
        self.task = asyncio.ensure_future(self._consume())
        self._last: tuple[str, int] | None = None

    def report(self, step: str, percent: int, message: str) -> None:
        if self._last == (step, percent):
            return
        self._last = (step, percent)
        self.loop.call_soon_threadsafe(self.queue.put_nowait, (step, percent, message))

    async def _consume(self) -> None:
        while (item := await self.queue.get()) is not None:
            # coalesce: skip to the newest queued report of the same step
            while not self.queue.empty():
                nxt = self.queue.get_nowait()
                if nxt is None:
                    await self._record(item)
                    return
                if nxt[0] != item[0]:
                    await self._record(item)
                item = nxt
            await self._record(item)

    async def _record(self, item: tuple[str, int, str]) -> None:
        step, percent, message = item
        if percent < self.run.progress_value:
            return  # progress never goes backwards for the user
        await self.run.progress(percent, message, step=step, video_status=VIDEO_STATUS.get(step))

    async def close(self) -> None:
        self.queue.put_nowait(None)
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
