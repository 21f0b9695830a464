"""The GraphQL layer against a bare endpoint serving the same dashboard bytes.

    .venv/bin/python bench/graphql.py [--seconds 10] [--rounds 3] [--connections 16]

The dashboard query: a workspace's 20 newest videos, each with its first 5 clips and each
clip's posts with their social account's platform (about 56 KB of JSON). Two servers, one
uvicorn process each:

- ``graphql``: ``clipflow_api.app.create_app``, the real API;
- ``raw``: Starlette + asyncpg, the same session check (``resolve_principal`` and the
  operation count), the same tenant settings (``set_config`` in one transaction, as the app
  role, so Row-Level Security applies), four plain statements and ``json.dumps``.

Before timing, the two answers are compared (they must be equal). Then a load generator
(wrk when installed, else an asyncio httpx client; the same one for both) drives them
alternately, ``--rounds`` times, printing requests per second and server CPU milliseconds
per request. The SQL statement count of the dashboard query is printed at 5, 20 and 50
videos in the workspace (it must not grow) and checked against ``PINNED_STATEMENTS``.

Everything runs in a database of its own, ``<name>_bench_<pid>``, created, migrated and
dropped here: development data is never touched. The last line reads
``ratio: 0.NN (graphql N req/s, raw N req/s)``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
# this file is named like the graphql-core package: keep its folder off the import path
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

DASHBOARD = """
query Dashboard {
  workspace {
    videos(first: 20) {
      nodes {
        id title status createdAt
        clips(first: 5) {
          nodes {
            id title startTime endTime viralityScore status
            posts(first: 10) { nodes { id status caption scheduledAt socialAccount { platform } } }
          }
        }
      }
    }
  }
}
"""
CLIPS_PER_VIDEO = 6
POSTS_PER_CLIP = 2
PLATFORMS = ("tiktok", "youtube", "instagram")
# One SELECT per level (workspace, videos, clips, posts, social accounts), one set_config.
PINNED_STATEMENTS = 6


# --- the raw endpoint ---------------------------------------------------------------------

_TENANT = "SELECT set_config('app.workspace_id', $1, true), set_config('app.user_id', $2, true)"
_VIDEOS = """
SELECT id, title, status, created_at FROM videos
WHERE workspace_id = $1 AND deleted_at IS NULL ORDER BY created_at DESC, id DESC LIMIT 20
"""
_CLIPS = """
SELECT id, video_id, title, start_time, end_time, virality_score, status FROM (
  SELECT c.*, row_number() OVER (PARTITION BY video_id ORDER BY created_at DESC, id DESC) AS n
  FROM clips c WHERE video_id = ANY($1) AND deleted_at IS NULL
) ranked WHERE n <= 5 ORDER BY video_id, n
"""
_POSTS = """
SELECT id, clip_id, social_account_id, status, caption, scheduled_at FROM (
  SELECT p.*, row_number() OVER (PARTITION BY clip_id ORDER BY created_at DESC, id DESC) AS n
  FROM posts p WHERE clip_id = ANY($1) AND deleted_at IS NULL
) ranked WHERE n <= 10 ORDER BY clip_id, n
"""
_ACCOUNTS = "SELECT id, platform FROM social_accounts WHERE id = ANY($1)"


def _gid(type_name: str, value: Any) -> str:
    return base64.b64encode(f"{type_name}:{value}".encode()).decode()


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _number(value: Decimal | None) -> float | None:
    return float(value) if value is not None else None


def enum_names() -> dict[tuple[str, str], dict[str, str]]:
    """(type, field) -> {column value: GraphQL enum name} for the dashboard's enum fields, so the raw
    endpoint writes what the schema does (``"SCHEDULED"`` once a field is an enum, else the string)."""
    from graphql import GraphQLEnumType, get_named_type

    from clipflow_api.graphql.schema import build_schema

    schema = build_schema()._schema
    out: dict[tuple[str, str], dict[str, str]] = {}
    for type_name, field in (("Video", "status"), ("Clip", "status"), ("Post", "status"), ("SocialAccount", "platform")):
        named = get_named_type(schema.type_map[type_name].fields[field].type)  # type: ignore[union-attr]
        if isinstance(named, GraphQLEnumType):
            out[(type_name, field)] = {str(getattr(v.value, "value", v.value)): name for name, v in named.values.items()}
    return out


def raw_app() -> Any:
    """Starlette + asyncpg: the dashboard's bytes with the API's session check and tenant."""
    import asyncpg
    from redis.asyncio import Redis
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    from clipflow_api.auth.client_ip import client_ip
    from clipflow_api.auth.principal import count_operations, resolve_principal
    from clipflow_api.config import get_settings
    from clipflow_api.db import create_app_engine, session_factory
    from clipflow_api.errors import DomainError

    settings = get_settings()
    state: dict[str, Any] = {}
    names = enum_names()

    def enum(type_name: str, field: str, value: str) -> str:
        return names.get((type_name, field), {}).get(value, value)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        engine = create_app_engine(settings)
        state["factory"] = session_factory(engine)
        state["redis"] = Redis.from_url(settings.redis_url)
        dsn = settings.app_database_url.replace("postgresql+asyncpg://", "postgresql://")
        state["pool"] = await asyncpg.create_pool(dsn, min_size=4, max_size=20)
        yield
        await state["pool"].close()
        await state["redis"].aclose()
        await engine.dispose()

    async def dashboard(request: Any) -> Any:
        await request.body()
        try:
            principal = await resolve_principal(
                headers=dict(request.headers), client_ip=client_ip(request), session_factory=state["factory"],
                redis=state["redis"], operations=0,
            )
            await count_operations(state["redis"], principal, 1)
        except DomainError as exc:
            return JSONResponse({"errors": [{"message": str(exc)}]}, status_code=401)
        async with state["pool"].acquire() as conn, conn.transaction():
            await conn.execute(_TENANT, str(principal.workspace_id or ""), str(principal.user_id or ""))
            videos = await conn.fetch(_VIDEOS, principal.workspace_id)
            clips = await conn.fetch(_CLIPS, [v["id"] for v in videos])
            posts = await conn.fetch(_POSTS, [c["id"] for c in clips])
            accounts = await conn.fetch(_ACCOUNTS, list({p["social_account_id"] for p in posts}))
        platform = {a["id"]: enum("SocialAccount", "platform", a["platform"]) for a in accounts}
        posts_of: dict[Any, list[dict[str, Any]]] = defaultdict(list)
        for p in posts:
            posts_of[p["clip_id"]].append({
                "id": _gid("Post", p["id"]), "status": enum("Post", "status", p["status"]), "caption": p["caption"],
                "scheduledAt": _iso(p["scheduled_at"]),
                "socialAccount": {"platform": platform[p["social_account_id"]]},
            })
        clips_of: dict[Any, list[dict[str, Any]]] = defaultdict(list)
        for c in clips:
            clips_of[c["video_id"]].append({
                "id": _gid("Clip", c["id"]), "title": c["title"], "startTime": _number(c["start_time"]),
                "endTime": _number(c["end_time"]), "viralityScore": c["virality_score"], "status": enum("Clip", "status", c["status"]),
                "posts": {"nodes": posts_of[c["id"]]},
            })
        data = {"workspace": {"videos": {"nodes": [
            {"id": _gid("Video", v["id"]), "title": v["title"], "status": enum("Video", "status", v["status"]),
             "createdAt": _iso(v["created_at"]), "clips": {"nodes": clips_of[v["id"]]}}
            for v in videos
        ]}}}
        return Response(json.dumps({"data": data}, separators=(",", ":")), media_type="application/json")

    return Starlette(routes=[Route("/graphql", dashboard, methods=["POST"])], lifespan=lifespan)


def serve(kind: str, port: int) -> None:
    """One uvicorn process serving ``kind`` (graphql or raw) on 127.0.0.1:port."""
    import uvicorn

    if kind == "graphql":
        from clipflow_api.app import create_app

        app = create_app()
    else:
        app = raw_app()
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="on")


# --- the bench database -------------------------------------------------------------------

def _bench_url() -> str:
    base = urlsplit(os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/clipflow"))
    return urlunsplit(base._replace(path=f"{base.path.rstrip('/')}_bench_{os.getpid()}"))


def _database_name() -> str:
    from clipflow_api.config import get_settings

    return urlsplit(get_settings().async_database_url).path.lstrip("/")


async def seed_workspace(engine: Any, videos: int) -> tuple[uuid.UUID, str]:
    """A workspace with ``videos`` videos, their clips, posts and accounts: (its id, a session token)."""
    from sqlalchemy.ext.asyncio import AsyncSession

    from clipflow_api.auth.tokens import hash_token, new_token
    from clipflow_api.config import get_settings
    from clipflow_api.models import Clip, Post, SocialAccount, TeamMember, User, UserSession, Video, Workspace

    now = datetime.now(UTC)
    n = uuid.uuid4().hex[:8]
    async with AsyncSession(engine, expire_on_commit=False) as db:
        user = User(id=uuid.uuid4(), email=f"bench{n}@example.com", name=f"Bench {n}")
        ws = Workspace(id=uuid.uuid4(), name=f"Bench {n}", slug=f"bench-{n}", owner_id=user.id)
        db.add_all([user, ws])
        await db.flush()
        token = new_token()
        db.add_all([
            TeamMember(workspace_id=ws.id, user_id=user.id, role="owner", accepted_at=now),
            # a fresh session: the check does not slide it (a write per request would serialize them)
            UserSession(user_id=user.id, token_hash=hash_token(token),
                        expires_at=now + timedelta(days=get_settings().session_ttl_days)),
        ])
        accounts = [
            SocialAccount(id=uuid.uuid4(), workspace_id=ws.id, platform=p, platform_user_id=uuid.uuid4().hex,
                          access_token="v1:enc")
            for p in PLATFORMS
        ]
        db.add_all(accounts)
        # no ORM relationships order the inserts: parents are flushed first, level by level
        levels: tuple[list[Any], list[Any], list[Any]] = ([], [], [])
        for v in range(videos):
            video = Video(id=uuid.uuid4(), workspace_id=ws.id, uploaded_by=user.id, source_type="upload",
                          file_url=f"videos/{n}/{v}.mp4", title=f"Talk {v}: what we learned shipping",
                          status="completed", created_at=now - timedelta(minutes=v))
            levels[0].append(video)
            for c in range(CLIPS_PER_VIDEO):
                clip = Clip(id=uuid.uuid4(), workspace_id=ws.id, video_id=video.id, start_time=Decimal(c * 30),
                            end_time=Decimal(c * 30 + 27), virality_score=40 + c * 7, title=f"Clip {c} of talk {v}",
                            created_at=now - timedelta(minutes=v, seconds=c))
                levels[1].append(clip)
                for p in range(POSTS_PER_CLIP):
                    account = accounts[(c + p) % len(accounts)]
                    levels[2].append(Post(
                        workspace_id=ws.id, social_account_id=account.id, clip_id=clip.id, media_urls=["clip.mp4"],
                        media_type="video", created_by=user.id, status="scheduled",
                        caption=f"The part of talk {v} everyone asks about #{c}{p}",
                        scheduled_at=now + timedelta(hours=v, minutes=c * 10 + p),
                        created_at=now - timedelta(minutes=v, seconds=c, milliseconds=p),
                    ))
        for rows in levels:
            db.add_all(rows)
            await db.flush()
        await db.commit()
    return ws.id, token


async def statement_counts(targets: dict[int, tuple[uuid.UUID, str]]) -> dict[int, int]:
    """The dashboard's SQL statements per workspace size, run through the real app in-process."""
    import httpx
    from sqlalchemy import event

    from clipflow_api.app import create_app
    from clipflow_api.auth.principal import resolve_principal
    from clipflow_api.db import create_app_engine

    engine = create_app_engine()
    counting = {"on": False, "n": 0}

    def count(*_: Any) -> None:
        if counting["on"]:
            counting["n"] += 1

    event.listen(engine.sync_engine, "before_cursor_execute", count)

    async def resolver(**kw: Any) -> Any:
        # the session check is per request, not per field: outside the count
        on, counting["on"] = counting["on"], False
        try:
            return await resolve_principal(**kw)
        finally:
            counting["on"] = on

    app = create_app(engine=engine, principal_resolver=resolver)
    out: dict[int, int] = {}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for videos, (ws_id, token) in targets.items():
                counting.update(on=True, n=0)
                response = await client.post("/graphql", json={"query": DASHBOARD}, headers=_headers(token, ws_id))
                counting["on"] = False
                body = response.json()
                if body.get("errors"):
                    raise SystemExit(f"dashboard failed at {videos} videos: {body['errors']}")
                out[videos] = counting["n"]
    await engine.dispose()
    return out


def _headers(token: str, ws_id: uuid.UUID) -> dict[str, str]:
    return {"authorization": f"Bearer {token}", "x-workspace-id": str(ws_id), "content-type": "application/json"}


# --- load ---------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wait_for(port: int, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server on port {port} exited with {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.1)
    raise SystemExit(f"server on port {port} did not start")


def run_wrk(url: str, headers: dict[str, str], body: bytes, seconds: int, connections: int) -> tuple[int, int]:
    """wrk with a POST script: (requests completed, non-2xx responses)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write('wrk.method = "POST"\n')
        script.write(f"wrk.body = {json.dumps(body.decode())}\n")
        for k, v in headers.items():
            script.write(f'wrk.headers["{k}"] = {json.dumps(v)}\n')
    try:
        out = subprocess.run(
            ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s", "-s", script.name, url],
            capture_output=True, text=True, check=True,
        ).stdout
    finally:
        os.unlink(script.name)
    done = int(re.search(r"(\d+) requests in", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return done, int(bad.group(1)) if bad else 0


async def _run_httpx(url: str, headers: dict[str, str], body: bytes, seconds: int, connections: int) -> tuple[int, int]:
    import httpx

    done = bad = 0
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        async def worker() -> None:
            nonlocal done, bad
            while time.monotonic() < deadline:
                response = await client.post(url, content=body, headers=headers)
                done += 1
                bad += response.status_code != 200

        await asyncio.gather(*(worker() for _ in range(connections)))
    return done, bad


def drive(url: str, headers: dict[str, str], body: bytes, seconds: int, connections: int) -> tuple[int, int, float]:
    """(requests, failures, wall seconds) of ``connections`` clients for ``seconds``."""
    start = time.monotonic()
    if shutil.which("wrk"):
        done, bad = run_wrk(url, headers, body, seconds, connections)
    else:
        done, bad = asyncio.run(_run_httpx(url, headers, body, seconds, connections))
    return done, bad, time.monotonic() - start


def _post(url: str, headers: dict[str, str], body: bytes) -> bytes:
    import httpx

    response = httpx.post(url, content=body, headers=headers, timeout=30)
    if response.status_code != 200:
        raise SystemExit(f"{url}: HTTP {response.status_code}: {response.text[:300]}")
    return response.content


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=10, help="length of each timed run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--profile", metavar="FILE", help="py-spy (pip install py-spy) the GraphQL server into FILE (collapsed stacks)")
    parser.add_argument("--serve", choices=("graphql", "raw"), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port)
        return

    os.environ["DATABASE_URL"] = _bench_url()
    os.environ.setdefault("ENVIRONMENT", "development")
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import NullPool

    from clipflow_api.config import get_settings
    from clipflow_api.dbadmin import migrate, run_on_server

    get_settings.cache_clear()
    name = _database_name()
    asyncio.run(run_on_server(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    asyncio.run(run_on_server(f'CREATE DATABASE "{name}"'))
    servers: list[subprocess.Popen] = []
    try:
        migrate("head")

        async def seed() -> dict[int, tuple[uuid.UUID, str]]:
            engine = create_async_engine(get_settings().async_database_url, poolclass=NullPool)
            try:
                return {n: await seed_workspace(engine, n) for n in (5, 20, 50)}
            finally:
                await engine.dispose()

        workspaces = asyncio.run(seed())
        counts = asyncio.run(statement_counts(workspaces))
        print("SQL statements of the dashboard query: " + ", ".join(f"{n} videos {c}" for n, c in counts.items()))
        if len(set(counts.values())) != 1 or counts[20] != PINNED_STATEMENTS:
            print(f"  (pinned: {PINNED_STATEMENTS} at every size)")

        ws_id, token = workspaces[20]
        headers = _headers(token, ws_id)
        body = json.dumps({"query": DASHBOARD}).encode()
        ports = {}
        # the servers' logs go to a file: each run's end drops in-flight requests (ClientDisconnect)
        server_log = tempfile.NamedTemporaryFile("w+", prefix="bench-graphql-", suffix=".log", delete=False)
        for kind in ("graphql", "raw"):
            ports[kind] = _free_port()
            servers.append(subprocess.Popen(
                [sys.executable, __file__, "--serve", kind, "--port", str(ports[kind])], env=os.environ.copy(),
                stdout=server_log, stderr=subprocess.STDOUT,
            ))
        print(f"server logs: {server_log.name}")
        for proc, port in zip(servers, ports.values()):
            _wait_for(port, proc)
        urls = {kind: f"http://127.0.0.1:{port}/graphql" for kind, port in ports.items()}
        answers = {kind: _post(url, headers, body) for kind, url in urls.items()}
        if json.loads(answers["graphql"]) != json.loads(answers["raw"]):
            raise SystemExit("the two endpoints answer differently:\n" + answers["graphql"][:600].decode()
                             + "\n" + answers["raw"][:600].decode())
        sizes = {kind: len(a) for kind, a in answers.items()}
        tool = "wrk" if shutil.which("wrk") else "httpx (asyncio)"
        print(f"dashboard: {sizes['graphql']} bytes (graphql), {sizes['raw']} bytes (raw); "
              f"{tool}, {args.connections} connections, {args.seconds} s per run")
        for url in urls.values():  # warm both: imports, pools, prepared statements
            drive(url, headers, body, 2, args.connections)
        if args.profile:
            servers.append(subprocess.Popen(
                [shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy")), "record", "--pid", str(servers[0].pid), "--format", "raw", "--rate", "250", "--nonblocking",
                 "-o", args.profile],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            ))
        totals = {kind: [0, 0.0] for kind in urls}
        pids = dict(zip(urls, (p.pid for p in servers)))
        for r in range(1, args.rounds + 1):
            line = []
            for kind, url in urls.items():
                cpu = _cpu_seconds(pids[kind])
                done, bad, wall = drive(url, headers, body, args.seconds, args.connections)
                cpu = _cpu_seconds(pids[kind]) - cpu
                if bad:
                    raise SystemExit(f"{kind}: {bad} of {done} responses were not 200")
                totals[kind][0] += done
                totals[kind][1] += wall
                line.append(f"{kind} {done / wall:.1f} req/s ({1000 * cpu / max(done, 1):.1f} ms CPU/req)")
            print(f"round {r}: " + ", ".join(line))
        rate = {kind: done / wall for kind, (done, wall) in totals.items()}
        print(f"ratio: {rate['graphql'] / rate['raw']:.2f} (graphql {rate['graphql']:.0f} req/s, raw {rate['raw']:.0f} req/s)")
    finally:
        for proc in reversed(servers):  # the profiler first: it writes when interrupted
            proc.send_signal(signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=15)
        asyncio.run(run_on_server(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
