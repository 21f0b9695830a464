"""Catalogue types: social formats, template categories and templates."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry
from strawberry import relay

from ..base import JSON, RowType, desc
from ..context import Info
from ..enums import Platform, TemplateType, TemplateVisibility
from ..loaders import load_connection, load_list, load_one
from ..relay import AfterArg, BeforeArg, Connection, FirstArg, LastArg


@strawberry.type(description="A publishable format, e.g. Instagram Reel 1080x1920.")
class SocialFormat(relay.Node, RowType):
    id: relay.NodeID[uuid.UUID]
    name: str = desc("Display name.")
    slug: str = desc("Unique short name.")
    platform: Platform = desc("The platform.")
    width: int = desc("Width in pixels.")
    height: int = desc("Height in pixels.")
    aspect_ratio: str = desc("e.g. 9:16.")
    max_duration: int | None = desc("Longest allowed video in seconds (null: static format).")
    recommended_formats: JSON = desc("Recommended file formats.")
    max_file_size: float | None = desc("Largest allowed file in bytes.")
    supported_features: JSON = desc("What the format supports.")
    safe_zones: JSON = desc("Areas the platform's interface covers.")
    branding_guidelines: JSON | None = desc("Platform branding rules.")
    is_active: bool = desc("Whether the format is offered.")
    sort_order: int = desc("Position in lists.")


@strawberry.type(description="A category of templates; categories nest.")
class TemplateCategory(relay.Node, RowType):
    id: relay.NodeID[uuid.UUID]
    parent_id: strawberry.Private[uuid.UUID | None]
    name: str = desc("Display name.")
    slug: str = desc("Unique short name.")
    description: str | None = desc("What the category holds.")
    icon: str | None = desc("Icon name.")
    is_active: bool = desc("Whether the category is offered.")
    sort_order: int = desc("Position in lists.")

    @strawberry.field(description="The parent category.")
    async def parent(self, info: Info) -> TemplateCategory | None:
        return await load_one(info, TemplateCategoryByIdLoader, TemplateCategory, self.parent_id)

    @strawberry.field(description="Sub-categories.")
    async def children(self, info: Info) -> list[TemplateCategory]:
        return await load_list(info, TemplateCategoriesByParentIdLoader, TemplateCategory, self.id)

    @strawberry.field(description="Templates in the category that the caller may use.")
    async def templates(
        self, info: Info, first: FirstArg = None, after: AfterArg = None, last: LastArg = None, before: BeforeArg = None
    ) -> Connection[Template]:
        return await load_connection(
            info, TemplatesByCategoryIdLoader, Template, self.id, first=first, after=after, last=last, before=before
        )


@strawberry.type(description="A template: video, caption, post or canvas. System templates have no workspace.")
class Template(relay.Node, RowType):
    id: relay.NodeID[uuid.UUID]
    workspace_id: strawberry.Private[uuid.UUID | None]
    category_id: strawberry.Private[uuid.UUID | None]
    social_format_id: strawberry.Private[uuid.UUID | None]
    created_by: strawberry.Private[uuid.UUID | None]
    name: str = desc("Display name.")
    description: str | None = desc("What the template is for.")
    type: TemplateType = desc("What the template makes.")
    category: str | None = desc("Free-form category, e.g. marketing.")
    tags: JSON = desc("Labels.")
    thumbnail_url: str | None = desc("Preview image.")
    preview_url: str | None = desc("Preview video.")
    template_data: JSON = desc("The template itself.")
    ai_prompts: JSON | None = desc("Prompts used to fill the template.")
    placeholders: JSON = desc("Slots a user fills in.")
    usage_count: int = desc("How often it was used.")
    rating: float = desc("Average rating, 0-5.")
    rating_count: int = desc("Number of ratings.")
    is_public: bool = desc("Shared with every workspace.")
    is_premium: bool = desc("Needs a paid plan.")
    visibility: TemplateVisibility = desc("Who can see it.")
    is_active: bool = desc("Whether it is offered.")
    is_featured: bool = desc("Whether it is featured.")
    created_at: datetime = desc("When it was created.")
    updated_at: datetime = desc("Last change.")

    @strawberry.field(description="Whether the template belongs to no workspace (a system template).")
    def is_system(self) -> bool:
        return self.workspace_id is None

    @strawberry.field(description="The template's category.")
    async def template_category(self, info: Info) -> TemplateCategory | None:
        return await load_one(info, TemplateCategoryByIdLoader, TemplateCategory, self.category_id)

    @strawberry.field(description="The format the template is made for.")
    async def social_format(self, info: Info) -> SocialFormat | None:
        return await load_one(info, SocialFormatByIdLoader, SocialFormat, self.social_format_id)

    @strawberry.field(description="Who made the template (members of your workspace only).")
    async def created_by_user(self, info: Info) -> User | None:
        return await load_one(info, UserByIdLoader, User, self.created_by)


from ..auth.loaders import UserByIdLoader  # noqa: E402
from ..auth.types import User  # noqa: E402
from .loaders import (  # noqa: E402
    SocialFormatByIdLoader,
    TemplateCategoriesByParentIdLoader,
    TemplateCategoryByIdLoader,
    TemplatesByCategoryIdLoader,
)
