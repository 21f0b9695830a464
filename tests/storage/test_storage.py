"""Storage: local directory with signed URLs, and S3 against moto's server (same protocol as S3)."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from clipflow_api.storage import LocalStorage, S3Storage, StorageError, verify_local_signature


@pytest.fixture
def local(tmp_path) -> LocalStorage:
    return LocalStorage(tmp_path / "store", secret="s3cret", base_url="http://api.test")


@pytest.mark.parametrize("key", ["", "/etc/passwd", "../x", "a/../../b", "dir/", "a\\b", "nul\x00"])
def test_keys_cannot_escape_the_root(local: LocalStorage, key: str) -> None:
    with pytest.raises(StorageError, match="invalid storage key"):
        local.path(key)


def test_local_round_trip_and_signed_urls(local: LocalStorage, tmp_path) -> None:
    src = tmp_path / "in.bin"
    src.write_bytes(b"x" * 1000)
    local.put_file("videos/1/source.mp4", src)
    assert local.exists("videos/1/source.mp4") and local.size("videos/1/source.mp4") == 1000
    with local.local_copy("videos/1/source.mp4") as p:
        assert p.read_bytes() == b"x" * 1000
    url = local.signed_url("videos/1/source.mp4", expires_in=60)
    parts = urlsplit(url)
    assert parts.path == "/files/videos/1/source.mp4"
    q = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert verify_local_signature("s3cret", "videos/1/source.mp4", int(q["expires"]), q["signature"])
    # another key, another secret, or a later time do not verify
    assert not verify_local_signature("s3cret", "videos/2/source.mp4", int(q["expires"]), q["signature"])
    assert not verify_local_signature("other", "videos/1/source.mp4", int(q["expires"]), q["signature"])
    assert not verify_local_signature("s3cret", "videos/1/source.mp4", int(q["expires"]), q["signature"], now=time.time() + 61)
    local.delete("videos/1/source.mp4")
    assert not local.exists("videos/1/source.mp4")
    with pytest.raises(StorageError, match="no such object"):
        with local.local_copy("videos/1/source.mp4"):
            pass


def test_s3_round_trip_and_presigned_download(s3_endpoint: str, tmp_path) -> None:
    store = S3Storage(bucket="clipflow-test", endpoint_url=s3_endpoint, region="us-east-1",
                      access_key="testing", secret_key="testing")
    store.ensure_bucket()
    src = tmp_path / "clip.mp4"
    src.write_bytes(b"\x00\x01" * 5000)
    store.put_file("clips/9/9x16.mp4", src, content_type="video/mp4")
    assert store.exists("clips/9/9x16.mp4") and store.size("clips/9/9x16.mp4") == 10000
    with store.local_copy("clips/9/9x16.mp4") as p:
        assert p.read_bytes() == src.read_bytes()
    url = store.signed_url("clips/9/9x16.mp4", expires_in=120)
    assert "X-Amz-Signature=" in url and "X-Amz-Expires=120" in url
    response = httpx.get(url)
    assert response.status_code == 200 and response.content == src.read_bytes()
    store.delete("clips/9/9x16.mp4")
    assert not store.exists("clips/9/9x16.mp4")
    with pytest.raises(StorageError, match="no such object"):
        with store.local_copy("clips/9/9x16.mp4"):
            pass
