"""Locating and running ffmpeg safely.

Which binary: ``FFMPEG_BINARY`` when set (refused if unfit), else ``ffmpeg`` on PATH when
it is fit, else the one shipped in ``imageio-ffmpeg``. "Fit" means new enough and built
with every filter, encoder and option the pipeline, tests, bench/ and scripts/ use: an old
distribution build (Debian 12's 5.1 lacks ``-display_rotation``) or one without libass
would otherwise fail jobs half-way. Each candidate is checked once per process.

Every run reads only local files (``-protocol_whitelist``) and has a timeout, so a hostile
playlist or concat file cannot reach the network or hang a worker.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .types import MediaError, ProgressFn

PROTOCOL_WHITELIST = "file,pipe"
ENV_OVERRIDE = "FFMPEG_BINARY"

# 6.0 brought the -display_rotation input option (rotated phone-video fixtures and tests).
MIN_VERSION = (6, 0)
# Everything passed to -vf/-af/-filter_complex or used as a lavfi source across the code.
REQUIRED_FILTERS = frozenset({
    "ass", "aformat", "amix", "anullsrc", "aresample", "asetpts", "asplit", "atrim", "boxblur",
    "color", "colorchannelmixer", "crop", "drawbox", "format", "overlay", "scale", "select",
    "setpts", "setsar", "sidechaincompress", "sine", "split", "testsrc2", "trim", "volume",
})  # fmt: skip
REQUIRED_ENCODERS = frozenset({"aac", "libx264", "mjpeg", "pcm_s16le", "png"})
REQUIRED_OPTIONS = ("-display_rotation",)
_CHECK_TIMEOUT = 20.0


class FFmpegSetupError(RuntimeError):
    """No usable ffmpeg (or FFMPEG_BINARY names an unfit one): an operator's problem, not the user's media."""


@dataclass(frozen=True)
class FFmpegCandidate:
    """One ffmpeg binary that was examined, and what it lacks (nothing when fit)."""

    path: str
    source: str  # "FFMPEG_BINARY", "PATH" or "bundled"
    version: str  # as the banner says it ("5.1.6-0+deb12u1"), "" when it did not run
    missing: tuple[str, ...]

    @property
    def fit(self) -> bool:
        return not self.missing


@dataclass(frozen=True)
class FFmpegChoice:
    """The binary in use, why, and the candidates passed over on the way."""

    path: str
    version: str
    reason: str
    rejected: tuple[FFmpegCandidate, ...]


def inspect_ffmpeg(path: str, source: str) -> FFmpegCandidate:
    """Run ``path`` a few times (-version, -filters, -encoders, -h long) and list what it lacks."""
    try:
        banner = _ask(path, "-version")
        filters = _names(_ask(path, "-filters"), column=1)
        encoders = _names(_ask(path, "-encoders"), column=1)
        options = _ask(path, "-h", "long")
    except (OSError, subprocess.SubprocessError) as exc:
        return FFmpegCandidate(path, source, "", (f"does not run ({exc})",))
    match = re.search(r"ffmpeg version (\S+)", banner)
    version = match.group(1) if match else ""
    missing: list[str] = []
    number = re.match(r"n?(\d+)\.(\d+)", version)
    # Builds from git ("N-113000-g...") carry no release number; their features decide.
    if number and (int(number.group(1)), int(number.group(2))) < MIN_VERSION:
        missing.append(f"version {'.'.join(map(str, MIN_VERSION))} or newer (it is {version})")
    missing += [f"filter {name}" for name in sorted(REQUIRED_FILTERS - filters)]
    missing += [f"encoder {name}" for name in sorted(REQUIRED_ENCODERS - encoders)]
    missing += [f"option {opt}" for opt in REQUIRED_OPTIONS if not re.search(rf"^{opt}\b", options, re.M)]
    return FFmpegCandidate(path, source, version or "unknown", tuple(missing))


def _ask(path: str, *args: str) -> str:
    proc = subprocess.run([path, "-hide_banner", *args], capture_output=True, timeout=_CHECK_TIMEOUT, check=True,
                          stdin=subprocess.DEVNULL)
    return proc.stdout.decode("utf-8", "replace")


def _names(listing: str, *, column: int) -> frozenset[str]:
    # "-filters" / "-encoders" rows: a flags column, the name, then a description.
    rows = (line.split() for line in listing.splitlines())
    return frozenset(row[column] for row in rows if len(row) > column)


def choose_ffmpeg(environ: Mapping[str, str] | None = None) -> FFmpegChoice:
    """Which ffmpeg to use and why, from ``environ`` (default: this process's environment)."""
    env = os.environ if environ is None else environ
    explicit = env.get(ENV_OVERRIDE)
    if explicit:
        resolved = shutil.which(explicit, path=env.get("PATH")) or explicit
        candidate = inspect_ffmpeg(resolved, ENV_OVERRIDE)
        if not candidate.fit:
            raise FFmpegSetupError(
                f"{ENV_OVERRIDE}={explicit} cannot be used: it lacks {', '.join(candidate.missing)}. "
                f"Unset {ENV_OVERRIDE} to use the bundled ffmpeg, or point it at ffmpeg "
                f"{'.'.join(map(str, MIN_VERSION))} or newer built with libass and libx264."
            )
        return FFmpegChoice(resolved, candidate.version, f"set by {ENV_OVERRIDE}", ())
    rejected: list[FFmpegCandidate] = []
    system = shutil.which("ffmpeg", path=env.get("PATH"))
    if system:
        candidate = inspect_ffmpeg(system, "PATH")
        if candidate.fit:
            return FFmpegChoice(system, candidate.version, "ffmpeg on PATH has every feature we use", ())
        rejected.append(candidate)
    import imageio_ffmpeg

    bundled = inspect_ffmpeg(imageio_ffmpeg.get_ffmpeg_exe(), "bundled")
    if not bundled.fit:
        rejected.append(bundled)
        raise FFmpegSetupError(
            "No usable ffmpeg: "
            + "; ".join(f"{c.path} ({c.source}) lacks {', '.join(c.missing)}" for c in rejected)
        )
    reason = "bundled with imageio-ffmpeg; " + ("ffmpeg on PATH is unfit" if rejected else "no ffmpeg on PATH")
    return FFmpegChoice(bundled.path, bundled.version, reason, tuple(rejected))


@functools.lru_cache(maxsize=1)
def ffmpeg_choice() -> FFmpegChoice:
    """The process-wide ffmpeg choice (checked on first use; ``cache_clear()`` re-checks)."""
    return choose_ffmpeg()


def ffmpeg_binary() -> str:
    """Path of the ffmpeg binary every run uses."""
    return ffmpeg_choice().path


class FFmpegError(MediaError):
    def __init__(self, message: str, stderr: str = "") -> None:
        super().__init__(message)
        self.stderr = stderr


def _command(args: list[str], *extra: str) -> list[str]:
    return [ffmpeg_binary(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *extra, *args]


def _failed(what: str, stderr_bytes: bytes) -> FFmpegError:
    stderr = stderr_bytes.decode("utf-8", "replace")[-4000:].strip()
    return FFmpegError(f"{what} failed: {stderr.splitlines()[-1] if stderr else 'unknown error'}", stderr)


def run_ffmpeg(
    args: list[str],
    *,
    timeout: float,
    what: str = "ffmpeg",
    progress: ProgressFn | None = None,
    duration: float | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run ffmpeg with ``args`` (no binary, no global flags); raise FFmpegError on failure.

    With ``progress`` (and the output ``duration``), ffmpeg's ``-progress`` reports are
    turned into fractions as it works; stdout then carries those reports, not output.
    """
    if progress is not None:
        return _run_reporting(args, timeout=timeout, what=what, progress=progress, duration=duration or 0.0)
    try:
        proc = subprocess.run(_command(args), capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise FFmpegError(f"{what} took longer than {int(timeout)} seconds and was stopped.") from exc
    if proc.returncode != 0:
        raise _failed(what, proc.stderr)
    return proc


def _run_reporting(
    args: list[str], *, timeout: float, what: str, progress: ProgressFn, duration: float
) -> subprocess.CompletedProcess[bytes]:
    proc = subprocess.Popen(_command(args, "-progress", "pipe:1", "-nostats"), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    timed_out = threading.Event()

    def stop() -> None:
        timed_out.set()
        proc.kill()

    timer = threading.Timer(timeout, stop)
    stderr_chunks: list[bytes] = []
    reader = threading.Thread(target=lambda: stderr_chunks.append(proc.stderr.read() if proc.stderr else b""), daemon=True)
    timer.start()
    reader.start()
    try:
        _report_progress(proc, duration, progress)
        proc.wait()
    finally:
        timer.cancel()
        if proc.poll() is None:  # the progress callback raised (e.g. the job was cancelled)
            proc.kill()
            proc.wait()
        reader.join(timeout=5)
    if timed_out.is_set():
        raise FFmpegError(f"{what} took longer than {int(timeout)} seconds and was stopped.")
    if proc.returncode != 0:
        raise _failed(what, b"".join(stderr_chunks))
    progress(1.0, "done")
    return subprocess.CompletedProcess(proc.args, proc.returncode, b"", b"".join(stderr_chunks))


def _report_progress(proc: subprocess.Popen[bytes], duration: float, progress: ProgressFn) -> None:
    assert proc.stdout is not None
    done = 0.0
    for raw in proc.stdout:
        key, _, value = raw.decode("ascii", "replace").strip().partition("=")
        # Several outputs report in turn; the slowest is behind, so only ever move forward.
        if key == "out_time_us" and value.isdigit() and duration > 0:
            fraction = min(0.99, int(value) / 1e6 / duration)
            if fraction > done:
                done = fraction
                progress(done, "rendering")


def safe_input(path: str | Path, *, seek: float | None = None, duration: float | None = None) -> list[str]:
    """Input arguments for a local file: whitelisted protocols, optional input seek."""
    args = ["-protocol_whitelist", PROTOCOL_WHITELIST]
    if seek is not None:
        args += ["-ss", f"{seek:.3f}"]
    if duration is not None:
        args += ["-t", f"{duration:.3f}"]
    return [*args, "-i", str(path)]
