"""Object storage behind one interface: a local directory by default (S3 arrives with the upload work)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Protocol

from ..config import Settings, get_settings


class StorageError(Exception):
    pass


def _check_key(key: str) -> str:
    path = PurePosixPath(key)
    if path.is_absolute() or ".." in path.parts or not key or key.endswith("/"):
        raise StorageError(f"invalid storage key: {key!r}")
    return key


class Storage(Protocol):
    def put_file(self, key: str, source: Path) -> str: ...
    def exists(self, key: str) -> bool: ...
    def delete(self, key: str) -> None: ...
    def local_copy(self, key: str) -> "contextmanager[Path]": ...  # type: ignore[valid-type]


class LocalStorage:
    """Keys are relative paths under one directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, key: str) -> Path:
        return self.root / _check_key(key)

    def put_file(self, key: str, source: Path) -> str:
        dest = self.path(key)
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(dest.name + ".part")
        shutil.copyfile(source, tmp)
        tmp.replace(dest)  # atomic: a reader never sees half a file
        return key

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    @contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        """A local path holding the object's bytes (the file itself, for local storage)."""
        path = self.path(key)
        if not path.is_file():
            raise StorageError(f"no such object: {key}")
        yield path


def get_storage(settings: Settings | None = None) -> LocalStorage:
    settings = settings or get_settings()
    if settings.storage_backend != "local":
        raise StorageError(f"unknown STORAGE_BACKEND {settings.storage_backend!r}")
    return LocalStorage(settings.storage_dir)
