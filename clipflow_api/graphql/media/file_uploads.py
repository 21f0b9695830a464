"""``fileUploadCreate`` and the key check every mutation that stores a file key goes through.

See ``storage.workspace_files``: a row points only at a file its own workspace uploaded
through this flow (a key under ``workspaces/<id>/uploads/`` that exists in storage).
"""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import strawberry
from strawberry.permission import BasePermission

from ...processing import service as processing
from ...storage import workspace_files as files
from ..base import JSON
from ..errors import PermissionDeniedError, error_type
from ..inputcheck import bounds
from ..mutations import Refused, check_text, payload, record


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


FileUploadError = error_type("FileUpload", "A refused upload request.")
FileUploadCreatePayload = payload("FileUploadCreate", "upload", FileUpload, FileUploadError, "The result of fileUploadCreate.")


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


async def create_file_upload(info: Any, session: Any, data: FileUploadCreateInput) -> FileUpload:
    """A key under the caller's workspace and a signed URL to PUT exactly the announced file to."""
    ctx = info.context
    workspace_id = ctx.principal.workspace_id
    purpose = files.PURPOSES[data.purpose.value]
    filename = check_text(data.filename, "filename", max_length=255, required=True) or ""
    content_type = (data.content_type or "").strip().lower()
    if not files.valid_content_type(content_type) or not purpose.allows(content_type):
        raise Refused("INVALID", f"This kind of file ({content_type or 'no type'}) cannot be uploaded for this purpose.", "contentType")
    if data.size <= 0:
        raise Refused("INVALID", "The size must be at least 1 byte.", "size")
    limit = await processing.upload_limit_bytes(session, workspace_id)
    if data.size > limit:
        raise Refused("PLAN_LIMIT_REACHED", f"Your plan accepts files up to {limit // (1024 * 1024)} MB.", "size")
    key = files.new_upload_key(workspace_id, filename)
    ttl = ctx.settings.file_upload_url_ttl_s
    url = ctx.storage.signed_upload_url(key, content_type=content_type, size=data.size, expires_in=ttl)
    await record(session, info, "file_upload.create", "file_upload", uuid.UUID(key.split("/")[3]),
                 {"purpose": data.purpose.value, "key": key, "content_type": content_type, "size": data.size})
    return FileUpload(key=key, url=url, method="PUT", headers={"Content-Type": content_type, "Content-Length": str(data.size)},
                      expires_at=datetime.now(UTC) + timedelta(seconds=ttl))


async def workspace_file(info: Any, key: str | None, field: str) -> tuple[str | None, int | None]:
    """``key`` and its size when it is an upload of the caller's workspace; a field error otherwise (None passes)."""
    if key is None:
        return None, None
    key = key.strip()
    try:
        size = await files.check_workspace_file(info.context.storage, key, info.context.principal.workspace_id)
    except files.ForeignFile as exc:
        raise Refused("INVALID", str(exc), field) from None
    return key, size
