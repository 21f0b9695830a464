"""The ``clipflow`` command: serve, worker, db, services, process, export-schema, demo."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import typer

from .models.enums import CaptionStyle

app = typer.Typer(help="ClipFlow: long videos in, captioned clips out.", no_args_is_help=True)
db_app = typer.Typer(help="Database: create, migrate, check.")
services_app = typer.Typer(help="PostgreSQL and Redis for local runs (embedded when none is running).")
app.add_typer(db_app, name="db")
app.add_typer(services_app, name="services")


def _refuse_unsafe_production() -> None:
    """Exit 2, naming each setting, when production would run with a public secret."""
    from .config import UnsafeProductionSettings, check_production_settings, get_settings

    try:
        check_production_settings(get_settings())
    except UnsafeProductionSettings as exc:
        typer.secho(str(exc), fg="red", err=True)
        raise typer.Exit(2) from None


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Create the database if it is missing, then migrate it to REVISION."""
    from .dbadmin import create_database_if_missing, migrate

    create_database_if_missing()
    migrate(revision)


@db_app.command("downgrade")
def db_downgrade(revision: str = typer.Argument("base")) -> None:
    """Migrate the database down to REVISION (``base`` removes every table)."""
    from .dbadmin import downgrade

    downgrade(revision)


@services_app.command(
    "run", context_settings={"allow_extra_args": True, "ignore_unknown_options": True}
)
def services_run(ctx: typer.Context) -> None:
    """Run a command with DATABASE_URL and REDIS_URL set, starting embedded servers if needed."""
    from .devservices import run_with_services

    raise typer.Exit(run_with_services(list(ctx.args)))


@app.command()
def worker(
    queue: list[str] = typer.Option(["media", "publish", "webhooks"], "--queue", "-q", help="Queues to serve."),
    burst: bool = typer.Option(False, help="Exit when the queues are empty."),
) -> None:
    """Run arq workers for the given queues (all by default) in this process."""
    import logging

    _refuse_unsafe_production()  # before the heavy imports: a refusal is immediate
    from clipflow_worker.settings import WORKERS, run_workers

    unknown = [q for q in queue if q not in WORKERS]
    if unknown:
        raise typer.BadParameter(f"unknown queue(s) {unknown}; choose from {sorted(WORKERS)}")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(run_workers(queue, burst=burst))


@app.command()
def process(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="A talk video."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for the clips and manifest.json."),
    style: CaptionStyle = typer.Option(CaptionStyle.HORMOZI, help="Caption style."),
    clips: int = typer.Option(5, "--clips", "-n", min=1, max=50, help="How many clips at most."),
    min_seconds: float = typer.Option(15.0, help="Shortest clip."),
    max_seconds: float = typer.Option(60.0, help="Longest clip."),
    engine: str = typer.Option("faster-whisper", help="ASR engine: faster-whisper or whisperx."),
    model: str = typer.Option(None, help="ASR model name or local path (default: the bundled tiny.en)."),
) -> None:
    """Run the clip engine on a local file, without the API (the same pipeline the workers run)."""
    from clipflow_worker.local import process_file
    from clipflow_worker.pipeline.clipper import ClipOptions
    from clipflow_worker.pipeline.types import MediaError

    from clipflow_worker.pipeline.llm import llm_refiner

    from .config import get_settings

    settings = get_settings()  # LLM_* settings, when all set, refine titles and scores
    options = ClipOptions(style=style.value, max_clips=clips, min_duration=min_seconds, max_duration=max_seconds,
                          asr_engine=engine, asr_model=model,
                          refine=llm_refiner(settings.llm_provider, settings.llm_base_url, settings.llm_api_key, settings.llm_model))
    try:
        manifest = process_file(file, out, options)
    except MediaError as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"{len(manifest['clips'])} clip(s) written to {out} (manifest.json lists them)")
    for c in manifest["clips"]:
        typer.echo(f"  {c['index']:>2}. [{c['start']:7.2f}-{c['end']:7.2f}] virality {c['scores']['virality']:>3}  {c['title']}")
    if manifest.get("no_clip_reason"):
        typer.echo(manifest["no_clip_reason"])
    typer.echo(f"languages heard: {', '.join(manifest.get('languages') or [manifest['language']])}")
    advice = []
    for part in manifest.get("untranscribed") or []:
        typer.echo(f"  not transcribed [{part['start']:7.2f}-{part['end']:7.2f}]: {part['reason']}")
        if part["advice"] not in advice:
            advice.append(part["advice"])
    for line in advice:
        typer.echo(f"  {line}")


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to bind."),
    port: int = typer.Option(8000, help="Port to listen on."),
    reload: bool = typer.Option(False, help="Reload on code changes (development)."),
) -> None:
    """Run the API (Starlette + uvicorn)."""
    import uvicorn

    _refuse_unsafe_production()
    uvicorn.run("clipflow_api.app:create_app", factory=True, host=host, port=port, reload=reload)


@app.command()
def demo(port: int = typer.Option(None, help="API port (default: a free one).")) -> None:
    """Process the bundled sample video through the API and a worker, with live progress."""
    import os

    # the demo is local: its API and worker (child processes) run with the development defaults
    os.environ.setdefault("ENVIRONMENT", "development")
    from .config import get_settings
    from .demo import run_demo

    get_settings.cache_clear()
    raise typer.Exit(asyncio.run(run_demo(port)))


@app.command()
def doctor() -> None:
    """Print which ffmpeg, speech model, face detector and services this machine uses, and why.

    Exits 1 when any of them is unusable. ``clipflow services run -- clipflow doctor`` checks
    the embedded servers that command would start.
    """
    checks = [_doctor_ffmpeg, _doctor_asr, _doctor_faces, _doctor_database, _doctor_redis]
    failed = []
    for check in checks:
        name, ok, lines = check()
        typer.echo(f"{name:<14}{'ok' if ok else 'FAILED':<8}{lines[0]}")
        for line in lines[1:]:
            typer.echo(f"{'':<22}{line}")
        if not ok:
            failed.append(name)
    if failed:
        typer.secho(f"not usable: {', '.join(failed)}", fg="red", err=True)
        raise typer.Exit(1)
    typer.echo("usable")


_DoctorResult = tuple[str, bool, list[str]]


def _doctor_ffmpeg() -> _DoctorResult:
    from clipflow_worker.pipeline.ffmpeg import FFmpegSetupError, ffmpeg_choice

    try:
        choice = ffmpeg_choice()
    except FFmpegSetupError as exc:
        return "ffmpeg", False, [str(exc)]
    lines = [f"{choice.path} (version {choice.version})", f"why: {choice.reason}"]
    lines += [f"rejected: {c.path} ({c.source}) lacks {', '.join(c.missing)}" for c in choice.rejected]
    return "ffmpeg", True, lines


def _doctor_asr() -> _DoctorResult:
    import importlib.util

    from clipflow_worker.pipeline.transcribe import TranscriptionSetupError, get_engine

    from .config import get_settings

    settings = get_settings()
    label = f"{settings.asr_engine}, model {settings.asr_model}"
    # Building the engine resolves the model on disk (workers never download) without loading it.
    try:
        engine = get_engine(settings.asr_engine, settings.asr_model, settings.asr_device)
    except (TranscriptionSetupError, ValueError) as exc:
        from clipflow_worker.pipeline.language import installed_models

        return "speech (ASR)", False, [label, str(exc)] + [f"installed model: ASR_MODEL={n} ({w})" for n, w in installed_models()]
    module = settings.asr_engine.replace("-", "_")
    if importlib.util.find_spec(module) is None:
        return "speech (ASR)", False, [label, f"the {module} package is not installed"]
    from clipflow_worker.pipeline.language import installed_models

    model_path = getattr(engine, "model_path", None)
    lines = [f"{label} at {model_path}", "installed locally: works offline"]
    lines += [f"installed model: ASR_MODEL={name} ({what})" for name, what in installed_models()]
    return "speech (ASR)", True, lines


def _doctor_faces() -> _DoctorResult:
    import os

    import cv2

    from clipflow_worker.pipeline.faces import HAAR_CASCADE, HaarFaceDetector
    from clipflow_worker.pipeline.types import MediaError

    path = os.path.join(cv2.data.haarcascades, HAAR_CASCADE)  # type: ignore[attr-defined]
    try:
        HaarFaceDetector(path)
    except MediaError as exc:
        return "face detector", False, [str(exc)]
    return "face detector", True, [f"OpenCV {cv2.__version__} Haar cascade {path}"]


def _service_kind(host: str | None) -> str:
    from .devservices import STATE_DIR

    if host and str(STATE_DIR) in host:
        return "embedded (under .clipflow/)"
    return "local server" if host in (None, "", "127.0.0.1", "localhost", "::1") else f"server on {host}"


def _without_password(url: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")))


_UNREACHABLE_HINT = "start it, or run `clipflow services run -- clipflow doctor` to use embedded servers"


def _doctor_database() -> _DoctorResult:
    from urllib.parse import parse_qs, urlsplit

    import asyncpg

    from .config import get_settings

    url = get_settings().database_url
    parts = urlsplit(url)
    host = parse_qs(parts.query).get("host", [parts.hostname])[0]

    async def server_version() -> str:
        conn = await asyncpg.connect(url, timeout=3)
        try:
            return str(await conn.fetchval("SHOW server_version"))
        finally:
            await conn.close()

    try:
        version = asyncio.run(server_version())
    except (OSError, asyncio.TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError, ValueError) as exc:
        return "database", False, [f"{_without_password(url)} not reachable ({exc})", _UNREACHABLE_HINT]
    return "database", True, [f"{_without_password(url)}: reachable, PostgreSQL {version}, {_service_kind(host)}"]


def _doctor_redis() -> _DoctorResult:
    from urllib.parse import urlsplit

    from redis import Redis
    from redis.exceptions import RedisError

    from .config import get_settings

    url = get_settings().redis_url
    client = Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
    try:
        version = client.info("server")["redis_version"]
    except RedisError as exc:
        return "redis", False, [f"{_without_password(url)} not reachable ({exc})", _UNREACHABLE_HINT]
    finally:
        client.close()
    return "redis", True, [f"{_without_password(url)}: reachable, Redis {version}, {_service_kind(urlsplit(url).hostname)}"]


@app.command("export-schema")
def export_schema(
    output: str = typer.Option(None, "--output", "-o", help="Write to this file instead of printing."),
) -> None:
    """Print the GraphQL schema (SDL); schema.graphql at the repository root is this output."""
    from .graphql.schema import export_sdl

    sdl = export_sdl()
    if output:
        with open(output, "w", encoding="utf-8") as fh:
            fh.write(sdl)
    else:
        sys.stdout.write(sdl)


def main() -> None:  # pragma: no cover
    app(prog_name="clipflow")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

