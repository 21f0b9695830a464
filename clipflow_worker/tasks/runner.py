"""One job run: load the ``jobs`` row under its tenant, record progress, finish or fail.

A body raises ``MediaError`` (or ``UserFacingError``) for problems with the user's input:
the job and its video end ``failed`` with that message and are not retried. Anything else
is a fault on our side: retried with jittered backoff while attempts remain, then failed
with a generic message. Either way nothing is left ``processing``.
"""

from __future__ import annotations

import logging
import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from arq import Retry
from sqlalchemy import func, update

from clipflow_api.db import tenant_session
from clipflow_api.jobs import repository
from clipflow_api.jobs.progress import progress_event, publish_progress
from clipflow_api.models import Video
from clipflow_worker.pipeline.types import MediaError

log = logging.getLogger(__name__)

GENERIC_FAILURE = "Something went wrong on our side while processing this. Please try again; we have been notified."


class UserFacingError(Exception):
    """A failure whose message is meant for the user (not retried)."""


@dataclass
class JobRun:
    ctx: dict[str, Any]
    job_id: uuid.UUID
    workspace_id: uuid.UUID
    job_type: str = ""
    video_id: uuid.UUID | None = None
    input_data: dict[str, Any] = field(default_factory=dict)
    attempts: int = 0
    max_attempts: int = 1
    progress_value: int = 0

    def session(self) -> Any:
        """A session under this job's workspace (the caller commits)."""
        return tenant_session(self.ctx["session_factory"], workspace_id=self.workspace_id)

    async def progress(self, percent: int, message: str, *, step: str | None = None, video_status: str | None = None) -> None:
        """Record progress on the job (and its video) and publish it."""
        self.progress_value = max(0, min(100, int(percent)))
        async with self.session() as s:
            await repository.set_fields(s, self.job_id, progress=self.progress_value, progress_message=message, updated_at=func.now())
            if self.video_id is not None:
                values: dict[str, Any] = {"processing_progress": self.progress_value}
                if video_status:
                    values["status"] = video_status
                await s.execute(update(Video).where(Video.id == self.video_id).values(**values))
            await s.commit()
        await self._publish("processing", message, step=step)

    async def _publish(self, status: str, message: str | None, *, step: str | None = None, error: str | None = None) -> None:
        event = progress_event(
            job_id=self.job_id,
            workspace_id=self.workspace_id,
            video_id=self.video_id,
            status=status,
            progress=self.progress_value,
            message=message,
            step=step,
            error=error,
        )
        try:
            await publish_progress(self.ctx["pubsub_redis"], event)
        except Exception:  # progress is best-effort; the row is the record
            log.warning("could not publish progress for job %s", self.job_id, exc_info=True)


Body = Callable[[JobRun], Awaitable[dict[str, Any] | None]]


async def _start(ctx: dict[str, Any], job_id: uuid.UUID, workspace_id: uuid.UUID) -> JobRun | None:
    async with tenant_session(ctx["session_factory"], workspace_id=workspace_id) as s:
        job = await repository.get(s, job_id, for_update=True)
        if job is None or job.status in ("completed", "failed", "cancelled"):
            return None  # gone, another workspace's id, or already finished: nothing to do
        job.status = "processing"
        job.attempts += 1
        job.started_at = job.started_at or func.now()
        job.worker_id = ctx.get("worker_id")
        job.error = None
        run = JobRun(
            ctx, job.id, job.workspace_id, job.type, job.video_id, dict(job.input_data or {}),
            attempts=job.attempts, max_attempts=job.max_attempts,
        )
        await s.commit()
    await run._publish("processing", "Started")
    return run


async def _finish(run: JobRun, *, status: str, output: dict[str, Any] | None = None, error: str | None = None,
                  video_values: dict[str, Any] | None = None) -> None:
    async with run.session() as s:
        values: dict[str, Any] = {"status": status, "updated_at": func.now()}
        if status == "completed":
            values |= {"progress": 100, "completed_at": func.now(), "output_data": output, "progress_message": "Done"}
            run.progress_value = 100
        elif status == "failed":
            values |= {"completed_at": func.now(), "error": error, "progress_message": error}
        else:  # back to pending for a retry
            values |= {"error": error}
        await repository.set_fields(s, run.job_id, **values)
        if run.video_id is not None and video_values:
            await s.execute(update(Video).where(Video.id == run.video_id).values(**video_values))
        await s.commit()
    await run._publish(status, "Done" if status == "completed" else error, error=error if status == "failed" else None)


async def run_job(ctx: dict[str, Any], job_id: str, workspace_id: str, body: Body,
                  *, on_failure_video: bool = True) -> dict[str, Any] | None:
    """Run ``body`` as job ``job_id``; the single place that decides retry, fail or done."""
    run = await _start(ctx, uuid.UUID(job_id), uuid.UUID(workspace_id))
    if run is None:
        return None
    try:
        output = await body(run)
    except (MediaError, UserFacingError) as exc:
        await _finish(run, status="failed", error=str(exc), video_values=_failed_video(str(exc)) if on_failure_video else None)
        return {"failed": str(exc)}
    except Exception as exc:
        log.exception("job %s (%s) failed on attempt %s", run.job_id, run.job_type, run.attempts)
        if run.attempts < run.max_attempts:
            await _finish(run, status="pending", error=f"attempt {run.attempts} failed: {type(exc).__name__}")
            raise Retry(defer=_backoff(run.attempts)) from exc
        await _finish(run, status="failed", error=GENERIC_FAILURE,
                      video_values=_failed_video(GENERIC_FAILURE) if on_failure_video else None)
        return {"failed": GENERIC_FAILURE}
    await _finish(run, status="completed", output=output)
    return output


ABANDONED = "Processing stopped unexpectedly several times, so we gave up. Please try again; we have been notified."


async def fail_abandoned(ctx: dict[str, Any], job_id: uuid.UUID, workspace_id: uuid.UUID) -> None:
    """Fail a job whose every attempt died without a verdict (worker killed, out of memory)."""
    async with tenant_session(ctx["session_factory"], workspace_id=workspace_id) as s:
        job = await repository.get(s, job_id, for_update=True)
        if job is None or job.status in ("completed", "failed", "cancelled"):
            return
        run = JobRun(ctx, job.id, job.workspace_id, job.type, job.video_id, attempts=job.attempts,
                     max_attempts=job.max_attempts, progress_value=job.progress)
    log.error("job %s (%s) abandoned after %s attempts", job_id, run.job_type, run.attempts)
    await _finish(run, status="failed", error=ABANDONED, video_values=_failed_video(ABANDONED))


def _failed_video(message: str) -> dict[str, Any]:
    return {"status": "failed", "error_message": message, "processing_completed_at": func.now()}


def _backoff(attempt: int) -> float:
    """Exponential backoff with full jitter: up to 10 s, 40 s, 160 s ... capped at 15 minutes."""
    return random.uniform(1.0, min(900.0, 10.0 * 4 ** (attempt - 1)))

