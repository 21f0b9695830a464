"""Probing media with PyAV (no ffprobe binary needed) and refusing what we will not decode."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import av

# The pure part is shared with the API (publishing checks): one list of playlist-like formats.
from clipflow_api.media.probe import REFERENCING_FORMATS, UnreadableMedia, rotation
from clipflow_api.media.probe import container_duration as _duration
from clipflow_api.media.probe import is_cover_art as _is_cover_art

from .types import MediaError, MediaInfo

__all__ = ["REFERENCING_FORMATS", "ProbeLimits", "probe_media"]


@dataclass(frozen=True)
class ProbeLimits:
    max_duration: float = 4 * 3600.0
    max_width: int = 7680
    max_height: int = 7680
    max_streams: int = 16
    max_bytes: int = 20 * 1024**3


def probe_media(path: str | Path, limits: ProbeLimits = ProbeLimits()) -> MediaInfo:
    """Read container and stream facts; raise MediaError with a user-facing sentence."""
    path = Path(path)
    if not path.is_file():
        raise MediaError("The file could not be found.")
    size = path.stat().st_size
    if size == 0:
        raise MediaError("The file is empty (0 bytes).")
    if size > limits.max_bytes:
        raise MediaError(f"The file is {size / 1024**3:.1f} GB; the limit is {limits.max_bytes / 1024**3:.0f} GB.")
    try:
        # Only the file protocol: a playlist inside cannot open URLs or other files.
        container = av.open(os.fspath(path), options={"protocol_whitelist": "file"}, metadata_errors="ignore")
    except (av.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise MediaError("This file is not a video we can read (it may be corrupt or in an unsupported format).") from exc
    with container:
        fmt_names = set(container.format.name.split(","))
        if fmt_names & REFERENCING_FORMATS:
            raise MediaError("Playlists and file lists are not accepted; upload the video file itself.")
        streams = list(container.streams)
        video = next((s for s in container.streams.video if not _is_cover_art(s)), None)
        audio = container.streams.audio[0] if container.streams.audio else None
        duration = _duration(container, video, audio)
        info = MediaInfo(
            duration=duration,
            size_bytes=size,
            container=container.format.name,
            has_video=video is not None,
            has_audio=audio is not None,
            width=int(video.codec_context.width or 0) if video else 0,
            height=int(video.codec_context.height or 0) if video else 0,
            fps=float(video.average_rate or video.guessed_rate or 0) if video else 0.0,
            video_codec=video.codec_context.name if video else None,
            audio_codec=audio.codec_context.name if audio else None,
            rotation=_rotation(container, video) if video else 0,
            stream_count=len(streams),
        )
    _check(info, limits)
    return info


def _rotation(container: av.container.InputContainer, stream) -> int:
    """Degrees (0/90/180/270) of the display matrix (``clipflow_api.media.probe.rotation``), as a MediaError."""
    try:
        return rotation(container, stream)
    except UnreadableMedia as exc:
        raise MediaError(str(exc)) from exc


def _check(info: MediaInfo, limits: ProbeLimits) -> None:
    if not info.has_video:
        if info.has_audio:
            raise MediaError("This file has sound but no picture; upload a video.")
        raise MediaError("This file has no video stream.")
    if info.width <= 0 or info.height <= 0:
        raise MediaError("The video's picture size could not be read; the file may be corrupt.")
    if info.width > limits.max_width or info.height > limits.max_height:
        raise MediaError(f"The video is {info.width}x{info.height}; the largest we accept is {limits.max_width}x{limits.max_height}.")
    if info.stream_count > limits.max_streams:
        raise MediaError(f"The file has {info.stream_count} streams; at most {limits.max_streams} are accepted.")
    if info.duration <= 0.5:
        raise MediaError("The video is too short to make clips from (under half a second).")
    if info.duration > limits.max_duration:
        raise MediaError(
            f"The video is {info.duration / 60:.0f} minutes long; your plan allows up to {limits.max_duration / 60:.0f} minutes."
        )
