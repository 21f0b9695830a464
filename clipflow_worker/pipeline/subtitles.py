"""SRT and WebVTT captions for a clip, built from the transcript's word timings.

Cues are short (at most ``max_chars`` characters and ``max_words`` words) because shorts
are watched on phones with captions burned in over the picture; a cue never spans a long
pause, so text never sits on screen while nobody speaks, and a finished sentence closes
its cue so that one cue never holds the end of one thought and the start of the next.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .types import Word

MAX_CHARS = 32
MAX_WORDS = 7
MAX_GAP = 0.8  # seconds of silence between two words that always ends a cue
_SENTENCE_END = (".", "?", "!", "…")


@dataclass(frozen=True)
class Cue:
    """One caption: clip-relative times in seconds and the words shown."""

    start: float
    end: float
    words: tuple[Word, ...]

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)


def build_cues(
    words: Iterable[Word],
    *,
    clip_start: float = 0.0,
    clip_end: float | None = None,
    max_chars: int = MAX_CHARS,
    max_words: int = MAX_WORDS,
    max_gap: float = MAX_GAP,
) -> list[Cue]:
    """Group the words inside [clip_start, clip_end] into cues with clip-relative times.

    A word counts as inside when its midpoint is; its times are then clamped to the clip,
    so a padded clip edge never produces a negative time or a cue past the clip's end.
    """
    clip_words = _clip_relative(words, clip_start, clip_end)
    cues: list[Cue] = []
    current: list[Word] = []
    for word in clip_words:
        if current and _starts_new_cue(current, word, max_chars, max_words, max_gap):
            cues.append(Cue(current[0].start, current[-1].end, tuple(current)))
            current = []
        current.append(word)
    if current:
        cues.append(Cue(current[0].start, current[-1].end, tuple(current)))
    return cues


def _starts_new_cue(current: Sequence[Word], word: Word, max_chars: int, max_words: int, max_gap: float) -> bool:
    last = current[-1]
    if word.start - last.end >= max_gap:
        return True
    if last.text.endswith(_SENTENCE_END):
        return True
    if len(current) >= max_words:
        return True
    length = sum(len(w.text) for w in current) + len(current) - 1
    return length + 1 + len(word.text) > max_chars


def _clip_relative(words: Iterable[Word], clip_start: float, clip_end: float | None) -> list[Word]:
    end_limit = float("inf") if clip_end is None else clip_end
    out: list[Word] = []
    for w in words:
        middle = (w.start + w.end) / 2
        if middle < clip_start or middle > end_limit:
            continue
        start = max(w.start, clip_start) - clip_start
        end = min(w.end, end_limit) - clip_start
        out.append(Word(_caption_safe(w.text), round(start, 3), round(max(end, start), 3), w.confidence))
    return out


def _caption_safe(text: str) -> str:
    # "-->" inside a cue line ends the cue for SRT and WebVTT parsers alike.
    return text.replace("-->", "->")


def format_srt_time(seconds: float) -> str:
    """``HH:MM:SS,mmm`` as SRT requires (comma before the milliseconds)."""
    return _timestamp(seconds, ",")


def format_vtt_time(seconds: float) -> str:
    """``HH:MM:SS.mmm`` as WebVTT requires (full stop before the milliseconds)."""
    return _timestamp(seconds, ".")


def _timestamp(seconds: float, separator: str) -> str:
    # Work in whole milliseconds so 59.9996 s becomes 00:01:00.000, never 00:00:59.1000.
    total_ms = max(0, int(round(seconds * 1000)))
    hours, rest = divmod(total_ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, ms = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{ms:03d}"


def to_srt(cues: Sequence[Cue]) -> str:
    """SRT text: numbered cues separated by blank lines, ending in a newline."""
    blocks = [f"{i}\n{format_srt_time(c.start)} --> {format_srt_time(c.end)}\n{c.text}\n" for i, c in enumerate(cues, 1)]
    return "\n".join(blocks)


def to_vtt(cues: Sequence[Cue]) -> str:
    """WebVTT text: the ``WEBVTT`` header, then cues separated by blank lines."""
    blocks = [f"{format_vtt_time(c.start)} --> {format_vtt_time(c.end)}\n{_vtt_escape(c.text)}\n" for c in cues]
    return "\n".join(["WEBVTT\n", *blocks])


def _vtt_escape(text: str) -> str:
    # WebVTT cue text is markup: a bare "<" or "&" would start a tag or an entity.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def write_srt(cues: Sequence[Cue], path: str | Path) -> Path:
    """Write ``to_srt(cues)`` as UTF-8 (no BOM, which some players show as a character)."""
    path = Path(path)
    path.write_text(to_srt(cues), encoding="utf-8")
    return path


def write_vtt(cues: Sequence[Cue], path: str | Path) -> Path:
    """Write ``to_vtt(cues)`` as UTF-8, the only encoding WebVTT allows."""
    path = Path(path)
    path.write_text(to_vtt(cues), encoding="utf-8")
    return path
