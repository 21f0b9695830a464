"""The embedded servers start from the wheels' binaries, answer, and stop."""

from __future__ import annotations

import asyncio
import subprocess
import sys

from redis import Redis

from clipflow_api.devservices import embedded_postgres, embedded_redis, port_open


def test_embedded_redis_starts_answers_and_stops(tmp_path) -> None:
    with embedded_redis(tmp_path) as url:
        client = Redis.from_url(url)
        assert client.ping() is True
        client.set("k", "v")
        assert client.get("k") == b"v"
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        client.close()
    assert not port_open("127.0.0.1", port)


def test_embedded_postgres_starts_and_serves_sql(tmp_path) -> None:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    with embedded_postgres(tmp_path) as url:
        assert url.startswith("postgresql://postgres@/clipflow?host=")

        async def version() -> str:
            engine = create_async_engine(url.replace("postgresql://", "postgresql+asyncpg://").replace("/clipflow?", "/postgres?"))
            async with engine.connect() as conn:
                v = (await conn.execute(text("SHOW server_version_num"))).scalar()
            await engine.dispose()
            return v

        assert int(asyncio.run(version())) >= 160000


def test_services_run_passes_urls_to_the_command(monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@h:1/d")
    monkeypatch.setenv("REDIS_URL", "redis://h:2/0")
    out = subprocess.run(
        [sys.executable, "-m", "clipflow_api.cli", "services", "run", "--", sys.executable, "-c",
         "import os; print(os.environ['DATABASE_URL'], os.environ['REDIS_URL'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    assert out == "postgresql://u@h:1/d redis://h:2/0"
