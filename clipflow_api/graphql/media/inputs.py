"""Filters, sort orders and mutation inputs for videos, clips, captions and the library."""

from __future__ import annotations

import enum


import strawberry

from ..base import JSON, OrderDirection
from ..enums import AssetType, CaptionPosition, CaptionStyle, ClipStatus, UserMediaType, VideoSourceType, VideoStatus, WatermarkPosition
from ..inputcheck import SECONDS_PER_WEEK, bounds


@strawberry.input(description="Narrow a list of videos.")
class VideoFilterInput:
    status: list[VideoStatus] | None = strawberry.field(default=None, description="Only videos in one of these states.")
    search: str | None = strawberry.field(default=None, description="Words that must appear in the title or description.")
    folder_id: strawberry.ID | None = strawberry.field(default=None, description="Only videos in this media folder.")


@strawberry.input(description="Narrow a list of clips.")
class ClipFilterInput:
    video_id: strawberry.ID | None = strawberry.field(default=None, description="Only clips cut from this video.")
    status: list[ClipStatus] | None = strawberry.field(default=None, description="Only clips in one of these states.")
    min_virality: int | None = strawberry.field(default=None, description="Only clips whose virality score is at least this (0-100).", metadata=bounds(0, 100))


@strawberry.enum(description="What to sort clips by.")
class ClipSortField(enum.Enum):
    CREATED_AT = strawberry.enum_value("created_at", description="Creation time.")
    VIRALITY = strawberry.enum_value("virality", description="Virality score (clips without a score come last).")
    START_TIME = strawberry.enum_value("start_time", description="Position in the source video.")


@strawberry.input(description="Sort order of a list of clips.")
class ClipSortingInput:
    field: ClipSortField = strawberry.field(description="What to sort by.")
    direction: OrderDirection = strawberry.field(default=OrderDirection.DESC, description="Which end first.")


# --- mutation inputs ---------------------------------------------------------------------

@strawberry.input(description="A video record for a file already in storage (uploads come later).")
class VideoCreateInput:
    file_url: str = strawberry.field(description="Storage key of the source file.")
    source_type: VideoSourceType = strawberry.field(default=VideoSourceType.UPLOAD, description="Where the video came from.")
    source_url: str | None = strawberry.field(default=None, description="Where the video came from, for imports.")
    title: str | None = strawberry.field(default=None, description="Title (max 500 characters).")
    description: str | None = strawberry.field(default=None, description="Longer description.")
    tags: list[str] | None = strawberry.field(default=None, description="Labels (at most 50).")


@strawberry.input(description="Changes to a video's title and tags.")
class VideoUpdateInput:
    title: str | None = strawberry.field(default=strawberry.UNSET, description="New title (max 500 characters).")
    description: str | None = strawberry.field(default=strawberry.UNSET, description="New description.")
    tags: list[str] | None = strawberry.field(default=strawberry.UNSET, description="New labels (at most 50).")


@strawberry.input(description="Changes to a clip.")
class ClipUpdateInput:
    title: str | None = strawberry.field(default=strawberry.UNSET, description="New title (max 500 characters).")
    description: str | None = strawberry.field(default=strawberry.UNSET, description="New description.")
    start_time: float | None = strawberry.field(default=strawberry.UNSET, description="New start, in seconds of the source video.", metadata=bounds(0, SECONDS_PER_WEEK))
    end_time: float | None = strawberry.field(default=strawberry.UNSET, description="New end, in seconds of the source video.", metadata=bounds(0, SECONDS_PER_WEEK))
    caption_style: CaptionStyle | None = strawberry.field(default=strawberry.UNSET, description="Caption style (null: none).")


@strawberry.input(description="A word of a caption track with its timing.")
class CaptionWordInput:
    word: str = strawberry.field(description="The word as displayed.")
    start: float = strawberry.field(description="Start, in seconds from the clip's start.", metadata=bounds(0, SECONDS_PER_WEEK))
    end: float = strawberry.field(description="End, in seconds from the clip's start.", metadata=bounds(0, SECONDS_PER_WEEK))


@strawberry.input(description="Changes to a caption track.")
class CaptionUpdateInput:
    words: list[CaptionWordInput] | None = strawberry.field(default=strawberry.UNSET, description="Every word, in order (at most 5000).")
    style: CaptionStyle | None = strawberry.field(default=strawberry.UNSET, description="Caption style.")
    font_family: str | None = strawberry.field(default=strawberry.UNSET, description="Font family.")
    font_size: int | None = strawberry.field(default=strawberry.UNSET, description="Font size in pixels.", metadata=bounds(8, 400))
    font_color: str | None = strawberry.field(default=strawberry.UNSET, description="Text color, #RRGGBB.")
    background_color: str | None = strawberry.field(default=strawberry.UNSET, description="Box color, #RRGGBBAA.")
    position: CaptionPosition | None = strawberry.field(default=strawberry.UNSET, description="Where the captions sit.")


@strawberry.input(description="Fields of a brand kit.")
class BrandKitInput:
    name: str | None = strawberry.field(default=strawberry.UNSET, description="Name of the kit.")
    primary_color: str | None = strawberry.field(default=strawberry.UNSET, description="#RRGGBB.")
    secondary_color: str | None = strawberry.field(default=strawberry.UNSET, description="#RRGGBB.")
    accent_color: str | None = strawberry.field(default=strawberry.UNSET, description="#RRGGBB.")
    background_color: str | None = strawberry.field(default=strawberry.UNSET, description="#RRGGBB.")
    text_color: str | None = strawberry.field(default=strawberry.UNSET, description="#RRGGBB.")
    heading_font: str | None = strawberry.field(default=strawberry.UNSET, description="Font for headings.")
    body_font: str | None = strawberry.field(default=strawberry.UNSET, description="Font for body text.")
    logo_url: str | None = strawberry.field(default=strawberry.UNSET, description="Logo for light backgrounds.")
    logo_dark_url: str | None = strawberry.field(default=strawberry.UNSET, description="Logo for dark backgrounds.")
    watermark_url: str | None = strawberry.field(default=strawberry.UNSET, description="Watermark image.")
    watermark_position: WatermarkPosition | None = strawberry.field(default=strawberry.UNSET, description="Where the watermark sits.")
    watermark_opacity: float | None = strawberry.field(default=strawberry.UNSET, description="0 to 1.", metadata=bounds(0, 1))
    voice_guidelines: str | None = strawberry.field(default=strawberry.UNSET, description="Tone of voice for generated text.")
    default_hashtags: list[str] | None = strawberry.field(default=strawberry.UNSET, description="Hashtags added to posts (at most 30).")
    is_default: bool | None = strawberry.field(default=strawberry.UNSET, description="Make this the workspace's default kit.")


@strawberry.input(description="An asset already in storage.")
class AssetCreateInput:
    name: str = strawberry.field(description="Display name.")
    type: AssetType = strawberry.field(description="The kind of file.")
    file_url: str = strawberry.field(description="Storage key.")
    category: str | None = strawberry.field(default=None, description="logo, b-roll, music, sfx or thumbnail.")
    mime_type: str | None = strawberry.field(default=None, description="MIME type.")
    tags: list[str] | None = strawberry.field(default=None, description="Labels (at most 50).")


@strawberry.input(description="Changes to a media folder: fields left out keep their value.")
class MediaFolderInput:
    name: str | None = strawberry.field(default=strawberry.UNSET, description="Folder name.")
    description: str | None = strawberry.field(default=strawberry.UNSET, description="What the folder holds.")
    color: str | None = strawberry.field(default=strawberry.UNSET, description="Label color, #RRGGBB.")
    parent_id: strawberry.ID | None = strawberry.field(default=strawberry.UNSET, description="Parent folder (null: top level).")
    is_shared: bool | None = strawberry.field(default=strawberry.UNSET, description="Shared with the whole workspace.")
    sort_order: int | None = strawberry.field(default=strawberry.UNSET, description="Position among siblings.", metadata=bounds(0, 1_000_000))


@strawberry.input(description="A new media folder.")
class MediaFolderCreateInput(MediaFolderInput):
    name: str = strawberry.field(description="Folder name.")


@strawberry.input(description="Changes to a library media item: fields left out keep their value.")
class UserMediaInput:
    original_name: str | None = strawberry.field(default=strawberry.UNSET, description="The file's name as uploaded.")
    description: str | None = strawberry.field(default=strawberry.UNSET, description="Description.")
    tags: list[str] | None = strawberry.field(default=strawberry.UNSET, description="Labels (at most 50).")
    folder_id: strawberry.ID | None = strawberry.field(default=strawberry.UNSET, description="Folder (null: none).")
    dimensions: JSON | None = strawberry.field(default=strawberry.UNSET, description="{width, height} for images and videos.")


@strawberry.input(description="A new library media item (the file is already in storage, from fileUploadCreate).")
class UserMediaCreateInput(UserMediaInput):
    original_name: str = strawberry.field(description="The file's name as uploaded.")
    mime_type: str = strawberry.field(description="MIME type.")
    file_size: int = strawberry.field(description="Size in bytes.", metadata=bounds(0, 2**31 - 1))
    storage_key: str = strawberry.field(description="Storage key (from fileUploadCreate).")
    media_type: UserMediaType = strawberry.field(description="The kind of file.")




# --- getting videos in ---------------------------------------------------------------------
# Defaults match ``processing.service.processing_input``, which validates the values.

@strawberry.input(description="How to cut an uploaded video into clips.")
class VideoUploadInput:
    title: str | None = strawberry.field(default=None, description="Title (default: the file name without its extension).")
    style: CaptionStyle = strawberry.field(default=CaptionStyle.HORMOZI, description="Caption style.")
    max_clips: int = strawberry.field(default=5, description="How many clips to make, 1 to 50 (capped by the plan).", metadata=bounds(1, 50))
    min_duration: float = strawberry.field(default=15.0, description="Shortest clip in seconds (3 or more).", metadata=bounds(3, 180))
    max_duration: float = strawberry.field(default=60.0, description="Longest clip in seconds (at most 180).", metadata=bounds(3, 180))


@strawberry.input(description="A video to import from a public http(s) link, and how to cut it.")
class VideoImportInput:
    url: str = strawberry.field(description="An http(s) link to the video file (fetched from public addresses only).")
    title: str | None = strawberry.field(default=None, description="Title (default: from the link).")
    style: CaptionStyle = strawberry.field(default=CaptionStyle.HORMOZI, description="Caption style.")
    max_clips: int = strawberry.field(default=5, description="How many clips to make, 1 to 50 (capped by the plan).", metadata=bounds(1, 50))
    min_duration: float = strawberry.field(default=15.0, description="Shortest clip in seconds (3 or more).", metadata=bounds(3, 180))
    max_duration: float = strawberry.field(default=60.0, description="Longest clip in seconds (at most 180).", metadata=bounds(3, 180))


@strawberry.input(description="Run the clip engine again on a video, with these options.")
class VideoProcessInput:
    video_id: strawberry.ID = strawberry.field(description="The video.")
    style: CaptionStyle = strawberry.field(default=CaptionStyle.HORMOZI, description="Caption style.")
    max_clips: int = strawberry.field(default=5, description="How many clips to make, 1 to 50 (capped by the plan).", metadata=bounds(1, 50))
    min_duration: float = strawberry.field(default=15.0, description="Shortest clip in seconds (3 or more).", metadata=bounds(3, 180))
    max_duration: float = strawberry.field(default=60.0, description="Longest clip in seconds (at most 180).", metadata=bounds(3, 180))
