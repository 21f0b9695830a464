"""``clipflow demo``: the product's main job, end to end, on this machine.

Starts the API and a worker (as the ``clipflow serve`` / ``clipflow worker`` processes a
deployment runs), signs up a demo user over GraphQL, uploads ``samples/talk.mp4`` with the
resumable upload protocol, follows ``videoProgress`` over a graphql-transport-ws
websocket, and lists the clips the worker made. Run it under ``clipflow services run``
(``make demo`` does) so PostgreSQL and Redis exist.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import websockets
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .config import ROOT
from .devservices import free_port

SAMPLE = ROOT / "samples" / "talk.mp4"
OUT_DIR = ROOT / "demo-out"  # listed in .gitignore; outlives the demo's server, unlike the signed links
TOP_CLIPS = 3
console = Console()

SIGN_UP = """mutation($input: SignUpInput!) { signUp(input: $input) { token errors { field message code } } }"""
PROGRESS = """subscription($id: ID!) { videoProgress(videoId: $id) { status step progress message error } }"""
VIDEO = """query($id: ID!) { node(id: $id) { ... on Video {
  title status durationSeconds languageDetected topics
  clips(first: 20, sortBy: {field: VIRALITY}) { edges { node { title startTime endTime viralityScore hookScore engagementScore downloadUrls { format url } } } }
} } }"""


def _start(args: list[str], log: Path, **env: str) -> subprocess.Popen[bytes]:
    exe = str(Path(sys.executable).with_name("clipflow"))
    return subprocess.Popen([exe, *args], stdout=log.open("wb"), stderr=subprocess.STDOUT, env={**os.environ, **env})


async def _wait_ready(base: str, api: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    last = "no answer"
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            if api.poll() is not None:
                raise SystemExit("the API exited while starting; see .clipflow/demo-api.log")
            try:
                response = await client.get(f"{base}/readyz")
                if response.status_code == 200:
                    return
                last = response.text
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.3)
    raise SystemExit(f"the API did not become ready in time: {last}")


async def _graphql(client: httpx.AsyncClient, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    body = (await client.post("/graphql", json={"query": query, "variables": variables})).json()
    if body.get("errors"):
        raise SystemExit(f"GraphQL error: {body['errors']}")
    return body["data"]


async def _upload(client: httpx.AsyncClient, path: Path) -> tuple[str, str]:
    """tus: create, then send the file in 1 MB pieces; returns the (video, job) global ids."""
    data = path.read_bytes()
    meta = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in
                    {"filename": path.name, "title": "Why startups fail (demo)"}.items())
    r = await client.post("/uploads", headers={"Tus-Resumable": "1.0.0", "Upload-Length": str(len(data)), "Upload-Metadata": meta})
    r.raise_for_status()
    url, offset = r.headers["Location"], 0
    while offset < len(data):
        piece = data[offset:offset + (1 << 20)]
        r = await client.patch(url, content=piece, headers={"Tus-Resumable": "1.0.0", "Upload-Offset": str(offset),
                                                          "Content-Type": "application/offset+octet-stream"})
        r.raise_for_status()
        offset = int(r.headers["Upload-Offset"])
    return r.headers["ClipFlow-Video-Id"], r.headers["ClipFlow-Job-Id"]


async def _follow(ws_url: str, token: str, video_gid: str) -> str:
    """Stream videoProgress until the job ends; returns the final status."""
    status = "unknown"
    async with websockets.connect(ws_url, subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}))
        ack = json.loads(await ws.recv())
        if ack.get("type") != "connection_ack":
            raise SystemExit(f"websocket refused: {ack}")
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": PROGRESS, "variables": {"id": video_gid}}}))
        with Progress(TextColumn("[bold]{task.fields[step]:<12}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                      TextColumn("{task.fields[message]}"), TimeElapsedColumn(), console=console) as bars:
            task = bars.add_task("video", total=100, step="queued", message="")
            async for raw in ws:
                msg = json.loads(raw)
                if msg["type"] == "next":
                    event = msg["payload"]["data"]["videoProgress"]
                    status = event["status"]
                    bars.update(task, completed=event["progress"], step=event["step"] or event["status"],
                                message=(event["error"] or event["message"] or "")[:70])
                elif msg["type"] in ("complete", "error"):
                    if msg["type"] == "error":
                        raise SystemExit(f"subscription error: {msg['payload']}")
                    break
    return status


async def save_top_clips(client: httpx.AsyncClient, clips: list[dict[str, Any]], dest: Path,
                         top: int = TOP_CLIPS) -> list[Path]:
    """Download every format of the first ``top`` clips (best first) into ``dest``.

    Files are ``clip_<rank>_<format>.mp4`` (``clip_1_9x16.mp4``); earlier runs' clip files
    there are removed first, so the folder holds this run's clips only. Returns the files.
    """
    dest.mkdir(parents=True, exist_ok=True)
    for old in dest.glob("clip_*.mp4"):
        old.unlink()
    saved: list[Path] = []
    for rank, clip in enumerate(clips[:top], 1):
        for download in clip["downloadUrls"]:
            fmt = str(download["format"]).replace(":", "x")
            if not fmt.replace("x", "").isdigit():  # a format name never becomes a path
                continue
            path = dest / f"clip_{rank}_{fmt}.mp4"
            partial = path.with_suffix(".part")
            try:
                async with client.stream("GET", download["url"]) as response:
                    response.raise_for_status()
                    with partial.open("wb") as out:
                        async for chunk in response.aiter_bytes():
                            out.write(chunk)
            except BaseException:
                partial.unlink(missing_ok=True)  # a broken download leaves nothing behind
                raise
            partial.replace(path)
            saved.append(path)
    return saved


async def run_demo(port: int | None = None) -> int:
    port = port or free_port()
    base = f"http://127.0.0.1:{port}"
    logs = ROOT / ".clipflow"
    logs.mkdir(exist_ok=True)
    console.print(f"[bold]ClipFlow demo[/]: database {os.environ.get('DATABASE_URL', '(default)')}, redis {os.environ.get('REDIS_URL', '(default)')}")
    from .dbadmin import create_database_if_missing, migrate

    # in threads: both run their own event loops
    await asyncio.to_thread(create_database_if_missing)
    await asyncio.to_thread(migrate, "head")  # idempotent; `make demo` has run it already
    api = _start(["serve", "--port", str(port)], logs / "demo-api.log", PUBLIC_BASE_URL=base)
    worker = _start(["worker", "--queue", "media"], logs / "demo-worker.log")
    try:
        await _wait_ready(base, api)
        console.print(f"API ready at {base}/graphql (GraphiQL), worker running (logs in .clipflow/demo-*.log)")
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            email = f"demo-{uuid.uuid4().hex[:8]}@clipflow.dev"
            signed = (await _graphql(client, SIGN_UP, {"input": {"email": email, "password": "demo-password-123", "name": "Demo"}}))["signUp"]
            if signed["errors"]:
                raise SystemExit(f"sign-up refused: {signed['errors']}")
            client.headers["Authorization"] = f"Bearer {signed['token']}"
            console.print(f"Signed up {email}; uploading {SAMPLE.name} ({SAMPLE.stat().st_size / 1e6:.1f} MB) with tus")
            video_gid, job_id = await _upload(client, SAMPLE)
            console.print(f"Video {video_gid} created, job {job_id} queued; following videoProgress over graphql-transport-ws")
            started = time.monotonic()
            status = await _follow(f"ws://127.0.0.1:{port}/graphql", signed["token"], video_gid)
            elapsed = time.monotonic() - started
            video = (await _graphql(client, VIDEO, {"id": video_gid}))["node"]
            clips = [edge["node"] for edge in video["clips"]["edges"]]
            # while the server that signs the links still runs
            saved = await save_top_clips(client, clips, OUT_DIR) if status == "completed" and clips else []
        if status != "completed":
            console.print(f"[red]processing ended {status}[/]")
            return 1
        table = Table(title=f"{video['title']} ({video['durationSeconds']} s, {video['languageDetected']}) -> clips in {elapsed:.0f} s")
        for col in ("#", "span (s)", "virality", "hook", "engagement", "title"):
            table.add_column(col)
        for i, edge in enumerate(video["clips"]["edges"], 1):
            c = edge["node"]
            table.add_row(str(i), f"{float(c['startTime']):.1f}-{float(c['endTime']):.1f}", str(c["viralityScore"]),
                          str(c["hookScore"]), str(c["engagementScore"]), c["title"])
        console.print(table)
        best = video["clips"]["edges"][0]["node"] if video["clips"]["edges"] else None
        if best:
            console.print("Signed download links of the top clip (valid one hour):")
            for d in best["downloadUrls"]:
                console.print(f"  {d['format']:>5}  {d['url']}")
        console.print(f"Topics: {', '.join(video['topics'] or [])}")
        if saved:
            folder = os.path.relpath(OUT_DIR) if OUT_DIR.is_relative_to(Path.cwd()) else str(OUT_DIR)
            console.print(f"[bold]The top {min(TOP_CLIPS, len(clips))} clip(s) are copied to {folder}/[/] "
                          f"(kept after the demo stops; the links above die with its server):")
            for path in saved:
                console.print(f"  {path}")
        return 0
    finally:
        for proc in (worker, api):
            proc.terminate()
        for proc in (worker, api):
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
