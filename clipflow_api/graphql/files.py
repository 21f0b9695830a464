"""Signed download links for stored files.

The database holds storage keys (``videos/<id>/source.mp4``), never links. A client gets a
signed, expiring URL from ``ctx.storage.signed_url`` instead, and only for a key inside the
row's own folder (``videos/<video id>/``, ``clips/<clip id>/``): a key a client typed in
(``videoCreate(fileUrl:)``) could name another workspace's file, and is not signed.
"""

from __future__ import annotations

from typing import Any

from ..storage import StorageError

SIGNED_URL_TTL_S = 3600


def signed_url(info: Any, key: str | None, *, under: str) -> str | None:
    """A signed link to ``key`` when it lies under ``under``; None otherwise."""
    if not key or not key.startswith(under) or len(key) == len(under):
        return None
    try:
        return info.context.storage.signed_url(key, expires_in=SIGNED_URL_TTL_S)
    except StorageError:  # e.g. ".." in the key
        return None
