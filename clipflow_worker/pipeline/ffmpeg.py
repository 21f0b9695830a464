"""Locating and running ffmpeg safely.

The binary is a system ffmpeg when one is on PATH, else the one shipped in
``imageio-ffmpeg``. Every run reads only local files (``-protocol_whitelist``) and has
a timeout, so a hostile playlist or concat file cannot reach the network or hang a worker.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import threading
from pathlib import Path

from .types import MediaError, ProgressFn

PROTOCOL_WHITELIST = "file,pipe"


@functools.lru_cache(maxsize=1)
def ffmpeg_binary() -> str:
    explicit = os.environ.get("CLIPFLOW_FFMPEG")
    if explicit:
        return explicit
    system = shutil.which("ffmpeg")
    if system:
        return system
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


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
