"""What the publish-queue tests share: the fake platforms, a signed-URL file host, settings
pointing at them, row builders for posts ready to go out, and the publish worker (in this
process, or as a real child process that a test can SIGKILL).

Run as a module (``python -m tests.worker.publishing_support``) it is that child: the real
``PublishWorker`` settings, with the publishers' poll intervals shortened for the fakes.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from arq.worker import create_worker
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette
from starlette.routing import Route

from clipflow_api import clock
from clipflow_api.config import get_settings
from clipflow_api.crypto import encrypt_token
from clipflow_api.models import Clip, Post, SocialAccount, Video
from clipflow_api.models.enums import Platform
from clipflow_api.storage import get_storage
from clipflow_api.storage.routes import download
from tests.fixtures import builders
from tests.fixtures.platforms import Creator, FakeInstagram, FakeTikTok, FakeYouTube
from tests.fixtures.platforms.server import BaseState, FakeServer

YT_TOKEN, YT_CHANNEL = "ya29.queue-youtube-token", "UCqueuechannel00000000001"
TT_TOKEN, TT_OPEN_ID = "act.queue-tiktok-token", "queue-open-id-1"
IG_TOKEN, IG_USER = "IGQVJqueue-instagram-token", "17841400000000077"
TOKENS = {Platform.YOUTUBE: (YT_TOKEN, YT_CHANNEL), Platform.TIKTOK: (TT_TOKEN, TT_OPEN_ID),
          Platform.INSTAGRAM: (IG_TOKEN, IG_USER)}
CLIP_SECONDS = 30  # the fakes report 30 s for every video: the duration fingerprint matches

# The fakes answer at once: poll them often (the real intervals, 3 s and 5 s, are for real platforms).
FAST_PUBLISHERS: dict[Platform, dict[str, Any]] = {
    Platform.YOUTUBE: {"resume_delay_s": 0.05},
    Platform.TIKTOK: {"poll_interval_s": 0.05},
    Platform.INSTAGRAM: {"poll_interval_s": 0.05},
}
STALE_S = 2  # a killed worker's post looks stale this soon in the tests


@dataclass
class Fakes:
    youtube: FakeYouTube
    tiktok: FakeTikTok
    instagram: FakeInstagram
    files: FakeServer

    def of(self, platform: Platform) -> FakeYouTube | FakeTikTok | FakeInstagram:
        return {Platform.YOUTUBE: self.youtube, Platform.TIKTOK: self.tiktok, Platform.INSTAGRAM: self.instagram}[platform]

    def created(self) -> dict[str, int]:
        return {"youtube": self.youtube.state.posts_created, "tiktok": self.tiktok.state.posts_created,
                "instagram": self.instagram.state.posts_created}

    def reset(self) -> None:
        self.youtube.state.reset()
        self.tiktok.state.reset()
        self.instagram.state.reset()
        self.youtube.state.add_account(YT_TOKEN, YT_CHANNEL)
        self.tiktok.state.add_creator(TT_TOKEN, Creator(open_id=TT_OPEN_ID, username="queue_creator"))
        self.instagram.state.add_account(IG_TOKEN, IG_USER)


def file_host() -> FakeServer:
    """The API's signed-URL file route (``GET /files/<key>``) on its own port: Instagram fetches from it."""
    app = Starlette(routes=[Route("/files/{key:path}", download, methods=["GET"])])
    app.state.storage = get_storage()
    return FakeServer(app, BaseState())


def platform_env(fakes: Fakes) -> dict[str, str]:
    return {
        "YOUTUBE_API_URL": fakes.youtube.api_url, "YOUTUBE_UPLOAD_URL": fakes.youtube.upload_url,
        "TIKTOK_API_URL": fakes.tiktok.api_url, "INSTAGRAM_API_URL": fakes.instagram.api_url,
        "PUBLIC_BASE_URL": fakes.files.url, "PUBLISH_STALE_S": str(STALE_S),
    }


@pytest.fixture(scope="session")
def _fake_platforms() -> Iterator[Fakes]:
    with FakeYouTube() as yt, FakeTikTok() as tt, FakeInstagram() as ig, file_host() as files:
        yield Fakes(yt, tt, ig, files)


@pytest.fixture
def fakes(_fake_platforms: Fakes) -> Iterator[Fakes]:
    """Fresh fake platforms (one known account each) and settings pointing the worker at them."""
    _fake_platforms.reset()
    env = platform_env(_fake_platforms)
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    get_settings.cache_clear()
    try:
        yield _fake_platforms
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        get_settings.cache_clear()


# --- rows ---------------------------------------------------------------------------------------------


@dataclass
class Scene:
    """One workspace's account on a platform, a clip with its rendered file, and its posts."""

    workspace_id: uuid.UUID
    owner_id: uuid.UUID
    account: SocialAccount
    clip: Clip
    media_key: str


async def scene(committed: AsyncSession, platform: Platform, *, size: int = 300 * 1024,
                ws: Any = None, platform_user_id: str | None = None, token: str | None = None) -> Scene:
    """A committed workspace (or ``ws``) with an active ``platform`` account and a rendered 30 s clip."""
    ws = ws or await builders.workspace(committed)
    video: Video = await builders.video(committed, ws)
    clip: Clip = await builders.clip(committed, video, start=0, end=CLIP_SECONDS)
    key = f"clips/{clip.id}/9x16.mp4"
    path = get_storage().path(key)  # type: ignore[union-attr]  # local storage in the tests
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        f.write(os.urandom(size))
    clip.file_urls = {"9:16": key}
    plain, user = TOKENS[platform]
    account_id = uuid.uuid4()
    account = SocialAccount(
        id=account_id, workspace_id=ws.id, platform=platform.value, platform_user_id=platform_user_id or user,
        username=f"{platform.value}-user", access_token=encrypt_token(
            token or plain, associated_data=f"social_account:{account_id}:access"),
        status="active", platform_data={},
    )
    committed.add(account)
    await committed.commit()
    return Scene(ws.id, ws.owner_id, account, clip, key)


async def scheduled_post(committed: AsyncSession, sc: Scene, *, at: datetime | None = None, caption: str | None = None,
                         **kw: Any) -> Post:
    """A post of the scene's clip, scheduled at ``at`` (now by default), committed."""
    post = Post(
        workspace_id=sc.workspace_id, social_account_id=sc.account.id, clip_id=sc.clip.id,
        caption=caption or f"Queue test {uuid.uuid4().hex[:12]} #clipflow", media_urls=[sc.media_key],
        media_type="video", status="scheduled", scheduled_at=at or clock.now(), created_by=sc.owner_id,
        platform_options=kw.pop("platform_options", {}), **kw,
    )
    committed.add(post)
    await committed.commit()
    return post


async def hand_over(arq: Any, post: Post) -> None:
    """What the posts service does after its commit: give arq the post's job, deferred to its time."""
    from clipflow_api.publishing.queue import enqueue_publish

    due = max(filter(None, (post.scheduled_at, post.next_attempt_at)))
    await enqueue_publish(arq, post.id, post.workspace_id, due, post.publish_attempts or 0)


async def row(committed: AsyncSession, model: Any, id_: uuid.UUID) -> Any:
    stmt = select(model).where(model.id == id_).execution_options(populate_existing=True)
    value = (await committed.execute(stmt)).scalar_one()
    await committed.commit()
    return value


async def sql(committed: AsyncSession, query: str, **params: Any) -> list[Any]:
    result = await committed.execute(text(query), params)
    rows = list(result) if result.returns_rows else []
    await committed.commit()
    return rows


async def wait_for(predicate: Callable[[], Awaitable[bool]], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not await predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


# --- the worker ---------------------------------------------------------------------------------------


def worker_ctx() -> dict[str, Any]:
    return {"publisher_options": FAST_PUBLISHERS}


class InProcessWorker:
    """The real PublishWorker (functions and cron) in this process, until stopped."""

    def __init__(self, **overrides: Any) -> None:
        from clipflow_worker.settings import PublishWorker, redis_settings

        self.worker = create_worker(PublishWorker, redis_settings=redis_settings(), handle_signals=False,
                                    poll_delay=0.05, ctx=worker_ctx(), **overrides)
        self.task: asyncio.Task[Any] | None = None

    async def __aenter__(self) -> InProcessWorker:
        self.task = asyncio.ensure_future(self.worker.async_run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.task is not None
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        await self.worker.close()


async def run_until(predicate: Callable[[], Awaitable[bool]], timeout: float, what: str) -> None:
    """Run a publish worker until ``predicate`` holds."""
    async with InProcessWorker():
        await wait_for(predicate, timeout, what)


def spawn_worker() -> subprocess.Popen[bytes]:
    """A real publish worker process (this module as __main__), with this test run's settings."""
    return subprocess.Popen([sys.executable, "-m", "tests.worker.publishing_support"], env=os.environ.copy(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            cwd=Path(__file__).resolve().parents[2])


async def _main() -> None:
    from clipflow_worker.settings import PublishWorker, redis_settings

    worker = create_worker(PublishWorker, redis_settings=redis_settings(), ctx=worker_ctx(), poll_delay=0.05)
    await worker.async_run()


__all__ = [
    "CLIP_SECONDS",
    "STALE_S",
    "Fakes",
    "InProcessWorker",
    "Scene",
    "fakes",
    "hand_over",
    "row",
    "run_until",
    "scene",
    "scheduled_post",
    "spawn_worker",
    "sql",
    "wait_for",
]


if __name__ == "__main__":
    asyncio.run(_main())
