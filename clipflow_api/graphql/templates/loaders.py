"""Loaders for the social formats catalogue, template categories and templates."""

from __future__ import annotations


from sqlalchemy import Select, select

from ...models import SocialFormat, Template, TemplateCategory
from ..loaders import ByIdLoader, ConnectionByKeyLoader, ListByKeyLoader, ListQuery
from ..relay import SortKey, ascending, descending


class SocialFormatByIdLoader(ByIdLoader):
    model = SocialFormat


class SocialFormatsLoader(ConnectionByKeyLoader):
    model = SocialFormat
    key = None

    def base(self, query: ListQuery) -> Select:
        return select(SocialFormat).where(SocialFormat.is_active)

    def order(self, query: ListQuery) -> tuple[SortKey, ...]:
        return (ascending(SocialFormat.sort_order), ascending(SocialFormat.name))


class TemplateCategoryByIdLoader(ByIdLoader):
    model = TemplateCategory


class TemplateCategoriesLoader(ConnectionByKeyLoader):
    model = TemplateCategory
    key = None

    def base(self, query: ListQuery) -> Select:
        return select(TemplateCategory).where(TemplateCategory.is_active)

    def order(self, query: ListQuery) -> tuple[SortKey, ...]:
        return (ascending(TemplateCategory.sort_order), ascending(TemplateCategory.name))


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

    def order(self, query: ListQuery) -> tuple[SortKey, ...]:
        return (descending(Template.is_featured), descending(Template.rating), ascending(Template.id))
