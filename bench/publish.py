"""The publish queue under a burst: 200 posts due at the same instant, across accounts on the
three fake platforms, published by one worker process.

    .venv/bin/python bench/publish.py [--posts 200] [--accounts-per-platform 20] [--size-kb 256]

Setup: a database of its own (``<name>_bench_publish``, migrated, dropped afterwards), a Redis
database of its own (claimed with the test harness's lock keys), the strict fake YouTube,
TikTok and Instagram servers and the signed-URL file host in this process, and one real
``PublishWorker`` process (``clipflow_worker.settings``: its functions, sweeper cron, limits and
max_jobs) whose publishers poll the fakes every 50 ms instead of every 3-5 s (the fakes finish
"processing" at once; real platforms take their time, which is not what this measures).

All posts are scheduled for the same second, the start of a minute at least ~20 s away, and
handed to arq deferred to it, as the posts service does. Per post:

- claim lateness: when the worker took the post (scheduled -> publishing; the first
  ``publishing`` progress event) minus its scheduled time;
- start lateness: ``publish_started_at`` (recorded, and committed, right before the platform
  is asked to create the post) minus its scheduled time. This is the "start" of the goal:
  scheduled posts start within 1 s of their time.

Posts per second: posts published / (last published_at - scheduled time); with ``--spread-s``
that is the offered rate, not the worker's capacity. The fakes' created-post counters are
printed: exactly one post per post.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)  # this folder would shadow packages (bench/graphql.py is not graphql-core)

WORKER = "--worker" in sys.argv
if not WORKER:
    _base = urlsplit(os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/clipflow"))
    os.environ["DATABASE_URL"] = urlunsplit(_base._replace(path=_base.path.rstrip("/") + "_bench_publish"))
    os.environ.setdefault("ENVIRONMENT", "development")
    os.environ["STORAGE_DIR"] = tempfile.mkdtemp(prefix="clipflow-bench-publish-")

from redis import Redis as SyncRedis
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from clipflow_api.config import get_settings
from clipflow_api.models.enums import Platform

FAST = {"youtube": {"resume_delay_s": 0.05}, "tiktok": {"poll_interval_s": 0.25},
        "instagram": {"poll_interval_s": 0.25}}


# --- the worker process ---------------------------------------------------------------------------------


async def worker_main() -> None:
    from arq.worker import create_worker

    from clipflow_worker.settings import PublishWorker, redis_settings

    ctx: dict = {"publisher_options": {Platform(k): v for k, v in FAST.items()}}
    if os.environ.get("BENCH_SLOTS"):
        ctx["platform_concurrency"] = {p: int(os.environ["BENCH_SLOTS"]) for p in Platform}
    worker = create_worker(PublishWorker, redis_settings=redis_settings(), ctx=ctx, handle_signals=False)
    loop = asyncio.get_running_loop()
    task = asyncio.ensure_future(worker.async_run())
    loop.add_signal_handler(signal.SIGTERM, task.cancel)
    try:
        await task
    except asyncio.CancelledError:
        pass
    finally:
        await worker.close()


# --- the run ---------------------------------------------------------------------------------------------


def claim_redis_db() -> tuple[str, int]:
    """A Redis database no test run holds (the harness's lock keys, taken from 1 upwards)."""
    url = urlsplit(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    client = SyncRedis.from_url(urlunsplit(url._replace(path="/0")))
    try:
        for n in range(1, 16):
            if client.set(f"clipflow:test-run-lock:{n}", os.getpid(), nx=True, ex=3600):
                return urlunsplit(url._replace(path=f"/{n}")), n
    finally:
        client.close()
    raise SystemExit("every Redis database 1-15 is held by a test run")


def release_redis_db(n: int) -> None:
    url = urlsplit(os.environ["REDIS_URL"])
    client = SyncRedis.from_url(urlunsplit(url._replace(path="/0")))
    if client.get(f"clipflow:test-run-lock:{n}") == str(os.getpid()).encode():
        client.delete(f"clipflow:test-run-lock:{n}")
    client.close()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def seed(posts: int, per_platform: int, size: int, fakes: dict[str, object], at: datetime,
               spread_s: float) -> list[uuid.UUID]:
    """Accounts on each fake (a token each), a few rendered clips, ``posts`` posts due at ``at``."""
    from clipflow_api.crypto import encrypt_token
    from clipflow_api.models import (
        Clip,
        Post,
        SocialAccount,
        TeamMember,
        User,
        Video,
        Workspace,
    )
    from clipflow_api.storage import get_storage
    from tests.fixtures.platforms import Creator

    engine = create_async_engine(get_settings().async_database_url, poolclass=NullPool)
    storage = get_storage()
    ids: list[uuid.UUID] = []
    async with AsyncSession(engine, expire_on_commit=False) as db:
        user = User(email=f"bench-{uuid.uuid4().hex[:8]}@example.com", name="Bench")
        db.add(user)
        await db.flush()
        ws = Workspace(name="Bench", slug=f"bench-{uuid.uuid4().hex[:8]}", owner_id=user.id)
        db.add(ws)
        await db.flush()
        db.add(TeamMember(workspace_id=ws.id, user_id=user.id, role="owner", accepted_at=datetime.now(UTC)))
        video = Video(workspace_id=ws.id, uploaded_by=user.id, source_type="upload", file_url="videos/bench.mp4",
                      title="Bench")
        db.add(video)
        await db.flush()
        clips = []
        for i in range(10):
            clip = Clip(video_id=video.id, workspace_id=ws.id, start_time=30 * i, end_time=30 * i + 30)
            db.add(clip)
            await db.flush()
            key = f"clips/{clip.id}/9x16.mp4"
            path = storage.path(key)  # type: ignore[union-attr]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(os.urandom(size))
            clip.file_urls = {"9:16": key}
            clips.append((clip, key))
        accounts = []
        for platform in ("youtube", "tiktok", "instagram"):
            for i in range(per_platform):
                token, user_id = f"{platform}-bench-token-{i}", f"{platform}-bench-user-{i}"
                state = fakes[platform].state  # type: ignore[attr-defined]
                if platform == "tiktok":
                    state.add_creator(token, Creator(open_id=user_id, username=f"bench{i}"))
                else:
                    state.add_account(token, user_id)
                account_id = uuid.uuid4()
                accounts.append(SocialAccount(
                    id=account_id, workspace_id=ws.id, platform=platform, platform_user_id=user_id,
                    access_token=encrypt_token(token, associated_data=f"social_account:{account_id}:access"),
                    status="active", platform_data={}))
        db.add_all(accounts)
        await db.flush()
        for n in range(posts):
            account = accounts[n % len(accounts)]
            clip, key = clips[n % len(clips)]
            post = Post(workspace_id=ws.id, social_account_id=account.id, clip_id=clip.id,
                        caption=f"Bench post {n} {uuid.uuid4().hex[:8]} #clipflow", media_urls=[key],
                        media_type="video", status="scheduled", created_by=user.id,
                        scheduled_at=at + timedelta(seconds=spread_s * n / posts),
                        platform_options={})
            db.add(post)
            await db.flush()
            ids.append(post.id)
        await db.commit()
    await engine.dispose()
    return ids


async def collect_claims(redis_url: str, claims: dict[str, datetime], stop: asyncio.Event) -> None:
    """The first ``publishing`` progress event of each post: when the worker took it."""
    from redis.asyncio import Redis

    redis = Redis.from_url(redis_url)
    pubsub = redis.pubsub()
    await pubsub.psubscribe("clipflow:progress:post:*")
    while not stop.is_set():
        msg = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.1)
        if msg is None or msg["type"] != "pmessage":
            continue
        event = json.loads(msg["data"])
        if event["status"] == "publishing" and event["postId"] not in claims:
            claims[event["postId"]] = datetime.fromisoformat(event["at"])
    await pubsub.aclose()
    await redis.aclose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=200)
    parser.add_argument("--accounts-per-platform", type=int, default=20)
    parser.add_argument("--size-kb", type=int, default=256)
    parser.add_argument("--spread-s", type=float, default=0.0,
                        help="spread the scheduled times evenly over this many seconds (0: all at one instant)")
    args = parser.parse_args()

    from clipflow_api.dbadmin import migrate, run_on_server
    from tests.fixtures.platforms import FakeInstagram, FakeTikTok, FakeYouTube
    from tests.worker.publishing_support import file_host

    redis_url, redis_db = claim_redis_db()
    os.environ["REDIS_URL"] = redis_url
    name = urlsplit(os.environ["DATABASE_URL"]).path.lstrip("/")
    get_settings.cache_clear()
    await run_on_server(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
    worker = None
    try:
        await asyncio.to_thread(migrate, "head")
        with FakeYouTube() as yt, FakeTikTok() as tt, FakeInstagram() as ig, file_host() as files:
            fakes = {"youtube": yt, "tiktok": tt, "instagram": ig}
            os.environ.update({
                "YOUTUBE_API_URL": yt.api_url, "YOUTUBE_UPLOAD_URL": yt.upload_url, "TIKTOK_API_URL": tt.api_url,
                "INSTAGRAM_API_URL": ig.api_url, "PUBLIC_BASE_URL": files.url,
            })
            get_settings.cache_clear()
            from redis.asyncio import Redis

            await Redis.from_url(redis_url).flushdb()
            worker = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--worker"], cwd=ROOT,
                                      env={**os.environ})
            placeholder = datetime.now(UTC) + timedelta(days=1)
            ids = await seed(args.posts, args.accounts_per_platform, args.size_kb * 1024, fakes, placeholder, args.spread_s)

            # hand each post to arq, deferred to its time, as the posts service does after its commit
            from arq import create_pool
            from arq.connections import RedisSettings

            from clipflow_api.publishing.queue import enqueue_publish

            arq = await create_pool(RedisSettings.from_dsn(redis_url))
            engine = create_async_engine(get_settings().async_database_url, poolclass=NullPool)
            from clipflow_api.models import Post

            # their time: the start of the next minute at least 10 s away (the worker has started by then)
            now = datetime.now(UTC)
            at = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
            if (at - now).total_seconds() < 10:
                at += timedelta(minutes=1)
            async with AsyncSession(engine) as db:
                await db.execute(update(Post).where(Post.id.in_(ids))
                                 .values(scheduled_at=Post.scheduled_at - (placeholder - at)))
                await db.commit()
                due = list(await db.execute(select(Post.id, Post.workspace_id, Post.scheduled_at).where(Post.id.in_(ids))))
            for post_id, ws, scheduled_at in due:
                await enqueue_publish(arq, post_id, ws, scheduled_at, 0)
            claims: dict[str, datetime] = {}
            stop = asyncio.Event()
            listener = asyncio.ensure_future(collect_claims(redis_url, claims, stop))
            print(f"{len(ids)} posts due at {at:%H:%M:%S} (in {(at - datetime.now(UTC)).total_seconds():.0f} s) on "
                  f"{3 * args.accounts_per_platform} accounts; one worker process", flush=True)

            deadline = time.monotonic() + (at - datetime.now(UTC)).total_seconds() + 180
            rows = []
            while time.monotonic() < deadline:
                await asyncio.sleep(1.0)
                async with AsyncSession(engine) as db:
                    rows = list(await db.execute(select(Post.id, Post.status, Post.scheduled_at, Post.publish_started_at,
                                                        Post.published_at, Post.publish_error)
                                                 .where(Post.id.in_(ids))))
                if all(r.status in ("published", "failed") for r in rows):
                    break
            stop.set()
            await listener
            worker_cpu = cpu_seconds(worker.pid)
            await arq.aclose()
            await engine.dispose()

            statuses: dict[str, int] = {}
            for r in rows:
                statuses[r.status] = statuses.get(r.status, 0) + 1
            published = [r for r in rows if r.status == "published"]
            starts = [(r.publish_started_at - r.scheduled_at).total_seconds() * 1000 for r in published]
            claimed = [(claims[str(r.id)] - r.scheduled_at).total_seconds() * 1000 for r in rows if str(r.id) in claims]
            created = {k: f.state.posts_created for k, f in fakes.items()}
            last = max(r.published_at for r in published)
            rate = len(published) / max((last - at).total_seconds(), 1e-3)
            print(f"CPU: worker {worker_cpu:.1f} s ({worker_cpu * 1000 / max(len(rows), 1):.0f} ms per post), this process "
                  f"(the fakes) {sum(os.times()[:2]):.1f} s")
            print(f"statuses: {statuses}; created on the fakes: {created} (total {sum(created.values())})")
            errors = {r.publish_error for r in rows if r.status != "published"}
            if errors:
                print(f"errors: {sorted(e or '' for e in errors)[:5]}")
            if claimed:
                print(f"claim lateness: p50 {percentile(claimed, 0.5):.0f} ms, p99 {percentile(claimed, 0.99):.0f} ms, "
                      f"max {max(claimed):.0f} ms ({len(claimed)} posts)")
            print(f"start lateness (publish_started_at): p50 {percentile(starts, 0.5):.0f} ms, "
                  f"p99 {percentile(starts, 0.99):.0f} ms, max {max(starts):.0f} ms; all published "
                  f"{(last - at).total_seconds():.2f} s after their time (load {os.getloadavg()[0]:.1f} on "
                  f"{os.cpu_count()} CPUs)")
            print(f"p99 lateness: {percentile(starts, 0.99):.0f} ms, p50 lateness: {percentile(starts, 0.5):.0f} ms, "
                  f"{rate:.0f} posts/s", flush=True)
    finally:
        if worker is not None:
            worker.terminate()
            try:
                worker.wait(10)
            except subprocess.TimeoutExpired:
                worker.kill()
        await run_on_server(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        release_redis_db(redis_db)


if __name__ == "__main__":
    if WORKER and os.environ.get("BENCH_PROFILE"):
        import cProfile

        cProfile.run("asyncio.run(worker_main())", os.environ["BENCH_PROFILE"])
    elif WORKER:
        asyncio.run(worker_main())
    else:
        asyncio.run(main())
