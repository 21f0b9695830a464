"""AES-256-GCM token encryption: round trip, tampering, row binding, key rotation."""

from __future__ import annotations

import base64
import os

import pytest

from clipflow_api.config import Settings
from clipflow_api.crypto import DecryptionError, TokenCipher, get_cipher, parse_keys

K1 = base64.b64encode(b"1" * 32).decode()
K2 = base64.b64encode(b"2" * 32).decode()
AD = "accounts.access_token:0b6f0f0e-1111-4222-8333-944455556666"


def test_round_trip_and_format() -> None:
    cipher = TokenCipher(f"1:{K1}")
    sealed = cipher.encrypt("ya29.secret-token", associated_data=AD)
    version, body = sealed.split(":", 1)
    raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    assert version == "1"
    assert len(raw) == 12 + len("ya29.secret-token") + 16  # nonce + ciphertext + tag
    assert "secret" not in sealed
    assert cipher.decrypt(sealed, associated_data=AD) == "ya29.secret-token"
    # a fresh nonce each time
    assert cipher.encrypt("ya29.secret-token", associated_data=AD) != sealed


def test_tampering_is_detected() -> None:
    cipher = TokenCipher(f"1:{K1}")
    sealed = cipher.encrypt("ya29.secret-token", associated_data=AD)
    version, body = sealed.split(":", 1)
    raw = bytearray(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    for position in (0, 12, len(raw) - 1):  # nonce, ciphertext, tag
        flipped = bytearray(raw)
        flipped[position] ^= 0x01
        forged = f"{version}:{base64.urlsafe_b64encode(bytes(flipped)).rstrip(b'=').decode()}"
        with pytest.raises(DecryptionError):
            cipher.decrypt(forged, associated_data=AD)
    for garbage in ("", "1:", "1:abc", "no-version", f"9:{body}"):
        with pytest.raises(DecryptionError):
            cipher.decrypt(garbage, associated_data=AD)


def test_associated_data_binds_the_row_and_column() -> None:
    cipher = TokenCipher(f"1:{K1}")
    sealed = cipher.encrypt("ya29.secret-token", associated_data=AD)
    with pytest.raises(DecryptionError, match="another row"):
        cipher.decrypt(sealed, associated_data=AD.replace("6666", "6667"))
    with pytest.raises(DecryptionError):
        cipher.decrypt(sealed, associated_data=AD.replace("access_token", "refresh_token"))


def test_key_rotation() -> None:
    old = TokenCipher(f"1:{K1}")
    sealed_v1 = old.encrypt("refresh-me", associated_data=AD)
    # a new key is prepended: new values use it, old ones still decrypt
    rotated = TokenCipher(f"2:{K2},1:{K1}")
    assert rotated.current_version == "2"
    assert rotated.decrypt(sealed_v1, associated_data=AD) == "refresh-me"
    assert rotated.encrypt("x", associated_data=AD).startswith("2:")
    assert rotated.needs_rotation(sealed_v1) is True
    sealed_v2 = rotated.rotate(sealed_v1, associated_data=AD)
    assert sealed_v2.startswith("2:") and rotated.needs_rotation(sealed_v2) is False
    assert rotated.rotate(sealed_v2, associated_data=AD) == sealed_v2
    # once the old key is dropped, only re-encrypted values survive
    new_only = TokenCipher(f"2:{K2}")
    assert new_only.decrypt(sealed_v2, associated_data=AD) == "refresh-me"
    with pytest.raises(DecryptionError, match="unknown key version"):
        new_only.decrypt(sealed_v1, associated_data=AD)
    # the version is authenticated: relabelling a v2 value as v1 fails even with both keys
    both = TokenCipher(f"2:{K2},1:{K1}")
    with pytest.raises(DecryptionError):
        both.decrypt("1:" + sealed_v2.split(":", 1)[1], associated_data=AD)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "no token encryption key"),
        (f"1:{base64.b64encode(b'short').decode()}", "must be 32 bytes"),
        ("1:not base64!", "not valid base64"),
        (K1, "version:base64key"),
        (f"1:{K1},1:{K2}", "listed twice"),
    ],
)
def test_bad_key_specs_are_refused(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_keys(spec)


def test_cipher_from_settings() -> None:
    key = base64.b64encode(os.urandom(32)).decode()
    cipher = get_cipher(Settings(token_encryption_keys=f"7:{key},1:{K1}"))
    assert cipher.current_version == "7"
    assert cipher.decrypt(cipher.encrypt("t", associated_data="a"), associated_data="a") == "t"
