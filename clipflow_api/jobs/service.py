"""Creating jobs and handing them to arq only after the creating transaction commits.

``create_job`` inserts the row and notes it in ``session.info``; ``commit_and_enqueue``
commits, then enqueues with ``_job_id`` derived from the row, so a double drain (or the
sweeper racing a request) enqueues once. A rollback drops the note with the row.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from collections.abc import Awaitable, Callable
from typing import Any

from arq.connections import ArqRedis
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession

from ..errors import ErrorCode, NotFound
from ..models import Job
from . import repository

MEDIA_QUEUE = "clipflow:media"
PUBLISH_QUEUE = "clipflow:publish"
WEBHOOK_QUEUE = "clipflow:webhooks"
_OUTBOX = "clipflow_outbox"
AFTER_COMMIT = "clipflow_after_commit"
log = logging.getLogger(__name__)


# The arq function names, declared once: the API enqueues them (JOB_TYPES), the worker
# registers its functions under them (clipflow_worker.settings).
PROBE_VIDEO = "probe_video"
PROCESS_VIDEO = "process_video"
CONFORM_POST_MEDIA = "conform_post_media"
PUBLISH_POST = "publish_post"  # not a jobs row: the post row is its state (publishing.queue)


@dataclass(frozen=True)
class JobSpec:
    function: str  # the arq function name in clipflow_worker
    queue: str


# One entry per job type the product runs; the worker registers a function per name.
JOB_TYPES: dict[str, JobSpec] = {
    "video_probe": JobSpec(PROBE_VIDEO, MEDIA_QUEUE),
    "video_process": JobSpec(PROCESS_VIDEO, MEDIA_QUEUE),
    "post_conform": JobSpec(CONFORM_POST_MEDIA, MEDIA_QUEUE),
}


# Functions enqueued without a jobs row.
DIRECT_FUNCTIONS: dict[str, str] = {PUBLISH_POST: PUBLISH_QUEUE}


def functions_by_queue() -> dict[str, set[str]]:
    """The arq function names the API enqueues, per queue: what the workers must register."""
    out: dict[str, set[str]] = {}
    for spec in JOB_TYPES.values():
        out.setdefault(spec.queue, set()).add(spec.function)
    for function, queue in DIRECT_FUNCTIONS.items():
        out.setdefault(queue, set()).add(function)
    return out


class UnknownJobType(ValueError):
    pass


def arq_job_id(job: Job | uuid.UUID, job_type: str | None = None, *, rerun_after: int | None = None) -> str:
    """The arq id of a job: derived from the row, so enqueueing twice queues once.

    A rerun of a job whose worker died gets its own id (``rerun_after`` = attempts made):
    arq keeps the dead run's id busy until its timeout passes, hours for media jobs.
    """
    job_id = job.id if isinstance(job, Job) else job
    kind = job.type if isinstance(job, Job) else job_type
    if kind is None:
        raise UnknownJobType("a job id needs its job type")
    base = f"{JOB_TYPES[kind].function}:{job_id}"
    return base if rerun_after is None else f"{base}:rerun-{rerun_after}"


async def create_job(
    session: AsyncSession,
    *,
    workspace_id: uuid.UUID,
    type: str,
    video_id: uuid.UUID | None = None,
    clip_id: uuid.UUID | None = None,
    post_id: uuid.UUID | None = None,
    input_data: dict[str, Any] | None = None,
    priority: int = 0,
    max_attempts: int = 3,
) -> Job:
    """Insert a pending job and queue it for enqueueing after commit."""
    if type not in JOB_TYPES:
        raise UnknownJobType(f"unknown job type {type!r}")
    job = await repository.add(
        session,
        workspace_id=workspace_id,
        type=type,
        video_id=video_id,
        clip_id=clip_id,
        post_id=post_id,
        input_data=input_data,
        priority=priority,
        max_attempts=max_attempts,
    )
    session.info.setdefault(_OUTBOX, []).append((job.id, job.workspace_id, job.type))
    return job


async def enqueue(
    arq: ArqRedis, job_id: uuid.UUID, workspace_id: uuid.UUID, job_type: str, *, rerun_after: int | None = None
) -> bool:
    """Hand one job to arq; False when arq already holds a job with that id."""
    spec = JOB_TYPES[job_type]
    queued = await arq.enqueue_job(
        spec.function, str(job_id), str(workspace_id), _job_id=arq_job_id(job_id, job_type, rerun_after=rerun_after),
        _queue_name=spec.queue,
    )
    return queued is not None


async def commit_and_enqueue(session: AsyncSession, arq: ArqRedis | None) -> int:
    """Commit, then enqueue what the transaction created. Returns how many were handed over.

    With no arq pool (tests, tools), or when Redis fails after the commit, the jobs stay
    pending in the database and the sweeper enqueues them later: the commit stands.
    """
    pending = session.info.pop(_OUTBOX, [])
    after_commit = session.info.pop(AFTER_COMMIT, [])
    await session.commit()
    if arq is None:
        return 0
    count = 0
    for job_id, workspace_id, job_type in pending:
        try:
            count += await enqueue(arq, job_id, workspace_id, job_type)
        except (RedisError, OSError):
            log.warning("could not enqueue job %s; the sweeper will", job_id, exc_info=True)
    for hand_over in after_commit:
        try:
            count += bool(await hand_over(arq))
        except (RedisError, OSError):
            log.warning("could not hand work to arq after commit; the sweepers will", exc_info=True)
    return count


def discard_outbox(session: AsyncSession) -> None:
    """Forget jobs noted in a transaction that is being rolled back."""
    session.info.pop(_OUTBOX, None)
    session.info.pop(AFTER_COMMIT, None)


def after_commit(session: AsyncSession, hand_over: Callable[[ArqRedis], Awaitable[Any]]) -> None:
    """Run ``hand_over(arq)`` once this transaction commits (dropped on rollback); best effort."""
    session.info.setdefault(AFTER_COMMIT, []).append(hand_over)


# -- progress (subscriptions) -------------------------------------------------------------


@dataclass(frozen=True)
class VideoProgress:
    """Where a video's processing is, with its newest job's last words."""

    video_id: uuid.UUID
    status: str
    progress: int
    error: str | None
    last_job_id: uuid.UUID | None
    last_job_message: str | None
    last_job_updated_at: datetime | None


async def get_job(session: AsyncSession, job_id: uuid.UUID) -> Job:
    """The job in the session's workspace (RLS); NOT_FOUND for a missing or another workspace's one."""
    job = await repository.get(session, job_id)
    if job is None:
        raise NotFound(ErrorCode.NOT_FOUND, "No such job.", "job_id")
    return job


async def video_progress(session: AsyncSession, video_id: uuid.UUID) -> VideoProgress:
    """The video's processing state (RLS); NOT_FOUND for a missing, deleted or another workspace's video."""
    video = await repository.video_state(session, video_id)
    if video is None:
        raise NotFound(ErrorCode.NOT_FOUND, "No such video.", "video_id")
    last = await repository.latest_of_video(session, video_id)
    return VideoProgress(
        video_id=video.id, status=video.status, progress=video.processing_progress, error=video.error_message,
        last_job_id=last.id if last else None, last_job_message=last.progress_message if last else None,
        last_job_updated_at=last.updated_at if last else None,
    )
