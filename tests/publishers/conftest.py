"""Fixtures: one fresh fake platform per test (real HTTP on a free port) and generated media files."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from clipflow_worker.publishers import Progress
from tests.fixtures.platforms import Creator, FakeInstagram, FakeTikTok, FakeYouTube

YT_TOKEN, YT_CHANNEL = "ya29.fake-youtube-token", "UCfakechannel000000000001"
TT_TOKEN, TT_OPEN_ID, TT_USERNAME = "act.fake-tiktok-token", "open-id-1", "clipflow_creator"
IG_TOKEN, IG_USER = "IGQVJfake-instagram-token", "17841400000000001"


# One server per platform for the whole run (starting uvicorn costs more than most tests);
# each test gets it with a fresh state.


@pytest.fixture(scope="session")
def _youtube_server() -> Iterator[FakeYouTube]:
    with FakeYouTube() as server:
        yield server


@pytest.fixture(scope="session")
def _tiktok_server() -> Iterator[FakeTikTok]:
    with FakeTikTok() as server:
        yield server


@pytest.fixture(scope="session")
def _instagram_server() -> Iterator[FakeInstagram]:
    with FakeInstagram() as server:
        yield server


@pytest.fixture
def youtube(_youtube_server: FakeYouTube) -> FakeYouTube:
    _youtube_server.state.reset()
    _youtube_server.state.add_account(YT_TOKEN, YT_CHANNEL)
    return _youtube_server


@pytest.fixture
def tiktok(_tiktok_server: FakeTikTok) -> FakeTikTok:
    _tiktok_server.state.reset()
    _tiktok_server.state.add_creator(TT_TOKEN, Creator(open_id=TT_OPEN_ID, username=TT_USERNAME))
    return _tiktok_server


@pytest.fixture
def instagram(_instagram_server: FakeInstagram) -> FakeInstagram:
    _instagram_server.state.reset()
    _instagram_server.state.add_account(IG_TOKEN, IG_USER)
    return _instagram_server


def make_file(directory: Path, size: int, name: str = "clip.mp4") -> tuple[Path, str]:
    """A file of ``size`` random bytes (the fakes do not decode video) and its SHA-256."""
    path = directory / name
    digest = hashlib.sha256()
    with open(path, "wb") as f:
        left = size
        while left:
            piece = os.urandom(min(left, 1 << 20))
            f.write(piece)
            digest.update(piece)
            left -= len(piece)
    return path, digest.hexdigest()


class ProgressLog:
    def __init__(self) -> None:
        self.events: list[Progress] = []

    def __call__(self, progress: Progress) -> None:
        self.events.append(progress)

    def stage(self, name: str) -> list[int]:
        return [p.done for p in self.events if p.stage == name]


class CountingStream:
    """A readable, seekable stream over a file that records the size of every read."""

    def __init__(self, path: Path) -> None:
        self._f = open(path, "rb")  # noqa: SIM115 - closed by the test
        self.reads: list[int] = []

    def read(self, n: int = -1) -> bytes:
        self.reads.append(n)
        return self._f.read(n)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._f.seek(offset, whence)

    def tell(self) -> int:
        return self._f.tell()

    def seekable(self) -> bool:
        return True

    def close(self) -> None:
        self._f.close()
