"""Probing: facts of real files, phone rotation, and limits checked before any decoding work."""

from __future__ import annotations

import pytest

from clipflow_worker.pipeline.ffmpeg import run_ffmpeg
from clipflow_worker.pipeline.probe import ProbeLimits, probe_media
from clipflow_worker.pipeline.types import MediaError


def _video(path, size: str, *, rotate: int | None = None, seconds: float = 1.0):
    run_ffmpeg(["-f", "lavfi", "-i", f"testsrc2=size={size}:rate=30:duration={seconds}",
                "-c:v", "libx264", "-preset", "ultrafast", str(path)], timeout=120)
    if rotate is None:
        return path
    rotated = path.with_name("rotated_" + path.name)
    run_ffmpeg(["-display_rotation", str(rotate), "-i", str(path), "-c", "copy", str(rotated)], timeout=60)
    return rotated


def test_a_4k_phone_video_shot_upright_probes_as_portrait(tmp_path) -> None:
    info = probe_media(_video(tmp_path / "phone.mp4", "3840x2160", rotate=90))
    assert (info.width, info.height, info.rotation) == (3840, 2160, 90)
    assert (info.display_width, info.display_height) == (2160, 3840)
    assert (info.fps, info.video_codec, info.has_audio) == (30.0, "h264", False)


def test_limits_refuse_before_decoding(tmp_path) -> None:
    path = _video(tmp_path / "hd.mp4", "1280x720", seconds=2.0)
    with pytest.raises(MediaError, match=r"^The video is 1280x720; the largest we accept is 640x640\.$"):
        probe_media(path, ProbeLimits(max_width=640, max_height=640))
    with pytest.raises(MediaError, match=r"^The file has 1 streams; at most 0 are accepted\.$"):
        probe_media(path, ProbeLimits(max_streams=0))
    with pytest.raises(MediaError, match=r"^The file is 0\.0 GB; the limit is 0 GB\.$"):
        probe_media(path, ProbeLimits(max_bytes=10))
