"""Cron: the sweeper that keeps the database, not Redis, the source of truth for jobs."""

from __future__ import annotations

import logging
from typing import Any

from clipflow_api.jobs import repository, service
from clipflow_api.processing.uploads import sweep_stale_uploads

from .runner import fail_abandoned

log = logging.getLogger(__name__)


async def sweep_jobs(ctx: dict[str, Any]) -> int:
    """Hand due jobs of every workspace (back) to arq; fail those out of attempts.

    - pending for a while: arq never got it (enqueue lost, Redis flushed): enqueue under
      its own id, a no-op when arq still holds it;
    - processing with no progress for a while: the worker died: enqueue a rerun under a
      fresh id (arq keeps the dead run's id busy until its timeout);
    - out of attempts: failed, with its video, so nothing stays ``processing``.
    """
    settings = ctx["settings"]
    async with ctx["session_factory"]() as s:
        due = await repository.due_jobs(
            s, pending_after=settings.job_stale_pending_s, processing_after=settings.job_stale_processing_s
        )
        await s.commit()
    count = 0
    for job in due:
        if job.type not in service.JOB_TYPES:
            continue
        if job.attempts >= job.max_attempts:
            await fail_abandoned(ctx, job.id, job.workspace_id)
            continue
        rerun_after = job.attempts if job.status == "processing" else None
        count += await service.enqueue(ctx["redis"], job.id, job.workspace_id, job.type, rerun_after=rerun_after)
    if count:
        log.info("sweeper enqueued %d job(s)", count)
    return count


async def sweep_uploads(ctx: dict[str, Any]) -> int:
    """Delete tus parts and state idle for UPLOAD_STALE_HOURS (on a host that shares UPLOAD_DIR)."""
    return await sweep_stale_uploads(ctx["redis"], ctx["settings"])
