"""Making a platform-conforming copy of a rendered clip: one ffmpeg run, a local file in, an MP4 out.

What to change comes from the API's verdict (``clipflow_api.publishing.conform.TranscodeSpec``):
streams that are fine are copied, the rest re-encoded to H.264 (4:2:0, a keyframe every 2 s,
so closed GOPs of 2 s) and AAC; the output always has its index at the front (fast start).
Pure media code: no database, no storage, no network (``-protocol_whitelist`` via
``safe_input``), and a timeout.
"""

from __future__ import annotations

from pathlib import Path

from clipflow_api.media.probe import UnreadableMedia, VariantFacts, read_facts
from clipflow_api.publishing.conform import AUDIO_BITRATE, TranscodeSpec

from .ffmpeg import run_ffmpeg, safe_input
from .types import MediaError, ProgressFn, no_progress

PRESET = "veryfast"
CRF = 21
KEYFRAME_EVERY_S = 2


def target_size(width: int, height: int, spec: TranscodeSpec) -> tuple[int, int] | None:
    """The output picture size (even, same shape) the spec asks for; None to keep the source's."""
    scale = 1.0
    if spec.max_width and width > spec.max_width:
        scale = min(scale, spec.max_width / width)
    if spec.max_side and max(width, height) > spec.max_side:
        scale = min(scale, spec.max_side / max(width, height))
    if spec.min_side and min(width, height) < spec.min_side:
        scale = max(scale, spec.min_side / min(width, height))
    if scale == 1.0 and width % 2 == 0 and height % 2 == 0:
        return None
    # round up when growing (so the short side reaches the minimum), down when shrinking
    pick = (lambda v: 2 * -(-v // 2)) if scale > 1.0 else (lambda v: 2 * (v // 2))
    return max(2, pick(int(round(width * scale)))), max(2, pick(int(round(height * scale))))


def conform_arguments(source: Path, dest: Path, spec: TranscodeSpec, facts: VariantFacts) -> list[str]:
    """ffmpeg arguments (no binary, no global flags) that write ``dest`` from ``source`` as ``spec`` says."""
    args = [*safe_input(source), "-map", "0:v:0", "-map", "0:a:0?", "-dn", "-sn", "-map_metadata", "-1"]
    if spec.reencode_video:
        steps = []
        if spec.fps:
            steps.append(f"fps={spec.fps:g}")
        size = target_size(facts.width, facts.height, spec)
        if size is not None:
            steps.append(f"scale={size[0]}:{size[1]}")
        steps += ["setsar=1", "format=yuv420p"]
        args += ["-vf", ",".join(steps), "-c:v", "libx264", "-preset", PRESET, "-crf", str(CRF),
                 "-pix_fmt", "yuv420p", "-force_key_frames", f"expr:gte(t,n_forced*{KEYFRAME_EVERY_S})"]
        if spec.max_video_bitrate:
            args += ["-maxrate", str(spec.max_video_bitrate), "-bufsize", str(2 * spec.max_video_bitrate)]
    else:
        args += ["-c:v", "copy"]
        if facts.video_codec == "hevc":
            args += ["-tag:v", "hvc1"]  # the HEVC tag Apple's and Meta's players expect in MP4
    if facts.audio_codec is not None:
        if spec.reencode_audio:
            args += ["-c:a", "aac", "-b:a", str(AUDIO_BITRATE)]
            if spec.audio_sample_rate:
                args += ["-ar", str(spec.audio_sample_rate)]
            if spec.audio_channels:
                args += ["-ac", str(spec.audio_channels)]
        else:
            args += ["-c:a", "copy"]
    return [*args, "-movflags", "+faststart", "-f", "mp4", str(dest)]


def conform_video(
    source: str | Path,
    dest: str | Path,
    spec: TranscodeSpec,
    *,
    timeout: float | None = None,
    progress: ProgressFn = no_progress,
) -> Path:
    """Write the conforming copy of ``source`` to ``dest`` (atomically: a failed run leaves nothing there)."""
    source, dest = Path(source), Path(dest)
    try:
        facts = read_facts(source)
    except UnreadableMedia as exc:
        raise MediaError(str(exc)) from exc
    partial = dest.with_name(dest.stem + ".part.mp4")
    # a CPU encodes a 1080x1920 clip at about real time with this preset; leave room for a busy one
    limit = timeout if timeout is not None else 300.0 + 6 * facts.duration
    try:
        run_ffmpeg(conform_arguments(source, partial, spec, facts), timeout=limit, what="Converting the video",
                   progress=progress, duration=facts.duration)
        partial.replace(dest)
    finally:
        partial.unlink(missing_ok=True)
    return dest
