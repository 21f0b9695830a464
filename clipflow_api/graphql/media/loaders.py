"""Loaders for videos, clips, captions and the media library."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, or_, select

from ...media.repository import visible_folders, visible_user_media
from ...models import Asset, BrandKit, Caption, Clip, MediaFolder, UserMedia, Video
from ..base import OrderDirection
from ..loaders import ByIdLoader, ConnectionByKeyLoader, ListByKeyLoader, ListQuery
from ..relay import SortKey, ascending, parse_global_id


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


@dataclass(frozen=True)
class VideoFilterKey:
    status: tuple[str, ...] | None = None
    search: str | None = None
    folder_id: uuid.UUID | None = None

    @classmethod
    def of(cls, f: Any) -> VideoFilterKey | None:
        if f is None:
            return None
        from .types import MediaFolder as MediaFolderType

        return cls(
            status=tuple(s.value for s in f.status) if f.status else None,
            search=(f.search or "").strip() or None,
            folder_id=parse_global_id(f.folder_id, expected=MediaFolderType)[1] if f.folder_id else None,
        )

    def where(self) -> list[Any]:
        out: list[Any] = []
        if self.status:
            out.append(Video.status.in_(self.status))
        if self.search:
            for word in self.search.split()[:10]:
                out.append(or_(Video.title.ilike(_like(word)), Video.description.ilike(_like(word))))
        if self.folder_id:
            out.append(Video.folder_id == self.folder_id)
        return out


@dataclass(frozen=True)
class ClipFilterKey:
    video_id: uuid.UUID | None = None
    status: tuple[str, ...] | None = None
    min_virality: int | None = None

    @classmethod
    def of(cls, f: Any) -> ClipFilterKey | None:
        if f is None:
            return None
        from .types import Video as VideoType

        return cls(
            video_id=parse_global_id(f.video_id, expected=VideoType)[1] if f.video_id else None,
            status=tuple(s.value for s in f.status) if f.status else None,
            min_virality=f.min_virality,
        )

    def where(self) -> list[Any]:
        out: list[Any] = []
        if self.video_id:
            out.append(Clip.video_id == self.video_id)
        if self.status:
            out.append(Clip.status.in_(self.status))
        if self.min_virality is not None:
            out.append(Clip.virality_score >= self.min_virality)
        return out


@dataclass(frozen=True)
class ClipSortKey:
    field: str = "created_at"
    direction: str = "desc"

    @classmethod
    def of(cls, s: Any) -> ClipSortKey | None:
        return None if s is None else cls(field=s.field.value, direction=s.direction.value)

    def order(self) -> tuple[SortKey, ...]:
        column = {"created_at": Clip.created_at, "virality": Clip.virality_score, "start_time": Clip.start_time}[self.field]
        return (SortKey(column, descending=self.direction != OrderDirection.ASC.value),)


class VideoByIdLoader(ByIdLoader):
    model = Video


class _VideoList(ConnectionByKeyLoader):
    model = Video

    def base(self, query: ListQuery) -> Select:
        f: VideoFilterKey | None = query.filter  # type: ignore[assignment]
        return super().base(query).where(*(f.where() if f else []))


class VideosByWorkspaceIdLoader(_VideoList):
    key = Video.workspace_id


class VideosByFolderIdLoader(_VideoList):
    key = Video.folder_id


class ClipByIdLoader(ByIdLoader):
    model = Clip


class _ClipList(ConnectionByKeyLoader):
    model = Clip

    def base(self, query: ListQuery) -> Select:
        f: ClipFilterKey | None = query.filter  # type: ignore[assignment]
        return super().base(query).where(*(f.where() if f else []))

    def order(self, query: ListQuery) -> tuple[SortKey, ...]:
        sort = query.sort if isinstance(query.sort, ClipSortKey) else ClipSortKey()
        return sort.order()


class ClipsByVideoIdLoader(_ClipList):
    key = Clip.video_id


class ClipsByWorkspaceIdLoader(_ClipList):
    key = Clip.workspace_id


class CaptionByIdLoader(ByIdLoader):
    model = Caption


class CaptionsByClipIdLoader(ListByKeyLoader):
    model = Caption
    key = Caption.clip_id
    order_by = (Caption.created_at, Caption.id)


class AssetByIdLoader(ByIdLoader):
    model = Asset


class AssetsByWorkspaceIdLoader(ConnectionByKeyLoader):
    model = Asset
    key = Asset.workspace_id


class SystemAssetsLoader(ConnectionByKeyLoader):
    """Assets every workspace may use (workspace_id NULL); keyed by None."""

    model = Asset
    key = None

    def base(self, query: ListQuery) -> Select:
        return select(Asset).where(Asset.workspace_id.is_(None))


class UserMediaByIdLoader(ByIdLoader):
    model = UserMedia

    def visible(self) -> list[ColumnElement[bool]]:
        return visible_user_media(self.ctx.principal)


class UserMediaByWorkspaceIdLoader(ConnectionByKeyLoader):
    model = UserMedia
    key = UserMedia.workspace_id

    def visible(self) -> list[ColumnElement[bool]]:
        return visible_user_media(self.ctx.principal)


class UserMediaByFolderIdLoader(ConnectionByKeyLoader):
    model = UserMedia
    key = UserMedia.folder_id

    def visible(self) -> list[ColumnElement[bool]]:
        return visible_user_media(self.ctx.principal)


class MediaFolderByIdLoader(ByIdLoader):
    model = MediaFolder

    def visible(self) -> list[ColumnElement[bool]]:
        return visible_folders(self.ctx.principal)


class MediaFoldersByWorkspaceIdLoader(ConnectionByKeyLoader):
    model = MediaFolder
    key = MediaFolder.workspace_id

    def visible(self) -> list[ColumnElement[bool]]:
        return visible_folders(self.ctx.principal)

    def order(self, query: ListQuery) -> tuple[SortKey, ...]:
        return (ascending(MediaFolder.sort_order), ascending(MediaFolder.name))


class MediaFoldersByParentIdLoader(ListByKeyLoader):
    model = MediaFolder
    key = MediaFolder.parent_id
    order_by = (MediaFolder.sort_order, MediaFolder.name, MediaFolder.id)

    def visible(self) -> list[ColumnElement[bool]]:
        return visible_folders(self.ctx.principal)


class BrandKitByIdLoader(ByIdLoader):
    model = BrandKit


class BrandKitsByWorkspaceIdLoader(ConnectionByKeyLoader):
    model = BrandKit
    key = BrandKit.workspace_id
