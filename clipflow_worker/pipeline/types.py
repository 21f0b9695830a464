"""Plain data passed between pipeline steps (JSON-serialisable through ``to_dict``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Callable

from clipflow_api.models.enums import WatermarkPosition

# A progress callback: fraction 0.0-1.0 of the current step, and a short message.
ProgressFn = Callable[[float, str], None]


def no_progress(_fraction: float, _message: str) -> None:
    return None


class MediaError(Exception):
    """Media the pipeline refuses. ``str(err)`` is a sentence a user understands."""


@dataclass(frozen=True)
class MediaInfo:
    duration: float  # seconds
    size_bytes: int
    container: str
    has_video: bool
    has_audio: bool
    width: int = 0  # as stored, before rotation
    height: int = 0
    fps: float = 0.0
    video_codec: str | None = None
    audio_codec: str | None = None
    rotation: int = 0  # degrees clockwise to display upright (0, 90, 180, 270)
    stream_count: int = 0

    @property
    def display_width(self) -> int:
        return self.height if self.rotation in (90, 270) else self.width

    @property
    def display_height(self) -> int:
        return self.width if self.rotation in (90, 270) else self.height

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Word:
    text: str
    start: float
    end: float
    confidence: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        return {"word": self.text, "start": self.start, "end": self.end, "confidence": self.confidence}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Word":
        return cls(text=d["word"], start=float(d["start"]), end=float(d["end"]), confidence=float(d.get("confidence", 1.0)))


@dataclass(frozen=True)
class Segment:
    """A stretch of speech as the ASR engine returned it (roughly a sentence)."""

    start: float
    end: float
    text: str
    words: tuple[Word, ...]
    language: str | None = None  # set when a multilingual model decoded it in that language

    def to_dict(self) -> dict[str, Any]:
        out = {"start": self.start, "end": self.end, "text": self.text, "words": [w.to_dict() for w in self.words]}
        if self.language:
            out["language"] = self.language
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Segment":
        return cls(start=float(d["start"]), end=float(d["end"]), text=d["text"],
                   words=tuple(Word.from_dict(w) for w in d["words"]), language=d.get("language"))


@dataclass(frozen=True)
class Transcript:
    language: str
    duration: float
    segments: tuple[Segment, ...]
    engine: str = ""
    model: str = ""
    # Every language heard, most spoken first (ISO 639-1; "und" when it could not be named).
    languages: tuple[str, ...] = ()
    # Speech left out because the model cannot transcribe it: dicts with start, end,
    # language, reason and advice (which ASR_MODEL would transcribe it). No clip covers them.
    untranscribed: tuple[dict[str, Any], ...] = ()

    @property
    def words(self) -> list[Word]:
        return [w for s in self.segments for w in s.words]

    @property
    def text(self) -> str:
        return " ".join(s.text.strip() for s in self.segments).strip()

    def to_dict(self) -> dict[str, Any]:
        return {
            "language": self.language,
            "duration": self.duration,
            "engine": self.engine,
            "model": self.model,
            "segments": [s.to_dict() for s in self.segments],
            "languages": list(self.languages or (self.language,)),
            "untranscribed": [dict(p) for p in self.untranscribed],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Transcript":
        return cls(
            language=d["language"],
            duration=float(d["duration"]),
            segments=tuple(Segment.from_dict(s) for s in d["segments"]),
            engine=d.get("engine", ""),
            model=d.get("model", ""),
            languages=tuple(d.get("languages") or ()),
            untranscribed=tuple(d.get("untranscribed") or ()),
        )


@dataclass
class ClipCandidate:
    """A span worth a short, snapped to word edges, with its scores (0-100)."""

    start: float
    end: float
    title: str
    text: str
    hook_score: int = 0
    engagement_score: int = 0
    virality_score: int = 0
    topics: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    emotions: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)  # why it scored as it did, for key_moments

    @property
    def duration(self) -> float:
        return self.end - self.start

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class OutputFormat:
    """One render target. Safe zone: margins (pixels) that captions must stay inside."""

    name: str  # "9:16", "1:1", "16:9"
    width: int
    height: int
    safe_top: int
    safe_bottom: int
    safe_left: int
    safe_right: int


# Safe zones follow the platforms' UI overlays: vertical video loses the bottom ~20% to
# captions/buttons and the top ~8% to the header; square and landscape lose much less.
FORMATS: dict[str, OutputFormat] = {
    "9:16": OutputFormat("9:16", 1080, 1920, safe_top=160, safe_bottom=420, safe_left=60, safe_right=140),
    "1:1": OutputFormat("1:1", 1080, 1080, safe_top=60, safe_bottom=120, safe_left=60, safe_right=60),
    "16:9": OutputFormat("16:9", 1920, 1080, safe_top=60, safe_bottom=90, safe_left=96, safe_right=96),
}


@dataclass(frozen=True)
class BrandKit:
    """The parts of a workspace brand kit that rendering uses."""

    primary_color: str | None = None  # "#RRGGBB"
    secondary_color: str | None = None
    accent_color: str | None = None
    text_color: str | None = None
    heading_font: str | None = None
    body_font: str | None = None
    watermark_path: str | None = None  # local image file
    watermark_position: str = WatermarkPosition.TOP_RIGHT
    watermark_opacity: float = 0.8
