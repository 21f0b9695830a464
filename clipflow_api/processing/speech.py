"""What the clip engine recorded about a video's speech, read from its transcript JSONB.

The worker stores, with the words: every language heard (``languages``), the parts it could
not transcribe (``untranscribed``: start, end, language, reason, advice) and, when it found
nothing worth a clip, why (``no_clip_reason``). Videos processed before these were recorded
fall back to ``language_detected``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class UntranscribedPart:
    start: float
    end: float
    language: str  # ISO 639-1, or "und" when it could not be named
    reason: str
    advice: str


def languages(transcript: dict[str, Any] | None, language_detected: str | None) -> list[str]:
    """Every language heard, most spoken first."""
    recorded = (transcript or {}).get("languages")
    if recorded:
        return [str(code) for code in recorded]
    return [code for code in (language_detected or "").split(",") if code]


def untranscribed_parts(transcript: dict[str, Any] | None) -> list[UntranscribedPart]:
    return [
        UntranscribedPart(float(p["start"]), float(p["end"]), str(p.get("language") or "und"), str(p.get("reason", "")),
                          str(p.get("advice", "")))
        for p in (transcript or {}).get("untranscribed") or ()
    ]


def no_clip_reason(transcript: dict[str, Any] | None) -> str | None:
    reason = (transcript or {}).get("no_clip_reason")
    return str(reason) if reason else None
