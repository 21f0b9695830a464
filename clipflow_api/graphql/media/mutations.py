"""Mutations clients use to add and edit videos, clips, captions, brand kits and the media library.

Videos come in through ``processing.service``: ``videoUpload`` (a GraphQL multipart file),
``videoImport`` (a link the worker downloads with SSRF checks) and ``videoProcess`` (the clip
engine again on a stored video). Each creates a ``video_process`` job that is enqueued only
after the mutation's transaction commits.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

import strawberry
from sqlalchemy import select, update
from strawberry.file_uploads import Upload

from ...billing.plans import require_feature
from ...jobs.service import create_job
from ...models import Asset as AssetRow
from ...models import BrandKit as BrandKitRow
from ...models import Caption as CaptionRow
from ...models import Clip as ClipRow
from ...models import Job as JobRow
from ...models import MediaFolder as MediaFolderRow
from ...models import UserMedia as UserMediaRow
from ...models import Video as VideoRow
from ...processing import service as processing
from ..base import desc
from ..errors import ErrorCode, error_type
from ..mutations import (
    delete_recorded,
    Refused,
    check_color,
    check_list,
    check_text,
    get_row,
    given,
    node_id,
    payload,
    record,
    refreshed,
    run,
)
from ..permissions import Require
from ..system.types import Job
from ..uploads import save_upload, upload_filename
from .file_uploads import (
    FileUploadCreateInput,
    FileUploadCreatePayload,
    FileUploadError,
    RequirePurposePermission,
    create_file_upload,
    workspace_file,
)
from .inputs import (
    AssetCreateInput,
    BrandKitInput,
    CaptionUpdateInput,
    ClipUpdateInput,
    MediaFolderCreateInput,
    MediaFolderInput,
    UserMediaCreateInput,
    UserMediaInput,
    VideoCreateInput,
    VideoImportInput,
    VideoProcessInput,
    VideoUpdateInput,
    VideoUploadInput,
)
from .types import Asset, BrandKit, Caption, Clip, MediaFolder, UserMedia, Video

VideoError = error_type("Video", "A refused video change.")
ClipError = error_type("Clip", "A refused clip change.")
CaptionError = error_type("Caption", "A refused caption change.")
BrandKitError = error_type("BrandKit", "A refused brand kit change.")
AssetError = error_type("Asset", "A refused asset change.")
MediaFolderError = error_type("MediaFolder", "A refused media folder change.")
UserMediaError = error_type("UserMedia", "A refused media library change.")

VideoPayload = payload("Video", "video", Video, VideoError, "The result of a video mutation.")
ClipPayload = payload("Clip", "clip", Clip, ClipError, "The result of a clip mutation.")
CaptionPayload = payload("Caption", "caption", Caption, CaptionError, "The result of a caption mutation.")
BrandKitPayload = payload("BrandKit", "brand_kit", BrandKit, BrandKitError, "The result of a brand kit mutation.")
AssetPayload = payload("Asset", "asset", Asset, AssetError, "The result of an asset mutation.")
MediaFolderPayload = payload("MediaFolder", "media_folder", MediaFolder, MediaFolderError, "The result of a media folder mutation.")
UserMediaPayload = payload("UserMedia", "user_media", UserMedia, UserMediaError, "The result of a media library mutation.")



def _video_job_payload(name: str, description: str) -> type:
    """``<name>Payload { video, job, errors }``: the video and the job that processes it."""
    cls = type(f"{name}Payload", (), {
        "__annotations__": {"video": Video | None, "job": Job | None, "errors": list[VideoError]},  # type: ignore[valid-type]
        "video": desc("The video (null when refused).", default=None),
        "job": desc("The processing job, pending until a worker takes it (null when refused).", default=None),
        "errors": desc("Why it was refused; empty on success.", default_factory=list),
    })
    return strawberry.type(cls, description=description)


VideoUploadPayload = _video_job_payload("VideoUpload", "The result of videoUpload.")
VideoImportPayload = _video_job_payload("VideoImport", "The result of videoImport.")
VideoProcessPayload = _video_job_payload("VideoProcess", "The result of videoProcess.")

IdArg = Annotated[strawberry.ID, strawberry.argument(description="The object's id.")]
MAX_CAPTION_WORDS = 5000
ACTIVE_JOB_STATUSES = ("pending", "processing")
_BRAND_COLORS = ("primary_color", "secondary_color", "accent_color", "background_color", "text_color")


def _now() -> datetime:
    return datetime.now(UTC)


def _options(data: Any) -> dict[str, Any]:
    return processing.processing_input(
        style=data.style, max_clips=data.max_clips, min_duration=data.min_duration, max_duration=data.max_duration
    )


def _check_words(words: list[Any], clip_length: float) -> list[dict[str, Any]]:
    """Caption words as stored: each within the clip, in order, none overlapping the one before."""
    if len(words) > MAX_CAPTION_WORDS:
        raise Refused("INVALID", f"At most {MAX_CAPTION_WORDS} words.", "words")
    out: list[dict[str, Any]] = []
    for n, w in enumerate(words, start=1):
        if not w.word.strip() or len(w.word) > 100:
            raise Refused("INVALID", f"Word {n} is empty or longer than 100 characters.", "words")
        start, end = round(w.start, 3), round(w.end, 3)  # stored to the millisecond: compare what is stored
        if start < 0 or end < start:
            raise Refused("INVALID", f"Word {n} must start at 0 or later and end after it starts.", "words")
        if end > round(clip_length, 3):
            raise Refused("INVALID", f"Word {n} ends after the clip, which is {clip_length:g} seconds long.", "words")
        if out and start < out[-1]["start"]:
            raise Refused("INVALID", f"Word {n} starts before word {n - 1}: words must be in order.", "words")
        if out and start < out[-1]["end"]:
            raise Refused("INVALID", f"Word {n} starts before word {n - 1} ends: words must not overlap.", "words")
        out.append({"word": w.word, "start": start, "end": end})
    return out


def _apply_brand_kit(row: Any, data: BrandKitInput) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for name in (
        "name", *_BRAND_COLORS, "heading_font", "body_font", "logo_url", "logo_dark_url", "watermark_url",
        "watermark_position", "watermark_opacity", "voice_guidelines", "default_hashtags", "is_default",
    ):
        value = getattr(data, name)
        if not given(value):
            continue
        if name in _BRAND_COLORS:
            value = check_color(value, name)
        elif name == "name":
            value = check_text(value, "name", max_length=255, required=True)
        elif name == "watermark_opacity" and value is not None:
            if not 0 <= value <= 1:
                raise Refused("INVALID", "Opacity is between 0 and 1.", "watermarkOpacity")
            value = Decimal(str(round(value, 2)))
        elif name == "default_hashtags":
            value = check_list(value, "defaultHashtags", max_items=30)
        elif name == "is_default" and value is None:
            continue
        elif isinstance(value, str):
            value = check_text(value, name, max_length=2000)
        setattr(row, name, value)
        changes[name] = str(value) if isinstance(value, Decimal) else value
    return changes


_BRAND_FILES = (("logo_url", "logoUrl"), ("logo_dark_url", "logoDarkUrl"), ("watermark_url", "watermarkUrl"))


async def _check_brand_files(info: Any, data: BrandKitInput) -> None:
    """Every file key the kit will point at must be an upload of the caller's workspace."""
    for name, field in _BRAND_FILES:
        value = getattr(data, name)
        if given(value):
            setattr(data, name, (await workspace_file(info, value, field))[0])


async def _clear_default_brand_kit(session: Any, workspace_id: Any, keep: Any = None) -> None:
    stmt = update(BrandKitRow).where(BrandKitRow.workspace_id == workspace_id, BrandKitRow.is_default)
    if keep is not None:
        stmt = stmt.where(BrandKitRow.id != keep)
    await session.execute(stmt.values(is_default=False))


def _forget(ctx: Any, keys: list[str]) -> None:
    """Delete files stored for a video whose transaction did not commit."""
    for key in keys:
        try:
            ctx.storage.delete(key)
        except Exception:  # noqa: BLE001 - best effort: an orphan file is harmless, a lost error is not
            pass


async def _folder_id(session: Any, value: Any, field: str) -> Any:
    if value is None:
        return None
    folder_id = node_id(value, MediaFolder, field)
    await get_row(session, MediaFolderRow, folder_id, field, lock=False)
    return folder_id


@strawberry.type
class MediaMutations:
    # --- getting videos in -----------------------------------------------------------------
    @strawberry.mutation(
        description="Upload a video file (GraphQL multipart request; send an `apollo-require-preflight` header) and queue its processing.",
        permission_classes=[Require("video:write")],
    )
    async def video_upload(
        self,
        info: strawberry.Info,
        file: Annotated[Upload, strawberry.argument(description="The video file (the plan limits its size).")],
        input: Annotated[VideoUploadInput | None, strawberry.argument(description="Title and clip options.")] = None,
    ) -> VideoUploadPayload | None:  # type: ignore[valid-type]
        ctx = info.context
        data = input or VideoUploadInput()
        if not callable(getattr(file, "read", None)):  # an Upload passed as a JSON variable
            return VideoUploadPayload(errors=[VideoError(field="file", message="Send the file as a multipart upload.", code=ErrorCode.INVALID)])
        filename = upload_filename(file)
        path = await save_upload(file)
        stored: list[str] = []
        try:
            async def work(session):  # noqa: ANN001, ANN202
                options = _options(data)
                title = check_text(data.title, "title", max_length=500)
                video, job = await processing.create_video_from_file(
                    session, ctx.principal, ctx.storage, path=path, filename=filename, title=title or None, options=options,
                )
                stored.append(video.file_url)
                await record(session, info, "video.upload", "video", video.id,
                             {"filename": filename, "size": video.file_size_bytes, "job_id": str(job.id)})
                await session.refresh(video)
                await session.refresh(job)
                return Video.from_row(video), Job.from_row(job)

            result = await run(info, VideoUploadPayload, VideoError, ("video", "job"), work)
        except BaseException:
            _forget(ctx, stored)
            raise
        finally:
            path.unlink(missing_ok=True)
        if result.errors:
            _forget(ctx, stored)
        return result

    @strawberry.mutation(
        description="Import a video from a public http(s) link: the worker downloads it, then makes clips.",
        permission_classes=[Require("video:write")],
    )
    async def video_import(
        self, info: strawberry.Info, input: Annotated[VideoImportInput, strawberry.argument(description="The link and clip options.")]
    ) -> VideoImportPayload | None:  # type: ignore[valid-type]
        async def work(session):  # noqa: ANN001, ANN202
            options = _options(input)
            url = check_text(input.url, "url", max_length=2048, required=True) or ""
            title = check_text(input.title, "title", max_length=500)
            video, job = await processing.create_video_from_url(
                session, info.context.principal, url=url, title=title or None, options=options
            )
            await record(session, info, "video.import", "video", video.id, {"url": url, "job_id": str(job.id)})
            await session.refresh(video)
            await session.refresh(job)
            return Video.from_row(video), Job.from_row(job)

        return await run(info, VideoImportPayload, VideoError, ("video", "job"), work)

    @strawberry.mutation(
        description="Make clips again from a stored video with new options (refused while it is being processed).",
        permission_classes=[Require("video:write")],
    )
    async def video_process(
        self, info: strawberry.Info, input: Annotated[VideoProcessInput, strawberry.argument(description="The video and clip options.")]
    ) -> VideoProcessPayload | None:  # type: ignore[valid-type]
        async def work(session):  # noqa: ANN001, ANN202
            video_id = node_id(input.video_id, Video, "videoId")
            options = _options(input)
            row = await get_row(session, VideoRow, video_id, "videoId")  # locked: concurrent requests queue here
            if not row.file_url.startswith(f"videos/{row.id}/"):
                # a key typed into videoCreate may name another workspace's file: never hand it to the worker
                raise Refused("INVALID", "This video's file was not added through an upload or import, so it cannot be processed.", "videoId")
            busy = await session.scalar(
                select(JobRow.id).where(JobRow.video_id == row.id, JobRow.status.in_(ACTIVE_JOB_STATUSES)).limit(1)
            )
            if busy is not None:
                raise Refused("CONFLICT", "This video is already being processed; wait until it finishes, then try again.", "videoId")
            job = await create_job(session, workspace_id=row.workspace_id, type="video_process", video_id=row.id, input_data=options)
            # back to pending, so videoProgress follows the new run instead of ending at the old "completed"
            row.status, row.processing_progress, row.error_message = "pending", 0, None
            row.processing_started_at = row.processing_completed_at = None
            await refreshed(session, row)
            await session.refresh(job)
            await record(session, info, "video.process", "video", row.id, {"job_id": str(job.id), **options})
            return Video.from_row(row), Job.from_row(job)

        return await run(info, VideoProcessPayload, VideoError, ("video", "job"), work)

    # --- videos ------------------------------------------------------------------------
    @strawberry.mutation(
        description="Record a video whose file is already in storage (no processing is started).",
        permission_classes=[Require("video:write")],
        deprecation_reason="Use videoUpload or videoImport: a typed-in storage key is never processed nor signed.",
    )
    async def video_create(
        self, info: strawberry.Info, input: Annotated[VideoCreateInput, strawberry.argument(description="The video.")]
    ) -> VideoPayload | None:  # type: ignore[valid-type]
        p = info.context.principal

        async def work(session):  # noqa: ANN001, ANN202
            if input.source_type not in ("upload", "url", "youtube", "drive", "dropbox"):
                raise Refused("INVALID", "Unknown source type.", "sourceType")
            row = VideoRow(
                workspace_id=p.workspace_id,
                uploaded_by=p.user_id,
                file_url=check_text(input.file_url, "fileUrl", max_length=2000, required=True),
                source_type=input.source_type,
                source_url=check_text(input.source_url, "sourceUrl", max_length=2000),
                title=check_text(input.title, "title", max_length=500),
                description=check_text(input.description, "description"),
                tags=check_list(input.tags, "tags"),
            )
            session.add(row)
            await refreshed(session, row)
            await record(session, info, "video.create", "video", row.id, {"title": row.title})
            return Video.from_row(row)

        return await run(info, VideoPayload, VideoError, "video", work)

    @strawberry.mutation(description="Change a video's title, description or tags.", permission_classes=[Require("video:write")])
    async def video_update(
        self, info: strawberry.Info, id: IdArg, input: Annotated[VideoUpdateInput, strawberry.argument(description="The changes.")]
    ) -> VideoPayload | None:  # type: ignore[valid-type]
        async def work(session):  # noqa: ANN001, ANN202
            row = await get_row(session, VideoRow, node_id(id, Video))
            changes: dict[str, Any] = {}
            if given(input.title):
                changes["title"] = row.title = check_text(input.title, "title", max_length=500)
            if given(input.description):
                changes["description"] = row.description = check_text(input.description, "description")
            if given(input.tags):
                changes["tags"] = row.tags = check_list(input.tags, "tags")
            await refreshed(session, row)
            await record(session, info, "video.update", "video", row.id, changes)
            return Video.from_row(row)

        return await run(info, VideoPayload, VideoError, "video", work)

    @strawberry.mutation(description="Delete a video (soft: it disappears from lists, its files stay until cleanup).", permission_classes=[Require("video:delete")])
    async def video_delete(self, info: strawberry.Info, id: IdArg) -> VideoPayload | None:  # type: ignore[valid-type]
        async def work(session):  # noqa: ANN001, ANN202
            row = await get_row(session, VideoRow, node_id(id, Video))
            row.deleted_at = _now()
            await refreshed(session, row)
            await record(session, info, "video.delete", "video", row.id, {"title": row.title})
            return Video.from_row(row)

        return await run(info, VideoPayload, VideoError, "video", work)

    # --- clips -------------------------------------------------------------------------
    @strawberry.mutation(description="Change a clip's title, timing or caption style.", permission_classes=[Require("clip:write")])
    async def clip_update(
        self, info: strawberry.Info, id: IdArg, input: Annotated[ClipUpdateInput, strawberry.argument(description="The changes.")]
    ) -> ClipPayload | None:  # type: ignore[valid-type]
        async def work(session):  # noqa: ANN001, ANN202
            row = await get_row(session, ClipRow, node_id(id, Clip))
            changes: dict[str, Any] = {}
            if given(input.title):
                changes["title"] = row.title = check_text(input.title, "title", max_length=500)
            if given(input.description):
                changes["description"] = row.description = check_text(input.description, "description")
            if given(input.caption_style):
                if input.caption_style not in (None, "hormozi", "minimal", "bold", "karaoke"):
                    raise Refused("INVALID", "Unknown caption style.", "captionStyle")
                changes["caption_style"] = row.caption_style = input.caption_style
            start = Decimal(str(round(input.start_time, 3))) if given(input.start_time) and input.start_time is not None else row.start_time
            end = Decimal(str(round(input.end_time, 3))) if given(input.end_time) and input.end_time is not None else row.end_time
            if (start, end) != (row.start_time, row.end_time):
                if start < 0:
                    raise Refused("INVALID", "The start cannot be negative.", "startTime")
                if end <= start:
                    raise Refused("INVALID", "The end must come after the start.", "endTime")
                video = await get_row(session, VideoRow, row.video_id, "id", lock=False)
                if video.duration_seconds is not None and end > video.duration_seconds:
                    raise Refused("INVALID", "The end is past the end of the video.", "endTime")
                row.start_time, row.end_time = start, end
                changes.update(start_time=str(start), end_time=str(end))
            if changes and row.status == "generated":
                row.status = "edited"
            await refreshed(session, row)
            await record(session, info, "clip.update", "clip", row.id, changes)
            return Clip.from_row(row)

        return await run(info, ClipPayload, ClipError, "clip", work)

    @strawberry.mutation(description="Approve a clip for publishing.", permission_classes=[Require("clip:approve")])
    async def clip_approve(self, info: strawberry.Info, id: IdArg) -> ClipPayload | None:  # type: ignore[valid-type]
        async def work(session):  # noqa: ANN001, ANN202
            row = await get_row(session, ClipRow, node_id(id, Clip))
            if row.status == "published":
                raise Refused("INVALID", "A published clip cannot be re-approved.", "id")
            row.status, row.approved_by, row.approved_at, row.rejection_reason = "approved", info.context.principal.user_id, _now(), None
            await refreshed(session, row)
            await record(session, info, "clip.approve", "clip", row.id)
            return Clip.from_row(row)

        return await run(info, ClipPayload, ClipError, "clip", work)

    @strawberry.mutation(description="Reject a clip, saying why.", permission_classes=[Require("clip:approve")])
    async def clip_reject(
        self,
        info: strawberry.Info,
        id: IdArg,
        reason: Annotated[str | None, strawberry.argument(description="Why the clip is rejected.")] = None,
    ) -> ClipPayload | None:  # type: ignore[valid-type]
        async def work(session):  # noqa: ANN001, ANN202
            row = await get_row(session, ClipRow, node_id(id, Clip))
            if row.status == "published":
                raise Refused("INVALID", "A published clip cannot be rejected.", "id")
            row.status, row.approved_by, row.approved_at = "rejected", None, None
            row.rejection_reason = check_text(reason, "reason", max_length=2000)
            await refreshed(session, row)
            await record(session, info, "clip.reject", "clip", row.id, {"reason": row.rejection_reason})
            return Clip.from_row(row)

        return await run(info, ClipPayload, ClipError, "clip", work)

    # --- captions ----------------------------------------------------------------------
    @strawberry.mutation(
        description="Change a caption track's words (in order, not overlapping, within the clip) or style.",
        permission_classes=[Require("caption:write")],
    )
    async def caption_update(
        self, info: strawberry.Info, id: IdArg, input: Annotated[CaptionUpdateInput, strawberry.argument(description="The changes.")]
    ) -> CaptionPayload | None:  # type: ignore[valid-type]
        async def work(session):  # noqa: ANN001, ANN202
            row = await get_row(session, CaptionRow, node_id(id, Caption))
            changes: dict[str, Any] = {}
            if given(input.words) and input.words is not None:
                clip = await get_row(session, ClipRow, row.clip_id, "id", lock=False)
                row.words = _check_words(input.words, float(clip.end_time - clip.start_time))
                changes["words"] = len(row.words)
            if given(input.style) and input.style is not None:
                if input.style not in ("hormozi", "minimal", "bold", "karaoke"):
                    raise Refused("INVALID", "Unknown caption style.", "style")
                changes["style"] = row.style = input.style
            if given(input.font_family):
                changes["font_family"] = row.font_family = check_text(input.font_family, "fontFamily", max_length=100)
            if given(input.font_size):
                if input.font_size is not None and not 8 <= input.font_size <= 400:
                    raise Refused("INVALID", "Font size is 8 to 400 pixels.", "fontSize")
                changes["font_size"] = row.font_size = input.font_size
            if given(input.font_color):
                changes["font_color"] = row.font_color = check_color(input.font_color, "fontColor")
            if given(input.background_color):
                changes["background_color"] = row.background_color = check_color(input.background_color, "backgroundColor", alpha=True)
            if given(input.position) and input.position is not None:
                if input.position not in ("top", "center", "bottom"):
                    raise Refused("INVALID", "Position is top, center or bottom.", "position")
                changes["position"] = row.position = input.position
            await refreshed(session, row)
            await record(session, info, "caption.update", "caption", row.id, changes)
            return Caption.from_row(row)

        return await run(info, CaptionPayload, CaptionError, "caption", work)

    # --- uploaded files ------------------------------------------------------------------
    @strawberry.mutation(
        description="Get a storage key and a signed URL to upload a file (PUT) for an asset, the media library or a brand kit; "
                    "then pass the key to assetCreate, userMediaCreate or brandKitCreate/Update.",
        permission_classes=[RequirePurposePermission],
    )
    async def file_upload_create(
        self, info: strawberry.Info,
        input: Annotated[FileUploadCreateInput, strawberry.argument(description="The file about to be uploaded.")],
    ) -> FileUploadCreatePayload | None:  # type: ignore[valid-type]
        async def work(session):  # noqa: ANN001, ANN202
            return await create_file_upload(info, session, input)

        return await run(info, FileUploadCreatePayload, FileUploadError, "upload", work)

    # --- brand kits --------------------------------------------------------------------
    @strawberry.mutation(description="Create a brand kit.", permission_classes=[Require("brand_kit:write")])
    async def brand_kit_create(
        self, info: strawberry.Info, input: Annotated[BrandKitInput, strawberry.argument(description="The kit.")]
    ) -> BrandKitPayload | None:  # type: ignore[valid-type]
        async def work(session):  # noqa: ANN001, ANN202
            await require_feature(session, info.context.principal.workspace_id, "brand_kit")
            await _check_brand_files(info, input)
            row = BrandKitRow(workspace_id=info.context.principal.workspace_id)
            changes = _apply_brand_kit(row, input)
            if row.is_default:
                await _clear_default_brand_kit(session, row.workspace_id)
            session.add(row)
            await refreshed(session, row)
            await record(session, info, "brand_kit.create", "brand_kit", row.id, changes)
            return BrandKit.from_row(row)

        return await run(info, BrandKitPayload, BrandKitError, "brand_kit", work)

    @strawberry.mutation(description="Change a brand kit.", permission_classes=[Require("brand_kit:write")])
    async def brand_kit_update(
        self, info: strawberry.Info, id: IdArg, input: Annotated[BrandKitInput, strawberry.argument(description="The changes.")]
    ) -> BrandKitPayload | None:  # type: ignore[valid-type]
        async def work(session):  # noqa: ANN001, ANN202
            await require_feature(session, info.context.principal.workspace_id, "brand_kit")
            row = await get_row(session, BrandKitRow, node_id(id, BrandKit))
            await _check_brand_files(info, input)
            if given(input.is_default) and input.is_default:
                await _clear_default_brand_kit(session, row.workspace_id, keep=row.id)
            changes = _apply_brand_kit(row, input)
            await refreshed(session, row)
            await record(session, info, "brand_kit.update", "brand_kit", row.id, changes)
            return BrandKit.from_row(row)

        return await run(info, BrandKitPayload, BrandKitError, "brand_kit", work)

    @strawberry.mutation(description="Delete a brand kit.", permission_classes=[Require("brand_kit:write")])
    async def brand_kit_delete(self, info: strawberry.Info, id: IdArg) -> BrandKitPayload | None:  # type: ignore[valid-type]
        async def work(session):  # noqa: ANN001, ANN202
            row = await get_row(session, BrandKitRow, node_id(id, BrandKit))
            return await delete_recorded(session, info, row, BrandKit, "brand_kit", {"name": row.name})

        return await run(info, BrandKitPayload, BrandKitError, "brand_kit", work)

    # --- assets ------------------------------------------------------------------------
    @strawberry.mutation(description="Add an asset whose file is already in storage.", permission_classes=[Require("asset:write")])
    async def asset_create(
        self, info: strawberry.Info, input: Annotated[AssetCreateInput, strawberry.argument(description="The asset.")]
    ) -> AssetPayload | None:  # type: ignore[valid-type]
        async def work(session):  # noqa: ANN001, ANN202
            if input.type not in ("image", "video", "audio", "font"):
                raise Refused("INVALID", "Type is image, video, audio or font.", "type")
            key, size = await workspace_file(info, check_text(input.file_url, "fileUrl", max_length=2000, required=True), "fileUrl")
            row = AssetRow(
                workspace_id=info.context.principal.workspace_id,
                name=check_text(input.name, "name", max_length=255, required=True),
                type=input.type,
                category=check_text(input.category, "category", max_length=50),
                file_url=key,
                file_size_bytes=size,
                mime_type=check_text(input.mime_type, "mimeType", max_length=100),
                tags=check_list(input.tags, "tags"),
            )
            session.add(row)
            await refreshed(session, row)
            await record(session, info, "asset.create", "asset", row.id, {"name": row.name})
            return Asset.from_row(row)

        return await run(info, AssetPayload, AssetError, "asset", work)

    @strawberry.mutation(description="Delete one of the workspace's assets (system assets cannot be deleted).", permission_classes=[Require("asset:write")])
    async def asset_delete(self, info: strawberry.Info, id: IdArg) -> AssetPayload | None:  # type: ignore[valid-type]
        async def work(session):  # noqa: ANN001, ANN202
            row = await get_row(session, AssetRow, node_id(id, Asset), lock=False)
            if row.workspace_id is None:
                raise Refused("PERMISSION_DENIED", "System assets cannot be deleted.", "id")
            return await delete_recorded(session, info, row, Asset, "asset", {"name": row.name})

        return await run(info, AssetPayload, AssetError, "asset", work)

    # --- media folders -----------------------------------------------------------------
    @strawberry.mutation(description="Create a media folder.", permission_classes=[Require("media:write")])
    async def media_folder_create(
        self, info: strawberry.Info, input: Annotated[MediaFolderCreateInput, strawberry.argument(description="The folder.")]
    ) -> MediaFolderPayload | None:  # type: ignore[valid-type]
        p = info.context.principal

        async def work(session):  # noqa: ANN001, ANN202
            row = MediaFolderRow(workspace_id=p.workspace_id, user_id=p.user_id)
            row.name = check_text(input.name, "name", max_length=200, required=True)
            await _apply_folder(session, row, input)
            session.add(row)
            await refreshed(session, row)
            await record(session, info, "media_folder.create", "media_folder", row.id, {"name": row.name})
            return MediaFolder.from_row(row)

        return await run(info, MediaFolderPayload, MediaFolderError, "media_folder", work)

    @strawberry.mutation(description="Change a media folder (rename, move, recolor).", permission_classes=[Require("media:write")])
    async def media_folder_update(
        self, info: strawberry.Info, id: IdArg, input: Annotated[MediaFolderInput, strawberry.argument(description="The changes.")]
    ) -> MediaFolderPayload | None:  # type: ignore[valid-type]
        async def work(session):  # noqa: ANN001, ANN202
            row = await get_row(session, MediaFolderRow, node_id(id, MediaFolder))
            if given(input.name):
                row.name = check_text(input.name, "name", max_length=200, required=True)
            changes = await _apply_folder(session, row, input)
            await refreshed(session, row)
            await record(session, info, "media_folder.update", "media_folder", row.id, changes)
            return MediaFolder.from_row(row)

        return await run(info, MediaFolderPayload, MediaFolderError, "media_folder", work)

    @strawberry.mutation(description="Delete a media folder with its sub-folders (files and videos stay, without a folder).", permission_classes=[Require("media:write")])
    async def media_folder_delete(self, info: strawberry.Info, id: IdArg) -> MediaFolderPayload | None:  # type: ignore[valid-type]
        async def work(session):  # noqa: ANN001, ANN202
            row = await get_row(session, MediaFolderRow, node_id(id, MediaFolder))
            return await delete_recorded(session, info, row, MediaFolder, "media_folder", {"name": row.name})

        return await run(info, MediaFolderPayload, MediaFolderError, "media_folder", work)

    # --- user media --------------------------------------------------------------------
    @strawberry.mutation(description="Add a file (already in storage) to the media library.", permission_classes=[Require("media:write")])
    async def user_media_create(
        self, info: strawberry.Info, input: Annotated[UserMediaCreateInput, strawberry.argument(description="The file.")]
    ) -> UserMediaPayload | None:  # type: ignore[valid-type]
        p = info.context.principal

        async def work(session):  # noqa: ANN001, ANN202
            media_type = input.media_type
            if media_type not in ("image", "video", "audio", "document"):
                raise Refused("INVALID", "Media type is image, video, audio or document.", "mediaType")
            size = input.file_size
            if size < 0:
                raise Refused("INVALID", "The size cannot be negative.", "fileSize")
            key, size = await workspace_file(
                info, check_text(input.storage_key, "storageKey", max_length=1000, required=True), "storageKey"
            )
            original = check_text(input.original_name, "originalName", max_length=500, required=True)
            row = UserMediaRow(
                workspace_id=p.workspace_id, user_id=p.user_id, filename=key.rsplit("/", 1)[-1], original_name=original,
                mime_type=check_text(input.mime_type, "mimeType", max_length=100, required=True),
                file_size=size, storage_provider=info.context.settings.storage_backend, storage_key=key,
                # links are signed on read (UserMedia.publicUrl); the column keeps the key
                public_url=key, media_type=media_type,
            )
            await _apply_user_media(session, row, input)
            session.add(row)
            await refreshed(session, row)
            await record(session, info, "user_media.create", "user_media", row.id, {"name": row.original_name})
            return UserMedia.from_row(row)

        return await run(info, UserMediaPayload, UserMediaError, "user_media", work)

    @strawberry.mutation(description="Change a library file's description, tags or folder.", permission_classes=[Require("media:write")])
    async def user_media_update(
        self, info: strawberry.Info, id: IdArg, input: Annotated[UserMediaInput, strawberry.argument(description="The changes.")]
    ) -> UserMediaPayload | None:  # type: ignore[valid-type]
        async def work(session):  # noqa: ANN001, ANN202
            row = await get_row(session, UserMediaRow, node_id(id, UserMedia))
            if given(input.original_name):
                row.original_name = check_text(input.original_name, "originalName", max_length=500, required=True)
            changes = await _apply_user_media(session, row, input)
            await refreshed(session, row)
            await record(session, info, "user_media.update", "user_media", row.id, changes)
            return UserMedia.from_row(row)

        return await run(info, UserMediaPayload, UserMediaError, "user_media", work)

    @strawberry.mutation(description="Remove a file from the media library.", permission_classes=[Require("media:write")])
    async def user_media_delete(self, info: strawberry.Info, id: IdArg) -> UserMediaPayload | None:  # type: ignore[valid-type]
        async def work(session):  # noqa: ANN001, ANN202
            row = await get_row(session, UserMediaRow, node_id(id, UserMedia))
            return await delete_recorded(session, info, row, UserMedia, "user_media", {"name": row.original_name})

        return await run(info, UserMediaPayload, UserMediaError, "user_media", work)


async def _apply_folder(session: Any, row: Any, data: MediaFolderInput) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if given(data.description):
        changes["description"] = row.description = check_text(data.description, "description", max_length=2000)
    if given(data.color) and data.color is not None:
        changes["color"] = row.color = check_color(data.color, "color")
    if given(data.is_shared) and data.is_shared is not None:
        changes["is_shared"] = row.is_shared = data.is_shared
    if given(data.sort_order) and data.sort_order is not None:
        changes["sort_order"] = row.sort_order = data.sort_order
    if given(data.parent_id):
        parent = await _folder_id(session, data.parent_id, "parentId")
        # walk up from the new parent: a folder cannot move into itself or a descendant
        cursor = parent
        for _ in range(100):
            if cursor is None:
                break
            if row.id is not None and cursor == row.id:
                raise Refused("INVALID", "A folder cannot move into itself or a sub-folder.", "parentId")
            cursor = (await session.get(MediaFolderRow, cursor)).parent_id
        row.parent_id = parent
        changes["parent_id"] = str(parent) if parent else None
    return changes


async def _apply_user_media(session: Any, row: Any, data: UserMediaInput) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if given(data.description):
        changes["description"] = row.description = check_text(data.description, "description", max_length=2000)
    if given(data.tags):
        changes["tags"] = row.tags = check_list(data.tags or [], "tags")
    if given(data.dimensions):
        row.dimensions = data.dimensions
    if given(data.folder_id):
        row.folder_id = await _folder_id(session, data.folder_id, "folderId")
        changes["folder_id"] = str(row.folder_id) if row.folder_id else None
    return changes
