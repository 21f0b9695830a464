"""Cron: the sweeper that keeps the database, not Redis, the source of truth for jobs."""

from __future__ import annotations

import logging
from typing import Any

from clipflow_api.jobs import repository, service

log = logging.getLogger(__name__)

PENDING_AFTER_S = 60  # a pending job arq never got (enqueue lost, Redis flushed)
PROCESSING_AFTER_S = 20 * 60  # no progress for this long: the worker died mid-job


async def sweep_jobs(ctx: dict[str, Any]) -> int:
    """Re-enqueue due jobs of every workspace; arq's job ids make a double enqueue a no-op."""
    async with ctx["session_factory"]() as s:
        due = await repository.due_jobs(s, pending_after=PENDING_AFTER_S, processing_after=PROCESSING_AFTER_S)
        await s.commit()
    count = 0
    for job_id, workspace_id, job_type in due:
        if job_type in service.JOB_TYPES:
            count += await service.enqueue(ctx["redis"], job_id, workspace_id, job_type)
    if count:
        log.info("sweeper re-enqueued %d job(s)", count)
    return count
