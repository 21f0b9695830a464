"""Loaders for the social formats catalogue, template categories and templates."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from ...models import SocialFormat, Template, TemplateCategory
from ..loaders import ByIdLoader, ConnectionByKeyLoader, ListByKeyLoader, ListQuery


class SocialFormatByIdLoader(ByIdLoader):
    model = SocialFormat


class SocialFormatsLoader(ConnectionByKeyLoader):
    model = SocialFormat
    key = None

    def base(self, query: ListQuery) -> Select:
        return select(SocialFormat).where(SocialFormat.is_active)

    def order(self, query: ListQuery) -> tuple[Any, ...]:
        return (SocialFormat.sort_order, SocialFormat.name, SocialFormat.id)


class TemplateCategoryByIdLoader(ByIdLoader):
    model = TemplateCategory


class TemplateCategoriesLoader(ConnectionByKeyLoader):
    model = TemplateCategory
    key = None

    def base(self, query: ListQuery) -> Select:
        return select(TemplateCategory).where(TemplateCategory.is_active)

    def order(self, query: ListQuery) -> tuple[Any, ...]:
        return (TemplateCategory.sort_order, TemplateCategory.name, TemplateCategory.id)


class TemplateCategoriesByParentIdLoader(ListByKeyLoader):
    model = TemplateCategory
    key = TemplateCategory.parent_id
    order_by = (TemplateCategory.sort_order, TemplateCategory.name)


class TemplateByIdLoader(ByIdLoader):
    model = Template


class TemplatesByWorkspaceIdLoader(ConnectionByKeyLoader):
    model = Template
    key = Template.workspace_id


class TemplatesByCategoryIdLoader(ConnectionByKeyLoader):
    model = Template
    key = Template.category_id

    def base(self, query: ListQuery) -> Select:
        return select(Template).where(Template.is_active)


class VisibleTemplatesLoader(ConnectionByKeyLoader):
    """Every template the caller may use: its workspace's, system and public ones (RLS decides)."""

    model = Template
    key = None

    def base(self, query: ListQuery) -> Select:
        stmt = select(Template).where(Template.is_active)
        kind = query.filter
        return stmt.where(Template.type == kind) if kind else stmt

    def order(self, query: ListQuery) -> tuple[Any, ...]:
        return (Template.is_featured.desc(), Template.rating.desc(), Template.id)
