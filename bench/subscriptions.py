"""Subscription latency: how long from a progress event published on Redis to its receipt by
every websocket subscriber, with 1 and with 50 subscribers on one API process.

Usage: python bench/subscriptions.py [--events 100] [--interval-ms 100] [--subscribers 1,50]

The app runs on uvicorn in a process of its own (as ``clipflow serve`` runs it), against a
database of its own (``<name>_bench_subscriptions``, migrated, dropped afterwards) and the
local Redis. N graphql-transport-ws clients subscribe to ``jobProgress`` of one job; once
each has its initial state, M events are published the way the worker publishes them
(``jobs.progress.publish_progress``), one every ``--interval-ms``, each named by its index.
Publisher and clients share this process's monotonic clock, so publish -> receipt is
measured per subscriber and event. Goal: p99 < 100 ms with 50 subscribers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
# this script's folder would shadow packages (bench/graphql.py is not graphql-core): the root instead
sys.path[0] = str(ROOT)

_base = urlsplit(os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/clipflow"))
os.environ["DATABASE_URL"] = urlunsplit(_base._replace(path=_base.path.rstrip("/") + "_bench_subscriptions"))
os.environ.setdefault("ENVIRONMENT", "development")  # development secrets are fine for a local run

import websockets  # noqa: E402
from redis.asyncio import Redis  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

from clipflow_api.auth.tokens import hash_token, new_token  # noqa: E402
from clipflow_api.config import get_settings  # noqa: E402
from clipflow_api.dbadmin import migrate, run_on_server  # noqa: E402
from clipflow_api.devservices import free_port  # noqa: E402
from clipflow_api.graphql.relay import global_id  # noqa: E402
from clipflow_api.graphql.jobs.types import Job as JobType  # noqa: E402
from clipflow_api.jobs.progress import progress_event, publish_progress  # noqa: E402
from clipflow_api.models import Job, TeamMember, User, UserSession, Workspace  # noqa: E402

SUB = "subscription($id: ID!) { jobProgress(jobId: $id) { status progress message at } }"


def _db_name() -> str:
    return urlsplit(get_settings().database_url).path.lstrip("/")


async def seed(members: int) -> tuple[list[str], uuid.UUID, uuid.UUID]:
    """A workspace with ``members`` users (a session each; the per-user socket cap stays as
    configured) and a running job: (tokens, workspace id, job id)."""
    engine = create_async_engine(get_settings().async_database_url, poolclass=NullPool)
    tokens = [new_token() for _ in range(members)]
    async with AsyncSession(engine, expire_on_commit=False) as db:
        users = [User(email=f"bench-{uuid.uuid4().hex[:8]}@example.com", name="Bench") for _ in tokens]
        db.add_all(users)
        await db.flush()
        ws = Workspace(name="Bench", slug=f"bench-{uuid.uuid4().hex[:8]}", owner_id=users[0].id)
        db.add(ws)
        await db.flush()
        for i, (user, token) in enumerate(zip(users, tokens)):
            db.add(TeamMember(workspace_id=ws.id, user_id=user.id, role="owner" if i == 0 else "viewer", accepted_at=datetime.now(UTC)))
            db.add(UserSession(user_id=user.id, token_hash=hash_token(token), expires_at=datetime.now(UTC) + timedelta(days=1)))
        job = Job(workspace_id=ws.id, type="video_probe", status="processing")
        db.add(job)
        await db.commit()
        out = (tokens, ws.id, job.id)
    await engine.dispose()
    return out


async def subscriber(url: str, token: str, ws_id: uuid.UUID, job_gid: str, ready: asyncio.Event,
                     received: dict[int, float], expected: int) -> None:
    """One client: subscribes, signals once its initial state arrived, records each event's receipt time."""
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"], max_queue=None) as conn:
        await conn.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}", "workspaceId": str(ws_id)}}))
        assert json.loads(await conn.recv())["type"] == "connection_ack"
        await conn.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUB, "variables": {"id": job_gid}}}))
        first = json.loads(await conn.recv())
        assert first["type"] == "next", first
        ready.set()
        while len(received) < expected:
            msg = json.loads(await conn.recv())
            now = time.perf_counter()
            assert msg["type"] == "next", msg
            received[int(msg["payload"]["data"]["jobProgress"]["message"])] = now


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


async def run(url: str, redis: Redis, tokens: list[str], ws_id: uuid.UUID, job_id: uuid.UUID, n: int, events: int,
              interval: float, server_pid: int) -> tuple[list[float], float]:
    """Latencies (ms) of every (subscriber, event) pair with ``n`` subscribers, and the server's CPU ms per event."""
    job_gid = global_id(JobType, job_id)
    readies = [asyncio.Event() for _ in range(n)]
    receipts: list[dict[int, float]] = [{} for _ in range(n)]
    clients = [asyncio.create_task(subscriber(url, token, ws_id, job_gid, r, got, events))
               for token, r, got in zip(tokens, readies, receipts)]
    await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), 60)
    published: dict[int, float] = {}
    cpu_before = cpu_seconds(server_pid)
    for i in range(events):
        event = progress_event(job_id=job_id, workspace_id=ws_id, status="processing", progress=i % 100, message=str(i))
        published[i] = time.perf_counter()
        await publish_progress(redis, event)
        await asyncio.sleep(interval)
    await asyncio.wait_for(asyncio.gather(*clients), 120)
    cpu_ms = (cpu_seconds(server_pid) - cpu_before) * 1000 / events
    return [(got[i] - published[i]) * 1000 for got in receipts for i in range(events)], cpu_ms


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=100)
    parser.add_argument("--interval-ms", type=float, default=100.0)
    parser.add_argument("--subscribers", default="1,50")
    args = parser.parse_args()
    counts = [int(c) for c in args.subscribers.split(",")]

    name = _db_name()
    await run_on_server(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await run_on_server(f'CREATE DATABASE "{name}"')
    server = None
    try:
        await asyncio.to_thread(migrate, "head")
        tokens, ws_id, job_id = await seed(max(counts))
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "clipflow_api.app:create_app", "--factory", "--host", "127.0.0.1",
             "--port", str(port), "--log-level", "warning"],
            cwd=ROOT, env={**os.environ},
        )
        url = f"ws://127.0.0.1:{port}/graphql"
        for _ in range(200):
            try:
                async with websockets.connect(url, subprotocols=["graphql-transport-ws"]):
                    break
            except OSError:
                await asyncio.sleep(0.1)
        redis = Redis.from_url(get_settings().redis_url)
        results: dict[int, tuple[float, float]] = {}
        for n in counts:
            ms, cpu_ms = await run(url, redis, tokens, ws_id, job_id, n, args.events, args.interval_ms / 1000, server.pid)
            results[n] = (percentile(ms, 0.50), percentile(ms, 0.99))
            # server CPU per event does not depend on how busy the machine is; the latencies do (see load)
            print(f"{n:>3} subscribers: p50 {results[n][0]:.1f} ms, p99 {results[n][1]:.1f} ms, max {max(ms):.1f} ms, "
                  f"server CPU {cpu_ms:.1f} ms per event ({len(ms)} receipts, {args.events} events every "
                  f"{args.interval_ms:g} ms, load {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)", flush=True)
        await redis.aclose()
        many, one = max(counts), min(counts)
        print(f"p99: {results[many][1]:.0f} ms with {many} subscribers ({results[one][1]:.0f} ms with {one})")
    finally:
        if server is not None:
            server.terminate()
            server.wait(10)
        await run_on_server(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    asyncio.run(main())
