"""Types of the clip engine (videos, clips, captions) and the media library."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, ClassVar, cast

import strawberry
from strawberry import relay

from .inputs import ClipFilterInput, ClipSortingInput
from ..context import Info
from ..base import JSON, RowType, desc
from ..enums import AssetType, CaptionPosition, CaptionStyle, ClipStatus, UserMediaType, VideoSourceType, VideoStatus, WatermarkPosition
from ...processing import speech
from ...storage.workspace_files import workspace_prefix
from ..files import SIGNED_URL_TTL_S, signed_url
from ..loaders import load_connection, load_list, load_one
from ..relay import AfterArg, BeforeArg, Connection, FirstArg, LastArg


@strawberry.type(description="A stretch of a video's speech that was not transcribed.")
class UntranscribedPart:
    start: float = desc("Where it starts, in seconds.")
    end: float = desc("Where it ends, in seconds.")
    language: str = desc("The language heard (ISO 639-1; \"und\" when it could not be named).")
    reason: str = desc("Why it was not transcribed, in a sentence.")
    advice: str = desc("What would transcribe it (which ASR_MODEL to configure).")

    @classmethod
    def from_domain(cls, part: speech.UntranscribedPart) -> UntranscribedPart:
        return cls(start=part.start, end=part.end, language=part.language, reason=part.reason, advice=part.advice)


@strawberry.type(description="A long source video that clips are cut from.")
class Video(relay.Node, RowType):
    id: relay.NodeID[uuid.UUID]
    workspace_id: strawberry.Private[uuid.UUID]
    uploaded_by: strawberry.Private[uuid.UUID]
    folder_id: strawberry.Private[uuid.UUID | None]
    thumbnail_key: strawberry.Private[str | None]
    _row_aliases: ClassVar[dict[str, str]] = {"thumbnail_key": "thumbnail_url"}
    title: str | None = desc("Title.")
    description: str | None = desc("Description.")
    source_type: VideoSourceType = desc("Where the video came from.")
    source_url: str | None = desc("Where an imported video came from.")
    file_url: str = desc("Storage key of the source file.", deprecation_reason="A storage key, not a link: use `downloadUrl`.")
    file_size_bytes: float | None = desc("Size of the source file in bytes.")
    duration_seconds: int | None = desc("Length in seconds.")
    width: int | None = desc("Width in pixels.")
    height: int | None = desc("Height in pixels.")
    fps: float | None = desc("Frames per second.")
    codec: str | None = desc("Video codec.")
    status: VideoStatus = desc("Where the video is in the clip engine.")
    processing_progress: int = desc("Processing progress, 0-100.")
    processing_started_at: datetime | None = desc("When processing started.")
    processing_completed_at: datetime | None = desc("When processing finished.")
    error_message: str | None = desc("Why processing failed, in words a user understands.")
    transcript: JSON | None = desc("Word-level transcript.")
    language_detected: str | None = desc("Spoken language.")
    topics: list[str] | None = desc("Topics found in the video.")
    key_moments: JSON | None = desc("Notable moments with timestamps.")
    tags: list[str] | None = desc("Labels.")
    created_at: datetime = desc("When the video was added.")
    updated_at: datetime = desc("Last change.")

    @strawberry.field(description="Every language heard in the video (ISO 639-1, most spoken first; \"und\" when one could not be named).")
    def languages(self) -> list[str]:
        return speech.languages(cast(dict[str, Any] | None, self.transcript), self.language_detected)

    @strawberry.field(description="Speech the configured model could not transcribe (another language, or too unclear); no clip covers it.")
    def untranscribed_parts(self) -> list[UntranscribedPart]:
        return [UntranscribedPart.from_domain(p) for p in speech.untranscribed_parts(cast(dict[str, Any] | None, self.transcript))]

    @strawberry.field(description="Why processing found nothing worth a clip, in a sentence (null when there are clips or it has not run).")
    def no_clip_reason(self) -> str | None:
        return speech.no_clip_reason(cast(dict[str, Any] | None, self.transcript))

    @strawberry.field(description=f"A signed link to the source file, valid for {SIGNED_URL_TTL_S // 60} minutes (null until the file is stored).")
    def download_url(self, info: Info) -> str | None:
        if self.file_size_bytes is None:  # an import not downloaded yet
            return None
        return signed_url(info, self.file_url, under=f"videos/{self.id}/")

    @strawberry.field(description=f"A signed link to the poster image, valid for {SIGNED_URL_TTL_S // 60} minutes (null until made).")
    def thumbnail_url(self, info: Info) -> str | None:
        return signed_url(info, self.thumbnail_key, under=f"videos/{self.id}/")

    @strawberry.field(description="The workspace that owns the video.")
    async def workspace(self, info: Info) -> Workspace | None:
        return await load_one(info, WorkspaceByIdLoader, Workspace, self.workspace_id)

    @strawberry.field(description="Who added the video.")
    async def uploaded_by_user(self, info: Info) -> User | None:
        return await load_one(info, UserByIdLoader, User, self.uploaded_by)

    @strawberry.field(description="The media folder holding the video.")
    async def folder(self, info: Info) -> MediaFolder | None:
        return await load_one(info, MediaFolderByIdLoader, MediaFolder, self.folder_id)

    @strawberry.field(description="Clips cut from this video.")
    async def clips(
        self,
        info: Info,
        filter: Annotated[ClipFilterInput | None, strawberry.argument(description="Narrow the list.")] = None,
        sort_by: Annotated[ClipSortingInput | None, strawberry.argument(description="Order of the list (default: newest first).")] = None,
        first: FirstArg = None,
        after: AfterArg = None,
        last: LastArg = None,
        before: BeforeArg = None,
    ) -> Connection[Clip]:
        return await load_connection(
            info, ClipsByVideoIdLoader, Clip, self.id, first=first, after=after, last=last, before=before,
            filter=ClipFilterKey.of(filter), sort=ClipSortKey.of(sort_by),
        )

    @strawberry.field(description="Background jobs that processed this video.")
    async def jobs(
        self, info: Info, first: FirstArg = None, after: AfterArg = None, last: LastArg = None, before: BeforeArg = None
    ) -> Connection[Job]:
        return await load_connection(info, JobsByVideoIdLoader, Job, self.id, first=first, after=after, last=last, before=before)


@strawberry.type(description="A rendered file of a clip: its aspect ratio and a signed download link.")
class ClipDownload:
    format: str = desc('The aspect ratio, e.g. "9:16".')
    url: str = desc("A signed link to the file (it expires).")


@strawberry.type(description="A short clip cut from a video, rendered per aspect ratio.")
class Clip(relay.Node, RowType):
    id: relay.NodeID[uuid.UUID]
    workspace_id: strawberry.Private[uuid.UUID]
    video_id: strawberry.Private[uuid.UUID]
    music_track_id: strawberry.Private[uuid.UUID | None]
    approved_by: strawberry.Private[uuid.UUID | None]
    thumbnail_key: strawberry.Private[str | None]
    _row_aliases: ClassVar[dict[str, str]] = {"thumbnail_key": "thumbnail_url"}
    title: str | None = desc("Title.")
    description: str | None = desc("Description.")
    start_time: float = desc("Start, in seconds of the source video.")
    end_time: float = desc("End, in seconds of the source video.")
    duration_seconds: float | None = desc("Length in seconds.")
    file_urls: JSON = desc(
        'Storage keys of the rendered files by aspect ratio, e.g. {"9:16": key}.',
        deprecation_reason="Storage keys, not links: use `downloadUrls`.",
    )
    virality_score: int | None = desc("Predicted virality, 0-100.")
    hook_score: int | None = desc("Strength of the opening, 0-100.")
    engagement_score: int | None = desc("Predicted engagement, 0-100.")
    topics: list[str] | None = desc("Topics of the clip.")
    emotions: list[str] | None = desc("Emotions detected.")
    transcript_segment: str | None = desc("What is said in the clip.")
    has_captions: bool = desc("Whether captions are burnt in.")
    caption_style: CaptionStyle | None = desc("Caption style.")
    has_music: bool = desc("Whether a music track is mixed in.")
    edits_json: JSON | None = desc("Edits applied on top of the cut.")
    status: ClipStatus = desc("Where the clip is in review and publishing.")
    approved_at: datetime | None = desc("When the clip was approved.")
    rejection_reason: str | None = desc("Why the clip was rejected.")
    times_published: int = desc("How many posts used the clip.")
    created_at: datetime = desc("When the clip was generated.")
    updated_at: datetime = desc("Last change.")

    @strawberry.field(description=f"Signed links to the rendered files, one per aspect ratio (sorted by it), valid for {SIGNED_URL_TTL_S // 60} minutes.")
    def download_urls(self, info: Info) -> list[ClipDownload]:
        out = []
        files = cast(dict[str, Any], self.file_urls or {})  # a JSON object: {"9:16": key, ...}
        for fmt, key in sorted(files.items()):
            url = signed_url(info, key if isinstance(key, str) else None, under=f"clips/{self.id}/")
            if url is not None:
                out.append(ClipDownload(format=str(fmt), url=url))
        return out

    @strawberry.field(description=f"A signed link to the poster image, valid for {SIGNED_URL_TTL_S // 60} minutes (null until rendered).")
    def thumbnail_url(self, info: Info) -> str | None:
        return signed_url(info, self.thumbnail_key, under=f"clips/{self.id}/")

    @strawberry.field(description="The source video.")
    async def video(self, info: Info) -> Video | None:
        return await load_one(info, VideoByIdLoader, Video, self.video_id)

    @strawberry.field(description="Caption tracks of the clip.")
    async def captions(self, info: Info) -> list[Caption]:
        return await load_list(info, CaptionsByClipIdLoader, Caption, self.id)

    @strawberry.field(description="The music track mixed in.")
    async def music_track(self, info: Info) -> Asset | None:
        return await load_one(info, AssetByIdLoader, Asset, self.music_track_id)

    @strawberry.field(description="Who approved the clip.")
    async def approved_by_user(self, info: Info) -> User | None:
        return await load_one(info, UserByIdLoader, User, self.approved_by)

    @strawberry.field(description="Posts that publish this clip.")
    async def posts(
        self, info: Info, first: FirstArg = None, after: AfterArg = None, last: LastArg = None, before: BeforeArg = None
    ) -> Connection[Post]:
        return await load_connection(info, PostsByClipIdLoader, Post, self.id, first=first, after=after, last=last, before=before)


@strawberry.type(description="A word of a caption track.")
class CaptionWord:
    word: str = desc("The word as displayed.")
    start: float = desc("Start, in seconds from the clip's start.")
    end: float = desc("End, in seconds from the clip's start.")


@strawberry.type(description="A caption track of a clip: timed words and their style.")
class Caption(relay.Node, RowType):
    id: relay.NodeID[uuid.UUID]
    clip_id: strawberry.Private[uuid.UUID]
    words_json: strawberry.Private[list]
    srt_key: strawberry.Private[str | None]
    vtt_key: strawberry.Private[str | None]
    _row_aliases: ClassVar[dict[str, str]] = {"words_json": "words", "srt_key": "srt_url", "vtt_key": "vtt_url"}
    style: CaptionStyle = desc("Caption style.")
    font_family: str | None = desc("Font family.")
    font_size: int | None = desc("Font size in pixels.")
    font_color: str | None = desc("Text color, #RRGGBB.")
    background_color: str | None = desc("Box color, #RRGGBBAA.")
    position: CaptionPosition = desc("Where the captions sit.")
    language: str = desc("Language (ISO 639-1).")
    created_at: datetime = desc("When the track was made.")
    updated_at: datetime = desc("Last change.")

    @strawberry.field(description="Every word with its timing, in order.")
    def words(self) -> list[CaptionWord]:
        out = []
        for w in self.words_json or []:
            text = w.get("word", w.get("text", ""))
            out.append(CaptionWord(word=str(text), start=float(w.get("start", 0)), end=float(w.get("end", 0))))
        return out

    @strawberry.field(description=f"A signed link to the SubRip (.srt) file, valid for {SIGNED_URL_TTL_S // 60} minutes.")
    def srt_url(self, info: Info) -> str | None:
        return signed_url(info, self.srt_key, under=f"clips/{self.clip_id}/")

    @strawberry.field(description=f"A signed link to the WebVTT (.vtt) file, valid for {SIGNED_URL_TTL_S // 60} minutes.")
    def vtt_url(self, info: Info) -> str | None:
        return signed_url(info, self.vtt_key, under=f"clips/{self.clip_id}/")

    @strawberry.field(description="The clip the captions belong to.")
    async def clip(self, info: Info) -> Clip | None:
        return await load_one(info, ClipByIdLoader, Clip, self.clip_id)


@strawberry.type(description="A reusable asset: music, logo, b-roll, font. System assets have no workspace.")
class Asset(relay.Node, RowType):
    id: relay.NodeID[uuid.UUID]
    workspace_id: strawberry.Private[uuid.UUID | None]
    name: str = desc("Display name.")
    type: AssetType = desc("The kind of file.")
    category: str | None = desc("logo, b-roll, music, sfx or thumbnail.")
    file_url: str = desc("Storage key.")
    file_size_bytes: float | None = desc("Size in bytes.")
    mime_type: str | None = desc("MIME type.")
    width: int | None = desc("Width in pixels.")
    height: int | None = desc("Height in pixels.")
    duration_seconds: float | None = desc("Length in seconds (audio and video).")
    license_type: str = desc("user_uploaded, royalty_free, ...")
    attribution: str | None = desc("Credit line required by the license.")
    tags: list[str] | None = desc("Labels.")
    created_at: datetime = desc("When the asset was added.")

    @strawberry.field(description="Whether every workspace can use this asset.")
    def is_system(self) -> bool:
        return self.workspace_id is None

    @strawberry.field(description=f"A signed link to the file, valid for {SIGNED_URL_TTL_S // 60} minutes (null for system assets).")
    def download_url(self, info: Info) -> str | None:
        return _workspace_file_url(info, self.file_url, self.workspace_id)


def _workspace_file_url(info: Info, key: str | None, workspace_id: uuid.UUID | None) -> str | None:
    """A signed link to ``key`` when it is one of the workspace's uploads; None otherwise."""
    if workspace_id is None:
        return None
    return signed_url(info, key, under=workspace_prefix(workspace_id))


@strawberry.type(description="A file in the workspace's media library.")
class UserMedia(relay.Node, RowType):
    id: relay.NodeID[uuid.UUID]
    workspace_id: strawberry.Private[uuid.UUID]
    user_id: strawberry.Private[uuid.UUID]
    folder_id: strawberry.Private[uuid.UUID | None]
    filename: str = desc("Stored file name.")
    original_name: str = desc("Name of the file as uploaded.")
    mime_type: str = desc("MIME type.")
    file_size: float = desc("Size in bytes.")
    storage_provider: str = desc("s3, cloudinary, uploadthing or local.")
    storage_key: str = desc("Storage key.")
    media_type: UserMediaType = desc("The kind of file.")
    dimensions: JSON | None = desc("{width, height}.")
    duration: float | None = desc("Length in seconds.")
    thumbnail_url: str | None = desc("Preview image.")
    tags: JSON = desc("Labels.")
    description: str | None = desc("Description.")
    usage_count: int = desc("How often the file was used in projects.")
    last_used_at: datetime | None = desc("Last use.")
    ai_analysis: JSON | None = desc("What automatic analysis found in the file.")
    created_at: datetime = desc("When the file was added.")
    updated_at: datetime = desc("Last change.")

    @strawberry.field(description=f"A signed link to the file, valid for {SIGNED_URL_TTL_S // 60} minutes.")
    def public_url(self, info: Info) -> str | None:
        return _workspace_file_url(info, self.storage_key, self.workspace_id)

    @strawberry.field(description="Who uploaded the file.")
    async def user(self, info: Info) -> User | None:
        return await load_one(info, UserByIdLoader, User, self.user_id)

    @strawberry.field(description="The folder holding the file.")
    async def folder(self, info: Info) -> MediaFolder | None:
        return await load_one(info, MediaFolderByIdLoader, MediaFolder, self.folder_id)


@strawberry.type(description="A folder of the media library; folders nest.")
class MediaFolder(relay.Node, RowType):
    id: relay.NodeID[uuid.UUID]
    user_id: strawberry.Private[uuid.UUID]
    parent_id: strawberry.Private[uuid.UUID | None]
    name: str = desc("Folder name.")
    description: str | None = desc("What the folder holds.")
    color: str = desc("Label color, #RRGGBB.")
    is_shared: bool = desc("Shared with the whole workspace.")
    sort_order: int = desc("Position among siblings.")
    created_at: datetime = desc("When the folder was created.")
    updated_at: datetime = desc("Last change.")

    @strawberry.field(description="Who created the folder.")
    async def user(self, info: Info) -> User | None:
        return await load_one(info, UserByIdLoader, User, self.user_id)

    @strawberry.field(description="The parent folder (null at the top level).")
    async def parent(self, info: Info) -> MediaFolder | None:
        return await load_one(info, MediaFolderByIdLoader, MediaFolder, self.parent_id)

    @strawberry.field(description="Sub-folders.")
    async def children(self, info: Info) -> list[MediaFolder]:
        return await load_list(info, MediaFoldersByParentIdLoader, MediaFolder, self.id)

    @strawberry.field(description="Files in the folder.")
    async def media(
        self, info: Info, first: FirstArg = None, after: AfterArg = None, last: LastArg = None, before: BeforeArg = None
    ) -> Connection[UserMedia]:
        return await load_connection(
            info, UserMediaByFolderIdLoader, UserMedia, self.id, first=first, after=after, last=last, before=before
        )

    @strawberry.field(description="Videos in the folder.")
    async def videos(
        self, info: Info, first: FirstArg = None, after: AfterArg = None, last: LastArg = None, before: BeforeArg = None
    ) -> Connection[Video]:
        return await load_connection(info, VideosByFolderIdLoader, Video, self.id, first=first, after=after, last=last, before=before)


@strawberry.type(description="A workspace's brand: colors, fonts, logos, watermark and voice.")
class BrandKit(relay.Node, RowType):
    id: relay.NodeID[uuid.UUID]
    workspace_id: strawberry.Private[uuid.UUID]
    logo_key: strawberry.Private[str | None]
    logo_dark_key: strawberry.Private[str | None]
    icon_key: strawberry.Private[str | None]
    watermark_key: strawberry.Private[str | None]
    _row_aliases: ClassVar[dict[str, str]] = {
        "logo_key": "logo_url", "logo_dark_key": "logo_dark_url", "icon_key": "icon_url", "watermark_key": "watermark_url",
    }
    name: str = desc("Name of the kit.")
    primary_color: str | None = desc("#RRGGBB.")
    secondary_color: str | None = desc("#RRGGBB.")
    accent_color: str | None = desc("#RRGGBB.")
    background_color: str | None = desc("#RRGGBB.")
    text_color: str | None = desc("#RRGGBB.")
    heading_font: str | None = desc("Font for headings.")
    body_font: str | None = desc("Font for body text.")
    watermark_position: WatermarkPosition | None = desc("Where the watermark sits.")
    watermark_opacity: float | None = desc("0 to 1.")
    voice_guidelines: str | None = desc("Tone of voice for generated text.")
    default_hashtags: list[str] | None = desc("Hashtags added to posts.")
    default_mentions: list[str] | None = desc("Mentions added to posts.")
    is_default: bool = desc("Whether this is the workspace's default kit.")
    created_at: datetime = desc("When the kit was created.")
    updated_at: datetime = desc("Last change.")

    @strawberry.field(description=f"A signed link to the logo for light backgrounds, valid for {SIGNED_URL_TTL_S // 60} minutes.")
    def logo_url(self, info: Info) -> str | None:
        return _workspace_file_url(info, self.logo_key, self.workspace_id)

    @strawberry.field(description=f"A signed link to the logo for dark backgrounds, valid for {SIGNED_URL_TTL_S // 60} minutes.")
    def logo_dark_url(self, info: Info) -> str | None:
        return _workspace_file_url(info, self.logo_dark_key, self.workspace_id)

    @strawberry.field(description=f"A signed link to the square icon, valid for {SIGNED_URL_TTL_S // 60} minutes.")
    def icon_url(self, info: Info) -> str | None:
        return _workspace_file_url(info, self.icon_key, self.workspace_id)

    @strawberry.field(description=f"A signed link to the watermark image, valid for {SIGNED_URL_TTL_S // 60} minutes.")
    def watermark_url(self, info: Info) -> str | None:
        return _workspace_file_url(info, self.watermark_key, self.workspace_id)


from ..auth.loaders import UserByIdLoader  # noqa: E402
from ..auth.types import User  # noqa: E402
from ..social.loaders import PostsByClipIdLoader  # noqa: E402
from ..social.types import Post  # noqa: E402
from ..jobs.loaders import JobsByVideoIdLoader  # noqa: E402
from ..jobs.types import Job  # noqa: E402
from ..workspaces.loaders import WorkspaceByIdLoader  # noqa: E402
from ..workspaces.types import Workspace  # noqa: E402
from .loaders import (  # noqa: E402
    AssetByIdLoader,
    CaptionsByClipIdLoader,
    ClipByIdLoader,
    ClipFilterKey,
    ClipSortKey,
    ClipsByVideoIdLoader,
    MediaFolderByIdLoader,
    MediaFoldersByParentIdLoader,
    UserMediaByFolderIdLoader,
    VideoByIdLoader,
    VideosByFolderIdLoader,
)
