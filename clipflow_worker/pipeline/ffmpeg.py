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
from pathlib import Path

from .types import MediaError

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


def run_ffmpeg(args: list[str], *, timeout: float, what: str = "ffmpeg") -> subprocess.CompletedProcess[bytes]:
    """Run ffmpeg with ``args`` (no binary, no global flags); raise FFmpegError on failure."""
    cmd = [ffmpeg_binary(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args]
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise FFmpegError(f"{what} took longer than {int(timeout)} seconds and was stopped.") from exc
    if proc.returncode != 0:
        stderr = proc.stderr.decode("utf-8", "replace")[-4000:]
        raise FFmpegError(f"{what} failed: {stderr.strip().splitlines()[-1] if stderr.strip() else 'unknown error'}", stderr)
    return proc


def safe_input(path: str | Path, *, seek: float | None = None, duration: float | None = None) -> list[str]:
    """Input arguments for a local file: whitelisted protocols, optional input seek."""
    args = ["-protocol_whitelist", PROTOCOL_WHITELIST]
    if seek is not None:
        args += ["-ss", f"{seek:.3f}"]
    if duration is not None:
        args += ["-t", f"{duration:.3f}"]
    return [*args, "-i", str(path)]
