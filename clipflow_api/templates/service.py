"""Templates: a workspace creates, changes and deletes its own; everyone uses the shared ones.

Rules: editing needs ``template:write``; only the workspace's own templates change (system
templates and those another workspace shared are read-only: duplicate them instead);
sharing a template with every workspace (``is_public``) is publishing, so changing it needs
``workspace:update`` (owners and admins). Every input is checked before anything changes,
so a refused action writes nothing. Services flush, never commit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from .. import audit
from ..auth.principal import Principal
from ..errors import ErrorCode, NotFound, PermissionDenied, ValidationError
from ..models import Template
from ..models.enums import TemplateType, TemplateVisibility
from ..validation import UNSET, check_list, check_text, given, require_text
from . import repository

WRITE_PERMISSION = "template:write"
# Sharing a template with every workspace on the platform is publishing, not editing.
PUBLISH_PERMISSION = "workspace:update"
# What a new template's visibility is: its workspace's team (sharing is is_public).
NEW_TEMPLATE_VISIBILITY = TemplateVisibility.TEAM

# Audit details name what changed; bulky JSON documents are only flagged.
_FLAGGED_IN_AUDIT = frozenset({"template_data"})
_NOT_IN_AUDIT = frozenset({"placeholders", "thumbnail_url"})


@dataclass
class TemplateChanges:
    """A template's editable fields; UNSET leaves one as it is (``None`` clears where allowed)."""

    name: str | None = UNSET
    description: str | None = UNSET
    type: TemplateType | str | None = UNSET  # None leaves it as it is
    category: str | None = UNSET
    tags: list[str] | None = UNSET
    template_data: Any = UNSET  # a JSON object
    placeholders: Any = UNSET  # a JSON list
    thumbnail_url: str | None = UNSET
    is_public: bool | None = UNSET  # None leaves it as it is


def _checked(changes: TemplateChanges) -> dict[str, Any]:
    """The column values ``changes`` asks for, checked (ValidationError naming the field)."""
    values: dict[str, Any] = {}
    if given(changes.name):
        values["name"] = require_text(changes.name, "name", max_length=255)
    if given(changes.description):
        values["description"] = check_text(changes.description, "description", max_length=5000)
    if given(changes.type) and changes.type is not None:
        try:
            values["type"] = TemplateType(changes.type).value
        except ValueError:
            raise ValidationError(ErrorCode.INVALID, "Type is video, caption, post or canvas.", "type") from None
    if given(changes.category):
        values["category"] = check_text(changes.category, "category", max_length=100)
    if given(changes.tags):
        values["tags"] = check_list(changes.tags or [], "tags")
    if given(changes.template_data):
        if not isinstance(changes.template_data, dict):
            raise ValidationError(ErrorCode.INVALID, "Template data is a JSON object.", "template_data")
        values["template_data"] = changes.template_data
    if given(changes.placeholders):
        if not isinstance(changes.placeholders, list):
            raise ValidationError(ErrorCode.INVALID, "Placeholders are a JSON list.", "placeholders")
        values["placeholders"] = changes.placeholders
    if given(changes.thumbnail_url):
        values["thumbnail_url"] = check_text(changes.thumbnail_url, "thumbnail_url", max_length=2000)
    if given(changes.is_public) and changes.is_public is not None:
        values["is_public"] = bool(changes.is_public)
    return values


def _check_sharing(principal: Principal, values: dict[str, Any], currently_public: bool) -> None:
    if "is_public" in values and values["is_public"] != currently_public and not principal.can(PUBLISH_PERMISSION):
        raise PermissionDenied(
            ErrorCode.PERMISSION_DENIED,
            "Only workspace owners and admins can share a template with everyone.",
            "is_public",
        )


def _audit_details(values: dict[str, Any]) -> dict[str, Any]:
    return {
        key: (True if key in _FLAGGED_IN_AUDIT else value)
        for key, value in values.items()
        if key not in _NOT_IN_AUDIT
    }


async def _own_template(session: AsyncSession, workspace_id: uuid.UUID, template_id: uuid.UUID) -> Template:
    template = await repository.get_visible_template(session, workspace_id, template_id)
    if template is None:
        raise NotFound(ErrorCode.NOT_FOUND, "No such template.", "id")
    if template.workspace_id != workspace_id:
        raise PermissionDenied(
            ErrorCode.PERMISSION_DENIED, "System and shared templates cannot be changed; duplicate it instead.", "id"
        )
    return template


async def create_template(session: AsyncSession, principal: Principal, data: TemplateChanges) -> Template:
    """Create a template in the principal's workspace (``name`` and ``template_data`` required)."""
    workspace_id = principal.require(WRITE_PERMISSION)
    if not given(data.name):
        raise ValidationError(ErrorCode.REQUIRED, "This field is required.", "name")
    if not given(data.template_data):
        raise ValidationError(ErrorCode.REQUIRED, "This field is required.", "template_data")
    values = _checked(data)
    _check_sharing(principal, values, currently_public=False)
    template = await repository.add_template(
        session,
        workspace_id=workspace_id,
        created_by=principal.user_id,
        visibility=NEW_TEMPLATE_VISIBILITY.value,
        **values,
    )
    await audit.record(
        session, principal, "template.create", resource_type="template", resource_id=template.id,
        details=_audit_details(values),
    )
    return template


async def update_template(
    session: AsyncSession, principal: Principal, template_id: uuid.UUID, changes: TemplateChanges
) -> Template:
    """Change one of the principal's workspace's templates."""
    workspace_id = principal.require(WRITE_PERMISSION)
    template = await _own_template(session, workspace_id, template_id)
    values = _checked(changes)
    _check_sharing(principal, values, currently_public=bool(template.is_public))
    for column, value in values.items():
        setattr(template, column, value)
    await repository.save_template(session, template)
    await audit.record(
        session, principal, "template.update", resource_type="template", resource_id=template.id,
        details=_audit_details(values),
    )
    return template


async def delete_template(session: AsyncSession, principal: Principal, template_id: uuid.UUID) -> Template:
    """Delete one of the principal's workspace's templates; returns it as it was."""
    workspace_id = principal.require(WRITE_PERMISSION)
    template = await _own_template(session, workspace_id, template_id)
    await repository.delete_template(session, template)
    await audit.record(
        session, principal, "template.delete", resource_type="template", resource_id=template.id,
        details={"name": template.name},
    )
    return template

