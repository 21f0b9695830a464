"""Inputs of the template mutations."""

from __future__ import annotations

import strawberry

from ..base import JSON
from ..enums import TemplateType


@strawberry.input(description="Changes to a workspace template: fields left out keep their value.")
class TemplateInput:
    name: str | None = strawberry.field(default=strawberry.UNSET, description="Display name.")
    description: str | None = strawberry.field(default=strawberry.UNSET, description="What the template is for.")
    type: TemplateType | None = strawberry.field(default=strawberry.UNSET, description="What the template makes (a new template without one is VIDEO).")
    category: str | None = strawberry.field(default=strawberry.UNSET, description="Free-form category.")
    tags: list[str] | None = strawberry.field(default=strawberry.UNSET, description="Labels (at most 50).")
    template_data: JSON | None = strawberry.field(default=strawberry.UNSET, description="The template itself.")
    placeholders: JSON | None = strawberry.field(default=strawberry.UNSET, description="Slots a user fills in.")
    thumbnail_url: str | None = strawberry.field(default=strawberry.UNSET, description="Preview image.")
    is_public: bool | None = strawberry.field(default=strawberry.UNSET, description="Share with every workspace.")


@strawberry.input(description="A new workspace template.")
class TemplateCreateInput(TemplateInput):
    name: str = strawberry.field(description="Display name.")
    template_data: JSON = strawberry.field(description="The template itself.")
