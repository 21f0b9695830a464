"""AES-256-GCM for secrets at rest (OAuth and social tokens).

A ciphertext reads ``<key version>:<base64url(12-byte nonce || ciphertext || tag)>``. The
associated data is the row's identity (e.g. ``accounts.access_token:<row id>``), so a
ciphertext copied into another row or column fails to decrypt. The key version is bound
into the associated data too.

Keys come from ``settings.token_encryption_keys``: ``"version:base64key,..."``, newest
first. New values are encrypted with the newest key; any listed key decrypts, so a key is
rotated by prepending a new one, re-encrypting (``TokenCipher.rotate``), then dropping the old.
"""

from __future__ import annotations

import base64
import binascii
import functools
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .config import Settings, get_settings

NONCE_BYTES = 12


class DecryptionError(Exception):
    """The value is malformed, was encrypted with an unknown key, or was tampered with."""


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def parse_keys(spec: str) -> list[tuple[str, bytes]]:
    """``"2:base64,1:base64"`` → [("2", key), ("1", key)]; each key must be 32 bytes."""
    keys: list[tuple[str, bytes]] = []
    for item in (part.strip() for part in spec.split(",")):
        if not item:
            continue
        version, sep, encoded = item.partition(":")
        if not sep or not version or not version.isalnum():
            raise ValueError("token encryption keys read 'version:base64key', the version alphanumeric")
        try:
            key = base64.b64decode(encoded, validate=True)
        except binascii.Error as exc:
            raise ValueError(f"token encryption key {version!r} is not valid base64") from exc
        if len(key) != 32:
            raise ValueError(f"token encryption key {version!r} must be 32 bytes (AES-256), got {len(key)}")
        if any(v == version for v, _ in keys):
            raise ValueError(f"token encryption key version {version!r} is listed twice")
        keys.append((version, key))
    if not keys:
        raise ValueError("no token encryption key configured")
    return keys


class TokenCipher:
    def __init__(self, keys: str | list[tuple[str, bytes]]) -> None:
        parsed = parse_keys(keys) if isinstance(keys, str) else list(keys)
        if not parsed:
            raise ValueError("no token encryption key configured")
        self._current_version = parsed[0][0]
        self._keys = {version: AESGCM(key) for version, key in parsed}

    @property
    def current_version(self) -> str:
        return self._current_version

    @staticmethod
    def _aad(version: str, associated_data: str | bytes) -> bytes:
        ad = associated_data.encode() if isinstance(associated_data, str) else associated_data
        return version.encode() + b"|" + ad

    def encrypt(self, plaintext: str, *, associated_data: str | bytes) -> str:
        """Encrypt with the newest key."""
        version = self._current_version
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._keys[version].encrypt(nonce, plaintext.encode(), self._aad(version, associated_data))
        return f"{version}:{_b64url(nonce + sealed)}"

    def decrypt(self, value: str, *, associated_data: str | bytes) -> str:
        version, sep, body = value.partition(":")
        if not sep or version not in self._keys:
            raise DecryptionError("unknown key version" if sep else "not an encrypted value")
        try:
            raw = _unb64url(body)
        except (binascii.Error, ValueError) as exc:
            raise DecryptionError("not an encrypted value") from exc
        if len(raw) < NONCE_BYTES + 16:
            raise DecryptionError("not an encrypted value")
        try:
            plain = self._keys[version].decrypt(
                raw[:NONCE_BYTES], raw[NONCE_BYTES:], self._aad(version, associated_data)
            )
        except InvalidTag as exc:
            raise DecryptionError("tampered, or bound to another row") from exc
        return plain.decode()

    def needs_rotation(self, value: str) -> bool:
        return value.partition(":")[0] != self._current_version

    def rotate(self, value: str, *, associated_data: str | bytes) -> str:
        """Re-encrypt under the newest key (unchanged when it already is)."""
        if not self.needs_rotation(value):
            return value
        return self.encrypt(self.decrypt(value, associated_data=associated_data), associated_data=associated_data)


@functools.lru_cache(maxsize=4)
def _cipher_for(spec: str) -> TokenCipher:
    return TokenCipher(spec)


def get_cipher(settings: Settings | None = None) -> TokenCipher:
    return _cipher_for((settings or get_settings()).token_encryption_keys)


def encrypt_token(plaintext: str, *, associated_data: str | bytes, settings: Settings | None = None) -> str:
    return get_cipher(settings).encrypt(plaintext, associated_data=associated_data)


def decrypt_token(value: str, *, associated_data: str | bytes, settings: Settings | None = None) -> str:
    return get_cipher(settings).decrypt(value, associated_data=associated_data)
