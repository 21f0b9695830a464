"""Getting videos in: a finished upload or a URL becomes a ``videos`` row and a processing job.

Limits come from the workspace's plan: the upload size (``features.max_upload_mb``) here,
the duration (``max_video_duration``) when the worker probes the file. Services flush; the
caller commits and then enqueues (``jobs.service.commit_and_enqueue``).
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from ..auth.principal import Principal
from ..billing.plans import plan_of_workspace
from ..errors import DomainError, ErrorCode, ValidationError
from ..jobs import service as jobs
from ..models import Job, Video
from ..models.enums import CaptionStyle
from .sniff import REFUSED_MESSAGE, SNIFF_BYTES, media_container

VIDEO_SUFFIXES = {".mp4", ".mov", ".m4v", ".mkv", ".webm", ".avi", ".mpg", ".mpeg", ".ts", ".3gp", ".flv", ".wmv"}


def processing_input(*, style: str = CaptionStyle.HORMOZI, max_clips: int = 5, min_duration: float = 15.0,
                     max_duration: float = 60.0) -> dict[str, Any]:
    """Validated job input for the clip engine."""
    if style not in set(CaptionStyle):
        choices = ", ".join(CaptionStyle)
        raise ValidationError(ErrorCode.INVALID, f"Unknown caption style {style!r}; choose {choices}.", "style")
    style = CaptionStyle(style).value  # stored as the plain string
    if not 1 <= max_clips <= 50:
        raise ValidationError(ErrorCode.INVALID, "Ask for between 1 and 50 clips.", "maxClips")
    if not 3 <= min_duration <= max_duration <= 180:
        raise ValidationError(ErrorCode.INVALID, "Clip lengths must satisfy 3 <= min <= max <= 180 seconds.", "minDuration")
    return {"style": style, "max_clips": max_clips, "min_duration": min_duration, "max_duration": max_duration}


async def upload_limit_bytes(session: AsyncSession, workspace_id: uuid.UUID) -> int:
    """The largest file the workspace's plan accepts."""
    plan = await plan_of_workspace(session, workspace_id)
    return int(plan.features.get("max_upload_mb", 500)) * 1024 * 1024

async def create_video_from_file(
    session: AsyncSession, principal: Principal, storage: Any, *, path: Path, filename: str,
    title: str | None = None, options: dict[str, Any] | None = None,
) -> tuple[Video, Job]:
    """Store an uploaded file as a new video and queue its processing."""
    workspace_id = principal.require("video:write", needs_user=True)
    size = path.stat().st_size
    limit = await upload_limit_bytes(session, workspace_id)
    if size > limit:
        raise DomainError(ErrorCode.FILE_TOO_LARGE,
                          f"The file is {size / 1024 / 1024:.0f} MB; your plan accepts up to {limit // 1024 // 1024} MB.", "file")
    with path.open("rb") as head:
        if media_container(head.read(SNIFF_BYTES)) is None:  # refused before anything is stored
            raise DomainError(ErrorCode.INVALID, REFUSED_MESSAGE, "file")
    suffix = PurePosixPath(filename).suffix.lower()
    if suffix not in VIDEO_SUFFIXES:
        suffix = ".mp4"  # the name is only a hint; the worker probes the content
    video_id = uuid.uuid4()
    key = f"videos/{video_id}/source{suffix}"
    await asyncio.to_thread(storage.put_file, key, path)  # large files: keep the event loop free
    video = Video(id=video_id, workspace_id=workspace_id, uploaded_by=principal.user_id, source_type="upload",
                  file_url=key, file_size_bytes=size, title=title or PurePosixPath(filename).stem[:500])
    session.add(video)
    await session.flush()
    job = await jobs.create_job(session, workspace_id=workspace_id, type="video_process", video_id=video.id,
                                input_data=options or processing_input())
    return video, job


async def create_video_from_url(
    session: AsyncSession, principal: Principal, *, url: str, title: str | None = None,
    options: dict[str, Any] | None = None,
) -> tuple[Video, Job]:
    """Record a video to import from ``url``; the job downloads it (SSRF-checked) first."""
    workspace_id = principal.require("video:write", needs_user=True)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 2048:
        raise ValidationError(ErrorCode.INVALID_URL, "Give an http(s) link to a video file.", "url")
    video_id = uuid.uuid4()
    video = Video(id=video_id, workspace_id=workspace_id, uploaded_by=principal.user_id, source_type="url",
                  source_url=url, file_url=f"videos/{video_id}/source.mp4",
                  title=title or (PurePosixPath(parts.path).stem or parts.hostname)[:500])
    session.add(video)
    await session.flush()
    job = await jobs.create_job(session, workspace_id=workspace_id, type="video_process", video_id=video.id,
                                input_data=options or processing_input())
    return video, job
