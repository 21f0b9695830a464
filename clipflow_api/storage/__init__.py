"""Object storage behind one interface: a local directory (default) or S3-compatible.

Keys are relative POSIX paths (``videos/<id>/source.mp4``). Workers get bytes through
``local_copy`` (the file itself locally, a temporary download from S3), and clients get
signed, expiring download URLs from ``signed_url`` and upload URLs (HTTP PUT of exactly
the signed size and content type) from ``signed_upload_url``: an S3 presigned PUT, or the
same shape served by ``storage.routes`` for the local directory.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path, PurePosixPath
from typing import Protocol
from urllib.parse import quote, urlencode

from ..config import Settings, get_settings


class StorageError(Exception):
    pass


def check_key(key: str) -> str:
    """Refuse keys that could escape the storage root or name a folder."""
    path = PurePosixPath(key)
    if not key or path.is_absolute() or ".." in path.parts or key.endswith("/") or "\\" in key or "\x00" in key:
        raise StorageError(f"invalid storage key: {key!r}")
    return key


class Storage(Protocol):
    def put_file(self, key: str, source: Path, content_type: str | None = None) -> str: ...
    def exists(self, key: str) -> bool: ...
    def size(self, key: str) -> int: ...
    def delete(self, key: str) -> None: ...
    def local_copy(self, key: str) -> AbstractContextManager[Path]: ...
    def signed_url(self, key: str, expires_in: int = 3600) -> str: ...
    def signed_upload_url(self, key: str, *, content_type: str, size: int, expires_in: int) -> str: ...


def _signature(secret: str, key: str, expires: int) -> str:
    mac = hmac.new(secret.encode(), f"{key}\n{expires}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def _upload_signature(secret: str, key: str, expires: int, size: int, content_type: str) -> str:
    # "PUT" first: a download signature (key, expires) can never pass as an upload one
    message = f"PUT\n{key}\n{expires}\n{size}\n{content_type}".encode()
    mac = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def verify_upload_signature(secret: str, key: str, *, expires: int, size: int, content_type: str, signature: str,
                            now: float | None = None) -> bool:
    """True when ``signature`` was made by ``LocalStorage.signed_upload_url`` for exactly these values and has not expired."""
    if expires < (now if now is not None else time.time()):
        return False
    return hmac.compare_digest(_upload_signature(secret, key, expires, size, content_type), signature)


def verify_local_signature(secret: str, key: str, expires: int, signature: str, now: float | None = None) -> bool:
    """True when ``signature`` was made by ``LocalStorage.signed_url`` and has not expired."""
    if expires < (now if now is not None else time.time()):
        return False
    return hmac.compare_digest(_signature(secret, key, expires), signature)


class LocalStorage:
    def __init__(self, root: Path, *, secret: str, base_url: str) -> None:
        self.root = root
        self.secret = secret
        self.base_url = base_url.rstrip("/")
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put_file(self, key: str, source: Path, content_type: str | None = None) -> str:
        dest = self.path(key)
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(dest.name + ".part")
        shutil.copyfile(source, tmp)
        tmp.replace(dest)  # atomic: a reader never sees half a file
        return key

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def size(self, key: str) -> int:
        return self.path(key).stat().st_size

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    @contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        path = self.path(key)
        if not path.is_file():
            raise StorageError(f"no such object: {key}")
        yield path

    def signed_url(self, key: str, expires_in: int = 3600) -> str:
        expires = int(time.time()) + expires_in
        query = urlencode({"expires": expires, "signature": _signature(self.secret, check_key(key), expires)})
        return f"{self.base_url}/files/{quote(key)}?{query}"

    def signed_upload_url(self, key: str, *, content_type: str, size: int, expires_in: int) -> str:
        expires = int(time.time()) + expires_in
        signature = _upload_signature(self.secret, check_key(key), expires, size, content_type)
        query = urlencode({"expires": expires, "size": size, "type": content_type, "signature": signature})
        return f"{self.base_url}/files/{quote(key)}?{query}"


class S3Storage:
    """Any S3-compatible store (AWS, MinIO, moto) through boto3."""

    def __init__(self, *, bucket: str, endpoint_url: str | None, region: str,
                 access_key: str | None, secret_key: str | None) -> None:
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.client = boto3.client(
            "s3", endpoint_url=endpoint_url, region_name=region, aws_access_key_id=access_key,
            aws_secret_access_key=secret_key, config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )

    def ensure_bucket(self) -> None:
        from botocore.exceptions import ClientError

        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError:
            self.client.create_bucket(Bucket=self.bucket)

    def put_file(self, key: str, source: Path, content_type: str | None = None) -> str:
        extra = {"ContentType": content_type} if content_type else {}
        self.client.upload_file(str(source), self.bucket, check_key(key), ExtraArgs=extra or None)
        return key

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=check_key(key))
            return True
        except ClientError:
            return False

    def size(self, key: str) -> int:
        return int(self.client.head_object(Bucket=self.bucket, Key=check_key(key))["ContentLength"])

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=check_key(key))

    @contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        from botocore.exceptions import ClientError

        with tempfile.TemporaryDirectory(prefix="clipflow-s3-") as tmp:
            dest = Path(tmp) / PurePosixPath(check_key(key)).name
            try:
                self.client.download_file(self.bucket, key, str(dest))
            except ClientError as exc:
                raise StorageError(f"no such object: {key}") from exc
            yield dest

    def signed_url(self, key: str, expires_in: int = 3600) -> str:
        return self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": check_key(key)}, ExpiresIn=expires_in
        )

    def signed_upload_url(self, key: str, *, content_type: str, size: int, expires_in: int) -> str:
        # Content-Type and Content-Length are signed headers: S3 refuses a PUT with others.
        return self.client.generate_presigned_url(
            "put_object", Params={"Bucket": self.bucket, "Key": check_key(key), "ContentType": content_type,
                                  "ContentLength": size},
            ExpiresIn=expires_in,
        )


def get_storage(settings: Settings | None = None) -> LocalStorage | S3Storage:
    settings = settings or get_settings()
    if settings.storage_backend == "local":
        return LocalStorage(settings.storage_dir, secret=settings.secret_key, base_url=settings.public_base_url)
    if settings.storage_backend == "s3":
        return S3Storage(
            bucket=settings.s3_bucket, endpoint_url=settings.s3_endpoint_url, region=settings.s3_region,
            access_key=settings.aws_access_key_id, secret_key=settings.aws_secret_access_key,
        )
    raise StorageError(f"unknown STORAGE_BACKEND {settings.storage_backend!r} (use local or s3)")
