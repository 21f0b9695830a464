"""Files a workspace uploads for its own rows: assets, library media, brand-kit images and fonts.

A row may point only at a file its workspace uploaded. ``fileUploadCreate`` hands out a key
under the workspace's prefix, ``workspaces/<workspace id>/uploads/<random>/<safe name>``,
with a signed upload URL for exactly the announced size and content type; nothing else in
the system writes under that prefix. So a key of that shape, for the caller's workspace,
that exists in storage, came from the caller's upload flow: that is what the mutations
accept (``check_workspace_file``) and what the worker checks again before it reads a key
(``is_workspace_file``), in case a row was written some other way.
"""

from __future__ import annotations

import asyncio
import re
import unicodedata
import uuid
from dataclasses import dataclass
from typing import Any

from . import StorageError

MAX_NAME = 100


@dataclass(frozen=True)
class Purpose:
    permission: str
    content_types: tuple[str, ...]  # allowed types; "image/" allows every image type

    def allows(self, content_type: str) -> bool:
        """Whether a file of ``content_type`` may be uploaded for this purpose."""
        return any(content_type == t or (t.endswith("/") and content_type.startswith(t) and len(content_type) > len(t))
                   for t in self.content_types)


_MEDIA = ("image/", "video/", "audio/")
_FONTS = ("font/", "application/font-woff", "application/x-font-ttf", "application/vnd.ms-opentype")
PURPOSES: dict[str, Purpose] = {
    "asset": Purpose("asset:write", _MEDIA + _FONTS),
    "user_media": Purpose("media:write", _MEDIA + ("application/pdf",)),
    "brand_kit": Purpose("brand_kit:write", ("image/",) + _FONTS),
}

_CONTENT_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,62}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$")


def workspace_prefix(workspace_id: Any) -> str:
    """The folder every upload of this workspace lives under."""
    return f"workspaces/{uuid.UUID(str(workspace_id))}/uploads/"


def safe_filename(filename: str) -> str:
    """A file name safe in a key and a URL: ASCII letters, digits, ``.``, ``-``, ``_``."""
    ascii_name = unicodedata.normalize("NFKD", filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1])
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", ascii_name.encode("ascii", "ignore").decode()).strip("._-")
    if len(name) > MAX_NAME:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: MAX_NAME - len(ext) - 1] + dot + ext) if dot and len(ext) <= 10 else name[:MAX_NAME]
    return name or "file"


def new_upload_key(workspace_id: Any, filename: str) -> str:
    """A fresh key for an upload of ``filename`` by this workspace."""
    return f"{workspace_prefix(workspace_id)}{uuid.uuid4().hex}/{safe_filename(filename)}"


def valid_content_type(content_type: str) -> bool:
    """A plain ``type/subtype`` (no parameters): it is signed and compared byte for byte."""
    return bool(_CONTENT_TYPE.match(content_type))


_KEY_TAIL = re.compile(r"^[0-9a-f]{32}/[A-Za-z0-9][A-Za-z0-9._-]{0,%d}$" % (MAX_NAME - 1))


def is_workspace_file(key: str | None, workspace_id: Any) -> bool:
    """Whether ``key`` has the shape of an upload of this workspace (not whether it exists)."""
    if not key or workspace_id is None:
        return False
    prefix = workspace_prefix(workspace_id)
    return key.startswith(prefix) and bool(_KEY_TAIL.match(key[len(prefix):])) and ".." not in key


class ForeignFile(Exception):
    """The key is not a file this workspace uploaded; the message is for the user."""


async def check_workspace_file(storage: Any, key: str, workspace_id: Any) -> int:
    """The size of ``key`` when it is an upload of this workspace that exists; ``ForeignFile`` otherwise."""
    if not is_workspace_file(key, workspace_id):
        raise ForeignFile("Upload the file with fileUploadCreate first and use the key it returns.")
    try:
        if await asyncio.to_thread(storage.exists, key):
            return await asyncio.to_thread(storage.size, key)
    except StorageError:
        pass
    raise ForeignFile("No file was uploaded to this key; send the file to the upload URL first.")
