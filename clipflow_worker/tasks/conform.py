"""The ``post_conform`` media job: a conforming copy of a post's video, then the post may publish.

Thin: load the post, judge its file (``publishing.conform.check_variant``), transcode what
is fixable (``pipeline.conform``), re-judge the output, store it at
``posts/<post_id>/conformed.mp4``, point the post at it and, when it is scheduled, hand it to
the publish queue in the same commit. Runs twice safely: a post that already points at its
conformed copy is only handed over again (the publish job id is derived from the post).
"""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from pathlib import Path
from typing import Any

from clipflow_api.jobs.service import commit_and_enqueue
from clipflow_api.media.probe import read_facts
from clipflow_api.models import Post, SocialAccount
from clipflow_api.models.enums import PostStatus
from clipflow_api.publishing import queue
from clipflow_api.publishing.conform import TranscodeSpec, check_variant, conformed_key, judge
from clipflow_api.publishing.platforms import PlatformRules, rules_for
from clipflow_worker.pipeline.conform import conform_video

from .progress import ProgressPump
from .runner import JobRun, UserFacingError, run_job

# a post in these states still waits for its file; publishing, published and cancelled ones do not
_WAITING = {PostStatus.DRAFT, PostStatus.PENDING_APPROVAL, PostStatus.REJECTED, PostStatus.SCHEDULED, PostStatus.FAILED}


async def _load(run: JobRun, post_id: uuid.UUID) -> tuple[Post, SocialAccount] | None:
    async with run.session() as s:
        post = await s.get(Post, post_id)
        account = await s.get(SocialAccount, post.social_account_id) if post is not None else None
    if post is None or account is None or post.deleted_at is not None or post.status not in _WAITING:
        return None
    return post, account


async def _conform(run: JobRun) -> dict[str, Any]:
    storage = run.ctx["storage"]
    post_id = uuid.UUID(run.input_data["post_id"])
    loaded = await _load(run, post_id)
    if loaded is None:
        return {"skipped": "The post was deleted, cancelled or has been published."}
    post, account = loaded
    if not post.media_urls:
        raise UserFacingError("The post has no video to convert.")
    rules = rules_for(account.platform)
    source, target = post.media_urls[0], conformed_key(post.id)
    if source != target:
        await run.progress(5, "Checking the video", step="conform")
        check = await check_variant(storage, source, account.platform)
        if not check.ok and check.fix is None:
            raise UserFacingError(" ".join(check.problems))
        if check.fix is not None:
            await _transcode(run, storage, source, target, check.fix, rules)
        else:
            target = source  # already fine (re-rendered since the post asked): nothing to convert
    await run.progress(95, "Updating the post", step="conform")
    async with run.session() as s:
        post_now = await s.get(Post, post_id, with_for_update=True)
        if (post_now is None or post_now.deleted_at is not None or post_now.status not in _WAITING
                or post_now.media_urls[:1] not in ([source], [target])):
            await s.commit()
            return {"skipped": "The post changed while its video was converted."}
        post_now.media_urls = [target, *post_now.media_urls[1:]]
        if post_now.status == PostStatus.SCHEDULED:
            queue.request_publish(s, post_now)
        await commit_and_enqueue(s, run.ctx.get("redis"))
    return {"post_id": str(post_id), "source_key": source, "media_key": target}


async def _transcode(run: JobRun, storage: Any, source: str, target: str, fix: TranscodeSpec,
                     rules: PlatformRules) -> None:
    pump = ProgressPump(run)
    message = f"Converting the video for {rules.product}"
    try:
        with tempfile.TemporaryDirectory(prefix="clipflow-conform-") as tmp, storage.local_copy(source) as src:
            out = Path(tmp) / "conformed.mp4"
            await asyncio.to_thread(conform_video, src, out, fix,
                                    progress=lambda f, _m: pump.report("conform", 10 + int(80 * f), message))
            verdict = judge(await asyncio.to_thread(read_facts, out), rules)
            if not verdict.ok:
                raise UserFacingError("The converted video still does not meet the platform's rules: "
                                      + " ".join(verdict.problems))
            await asyncio.to_thread(storage.put_file, target, out, "video/mp4")
    finally:
        await pump.close()


async def conform_post_media(ctx: dict[str, Any], job_id: str, workspace_id: str) -> dict[str, Any] | None:
    """Make a post's video conform to its platform (fps, bitrate, size, fast start, codecs), then queue it."""
    return await run_job(ctx, job_id, workspace_id, _conform, on_failure_video=False)
