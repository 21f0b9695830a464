"""Reading a stored video's facts with PyAV, without ffprobe: the part the API and the worker share.

The worker's ``pipeline.probe`` refuses uploads with it; the API's publishing checks judge a
rendered variant against a platform's rules with ``read_facts``. Only the file protocol is
ever opened, and container formats that can reference other files or URLs are refused.
"""

from __future__ import annotations

import os
import struct
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import av

# Containers that can reference other files or URLs: never opened, whatever the extension.
REFERENCING_FORMATS = {"concat", "hls", "applehttp", "dash", "m3u8", "ffconcat", "sdp", "rtsp", "tee", "image2"}

# MP4/MOV top-level boxes: the index (moov) and the media (mdat). A file whose moov comes
# first can be played, and checked by a platform, while it downloads ("fast start").
_MP4_FAMILY = {"mov", "mp4"}
_MAX_BOXES = 4096  # a real file has a handful; a crafted one cannot make us walk forever


class UnreadableMedia(Exception):
    """The file is not a video we can read. ``str(err)`` is a sentence a user understands."""


def is_cover_art(stream: Any) -> bool:
    """An attached picture (album art) that containers list as a video stream."""
    return bool(stream.disposition & av.stream.Disposition.attached_pic) if hasattr(av.stream, "Disposition") else False


def container_duration(container: Any, video: Any, audio: Any) -> float:
    """Seconds, from the container when it says, else from the first stream that does; 0.0 when none."""
    if container.duration:
        return float(container.duration / av.time_base)
    for s in (video, audio):
        if s is not None and s.duration and s.time_base:
            return float(s.duration * s.time_base)
    return 0.0


@dataclass(frozen=True)
class VariantFacts:
    """What a platform's media rules look at. Sizes are as displayed (rotation applied)."""

    size_bytes: int
    container: str  # PyAV's format name, e.g. "mov,mp4,m4a,3gp,3g2,mj2"
    duration: float  # seconds
    width: int
    height: int
    fps: float
    video_codec: str | None  # "h264", "hevc", "vp9", ... (None: no picture)
    pixel_format: str | None  # "yuv420p", ...
    video_bitrate: int | None  # bits per second (estimated from the file size when the file does not say)
    audio_codec: str | None  # None: silent
    audio_sample_rate: int | None
    audio_channels: int | None
    faststart: bool | None  # moov before mdat; None for containers other than MP4/MOV

    @property
    def is_mp4(self) -> bool:
        return bool(set(self.container.split(",")) & _MP4_FAMILY)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def read_facts(path: str | Path) -> VariantFacts:
    """The facts of the local video file ``path``; raises UnreadableMedia with a user-facing sentence."""
    path = Path(path)
    if not path.is_file():
        raise UnreadableMedia("The video file could not be found.")
    size = path.stat().st_size
    if size == 0:
        raise UnreadableMedia("The video file is empty (0 bytes).")
    try:
        container = av.open(os.fspath(path), options={"protocol_whitelist": "file"}, metadata_errors="ignore")
    except (av.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise UnreadableMedia("The video file could not be read (it may be corrupt or in an unsupported format).") from exc
    with container:
        if set(container.format.name.split(",")) & REFERENCING_FORMATS:
            raise UnreadableMedia("Playlists and file lists are not videos; the file must be the video itself.")
        video = next((s for s in container.streams.video if not is_cover_art(s)), None)
        audio = container.streams.audio[0] if container.streams.audio else None
        if video is None:
            raise UnreadableMedia("The file has no picture; it is not a video.")
        duration = container_duration(container, video, audio)
        width, height = int(video.codec_context.width or 0), int(video.codec_context.height or 0)
        if rotation(container, video) in (90, 270):
            width, height = height, width
        audio_rate = int(audio.codec_context.sample_rate or 0) if audio is not None else 0
        audio_channels = int(audio.codec_context.channels or 0) if audio is not None else 0
        audio_bitrate = int(audio.bit_rate or audio.codec_context.bit_rate or 0) if audio is not None else 0
        video_bitrate = int(video.bit_rate or video.codec_context.bit_rate or 0)
        if not video_bitrate and duration > 0:
            video_bitrate = max(int(size * 8 / duration) - audio_bitrate, 0)
        pix_fmt = video.codec_context.format.name if video.codec_context.format is not None else None
        facts = VariantFacts(
            size_bytes=size,
            container=container.format.name,
            duration=duration,
            width=width,
            height=height,
            fps=float(video.average_rate or video.guessed_rate or 0),
            video_codec=video.codec_context.name,
            pixel_format=pix_fmt,
            video_bitrate=video_bitrate or None,
            audio_codec=audio.codec_context.name if audio is not None else None,
            audio_sample_rate=audio_rate or None,
            audio_channels=audio_channels or None,
            faststart=None,
        )
    if facts.is_mp4:
        facts = VariantFacts(**{**facts.to_dict(), "faststart": moov_before_mdat(path)})
    return facts


def rotation(container: Any, stream: Any) -> int:
    """Degrees of the display matrix (the tag older muxers wrote, else the first decoded frame's)."""
    tag = stream.metadata.get("rotate")
    if tag and tag.lstrip("-").isdigit():
        return int(tag) % 360
    try:
        frame = next(container.decode(stream), None)
    except av.FFmpegError as exc:
        raise UnreadableMedia("The video's pictures could not be decoded; the file may be corrupt.") from exc
    if frame is None:
        raise UnreadableMedia("The video has no pictures; the file may be corrupt.")
    return int(round(getattr(frame, "rotation", 0) or 0)) % 360


def moov_before_mdat(path: str | Path) -> bool:
    """Whether an MP4/MOV file's index (moov) comes before its media (mdat): a "fast start" file.

    Walks the top-level boxes by their headers only (8 bytes each, 16 with a 64-bit size),
    so a 4 GB file costs a few reads.
    """
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        end = f.tell()
        offset = 0
        for _ in range(_MAX_BOXES):
            if offset + 8 > end:
                return False
            f.seek(offset)
            size, kind = struct.unpack(">I4s", f.read(8))
            header = 8
            if size == 1:  # 64-bit size follows the type
                (size,) = struct.unpack(">Q", f.read(8))
                header = 16
            elif size == 0:  # the box runs to the end of the file
                size = end - offset
            if kind == b"moov":
                return True
            if kind == b"mdat":
                return False
            if size < header:
                return False  # a broken box: no reliable answer, so not fast start
            offset += size
    return False
