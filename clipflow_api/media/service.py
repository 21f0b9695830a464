"""Videos, clips, captions, brand kits, assets and the media library: every rule of their changes.

Videos come in through ``processing.service`` (a stored upload, or a link the worker
downloads); here they get their options checked, their audit entry, and ``process_video``
runs the clip engine again. A row points only at a file its own workspace uploaded
(``check_workspace_file``). Services check the principal's permission, validate everything
before they change anything, write their audit entries, and flush: the boundary commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from .. import audit, clock
from ..auth.principal import Principal
from ..billing.plans import require_feature
from ..errors import Conflict, ErrorCode, PermissionDenied, ValidationError
from ..jobs.service import create_job
from ..models import Asset, BrandKit, Caption, Clip, Job, MediaFolder, UserMedia, Video
from ..models.enums import (
    AssetType,
    CaptionPosition,
    CaptionStyle,
    ClipStatus,
    UserMediaType,
    VideoSourceType,
    VideoStatus,
    WatermarkPosition,
)
from ..processing import service as processing
from ..rows import delete_row, get_row, refreshed
from ..storage import workspace_files as files
from ..validation import UNSET, check_color, check_list, check_text, given, one_of, require_text
from . import repository

E = TypeVar("E", bound=StrEnum)

MAX_CAPTION_WORDS = 5000
MAX_WORD_LENGTH = 100
MAX_HASHTAGS = 30
MAX_FOLDER_DEPTH = 100


# --- shared checks ---------------------------------------------------------------------------

async def _record(session: AsyncSession, principal: Principal, action: str, row: Any, details: dict[str, Any] | None = None) -> None:
    resource_type = action.rsplit(".", 1)[0]
    await audit.record(session, principal, action, resource_type=resource_type, resource_id=row.id, details=details)


async def check_workspace_file(storage: Any, principal: Principal, key: str | None, field: str) -> tuple[str | None, int | None]:
    """``key`` (trimmed) and its size when it is an upload of the principal's workspace; INVALID otherwise (None passes)."""
    if key is None:
        return None, None
    key = key.strip()
    try:
        size = await files.check_workspace_file(storage, key, principal.workspace_id)
    except files.ForeignFile as exc:
        raise ValidationError(ErrorCode.INVALID, str(exc), field) from None
    return key, size


# --- getting videos in -------------------------------------------------------------------------


@dataclass
class ClipOptions:
    """How the clip engine cuts a video (``processing.service.processing_input`` checks them)."""

    style: str = CaptionStyle.HORMOZI
    max_clips: int = 5
    min_duration: float = 15.0
    max_duration: float = 60.0

    def job_input(self) -> dict[str, Any]:
        return processing.processing_input(
            style=self.style, max_clips=self.max_clips, min_duration=self.min_duration, max_duration=self.max_duration
        )


@dataclass
class VideoUpload(ClipOptions):
    title: str | None = None


@dataclass
class VideoImport(ClipOptions):
    url: str = ""
    title: str | None = None


async def upload_video(
    session: AsyncSession, principal: Principal, storage: Any, *, path: Path, filename: str, data: VideoUpload
) -> tuple[Video, Job]:
    """Store an uploaded file as a new video and queue its processing."""
    options = data.job_input()
    title = check_text(data.title, "title", max_length=500)
    video, job = await processing.create_video_from_file(
        session, principal, storage, path=path, filename=filename, title=title or None, options=options
    )
    await _record(session, principal, "video.upload", video,
                  {"filename": filename, "size": video.file_size_bytes, "job_id": str(job.id)})
    await session.refresh(video)
    await session.refresh(job)
    return video, job


async def import_video(session: AsyncSession, principal: Principal, data: VideoImport) -> tuple[Video, Job]:
    """Record a video to import from a link and queue its download and processing."""
    options = data.job_input()
    url = require_text(data.url, "url", max_length=2048)
    title = check_text(data.title, "title", max_length=500)
    video, job = await processing.create_video_from_url(session, principal, url=url, title=title or None, options=options)
    await _record(session, principal, "video.import", video, {"url": url, "job_id": str(job.id)})
    await session.refresh(video)
    await session.refresh(job)
    return video, job


async def process_video(session: AsyncSession, principal: Principal, video_id: uuid.UUID, data: ClipOptions) -> tuple[Video, Job]:
    """Run the clip engine again on a stored video; refused while a job of it is pending or running."""
    principal.require("video:write")
    options = data.job_input()
    video = await get_row(session, Video, video_id, "videoId")  # locked: concurrent requests queue here
    if not video.file_url.startswith(f"videos/{video.id}/"):
        # a key typed into videoCreate may name another workspace's file: never hand it to the worker
        raise Conflict(ErrorCode.INVALID,
                       "This video's file was not added through an upload or import, so it cannot be processed.", "videoId")
    if await repository.active_job_of_video(session, video.id) is not None:
        raise Conflict(ErrorCode.CONFLICT, "This video is already being processed; wait until it finishes, then try again.", "videoId")
    job = await create_job(session, workspace_id=video.workspace_id, type="video_process", video_id=video.id, input_data=options)
    # back to pending, so videoProgress follows the new run instead of ending at the old "completed"
    video.status, video.processing_progress, video.error_message = VideoStatus.PENDING.value, 0, None
    video.processing_started_at = video.processing_completed_at = None
    await refreshed(session, video)
    await session.refresh(job)
    await _record(session, principal, "video.process", video, {"job_id": str(job.id), **options})
    return video, job


# --- videos ------------------------------------------------------------------------------------


@dataclass
class VideoNew:
    file_url: str
    source_type: str = VideoSourceType.UPLOAD
    source_url: str | None = None
    title: str | None = None
    description: str | None = None
    tags: list[str] | None = None


@dataclass
class VideoChanges:
    title: str | None = UNSET
    description: str | None = UNSET
    tags: list[str] | None = UNSET


async def create_video(session: AsyncSession, principal: Principal, data: VideoNew) -> Video:
    """Record a video whose file is already in storage (nothing is processed)."""
    workspace_id = principal.require("video:write")
    source_type = one_of(VideoSourceType, data.source_type, "sourceType", "The source type")
    video = Video(
        workspace_id=workspace_id,
        uploaded_by=principal.user_id,
        file_url=require_text(data.file_url, "fileUrl", max_length=2000),
        source_type=source_type.value,
        source_url=check_text(data.source_url, "sourceUrl", max_length=2000),
        title=check_text(data.title, "title", max_length=500),
        description=check_text(data.description, "description"),
        tags=check_list(data.tags, "tags"),
    )
    await repository.add(session, video)
    await _record(session, principal, "video.create", video, {"title": video.title})
    return video


async def update_video(session: AsyncSession, principal: Principal, video_id: uuid.UUID, data: VideoChanges) -> Video:
    """Change a video's title, description or tags."""
    principal.require("video:write")
    video = await get_row(session, Video, video_id)
    changes: dict[str, Any] = {}
    if given(data.title):
        changes["title"] = check_text(data.title, "title", max_length=500)
    if given(data.description):
        changes["description"] = check_text(data.description, "description")
    if given(data.tags):
        changes["tags"] = check_list(data.tags, "tags")
    for name, value in changes.items():
        setattr(video, name, value)
    await refreshed(session, video)
    await _record(session, principal, "video.update", video, changes)
    return video


async def delete_video(session: AsyncSession, principal: Principal, video_id: uuid.UUID) -> Video:
    """Soft-delete a video: it leaves every list; its files stay until cleanup."""
    principal.require("video:delete")
    video = await get_row(session, Video, video_id)
    video.deleted_at = clock.now()
    await refreshed(session, video)
    await _record(session, principal, "video.delete", video, {"title": video.title})
    return video


# --- clips -------------------------------------------------------------------------------------


@dataclass
class ClipChanges:
    title: str | None = UNSET
    description: str | None = UNSET
    start_time: float | None = UNSET
    end_time: float | None = UNSET
    caption_style: str | None = UNSET


_MILLISECOND = Decimal("0.001")


def _millis(value: float) -> Decimal:
    return Decimal(str(round(value, 3))).quantize(_MILLISECOND)  # stored to the millisecond: compare what is stored


async def update_clip(session: AsyncSession, principal: Principal, clip_id: uuid.UUID, data: ClipChanges) -> Clip:
    """Change a clip's title, description, timing (within its video) or caption style; a generated clip becomes edited."""
    principal.require("clip:write")
    clip = await get_row(session, Clip, clip_id)
    changes: dict[str, Any] = {}
    if given(data.title):
        changes["title"] = check_text(data.title, "title", max_length=500)
    if given(data.description):
        changes["description"] = check_text(data.description, "description")
    if given(data.caption_style):
        changes["caption_style"] = (
            None if data.caption_style is None
            else one_of(CaptionStyle, data.caption_style, "captionStyle", "The caption style").value
        )
    start = _millis(data.start_time) if given(data.start_time) and data.start_time is not None else clip.start_time
    end = _millis(data.end_time) if given(data.end_time) and data.end_time is not None else clip.end_time
    if (start, end) != (clip.start_time, clip.end_time):
        if start < 0:
            raise ValidationError(ErrorCode.INVALID, "The start cannot be negative.", "startTime")
        if end <= start:
            raise ValidationError(ErrorCode.INVALID, "The end must come after the start.", "endTime")
        video = await get_row(session, Video, clip.video_id, "id", lock=False)
        if video.duration_seconds is not None and end > video.duration_seconds:
            raise ValidationError(ErrorCode.INVALID, "The end is past the end of the video.", "endTime")
        changes.update(start_time=start, end_time=end)
    for name, value in changes.items():
        setattr(clip, name, value)
    if changes and clip.status == ClipStatus.GENERATED:
        clip.status = ClipStatus.EDITED.value
    await refreshed(session, clip)
    details = {k: str(v) if isinstance(v, Decimal) else v for k, v in changes.items()}
    await _record(session, principal, "clip.update", clip, details)
    return clip


async def approve_clip(session: AsyncSession, principal: Principal, clip_id: uuid.UUID) -> Clip:
    """Approve a clip for publishing (a published clip stays as it is)."""
    principal.require("clip:approve")
    clip = await get_row(session, Clip, clip_id)
    if clip.status == ClipStatus.PUBLISHED:
        raise Conflict(ErrorCode.INVALID, "A published clip cannot be re-approved.", "id")
    clip.status, clip.approved_by, clip.approved_at, clip.rejection_reason = (
        ClipStatus.APPROVED.value, principal.user_id, clock.now(), None
    )
    await refreshed(session, clip)
    await _record(session, principal, "clip.approve", clip)
    return clip


async def reject_clip(session: AsyncSession, principal: Principal, clip_id: uuid.UUID, reason: str | None = None) -> Clip:
    """Reject a clip, saying why (a published clip stays as it is)."""
    principal.require("clip:approve")
    clip = await get_row(session, Clip, clip_id)
    if clip.status == ClipStatus.PUBLISHED:
        raise Conflict(ErrorCode.INVALID, "A published clip cannot be rejected.", "id")
    reason = check_text(reason, "reason", max_length=2000)
    clip.status, clip.approved_by, clip.approved_at, clip.rejection_reason = ClipStatus.REJECTED.value, None, None, reason
    await refreshed(session, clip)
    await _record(session, principal, "clip.reject", clip, {"reason": reason})
    return clip


# --- captions ----------------------------------------------------------------------------------


@dataclass
class CaptionWord:
    word: str
    start: float
    end: float


@dataclass
class CaptionChanges:
    words: Sequence[CaptionWord] | None = UNSET
    style: str | None = UNSET
    font_family: str | None = UNSET
    font_size: int | None = UNSET
    font_color: str | None = UNSET
    background_color: str | None = UNSET
    position: str | None = UNSET


def check_caption_words(words: Sequence[CaptionWord], clip_length: float) -> list[dict[str, Any]]:
    """Caption words as stored: each within the clip, in order, none overlapping the one before."""
    if len(words) > MAX_CAPTION_WORDS:
        raise ValidationError(ErrorCode.INVALID, f"At most {MAX_CAPTION_WORDS} words.", "words")
    out: list[dict[str, Any]] = []
    for n, w in enumerate(words, start=1):
        if not w.word.strip() or len(w.word) > MAX_WORD_LENGTH:
            raise ValidationError(ErrorCode.INVALID, f"Word {n} is empty or longer than {MAX_WORD_LENGTH} characters.", "words")
        start, end = round(w.start, 3), round(w.end, 3)  # stored to the millisecond: compare what is stored
        if start < 0 or end < start:
            raise ValidationError(ErrorCode.INVALID, f"Word {n} must start at 0 or later and end after it starts.", "words")
        if end > round(clip_length, 3):
            raise ValidationError(ErrorCode.INVALID, f"Word {n} ends after the clip, which is {clip_length:g} seconds long.", "words")
        if out and start < out[-1]["start"]:
            raise ValidationError(ErrorCode.INVALID, f"Word {n} starts before word {n - 1}: words must be in order.", "words")
        if out and start < out[-1]["end"]:
            raise ValidationError(ErrorCode.INVALID, f"Word {n} starts before word {n - 1} ends: words must not overlap.", "words")
        out.append({"word": w.word, "start": start, "end": end})
    return out


async def update_caption(session: AsyncSession, principal: Principal, caption_id: uuid.UUID, data: CaptionChanges) -> Caption:
    """Change a caption track's words (in order, not overlapping, within the clip) or its look."""
    principal.require("caption:write")
    caption = await get_row(session, Caption, caption_id)
    changes: dict[str, Any] = {}
    if given(data.words) and data.words is not None:
        clip = await get_row(session, Clip, caption.clip_id, "id", lock=False)
        changes["words"] = check_caption_words(data.words, float(clip.end_time - clip.start_time))
    if given(data.style) and data.style is not None:
        changes["style"] = one_of(CaptionStyle, data.style, "style", "The caption style").value
    if given(data.font_family):
        changes["font_family"] = check_text(data.font_family, "fontFamily", max_length=100)
    if given(data.font_size):
        if data.font_size is not None and not 8 <= data.font_size <= 400:
            raise ValidationError(ErrorCode.INVALID, "Font size is 8 to 400 pixels.", "fontSize")
        changes["font_size"] = data.font_size
    if given(data.font_color):
        changes["font_color"] = check_color(data.font_color, "fontColor")
    if given(data.background_color):
        changes["background_color"] = check_color(data.background_color, "backgroundColor", alpha=True)
    if given(data.position) and data.position is not None:
        changes["position"] = one_of(CaptionPosition, data.position, "position", "The position").value
    for name, value in changes.items():
        setattr(caption, name, value)
    await refreshed(session, caption)
    details = {k: len(v) if k == "words" else v for k, v in changes.items()}
    await _record(session, principal, "caption.update", caption, details)
    return caption


# --- uploaded files ----------------------------------------------------------------------------


@dataclass
class FileUploadRequest:
    purpose: str  # a key of storage.workspace_files.PURPOSES
    filename: str
    content_type: str
    size: int


@dataclass(frozen=True)
class FileUploadTicket:
    key: str
    url: str
    method: str
    headers: dict[str, str]
    expires_at: datetime


async def create_file_upload(
    session: AsyncSession, principal: Principal, data: FileUploadRequest, *, storage: Any, url_ttl_s: int
) -> FileUploadTicket:
    """A key under the principal's workspace and a signed URL to PUT exactly the announced file to."""
    purpose = files.PURPOSES.get(data.purpose)
    if purpose is None:
        raise ValidationError(ErrorCode.INVALID, "Unknown purpose.", "purpose")
    workspace_id = principal.require(purpose.permission)
    filename = require_text(data.filename, "filename", max_length=255)
    content_type = (data.content_type or "").strip().lower()
    if not files.valid_content_type(content_type) or not purpose.allows(content_type):
        raise ValidationError(
            ErrorCode.INVALID, f"This kind of file ({content_type or 'no type'}) cannot be uploaded for this purpose.", "contentType"
        )
    if data.size <= 0:
        raise ValidationError(ErrorCode.INVALID, "The size must be at least 1 byte.", "size")
    limit = await processing.upload_limit_bytes(session, workspace_id)
    if data.size > limit:
        raise Conflict(ErrorCode.PLAN_LIMIT_REACHED, f"Your plan accepts files up to {limit // (1024 * 1024)} MB.", "size")
    key = files.new_upload_key(workspace_id, filename)
    url = storage.signed_upload_url(key, content_type=content_type, size=data.size, expires_in=url_ttl_s)
    await audit.record(session, principal, "file_upload.create", resource_type="file_upload",
                       resource_id=uuid.UUID(key.split("/")[3]),
                       details={"purpose": data.purpose, "key": key, "content_type": content_type, "size": data.size})
    return FileUploadTicket(key=key, url=url, method="PUT",
                            headers={"Content-Type": content_type, "Content-Length": str(data.size)},
                            expires_at=clock.now() + timedelta(seconds=url_ttl_s))


# --- brand kits --------------------------------------------------------------------------------


@dataclass
class BrandKitFields:
    name: str | None = UNSET
    primary_color: str | None = UNSET
    secondary_color: str | None = UNSET
    accent_color: str | None = UNSET
    background_color: str | None = UNSET
    text_color: str | None = UNSET
    heading_font: str | None = UNSET
    body_font: str | None = UNSET
    logo_url: str | None = UNSET
    logo_dark_url: str | None = UNSET
    watermark_url: str | None = UNSET
    watermark_position: str | None = UNSET
    watermark_opacity: float | None = UNSET
    voice_guidelines: str | None = UNSET
    default_hashtags: list[str] | None = UNSET
    is_default: bool | None = UNSET


_BRAND_COLORS = ("primary_color", "secondary_color", "accent_color", "background_color", "text_color")
_BRAND_FILES = ("logo_url", "logo_dark_url", "watermark_url")
_BRAND_TEXTS = ("heading_font", "body_font", "voice_guidelines")


async def _brand_kit_changes(storage: Any, principal: Principal, data: BrandKitFields) -> dict[str, Any]:
    """The validated column values ``data`` sets (file keys checked against the workspace's uploads)."""
    changes: dict[str, Any] = {}
    for name in _BRAND_FILES:  # checked first, as before: a foreign key is the refusal that matters
        value = getattr(data, name)
        if given(value):
            changes[name] = (await check_workspace_file(storage, principal, value, name))[0]
    if given(data.name):
        changes["name"] = require_text(data.name, "name", max_length=255)
    for name in _BRAND_COLORS:
        value = getattr(data, name)
        if given(value):
            changes[name] = check_color(value, name)
    for name in _BRAND_TEXTS:
        value = getattr(data, name)
        if given(value):
            changes[name] = check_text(value, name, max_length=2000)
    if given(data.watermark_position):
        changes["watermark_position"] = (
            None if data.watermark_position is None
            else one_of(WatermarkPosition, data.watermark_position, "watermarkPosition", "The watermark position").value
        )
    if given(data.watermark_opacity):
        opacity = data.watermark_opacity
        if opacity is not None and not 0 <= opacity <= 1:
            raise ValidationError(ErrorCode.INVALID, "Opacity is between 0 and 1.", "watermarkOpacity")
        changes["watermark_opacity"] = None if opacity is None else Decimal(str(round(opacity, 2)))
    if given(data.default_hashtags):
        changes["default_hashtags"] = check_list(data.default_hashtags, "defaultHashtags", max_items=MAX_HASHTAGS)
    if given(data.is_default) and data.is_default is not None:
        changes["is_default"] = data.is_default
    return changes


def _audit_details(changes: dict[str, Any]) -> dict[str, Any]:
    return {k: str(v) if isinstance(v, (Decimal, uuid.UUID)) else v for k, v in changes.items()}


async def create_brand_kit(session: AsyncSession, principal: Principal, data: BrandKitFields, *, storage: Any) -> BrandKit:
    """Create a brand kit (a plan feature); a new default kit takes over from the old one."""
    workspace_id = principal.require("brand_kit:write")
    await require_feature(session, workspace_id, "brand_kit")
    changes = await _brand_kit_changes(storage, principal, data)
    if "name" not in changes:
        raise ValidationError(ErrorCode.REQUIRED, "This field is required.", "name")
    kit = BrandKit(workspace_id=workspace_id, **changes)
    if changes.get("is_default"):
        await repository.clear_default_brand_kit(session, workspace_id)
    await repository.add(session, kit)
    await _record(session, principal, "brand_kit.create", kit, _audit_details(changes))
    return kit


async def update_brand_kit(
    session: AsyncSession, principal: Principal, kit_id: uuid.UUID, data: BrandKitFields, *, storage: Any
) -> BrandKit:
    """Change a brand kit (a plan feature); making it the default unmarks the old default."""
    workspace_id = principal.require("brand_kit:write")
    await require_feature(session, workspace_id, "brand_kit")
    kit = await get_row(session, BrandKit, kit_id)
    changes = await _brand_kit_changes(storage, principal, data)
    if changes.get("is_default"):
        await repository.clear_default_brand_kit(session, kit.workspace_id, keep=kit.id)
    for name, value in changes.items():
        setattr(kit, name, value)
    await refreshed(session, kit)
    await _record(session, principal, "brand_kit.update", kit, _audit_details(changes))
    return kit


async def delete_brand_kit(session: AsyncSession, principal: Principal, kit_id: uuid.UUID) -> BrandKit:
    """Delete a brand kit; returns its last state."""
    principal.require("brand_kit:write")
    kit = await get_row(session, BrandKit, kit_id)
    await delete_row(session, kit)
    await _record(session, principal, "brand_kit.delete", kit, {"name": kit.name})
    return kit


# --- assets ------------------------------------------------------------------------------------


@dataclass
class AssetNew:
    name: str
    type: str
    file_url: str
    category: str | None = None
    mime_type: str | None = None
    tags: list[str] | None = None


async def create_asset(session: AsyncSession, principal: Principal, data: AssetNew, *, storage: Any) -> Asset:
    """Add an asset whose file the workspace uploaded."""
    workspace_id = principal.require("asset:write")
    type_ = one_of(AssetType, data.type, "type", "Type")
    key, size = await check_workspace_file(storage, principal, require_text(data.file_url, "fileUrl", max_length=2000), "fileUrl")
    asset = Asset(
        workspace_id=workspace_id,
        name=require_text(data.name, "name", max_length=255),
        type=type_.value,
        category=check_text(data.category, "category", max_length=50),
        file_url=key,
        file_size_bytes=size,
        mime_type=check_text(data.mime_type, "mimeType", max_length=100),
        tags=check_list(data.tags, "tags"),
    )
    await repository.add(session, asset)
    await _record(session, principal, "asset.create", asset, {"name": asset.name})
    return asset


async def delete_asset(session: AsyncSession, principal: Principal, asset_id: uuid.UUID) -> Asset:
    """Delete one of the workspace's assets; system assets (shared by every workspace) are refused."""
    principal.require("asset:write")
    asset = await get_row(session, Asset, asset_id, lock=False)
    if asset.workspace_id is None:
        raise PermissionDenied(ErrorCode.PERMISSION_DENIED, "System assets cannot be deleted.", "id")
    await delete_row(session, asset)
    await _record(session, principal, "asset.delete", asset, {"name": asset.name})
    return asset


# --- media folders -----------------------------------------------------------------------------


@dataclass
class FolderFields:
    name: str | None = UNSET
    description: str | None = UNSET
    color: str | None = UNSET
    parent_id: uuid.UUID | None = UNSET
    is_shared: bool | None = UNSET
    sort_order: int | None = UNSET


async def _folder(session: AsyncSession, folder_id: uuid.UUID | None, field: str) -> uuid.UUID | None:
    """``folder_id`` when it is a folder the caller sees (None passes)."""
    if folder_id is None:
        return None
    await get_row(session, MediaFolder, folder_id, field, lock=False)
    return folder_id


async def _folder_changes(session: AsyncSession, folder: MediaFolder, data: FolderFields) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if given(data.name):
        changes["name"] = require_text(data.name, "name", max_length=200)
    if given(data.description):
        changes["description"] = check_text(data.description, "description", max_length=2000)
    if given(data.color) and data.color is not None:
        changes["color"] = check_color(data.color, "color")
    if given(data.is_shared) and data.is_shared is not None:
        changes["is_shared"] = data.is_shared
    if given(data.sort_order) and data.sort_order is not None:
        changes["sort_order"] = data.sort_order
    if given(data.parent_id):
        parent = await _folder(session, data.parent_id, "parentId")
        if parent is not None and folder.id is not None:
            # a folder cannot move into itself or one of its descendants
            if folder.id in await repository.folder_ancestry(session, parent, limit=MAX_FOLDER_DEPTH):
                raise ValidationError(ErrorCode.INVALID, "A folder cannot move into itself or a sub-folder.", "parentId")
        changes["parent_id"] = parent
    return changes


async def create_folder(session: AsyncSession, principal: Principal, data: FolderFields) -> MediaFolder:
    """Create a media folder owned by the principal."""
    workspace_id = principal.require("media:write")
    folder = MediaFolder(workspace_id=workspace_id, user_id=principal.user_id)
    if not given(data.name):
        raise ValidationError(ErrorCode.REQUIRED, "This field is required.", "name")
    for name, value in (await _folder_changes(session, folder, data)).items():
        setattr(folder, name, value)
    await repository.add(session, folder)
    await _record(session, principal, "media_folder.create", folder, {"name": folder.name})
    return folder


async def update_folder(session: AsyncSession, principal: Principal, folder_id: uuid.UUID, data: FolderFields) -> MediaFolder:
    """Rename, describe, recolor, share or move a folder (never into itself or below itself)."""
    principal.require("media:write")
    folder = await get_row(session, MediaFolder, folder_id)
    changes = await _folder_changes(session, folder, data)
    for name, value in changes.items():
        setattr(folder, name, value)
    await refreshed(session, folder)
    await _record(session, principal, "media_folder.update", folder, _audit_details(changes))
    return folder


async def delete_folder(session: AsyncSession, principal: Principal, folder_id: uuid.UUID) -> MediaFolder:
    """Delete a folder with its sub-folders; files and videos in them stay, without a folder."""
    principal.require("media:write")
    folder = await get_row(session, MediaFolder, folder_id)
    await delete_row(session, folder)
    await _record(session, principal, "media_folder.delete", folder, {"name": folder.name})
    return folder


# --- the media library -------------------------------------------------------------------------


@dataclass
class UserMediaFields:
    original_name: str | None = UNSET
    description: str | None = UNSET
    tags: list[str] | None = UNSET
    folder_id: uuid.UUID | None = UNSET
    dimensions: dict[str, Any] | None = UNSET


@dataclass
class UserMediaNew(UserMediaFields):
    mime_type: str = ""
    file_size: int = 0
    storage_key: str = ""
    media_type: str = ""


async def _user_media_changes(session: AsyncSession, data: UserMediaFields) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if given(data.original_name):
        changes["original_name"] = require_text(data.original_name, "originalName", max_length=500)
    if given(data.description):
        changes["description"] = check_text(data.description, "description", max_length=2000)
    if given(data.tags):
        changes["tags"] = check_list(data.tags or [], "tags")
    if given(data.dimensions):
        changes["dimensions"] = data.dimensions
    if given(data.folder_id):
        changes["folder_id"] = await _folder(session, data.folder_id, "folderId")
    return changes


async def create_user_media(
    session: AsyncSession, principal: Principal, data: UserMediaNew, *, storage: Any, storage_provider: str
) -> UserMedia:
    """Add a file the workspace uploaded to the media library."""
    workspace_id = principal.require("media:write")
    media_type = one_of(UserMediaType, data.media_type, "mediaType", "Media type")
    if data.file_size < 0:
        raise ValidationError(ErrorCode.INVALID, "The size cannot be negative.", "fileSize")
    key, size = await check_workspace_file(
        storage, principal, require_text(data.storage_key, "storageKey", max_length=1000), "storageKey"
    )
    assert key is not None and size is not None
    if not given(data.original_name):
        raise ValidationError(ErrorCode.REQUIRED, "This field is required.", "originalName")
    mime_type = require_text(data.mime_type, "mimeType", max_length=100)
    changes = await _user_media_changes(session, data)
    media = UserMedia(
        workspace_id=workspace_id, user_id=principal.user_id, filename=key.rsplit("/", 1)[-1],
        mime_type=mime_type, file_size=size, storage_provider=storage_provider, storage_key=key,
        # links are signed on read (UserMedia.publicUrl); the column keeps the key
        public_url=key, media_type=media_type.value, **changes,
    )
    await repository.add(session, media)
    await _record(session, principal, "user_media.create", media, {"name": media.original_name})
    return media


async def update_user_media(
    session: AsyncSession, principal: Principal, media_id: uuid.UUID, data: UserMediaFields
) -> UserMedia:
    """Change a library file's name, description, tags, dimensions or folder."""
    principal.require("media:write")
    media = await get_row(session, UserMedia, media_id)
    changes = await _user_media_changes(session, data)
    for name, value in changes.items():
        setattr(media, name, value)
    await refreshed(session, media)
    details = _audit_details({k: v for k, v in changes.items() if k != "dimensions"})
    await _record(session, principal, "user_media.update", media, details)
    return media


async def delete_user_media(session: AsyncSession, principal: Principal, media_id: uuid.UUID) -> UserMedia:
    """Remove a file from the media library; returns its last state."""
    principal.require("media:write")
    media = await get_row(session, UserMedia, media_id)
    await delete_row(session, media)
    await _record(session, principal, "user_media.delete", media, {"name": media.original_name})
    return media
