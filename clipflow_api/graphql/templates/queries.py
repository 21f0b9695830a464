"""Root fields of the catalogues: formats, template categories, usable templates, system assets."""

from __future__ import annotations

from typing import Annotated

import strawberry

from ..context import Info
from ..enums import TemplateType
from ..loaders import load_connection
from ..media.loaders import SystemAssetsLoader
from ..media.types import Asset
from ..relay import AfterArg, BeforeArg, Connection, FirstArg, LastArg
from .loaders import SocialFormatsLoader, TemplateCategoriesLoader, VisibleTemplatesLoader
from .types import SocialFormat, Template, TemplateCategory


@strawberry.type
class CatalogueQueries:
    @strawberry.field(description="Formats you can publish to.")
    async def social_formats(
        self, info: Info, first: FirstArg = None, after: AfterArg = None, last: LastArg = None, before: BeforeArg = None
    ) -> Connection[SocialFormat]:
        return await load_connection(info, SocialFormatsLoader, SocialFormat, None, first=first, after=after, last=last, before=before)

    @strawberry.field(description="Template categories.")
    async def template_categories(
        self, info: Info, first: FirstArg = None, after: AfterArg = None, last: LastArg = None, before: BeforeArg = None
    ) -> Connection[TemplateCategory]:
        return await load_connection(
            info, TemplateCategoriesLoader, TemplateCategory, None, first=first, after=after, last=last, before=before
        )

    @strawberry.field(description="Templates you can use: your workspace's, system and public ones.")
    async def templates(
        self,
        info: Info,
        type: Annotated[TemplateType | None, strawberry.argument(description="Only this kind.")] = None,
        first: FirstArg = None,
        after: AfterArg = None,
        last: LastArg = None,
        before: BeforeArg = None,
    ) -> Connection[Template]:
        return await load_connection(
            info, VisibleTemplatesLoader, Template, None, first=first, after=after, last=last, before=before,
            filter=type.value if type is not None else None,
        )

    @strawberry.field(description="Assets every workspace may use (music, fonts...).")
    async def system_assets(
        self, info: Info, first: FirstArg = None, after: AfterArg = None, last: LastArg = None, before: BeforeArg = None
    ) -> Connection[Asset]:
        return await load_connection(info, SystemAssetsLoader, Asset, None, first=first, after=after, last=last, before=before)
