"""Handing posts to the publish queue: after the commit, deferred until their time.

The post row is the source of truth. ``request_publish`` notes the post in the
transaction; once it commits, arq gets ``publish_post(post_id, workspace_id)`` deferred
until the post is due, under a job id derived from the post, its due time and its attempt
count, so a double hand-over queues once. Nothing depends on Redis keeping the key: the
publish sweeper (``clipflow_due_posts``) re-enqueues due posts whose job was lost.
"""

from __future__ import annotations

from datetime import datetime

from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncSession

from ..jobs.service import PUBLISH_POST, PUBLISH_QUEUE, after_commit
from ..models import Post


def publish_job_id(post_id: object, due_at: datetime | None, attempts: int) -> str:
    """One arq id per (post, due time, attempt): a reschedule or a retry is a new job."""
    stamp = int(due_at.timestamp() * 1000) if due_at is not None else 0
    return f"{PUBLISH_POST}:{post_id}:{stamp}:{attempts}"


async def enqueue_publish(arq: ArqRedis, post_id: object, workspace_id: object, due_at: datetime | None, attempts: int) -> bool:
    """Give arq the post's publish job now (deferred until ``due_at``); False if arq already has it."""
    job = await arq.enqueue_job(
        PUBLISH_POST, str(post_id), str(workspace_id),
        _job_id=publish_job_id(post_id, due_at, attempts), _queue_name=PUBLISH_QUEUE, _defer_until=due_at,
    )
    return job is not None


def request_publish(session: AsyncSession, post: Post) -> None:
    """Queue ``post`` for publishing at its due time once this transaction commits."""
    due_at = max(filter(None, (post.scheduled_at, post.next_attempt_at)), default=None)
    post_id, workspace_id, attempts = post.id, post.workspace_id, post.publish_attempts or 0

    async def hand_over(arq: ArqRedis) -> bool:
        return await enqueue_publish(arq, post_id, workspace_id, due_at, attempts)

    after_commit(session, hand_over)
