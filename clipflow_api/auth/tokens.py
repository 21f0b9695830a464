"""Secrets handed to clients, and the hashes we keep instead.

- Session, verification and invitation tokens: 256 random bits, URL-safe; stored as SHA-256.
- API keys: ``cf_live_`` + 40 base62 characters (~238 bits) + a 6-character base62 CRC32
  of the secret, so a mistyped key is refused without a database round trip (and secret
  scanners can recognise ours). Stored as SHA-256 of the whole key; the first characters
  are kept for display.
"""

from __future__ import annotations

import hashlib
import secrets
import string
import zlib

API_KEY_PREFIX = "cf_live_"
API_KEY_SECRET_LENGTH = 40
API_KEY_CHECKSUM_LENGTH = 6
API_KEY_LENGTH = len(API_KEY_PREFIX) + API_KEY_SECRET_LENGTH + API_KEY_CHECKSUM_LENGTH
API_KEY_DISPLAY_LENGTH = len(API_KEY_PREFIX) + 8  # "cf_live_" + 8 secret characters

BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
_BASE62_SET = frozenset(BASE62)


def new_token() -> str:
    """A bearer secret with 256 bits of entropy."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """SHA-256, hex: what the database keeps for any bearer secret."""
    return hashlib.sha256(token.encode()).hexdigest()


def _base62(number: int, width: int) -> str:
    chars = []
    while number:
        number, rem = divmod(number, 62)
        chars.append(BASE62[rem])
    return "".join(reversed(chars)).rjust(width, "0")


def api_key_checksum(secret: str) -> str:
    return _base62(zlib.crc32(secret.encode()), API_KEY_CHECKSUM_LENGTH)


def new_api_key() -> str:
    secret = "".join(secrets.choice(BASE62) for _ in range(API_KEY_SECRET_LENGTH))
    return f"{API_KEY_PREFIX}{secret}{api_key_checksum(secret)}"


def looks_like_api_key(value: str) -> bool:
    return value.startswith(API_KEY_PREFIX)


def api_key_is_well_formed(key: str) -> bool:
    """Shape and checksum only: no database involved."""
    if len(key) != API_KEY_LENGTH or not key.startswith(API_KEY_PREFIX):
        return False
    body = key[len(API_KEY_PREFIX) :]
    if not _BASE62_SET.issuperset(body):
        return False
    secret, checksum = body[:API_KEY_SECRET_LENGTH], body[API_KEY_SECRET_LENGTH:]
    return secrets.compare_digest(api_key_checksum(secret), checksum)


def api_key_display_prefix(key: str) -> str:
    return key[:API_KEY_DISPLAY_LENGTH]
