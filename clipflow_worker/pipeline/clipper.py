"""The clip engine end to end, as pure steps over local files.

``analyze_video`` turns a source file into a transcript, scored clip candidates, key
moments and topics; ``render_clip`` turns one candidate into its three formats, a
thumbnail and SRT/VTT files. The arq job and ``clipflow process`` both call these two,
so the command line and the service produce the same clips.

Progress: each step reports into one 0-100 scale through ``StepProgress``; the weights
below reflect where the time goes on a CPU (rendering three formats dominates).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .audio import SAMPLE_RATE, extract_wav, loudness_envelope, read_wav
from .faces import track_speaker
from .probe import ProbeLimits, probe_media
from .render import render_clip_variants
from .select import SelectionConfig, key_moments, no_clip_reason, select_clips, video_topics
from .subtitles import build_cues, write_srt, write_vtt
from .transcribe import NoSpeechError, get_engine
from clipflow_api.models.enums import CaptionStyle

from .types import FORMATS, BrandKit, ClipCandidate, MediaError, MediaInfo, Transcript

# (step, start %, end %) of the whole job; render takes the rest, split across clips.
STEPS = {
    "probe": (0, 3),
    "audio": (3, 6),
    "transcribe": (6, 40),
    "analyze": (40, 45),
    "render": (45, 100),
}

# A step name, the overall percent (0-100), and a message a user can read.
StepProgress = Callable[[str, int, str], None]


def no_step_progress(_step: str, _percent: int, _message: str) -> None:
    return None


@dataclass(frozen=True)
class ClipOptions:
    style: str = CaptionStyle.HORMOZI
    max_clips: int = 5
    min_duration: float = 15.0
    max_duration: float = 60.0
    formats: tuple[str, ...] = ("9:16", "1:1", "16:9")
    asr_engine: str = "faster-whisper"
    asr_model: str | None = None
    asr_device: str = "auto"
    brand: BrandKit | None = None
    music: Path | None = None
    limits: ProbeLimits = field(default_factory=ProbeLimits)
    # Optional refinement of titles and scores (an LLM); returns the candidates to keep.
    refine: Callable[[list[ClipCandidate], Transcript], list[ClipCandidate]] | None = None


@dataclass
class Analysis:
    info: MediaInfo
    transcript: Transcript
    candidates: list[ClipCandidate]
    key_moments: list[dict[str, Any]]
    topics: list[str]
    no_clip_reason: str | None = None  # a sentence saying why there are no candidates (None when there are)


@dataclass
class RenderedClip:
    candidate: ClipCandidate
    files: dict[str, Path]  # format name -> mp4
    thumbnail: Path | None
    srt: Path
    vtt: Path
    words: list[dict[str, Any]]  # clip-relative words, for the captions row
    reframed: bool  # True: the speaker was tracked; False: blurred-background layout


def _scaled(step: str, progress: StepProgress) -> Callable[[float, str], None]:
    lo, hi = STEPS[step]

    def report(fraction: float, message: str) -> None:
        progress(step, round(lo + (hi - lo) * max(0.0, min(1.0, fraction))), message)

    return report


def analyze_video(
    source: Path,
    options: ClipOptions = ClipOptions(),
    *,
    transcript: Transcript | None = None,
    progress: StepProgress = no_step_progress,
) -> Analysis:
    """Probe, transcribe (unless ``transcript`` is given, e.g. on a re-run) and pick clips."""
    progress("probe", STEPS["probe"][0], "Checking the video")
    info = probe_media(source, options.limits)
    if not info.has_audio:
        raise NoSpeechError("This video has no sound, so there is nothing to caption or clip. Upload a video with speech.")
    with tempfile.TemporaryDirectory(prefix="clipflow-audio-") as tmp:
        progress("audio", STEPS["audio"][0], "Extracting the audio")
        wav = extract_wav(source, Path(tmp) / "audio.wav")
        samples = read_wav(wav)  # our own 16 kHz WAV: no second ffmpeg run
        _check_complete(info, len(samples) / SAMPLE_RATE)
        loudness = loudness_envelope(samples)
        if transcript is None:
            engine = get_engine(options.asr_engine, options.asr_model, options.asr_device)
            report = _scaled("transcribe", progress)
            report(0.0, "Transcribing speech")
            transcript = engine.transcribe(wav, report)
    progress("analyze", STEPS["analyze"][0], "Finding the best moments")
    config = SelectionConfig(
        min_duration=min(options.min_duration, max(1.0, info.duration)),
        max_duration=options.max_duration,
        max_clips=options.max_clips,
    )
    candidates = select_clips(transcript, loudness, config)
    if options.refine is not None and candidates:
        candidates = options.refine(candidates, transcript)
    moments = key_moments(transcript, loudness)
    topics = video_topics(transcript)
    progress("analyze", STEPS["analyze"][1], f"Found {len(candidates)} clip(s)")
    reason = None if candidates else no_clip_reason(transcript, config)
    return Analysis(info=info, transcript=transcript, candidates=candidates, key_moments=moments, topics=topics,
                    no_clip_reason=reason)


def _check_complete(info: MediaInfo, decoded_seconds: float) -> None:
    """A file cut off in transit still probes fine (its header says the full length)."""
    if info.duration > 2 and decoded_seconds < 0.9 * info.duration - 1:
        raise MediaError(
            f"The file seems to be cut off: only {decoded_seconds:.0f} of its {info.duration:.0f} seconds could be read. "
            "Please upload it again."
        )


def render_clip(
    source: Path,
    candidate: ClipCandidate,
    transcript: Transcript,
    out_dir: Path,
    options: ClipOptions = ClipOptions(),
    *,
    stem: str = "clip",
    progress: Callable[[float, str], None] = lambda _f, _m: None,
) -> RenderedClip:
    """Render one candidate: speaker tracking, three formats in one ffmpeg run, SRT and VTT."""
    out_dir.mkdir(parents=True, exist_ok=True)
    progress(0.0, "Finding the speaker")
    crop = track_speaker(source, candidate.start, candidate.end, aspect=9 / 16)
    clip_words = [w for w in transcript.words if w.end > candidate.start and w.start < candidate.end]
    progress(0.15, "Rendering 9:16, 1:1 and 16:9")
    files = render_clip_variants(
        source, candidate.start, candidate.end, out_dir, options.formats,
        words=clip_words, style=options.style, brand=options.brand, crop_path=crop, music=options.music,
        stem=stem, progress=lambda f, m: progress(0.15 + 0.8 * f, m),
    )  # fmt: skip
    thumbnail = files.pop("thumbnail", None)
    cues = build_cues(clip_words, clip_start=candidate.start, clip_end=candidate.end)
    srt = write_srt(cues, out_dir / f"{stem}.srt")
    vtt = write_vtt(cues, out_dir / f"{stem}.vtt")
    relative = [
        replace(w, start=round(max(0.0, w.start - candidate.start), 3), end=round(min(candidate.duration, w.end - candidate.start), 3)).to_dict()
        for w in clip_words
    ]
    progress(1.0, "Rendered")
    return RenderedClip(candidate, files, thumbnail, srt, vtt, relative, reframed=crop is not None)


def render_progress(progress: StepProgress, index: int, total: int) -> Callable[[float, str], None]:
    """Map one clip's 0-1 progress onto its share of the render step."""
    lo, hi = STEPS["render"]
    share = (hi - lo) / max(1, total)

    def report(fraction: float, message: str) -> None:
        progress("render", round(lo + share * (index + max(0.0, min(1.0, fraction)))), f"Clip {index + 1}/{total}: {message}")

    return report


def check_formats(formats: Sequence[str]) -> tuple[str, ...]:
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ValueError(f"Unknown formats {unknown}; choose from {', '.join(FORMATS)}.")
    return tuple(formats)


def extract_thumbnail(source: Path, dest: Path, at: float, *, width: int = 640, timeout: float = 60.0) -> Path:
    """One JPEG frame of the source at ``at`` seconds (the video's poster image)."""
    from .ffmpeg import run_ffmpeg, safe_input

    run_ffmpeg(
        [*safe_input(source, seek=max(0.0, at)), "-frames:v", "1", "-vf", f"scale={width}:-2", "-q:v", "3", str(dest)],
        timeout=timeout, what="Making the thumbnail",
    )
    return dest
