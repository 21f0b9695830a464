"""Mutations clients use to add and edit videos, clips, captions, brand kits and the media library.

Adapters over ``clipflow_api.media.service``: parse ids, call the service with the caller
and a typed input, map the row (or the refusal, through ``run``). Videos come in with
``videoUpload`` (a GraphQL multipart file), ``videoImport`` (a link the worker downloads
with SSRF checks) and ``videoProcess`` (the clip engine again on a stored video); each
creates a ``video_process`` job that is enqueued only after the mutation's transaction commits.
"""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.file_uploads import Upload

from ...media import service as media
from ...validation import UNSET
from ..base import IdArg
from ..context import Info
from ..errors import ErrorCode, MutationError
from ..mutations import node_id, run, to_domain
from ..permissions import Require
from ..jobs.types import Job
from ..uploads import save_upload, upload_filename
from .file_uploads import FileUpload, FileUploadCreateInput, FileUploadCreatePayload, FileUploadError, RequirePurposePermission
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

_NULL_WHEN_REFUSED = "(null when refused)."
_WHY = "Why the change was refused; empty on success."


@strawberry.type(description="A refused video change.")
class VideoError(MutationError):
    pass


@strawberry.type(description="A refused clip change.")
class ClipError(MutationError):
    pass


@strawberry.type(description="A refused caption change.")
class CaptionError(MutationError):
    pass


@strawberry.type(description="A refused brand kit change.")
class BrandKitError(MutationError):
    pass


@strawberry.type(description="A refused asset change.")
class AssetError(MutationError):
    pass


@strawberry.type(description="A refused media folder change.")
class MediaFolderError(MutationError):
    pass


@strawberry.type(description="A refused media library change.")
class UserMediaError(MutationError):
    pass


@strawberry.type(description="The result of a video mutation.")
class VideoPayload:
    video: Video | None = strawberry.field(default=None, description=f"The video after the change {_NULL_WHEN_REFUSED}")
    errors: list[VideoError] = strawberry.field(default_factory=list, description=_WHY)


@strawberry.type(description="The result of a clip mutation.")
class ClipPayload:
    clip: Clip | None = strawberry.field(default=None, description=f"The clip after the change {_NULL_WHEN_REFUSED}")
    errors: list[ClipError] = strawberry.field(default_factory=list, description=_WHY)


@strawberry.type(description="The result of a caption mutation.")
class CaptionPayload:
    caption: Caption | None = strawberry.field(default=None, description=f"The caption after the change {_NULL_WHEN_REFUSED}")
    errors: list[CaptionError] = strawberry.field(default_factory=list, description=_WHY)


@strawberry.type(description="The result of a brand kit mutation.")
class BrandKitPayload:
    brand_kit: BrandKit | None = strawberry.field(default=None, description=f"The brand kit after the change {_NULL_WHEN_REFUSED}")
    errors: list[BrandKitError] = strawberry.field(default_factory=list, description=_WHY)


@strawberry.type(description="The result of an asset mutation.")
class AssetPayload:
    asset: Asset | None = strawberry.field(default=None, description=f"The asset after the change {_NULL_WHEN_REFUSED}")
    errors: list[AssetError] = strawberry.field(default_factory=list, description=_WHY)


@strawberry.type(description="The result of a media folder mutation.")
class MediaFolderPayload:
    media_folder: MediaFolder | None = strawberry.field(default=None, description=f"The media folder after the change {_NULL_WHEN_REFUSED}")
    errors: list[MediaFolderError] = strawberry.field(default_factory=list, description=_WHY)


@strawberry.type(description="The result of a media library mutation.")
class UserMediaPayload:
    user_media: UserMedia | None = strawberry.field(default=None, description=f"The library file after the change {_NULL_WHEN_REFUSED}")
    errors: list[UserMediaError] = strawberry.field(default_factory=list, description=_WHY)


_VIDEO = "The video (null when refused)."
_JOB = "The processing job, pending until a worker takes it (null when refused)."
_WHY_VIDEO = "Why it was refused; empty on success."


@strawberry.type(description="The result of videoUpload.")
class VideoUploadPayload:
    video: Video | None = strawberry.field(default=None, description=_VIDEO)
    job: Job | None = strawberry.field(default=None, description=_JOB)
    errors: list[VideoError] = strawberry.field(default_factory=list, description=_WHY_VIDEO)


@strawberry.type(description="The result of videoImport.")
class VideoImportPayload:
    video: Video | None = strawberry.field(default=None, description=_VIDEO)
    job: Job | None = strawberry.field(default=None, description=_JOB)
    errors: list[VideoError] = strawberry.field(default_factory=list, description=_WHY_VIDEO)


@strawberry.type(description="The result of videoProcess.")
class VideoProcessPayload:
    video: Video | None = strawberry.field(default=None, description=_VIDEO)
    job: Job | None = strawberry.field(default=None, description=_JOB)
    errors: list[VideoError] = strawberry.field(default_factory=list, description=_WHY_VIDEO)


def _optional_node_id(value: Any, node_type: type, field: str) -> Any:
    """A sent global id as its uuid; null stays null, a field not sent stays UNSET."""
    if value is strawberry.UNSET:
        return UNSET
    return None if value is None else node_id(value, node_type, field)


def _forget(ctx: Any, keys: list[str]) -> None:
    """Delete files stored for a video whose transaction did not commit."""
    for key in keys:
        try:
            ctx.storage.delete(key)
        except Exception:  # noqa: BLE001 - best effort: an orphan file is harmless, a lost error is not
            pass


@strawberry.type
class MediaMutations:
    # --- getting videos in -----------------------------------------------------------------
    @strawberry.mutation(
        description="Upload a video file (GraphQL multipart request; send an `apollo-require-preflight` header) and queue its processing.",
        permission_classes=[Require("video:write")],
    )
    async def video_upload(
        self,
        info: Info,
        file: Annotated[Upload, strawberry.argument(description="The video file (the plan limits its size).")],
        input: Annotated[VideoUploadInput | None, strawberry.argument(description="Title and clip options.")] = None,
    ) -> VideoUploadPayload | None:
        ctx = info.context
        data = input or VideoUploadInput()
        if not callable(getattr(file, "read", None)):  # an Upload passed as a JSON variable
            return VideoUploadPayload(errors=[VideoError(field="file", message="Send the file as a multipart upload.", code=ErrorCode.INVALID)])
        filename = upload_filename(file)
        path = await save_upload(file)
        stored: list[str] = []
        try:
            async def work(session: AsyncSession) -> tuple[Video, Job]:
                video, job = await media.upload_video(
                    session, ctx.principal, ctx.storage, path=path, filename=filename, data=to_domain(data, media.VideoUpload)
                )
                stored.append(video.file_url)
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
        self, info: Info, input: Annotated[VideoImportInput, strawberry.argument(description="The link and clip options.")]
    ) -> VideoImportPayload | None:
        async def work(session: AsyncSession) -> tuple[Video, Job]:
            video, job = await media.import_video(session, info.context.principal, to_domain(input, media.VideoImport))
            return Video.from_row(video), Job.from_row(job)

        return await run(info, VideoImportPayload, VideoError, ("video", "job"), work)

    @strawberry.mutation(
        description="Make clips again from a stored video with new options (refused while it is being processed).",
        permission_classes=[Require("video:write")],
    )
    async def video_process(
        self, info: Info, input: Annotated[VideoProcessInput, strawberry.argument(description="The video and clip options.")]
    ) -> VideoProcessPayload | None:
        async def work(session: AsyncSession) -> tuple[Video, Job]:
            video_id = node_id(input.video_id, Video, "videoId")
            video, job = await media.process_video(session, info.context.principal, video_id, to_domain(input, media.ClipOptions))
            return Video.from_row(video), Job.from_row(job)

        return await run(info, VideoProcessPayload, VideoError, ("video", "job"), work)

    # --- videos ------------------------------------------------------------------------
    @strawberry.mutation(
        description="Record a video whose file is already in storage (no processing is started).",
        permission_classes=[Require("video:write")],
        deprecation_reason="Use videoUpload or videoImport: a typed-in storage key is never processed nor signed.",
    )
    async def video_create(
        self, info: Info, input: Annotated[VideoCreateInput, strawberry.argument(description="The video.")]
    ) -> VideoPayload | None:
        async def work(session: AsyncSession) -> Video:
            return Video.from_row(await media.create_video(session, info.context.principal, to_domain(input, media.VideoNew)))

        return await run(info, VideoPayload, VideoError, "video", work)

    @strawberry.mutation(description="Change a video's title, description or tags.", permission_classes=[Require("video:write")])
    async def video_update(
        self, info: Info, id: IdArg, input: Annotated[VideoUpdateInput, strawberry.argument(description="The changes.")]
    ) -> VideoPayload | None:
        async def work(session: AsyncSession) -> Video:
            changes = to_domain(input, media.VideoChanges)
            return Video.from_row(await media.update_video(session, info.context.principal, node_id(id, Video), changes))

        return await run(info, VideoPayload, VideoError, "video", work)

    @strawberry.mutation(description="Delete a video (soft: it disappears from lists, its files stay until cleanup).", permission_classes=[Require("video:delete")])
    async def video_delete(self, info: Info, id: IdArg) -> VideoPayload | None:
        async def work(session: AsyncSession) -> Video:
            return Video.from_row(await media.delete_video(session, info.context.principal, node_id(id, Video)))

        return await run(info, VideoPayload, VideoError, "video", work)

    # --- clips -------------------------------------------------------------------------
    @strawberry.mutation(description="Change a clip's title, timing or caption style.", permission_classes=[Require("clip:write")])
    async def clip_update(
        self, info: Info, id: IdArg, input: Annotated[ClipUpdateInput, strawberry.argument(description="The changes.")]
    ) -> ClipPayload | None:
        async def work(session: AsyncSession) -> Clip:
            changes = to_domain(input, media.ClipChanges)
            return Clip.from_row(await media.update_clip(session, info.context.principal, node_id(id, Clip), changes))

        return await run(info, ClipPayload, ClipError, "clip", work)

    @strawberry.mutation(description="Approve a clip for publishing.", permission_classes=[Require("clip:approve")])
    async def clip_approve(self, info: Info, id: IdArg) -> ClipPayload | None:
        async def work(session: AsyncSession) -> Clip:
            return Clip.from_row(await media.approve_clip(session, info.context.principal, node_id(id, Clip)))

        return await run(info, ClipPayload, ClipError, "clip", work)

    @strawberry.mutation(description="Reject a clip, saying why.", permission_classes=[Require("clip:approve")])
    async def clip_reject(
        self,
        info: Info,
        id: IdArg,
        reason: Annotated[str | None, strawberry.argument(description="Why the clip is rejected.")] = None,
    ) -> ClipPayload | None:
        async def work(session: AsyncSession) -> Clip:
            return Clip.from_row(await media.reject_clip(session, info.context.principal, node_id(id, Clip), reason))

        return await run(info, ClipPayload, ClipError, "clip", work)

    # --- captions ----------------------------------------------------------------------
    @strawberry.mutation(
        description="Change a caption track's words (in order, not overlapping, within the clip) or style.",
        permission_classes=[Require("caption:write")],
    )
    async def caption_update(
        self, info: Info, id: IdArg, input: Annotated[CaptionUpdateInput, strawberry.argument(description="The changes.")]
    ) -> CaptionPayload | None:
        async def work(session: AsyncSession) -> Caption:
            words: Any = input.words
            if words is not strawberry.UNSET and words is not None:
                words = [media.CaptionWord(word=w.word, start=w.start, end=w.end) for w in words]
            changes = to_domain(input, media.CaptionChanges, **({} if words is strawberry.UNSET else {"words": words}))
            return Caption.from_row(await media.update_caption(session, info.context.principal, node_id(id, Caption), changes))

        return await run(info, CaptionPayload, CaptionError, "caption", work)

    # --- uploaded files ------------------------------------------------------------------
    @strawberry.mutation(
        description="Get a storage key and a signed URL to upload a file (PUT) for an asset, the media library or a brand kit; "
                    "then pass the key to assetCreate, userMediaCreate or brandKitCreate/Update.",
        permission_classes=[RequirePurposePermission],
    )
    async def file_upload_create(
        self, info: Info,
        input: Annotated[FileUploadCreateInput, strawberry.argument(description="The file about to be uploaded.")],
    ) -> FileUploadCreatePayload | None:
        ctx = info.context

        async def work(session: AsyncSession) -> FileUpload:
            request = to_domain(input, media.FileUploadRequest, purpose=input.purpose.value)
            ticket = await media.create_file_upload(
                session, ctx.principal, request, storage=ctx.storage, url_ttl_s=ctx.settings.file_upload_url_ttl_s
            )
            return FileUpload.from_ticket(ticket)

        return await run(info, FileUploadCreatePayload, FileUploadError, "upload", work)

    # --- brand kits --------------------------------------------------------------------
    @strawberry.mutation(description="Create a brand kit.", permission_classes=[Require("brand_kit:write")])
    async def brand_kit_create(
        self, info: Info, input: Annotated[BrandKitInput, strawberry.argument(description="The kit.")]
    ) -> BrandKitPayload | None:
        ctx = info.context

        async def work(session: AsyncSession) -> BrandKit:
            fields = to_domain(input, media.BrandKitFields)
            return BrandKit.from_row(await media.create_brand_kit(session, ctx.principal, fields, storage=ctx.storage))

        return await run(info, BrandKitPayload, BrandKitError, "brand_kit", work)

    @strawberry.mutation(description="Change a brand kit.", permission_classes=[Require("brand_kit:write")])
    async def brand_kit_update(
        self, info: Info, id: IdArg, input: Annotated[BrandKitInput, strawberry.argument(description="The changes.")]
    ) -> BrandKitPayload | None:
        ctx = info.context

        async def work(session: AsyncSession) -> BrandKit:
            fields = to_domain(input, media.BrandKitFields)
            row = await media.update_brand_kit(session, ctx.principal, node_id(id, BrandKit), fields, storage=ctx.storage)
            return BrandKit.from_row(row)

        return await run(info, BrandKitPayload, BrandKitError, "brand_kit", work)

    @strawberry.mutation(description="Delete a brand kit.", permission_classes=[Require("brand_kit:write")])
    async def brand_kit_delete(self, info: Info, id: IdArg) -> BrandKitPayload | None:
        async def work(session: AsyncSession) -> BrandKit:
            return BrandKit.from_row(await media.delete_brand_kit(session, info.context.principal, node_id(id, BrandKit)))

        return await run(info, BrandKitPayload, BrandKitError, "brand_kit", work)

    # --- assets ------------------------------------------------------------------------
    @strawberry.mutation(description="Add an asset whose file is already in storage.", permission_classes=[Require("asset:write")])
    async def asset_create(
        self, info: Info, input: Annotated[AssetCreateInput, strawberry.argument(description="The asset.")]
    ) -> AssetPayload | None:
        ctx = info.context

        async def work(session: AsyncSession) -> Asset:
            data = to_domain(input, media.AssetNew)
            return Asset.from_row(await media.create_asset(session, ctx.principal, data, storage=ctx.storage))

        return await run(info, AssetPayload, AssetError, "asset", work)

    @strawberry.mutation(description="Delete one of the workspace's assets (system assets cannot be deleted).", permission_classes=[Require("asset:write")])
    async def asset_delete(self, info: Info, id: IdArg) -> AssetPayload | None:
        async def work(session: AsyncSession) -> Asset:
            return Asset.from_row(await media.delete_asset(session, info.context.principal, node_id(id, Asset)))

        return await run(info, AssetPayload, AssetError, "asset", work)

    # --- media folders -----------------------------------------------------------------
    @strawberry.mutation(description="Create a media folder.", permission_classes=[Require("media:write")])
    async def media_folder_create(
        self, info: Info, input: Annotated[MediaFolderCreateInput, strawberry.argument(description="The folder.")]
    ) -> MediaFolderPayload | None:
        async def work(session: AsyncSession) -> MediaFolder:
            data = to_domain(input, media.FolderFields, parent_id=_optional_node_id(input.parent_id, MediaFolder, "parentId"))
            return MediaFolder.from_row(await media.create_folder(session, info.context.principal, data))

        return await run(info, MediaFolderPayload, MediaFolderError, "media_folder", work)

    @strawberry.mutation(description="Change a media folder (rename, move, recolor).", permission_classes=[Require("media:write")])
    async def media_folder_update(
        self, info: Info, id: IdArg, input: Annotated[MediaFolderInput, strawberry.argument(description="The changes.")]
    ) -> MediaFolderPayload | None:
        async def work(session: AsyncSession) -> MediaFolder:
            folder_id = node_id(id, MediaFolder)
            data = to_domain(input, media.FolderFields, parent_id=_optional_node_id(input.parent_id, MediaFolder, "parentId"))
            return MediaFolder.from_row(await media.update_folder(session, info.context.principal, folder_id, data))

        return await run(info, MediaFolderPayload, MediaFolderError, "media_folder", work)

    @strawberry.mutation(description="Delete a media folder with its sub-folders (files and videos stay, without a folder).", permission_classes=[Require("media:write")])
    async def media_folder_delete(self, info: Info, id: IdArg) -> MediaFolderPayload | None:
        async def work(session: AsyncSession) -> MediaFolder:
            return MediaFolder.from_row(await media.delete_folder(session, info.context.principal, node_id(id, MediaFolder)))

        return await run(info, MediaFolderPayload, MediaFolderError, "media_folder", work)

    # --- user media --------------------------------------------------------------------
    @strawberry.mutation(description="Add a file (already in storage) to the media library.", permission_classes=[Require("media:write")])
    async def user_media_create(
        self, info: Info, input: Annotated[UserMediaCreateInput, strawberry.argument(description="The file.")]
    ) -> UserMediaPayload | None:
        ctx = info.context

        async def work(session: AsyncSession) -> UserMedia:
            data = to_domain(input, media.UserMediaNew, folder_id=_optional_node_id(input.folder_id, MediaFolder, "folderId"))
            row = await media.create_user_media(
                session, ctx.principal, data, storage=ctx.storage, storage_provider=ctx.settings.storage_backend
            )
            return UserMedia.from_row(row)

        return await run(info, UserMediaPayload, UserMediaError, "user_media", work)

    @strawberry.mutation(description="Change a library file's description, tags or folder.", permission_classes=[Require("media:write")])
    async def user_media_update(
        self, info: Info, id: IdArg, input: Annotated[UserMediaInput, strawberry.argument(description="The changes.")]
    ) -> UserMediaPayload | None:
        async def work(session: AsyncSession) -> UserMedia:
            media_id = node_id(id, UserMedia)
            data = to_domain(input, media.UserMediaFields, folder_id=_optional_node_id(input.folder_id, MediaFolder, "folderId"))
            return UserMedia.from_row(await media.update_user_media(session, info.context.principal, media_id, data))

        return await run(info, UserMediaPayload, UserMediaError, "user_media", work)

    @strawberry.mutation(description="Remove a file from the media library.", permission_classes=[Require("media:write")])
    async def user_media_delete(self, info: Info, id: IdArg) -> UserMediaPayload | None:
        async def work(session: AsyncSession) -> UserMedia:
            return UserMedia.from_row(await media.delete_user_media(session, info.context.principal, node_id(id, UserMedia)))

        return await run(info, UserMediaPayload, UserMediaError, "user_media", work)
