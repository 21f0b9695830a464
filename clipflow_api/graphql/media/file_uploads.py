"""``fileUploadCreate``'s types and its permission (the rules are in ``media.service``).

See ``storage.workspace_files``: a row points only at a file its own workspace uploaded
through this flow (a key under ``workspaces/<id>/uploads/`` that exists in storage);
``media.service.check_workspace_file`` refuses any other key.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import strawberry
from strawberry.permission import BasePermission

from ...media.service import FileUploadTicket
from ...storage import workspace_files as files
from ..base import JSON
from ..errors import MutationError, PermissionDeniedError
from ..inputcheck import bounds


@strawberry.enum(description="What an uploaded file is for; it decides the permission needed and the types accepted.")
class FileUploadPurpose(enum.Enum):
    ASSET = strawberry.enum_value("asset", description="An asset (assetCreate): image, video, audio or font.")
    USER_MEDIA = strawberry.enum_value("user_media", description="A media library file (userMediaCreate): image, video, audio or PDF.")
    BRAND_KIT = strawberry.enum_value("brand_kit", description="A brand kit logo or watermark (brandKitCreate/Update): image or font.")


@strawberry.input(description="A file about to be uploaded.")
class FileUploadCreateInput:
    purpose: FileUploadPurpose = strawberry.field(description="What the file is for.")
    filename: str = strawberry.field(description="The file's name (kept, made safe, at the end of the key).")
    content_type: str = strawberry.field(description="Its MIME type, e.g. image/png; the upload must send exactly this Content-Type.")
    size: int = strawberry.field(description="Its size in bytes; the upload must send exactly this many (the plan caps it).",
                                 metadata=bounds(1, 2**31 - 1))


@strawberry.type(description="Where and how to send a file; then pass `key` to the mutation that uses the file.")
class FileUpload:
    key: str = strawberry.field(description="The storage key to pass to assetCreate, userMediaCreate or brandKitCreate/Update.")
    url: str = strawberry.field(description="Send the bytes here with an HTTP PUT.")
    method: str = strawberry.field(description="The HTTP method to use: PUT.")
    headers: JSON = strawberry.field(description="Headers the PUT must carry, exactly: Content-Type and Content-Length.")
    expires_at: datetime = strawberry.field(description="The URL is refused after this time.")

    @classmethod
    def from_ticket(cls, ticket: FileUploadTicket) -> FileUpload:
        return cls(key=ticket.key, url=ticket.url, method=ticket.method, headers=JSON(dict(ticket.headers)), expires_at=ticket.expires_at)


@strawberry.type(description="A refused upload request.")
class FileUploadError(MutationError):
    pass


@strawberry.type(description="The result of fileUploadCreate.")
class FileUploadCreatePayload:
    upload: FileUpload | None = strawberry.field(default=None, description="The upload after the change (null when refused).")
    errors: list[FileUploadError] = strawberry.field(default_factory=list, description="Why the change was refused; empty on success.")


class RequirePurposePermission(BasePermission):
    """The permission of the file's purpose: asset:write, media:write or brand_kit:write."""

    message = "You do not have permission to upload this kind of file."
    error_extensions = {"code": "PERMISSION_DENIED"}

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        p = info.context.principal
        needed = files.PURPOSES[kwargs["input"].purpose.value].permission
        if p.is_authenticated and p.workspace_id is not None and needed in p.permissions:
            return True
        raise PermissionDeniedError(f"You need the {needed} permission to do this.")
