"""Choosing clips from a transcript: candidate spans, scores, keywords, de-duplication.

Everything here is plain arithmetic on the transcript (and, when given, the loudness
envelope), so the same input always gives the same clips, with no model or download.

How a clip is found:
1. The words are cut into sentences at sentence punctuation or at a pause.
2. Every run of whole sentences lasting between ``min_duration`` and ``max_duration``
   is a candidate: a clip starts where a sentence starts and ends where one ends.
3. Each candidate gets a hook score (its first seconds), an engagement score (the whole
   span) and a virality score that combines them with how well the length suits a short.
4. All candidates of the whole video are ranked together, and taken best first while
   they neither overlap a taken clip by more than ``max_overlap``, nor say the same
   sentences again (more than ``max_repeat`` of the shorter clip's word trigrams also
   occur in the other: a speaker repeating a paragraph), nor repeat its point (the
   Jaccard similarity of their keywords).
5. No clip crosses speech the model could not transcribe (``Transcript.untranscribed``)
   or a change of language.
6. A video too short for ``min_duration`` still gets one clip when it holds a complete
   thought of at least ``short_min_duration``; when nothing is worth a clip,
   ``no_clip_reason`` says why in a sentence.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .audio import LoudnessEnvelope
from .types import ClipCandidate, Transcript, Word


@dataclass(frozen=True)
class SelectionConfig:
    min_duration: float = 15.0
    max_duration: float = 60.0
    max_clips: int = 10
    padding: float = 0.15  # seconds added before the first and after the last word, never into a neighbour
    pause_gap: float = 0.7  # a silence this long ends a sentence even where the ASR put no full stop
    max_overlap: float = 0.3  # of the shorter clip
    max_similarity: float = 0.5  # keyword Jaccard similarity at which two clips make the same point
    hook_window: float = 3.0
    ideal_duration: tuple[float, float] = (20.0, 45.0)
    keywords_per_clip: int = 6
    max_repeat: float = 1 / 3  # share of the shorter clip's word trigrams found in a taken clip: a repeat
    short_min_duration: float = 5.0  # the shortest complete thought kept when nothing reaches min_duration

    def __post_init__(self) -> None:
        if not 0 < self.min_duration <= self.max_duration:
            raise ValueError("min_duration must be positive and at most max_duration")
        if self.max_clips < 1:
            raise ValueError("max_clips must be at least 1")


# --------------------------------------------------------------------------------------
# Vocabulary. Small fixed lists keep scoring explainable and free of downloads.

STOPWORDS = frozenset(
    """
    a about above after again against all almost also although am an and another any anyone anything are
    around as at away back be because been before being below between both but by can could did do does
    doing done down during each either else even ever every few for from further get gets getting go goes
    going gone got had has have having he her here hers herself him himself his how however i if in into
    is it its itself just know let like made make makes many may me might mine more much must my myself
    need no nor not now of off often oh ok okay on once one only onto or other others our ours ourselves
    out over own per perhaps put quite rather really right said same say says see seem seems she should
    since so some something still such sure take than that the their theirs them themselves then there
    these they thing things think this those though through thus to too toward under until up upon us
    very via want was way we well were what whatever when where whether which while who whom whose why
    will with within without would yeah yes yet you your yours yourself yourselves um uh hmm mm
    i'm it's that's there's here's don't doesn't didn't can't won't isn't aren't wasn't weren't you're
    we're they're i've you've we've they've i'll you'll we'll they'll i'd you'd we'd they'd let's
    """.split()
)

NUMBER_WORDS = frozenset(
    """
    zero two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen
    seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred thousand
    million millions billion billions trillion percent half twice double triple dozen
    """.split()
)

# Words that make a line land: absolutes, stakes, surprise, contrarian claims.
STRONG_WORDS = frozenset(
    """
    never always nobody everyone everybody nothing everything secret secrets truth mistake mistakes
    biggest worst best most fail fails failed failure wrong shocked shocking surprising surprised
    stop imagine remember important problem huge incredible amazing crazy dangerous simple proven
    exactly only lie lies myth must forget killed kill lose losing lost win winning won beat beats
    """.split()
)

DIRECT_ADDRESS = frozenset("you your you're yours yourself you've you'll you'd".split())

# An opener like these means the clip starts in the middle of a thought.
WEAK_OPENERS = frozenset("and but or um uh because also then plus".split())

# Fillers removed from the front of a title ("So, here is..." -> "Here is...").
TITLE_FILLERS = frozenset("so and but well okay ok now um uh look listen".split())

EMOTIONS: dict[str, frozenset[str]] = {
    "surprise": frozenset("shocked shocking surprising surprised unbelievable unexpected suddenly wow".split()),
    "concern": frozenset("fail fails failed failure risk danger dangerous afraid worried lose losing lost mistake problem".split()),
    "excitement": frozenset("amazing incredible exciting excited love awesome huge fantastic".split()),
    "inspiration": frozenset("dream believe achieve remember change better clarity grow future".split()),
    "humor": frozenset("funny laugh laughed joke hilarious ridiculous".split()),
}

# Emphasis words and ordinals say how something is said, not what it is about.
_ORDINALS = frozenset("first second third fourth fifth last next".split())
NOT_TOPICS = STRONG_WORDS | NUMBER_WORDS | _ORDINALS

_TOKEN = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")
_SENTENCE_END = (".", "?", "!", "…")
_PARAGRAPH_PAUSE = 1.0  # seconds of silence that mark a new passage rather than a breath
_SPEECH_DB = -50.0  # envelope windows quieter than this are pauses, not speech


# --------------------------------------------------------------------------------------
# Sentences and per-word features


@dataclass(frozen=True)
class Sentence:
    first: int  # index of its first word in the transcript's word list
    last: int  # index of its last word (inclusive)
    start: float
    end: float
    text: str
    question: bool
    complete: bool  # ends with sentence punctuation (not only a pause)


def tokens(text: str) -> list[str]:
    """Lower-case word tokens, apostrophes kept inside words ("don't")."""
    return _TOKEN.findall(text.lower().replace("’", "'"))


def split_sentences(words: Sequence[Word], pause_gap: float = 0.7, max_length: float = 30.0) -> list[Sentence]:
    """Cut words into sentences at sentence punctuation or at a pause of ``pause_gap``.

    A sentence longer than ``max_length`` (an unpunctuated ramble) is split at its longest
    pauses, so that every stretch of speech can still end up inside some clip.
    """
    spans: list[tuple[int, int]] = []
    first = 0
    for i, word in enumerate(words):
        is_last = i == len(words) - 1
        ends = word.text.endswith(_SENTENCE_END) or (not is_last and words[i + 1].start - word.end >= pause_gap)
        if ends or is_last:
            spans.extend(_split_long(words, first, i, max_length))
            first = i + 1
    return [_sentence(words, a, b) for a, b in spans]


def _split_long(words: Sequence[Word], first: int, last: int, max_length: float) -> list[tuple[int, int]]:
    if words[last].end - words[first].start <= max_length or last == first:
        return [(first, last)]
    # Split before the word that follows the longest pause (ties: the earliest).
    gaps = [(words[k].start - words[k - 1].end, -k) for k in range(first + 1, last + 1)]
    _, neg_k = max(gaps)
    k = -neg_k
    return _split_long(words, first, k - 1, max_length) + _split_long(words, k, last, max_length)


def _sentence(words: Sequence[Word], first: int, last: int) -> Sentence:
    text = " ".join(w.text for w in words[first : last + 1])
    tail = words[last].text
    return Sentence(first, last, words[first].start, words[last].end, text, tail.endswith("?"), tail.endswith(_SENTENCE_END))


@dataclass
class _WordFeatures:
    """Per-word flags as prefix sums, so any span's counts cost O(1)."""

    number: np.ndarray
    strong: np.ndarray
    you: np.ndarray
    long_gap: np.ndarray  # silence >= 1 s before each word, as seconds (0 otherwise)

    @classmethod
    def build(cls, words: Sequence[Word]) -> _WordFeatures:
        number, strong, you, gaps = [], [], [], []
        previous_end: float | None = None
        for w in words:
            toks = tokens(w.text)
            number.append(any(t[0].isdigit() or t in NUMBER_WORDS for t in toks))
            strong.append(any(t in STRONG_WORDS for t in toks))
            you.append(any(t in DIRECT_ADDRESS for t in toks))
            gap = 0.0 if previous_end is None else w.start - previous_end
            gaps.append(gap if gap >= 1.0 else 0.0)
            previous_end = w.end
        return cls(*(np.concatenate([[0.0], np.cumsum(np.asarray(a, dtype=np.float64))]) for a in (number, strong, you, gaps)))

    @staticmethod
    def count(prefix: np.ndarray, first: int, last: int) -> float:
        return float(prefix[last + 1] - prefix[first])


# --------------------------------------------------------------------------------------
# Keywords and topics


@dataclass
class _Vocabulary:
    """Term statistics over the transcript's sentences (the 'documents' of TF-IDF)."""

    sentence_terms: list[list[str]]
    idf: dict[str, float]
    df: Counter[str]
    tf: Counter[str]

    @classmethod
    def build(cls, sentences: Sequence[Sentence]) -> _Vocabulary:
        raw = [[t for t in tokens(s.text) if _is_term(t)] for s in sentences]
        canonical = _plural_map({t for terms in raw for t in terms})
        sentence_terms = [[canonical.get(t, t) for t in terms] for terms in raw]
        df: Counter[str] = Counter(t for terms in sentence_terms for t in set(terms))
        tf: Counter[str] = Counter(t for terms in sentence_terms for t in terms)
        n = len(sentence_terms)
        idf = {t: math.log((1 + n) / (1 + d)) + 1.0 for t, d in df.items()}
        return cls(sentence_terms, idf, df, tf)

    def keywords(self, first_sentence: int, last_sentence: int, limit: int) -> list[str]:
        counts: Counter[str] = Counter()
        for terms in self.sentence_terms[first_sentence : last_sentence + 1]:
            counts.update(terms)
        ranked = sorted((t for t in counts if t not in _ORDINALS), key=lambda t: (-counts[t] * self.idf[t], t))
        return ranked[:limit]


def _is_term(token: str) -> bool:
    # Digits mark a number (scored elsewhere) but are never what a clip is about.
    return len(token) >= 3 and token not in STOPWORDS and not token[0].isdigit()


def _plural_map(vocabulary: set[str]) -> dict[str, str]:
    # "decisions" and "decision" are one term when both occur; no stemmer needed for that.
    out: dict[str, str] = {}
    for t in vocabulary:
        if len(t) > 3 and t.endswith("s") and not t.endswith("ss") and t[:-1] in vocabulary:
            out[t] = t[:-1]
    return out


def video_topics(transcript: Transcript, limit: int = 8, *, pause_gap: float = 0.7) -> list[str]:
    """The video's recurring subjects: terms and two-word phrases found in several sentences.

    Spread across sentences (document frequency) is what marks a topic; a word repeated
    within one sentence is emphasis, not a subject.
    """
    sentences = split_sentences(transcript.words, pause_gap)
    vocab = _Vocabulary.build(sentences)
    bigram_df: Counter[str] = Counter()
    for s in sentences:
        toks = tokens(s.text)
        pairs = {f"{a} {b}" for a, b in zip(toks, toks[1:]) if _is_topic_word(a) and _is_topic_word(b)}
        bigram_df.update(pairs)
    scored: list[tuple[float, int, str]] = []
    for term, df in vocab.df.items():
        if df >= 2 and term not in NOT_TOPICS:
            scored.append((float(df), vocab.tf[term], term))
    for phrase, df in bigram_df.items():
        if df >= 2:
            scored.append((df * 1.5, df, phrase))  # a repeated phrase says more than either word alone
    scored.sort(key=lambda x: (-x[0], -x[1], x[2]))
    return [term for _, _, term in scored[:limit]]


def _is_topic_word(token: str) -> bool:
    return _is_term(token) and token not in NOT_TOPICS


def _emotions(text_tokens: Sequence[str]) -> list[str]:
    counts = {name: sum(1 for t in text_tokens if t in lexicon) for name, lexicon in EMOTIONS.items()}
    present = [name for name, c in counts.items() if c > 0]
    return sorted(present, key=lambda n: (-counts[n], n))[:3]


# --------------------------------------------------------------------------------------
# Loudness


@dataclass(frozen=True)
class _LoudnessStats:
    envelope: LoudnessEnvelope
    speech_median: float
    speech_std: float

    @classmethod
    def build(cls, envelope: LoudnessEnvelope | None) -> _LoudnessStats | None:
        if envelope is None:
            return None
        speech = envelope.db[envelope.db > _SPEECH_DB]
        if speech.size < 10:
            return None
        return cls(envelope, float(np.median(speech)), float(np.std(speech)))

    def speech_windows(self, start: float, end: float) -> np.ndarray:
        values = self.envelope.span(start, end)
        return values[values > _SPEECH_DB]


# --------------------------------------------------------------------------------------
# Scores


@dataclass
class _Score:
    value: float
    reasons: list[str] = field(default_factory=list)


def _clamp(value: float, low: float = 0.0, high: float = 100.0) -> float:
    return max(low, min(high, value))


def _hook(
    sentences: Sequence[Sentence],
    i: int,
    words: Sequence[Word],
    feats: _WordFeatures,
    loud: _LoudnessStats | None,
    config: SelectionConfig,
) -> _Score:
    """How well the first seconds grab attention: questions, numbers, strong words, 'you', volume."""
    sentence = sentences[i]
    window_end = sentence.start + config.hook_window
    last = sentence.first
    while last + 1 < len(words) and words[last + 1].start < window_end:
        last += 1
    score = _Score(20.0)
    if sentence.question and sentence.end - sentence.start <= 2 * config.hook_window:
        score.value += 30
        score.reasons.append("opens with a question")
    if feats.count(feats.number, sentence.first, last):
        score.value += 15
        score.reasons.append("a number in the first seconds")
    strong = feats.count(feats.strong, sentence.first, last)
    if strong:
        score.value += min(20.0, 10.0 * strong)
        score.reasons.append("strong words up front")
    if feats.count(feats.you, sentence.first, last):
        score.value += 15
        score.reasons.append("speaks to the viewer")
    first_tokens = tokens(words[sentence.first].text)
    if first_tokens and first_tokens[0] in WEAK_OPENERS:
        score.value -= 15
        score.reasons.append("starts mid-thought")
    elif _opening_is_a_tail(sentences, i, config):
        score.value -= 15
        score.reasons.append("opens with the end of the previous passage")
    if loud is not None:
        opening = loud.speech_windows(sentence.start, window_end)
        if opening.size:
            delta = float(np.mean(opening)) - loud.speech_median
            score.value += _clamp(delta * 3.0, -10.0, 10.0)
            if delta >= 2.0:
                score.reasons.append("louder opening")
    score.value = _clamp(score.value)
    return score


def _opening_is_a_tail(sentences: Sequence[Sentence], i: int, config: SelectionConfig) -> bool:
    # A short statement followed by a paragraph pause closes the previous passage, so its
    # punch does not lead into what the clip is about. A question before a pause is
    # different: speakers pause after a question on purpose.
    s = sentences[i]
    if s.question or i + 1 >= len(sentences):
        return False
    return s.end - s.start <= config.hook_window and sentences[i + 1].start - s.end >= _PARAGRAPH_PAUSE


def _pace_points(words_per_minute: float) -> float:
    # Talks that work as shorts sit around 140-200 wpm; slower drags, faster blurs.
    if words_per_minute < 90:
        return 0.0
    if words_per_minute < 140:
        return 30.0 * (words_per_minute - 90) / 50
    if words_per_minute <= 200:
        return 30.0
    if words_per_minute <= 260:
        return 30.0 - 20.0 * (words_per_minute - 200) / 60
    return 10.0


def _engagement(
    sentences: Sequence[Sentence],
    i: int,
    j: int,
    feats: _WordFeatures,
    loud: _LoudnessStats | None,
) -> _Score:
    """How well the whole span holds attention: pace, dead air, questions, emphasis, variety, completeness."""
    first, last = sentences[i].first, sentences[j].last
    start, end = sentences[i].start, sentences[j].end
    duration = max(end - start, 1e-6)
    n_words = last - first + 1
    score = _Score(10.0)
    wpm = n_words / duration * 60.0
    score.value += _pace_points(wpm)
    if 140 <= wpm <= 200:
        score.reasons.append(f"lively pace ({wpm:.0f} words/min)")
    dead_air = feats.count(feats.long_gap, first + 1, last) if last > first else 0.0
    score.value -= min(25.0, 100.0 * dead_air / duration)
    questions = sum(1 for s in sentences[i : j + 1] if s.question)
    if questions:
        score.value += 8.0 * min(2, questions)
        score.reasons.append("asks the audience questions" if questions > 1 else "asks a question")
    emphasis = sum(feats.count(a, first, last) for a in (feats.number, feats.strong, feats.you))
    score.value += min(20.0, 100.0 * emphasis / n_words)
    dull_tail = _dull_tail(sentences, i, j, feats)
    if dull_tail:
        # A short that trails off into small talk loses viewers before the end.
        score.value -= 8.0 * dull_tail
        score.reasons.append("ends on flat sentences")
    if loud is not None:
        voiced = loud.speech_windows(start, end)
        if voiced.size >= 10 and loud.speech_std > 0:
            ratio = float(np.std(voiced)) / loud.speech_std
            score.value += 15.0 * _clamp((ratio - 0.8) / 0.5, 0.0, 1.0)
            if ratio >= 1.1:
                score.reasons.append("expressive delivery")
    if sentences[j].complete:
        score.value += 10
    # Entering and leaving at pauses makes the cut feel natural; at a paragraph pause,
    # the clip holds one whole thought.
    pause_before = math.inf if i == 0 else sentences[i].start - sentences[i - 1].end
    pause_after = math.inf if j == len(sentences) - 1 else sentences[j + 1].start - sentences[j].end
    score.value += 10 if pause_before >= _PARAGRAPH_PAUSE else 5 if pause_before >= 0.3 else 0
    score.value += 5 if pause_after >= _PARAGRAPH_PAUSE else 0
    score.value = _clamp(score.value)
    return score


def _dull_tail(sentences: Sequence[Sentence], i: int, j: int, feats: _WordFeatures) -> int:
    """How many sentences at the end of the span have no question, number, strong word or 'you'."""
    count = 0
    for s in reversed(sentences[i + 1 : j + 1]):  # the opening sentence is the hook's business
        if s.question or any(feats.count(a, s.first, s.last) for a in (feats.number, feats.strong, feats.you)):
            break
        count += 1
    return count


def _fit(duration: float, config: SelectionConfig) -> float:
    low, high = config.ideal_duration
    if low <= duration <= high:
        return 100.0
    if duration < low:
        return 60.0 + 40.0 * _clamp((duration - config.min_duration) / max(low - config.min_duration, 1e-6), 0, 1)
    return 60.0 + 40.0 * _clamp((config.max_duration - duration) / max(config.max_duration - high, 1e-6), 0, 1)


def _virality(hook: float, engagement: float, fit: float) -> float:
    # The opening decides whether a short is watched at all, so it weighs most.
    return _clamp(0.45 * hook + 0.40 * engagement + 0.15 * fit)


# --------------------------------------------------------------------------------------
# Selection


@dataclass
class _Candidate:
    i: int  # first sentence
    j: int  # last sentence (inclusive)
    start: float
    end: float
    hook: _Score
    engagement: _Score
    virality: float
    keywords: list[str] = field(default_factory=list)


def select_clips(
    transcript: Transcript,
    loudness: LoudnessEnvelope | None = None,
    config: SelectionConfig = SelectionConfig(),
) -> list[ClipCandidate]:
    """The best clips of the whole video, best first, at most ``config.max_clips``.

    Returns an empty list when no run of whole sentences lasts ``min_duration``.
    """
    words = transcript.words
    if not words:
        return []
    sentences = split_sentences(words, config.pause_gap, max_length=config.max_duration / 2)
    feats = _WordFeatures.build(words)
    loud = _LoudnessStats.build(loudness)
    vocab = _Vocabulary.build(sentences)
    barriers = _barriers(transcript)
    candidates = _candidates(sentences, words, feats, loud, config, barriers)
    if not candidates and _short_video(transcript, config):
        # A short video (or one short thought): one clip of a complete thought, if there is one.
        short = replace(config, min_duration=config.short_min_duration, max_clips=1)
        candidates = [c for c in _candidates(sentences, words, feats, loud, short, barriers) if _whole_thought(sentences, c)]
        config = short
    chosen = _deduplicate(candidates, vocab, config, sentences)
    topics = video_topics(transcript, pause_gap=config.pause_gap)
    duration = max(transcript.duration, words[-1].end)
    return [_to_clip(c, sentences, words, feats, topics, duration, config) for c in chosen]


def _barriers(transcript: Transcript) -> list[tuple[float, float]]:
    """Spans no clip may touch: untranscribed speech, and each change of language (a point)."""
    out = [(float(p["start"]), float(p["end"])) for p in transcript.untranscribed]
    segs = transcript.segments
    for a, b in zip(segs, segs[1:]):
        if a.language and b.language and a.language != b.language:
            mid = (a.end + b.start) / 2
            out.append((mid, mid))
    return sorted(out)


def _crosses(start: float, end: float, barriers: Sequence[tuple[float, float]]) -> bool:
    return any(a < end and b > start for a, b in barriers)


def _short_video(transcript: Transcript, config: SelectionConfig) -> bool:
    """Too short to hold a clip of ``min_duration`` at all (the caller caps it at the video's length)."""
    return config.short_min_duration < config.min_duration and transcript.duration <= config.min_duration + 1.0


def _whole_thought(sentences: Sequence[Sentence], c: _Candidate) -> bool:
    """Ends on a finished sentence and does not open mid-thought ("and", "but", ...)."""
    opening = tokens(sentences[c.i].text)
    return sentences[c.j].complete and not (opening and opening[0] in WEAK_OPENERS)


def _candidates(
    sentences: Sequence[Sentence],
    words: Sequence[Word],
    feats: _WordFeatures,
    loud: _LoudnessStats | None,
    config: SelectionConfig,
    barriers: Sequence[tuple[float, float]] = (),
) -> list[_Candidate]:
    out: list[_Candidate] = []
    for i, opening in enumerate(sentences):
        hook = _hook(sentences, i, words, feats, loud, config)
        for j in range(i, len(sentences)):
            duration = sentences[j].end - opening.start
            if duration > config.max_duration or _crosses(opening.start, sentences[j].end, barriers):
                break
            if duration < config.min_duration:
                continue
            engagement = _engagement(sentences, i, j, feats, loud)
            virality = _virality(hook.value, engagement.value, _fit(duration, config))
            out.append(_Candidate(i, j, opening.start, sentences[j].end, hook, engagement, virality))
    # Global ranking: one order for the whole video; ties go to the earlier, shorter span.
    # Rounding first: prefix sums give equal spans scores that differ in the last bits,
    # which would otherwise decide ties arbitrarily.
    out.sort(key=lambda c: (-round(c.virality, 6), -round(c.hook.value, 6), c.start, c.end))
    return out


def _deduplicate(
    candidates: Sequence[_Candidate], vocab: _Vocabulary, config: SelectionConfig, sentences: Sequence[Sentence] = ()
) -> list[_Candidate]:
    chosen: list[_Candidate] = []
    grams: dict[int, set[tuple[str, ...]]] = {}
    for c in candidates:
        if len(chosen) == config.max_clips:
            break
        if any(_overlap(c, k) > config.max_overlap for k in chosen):
            continue
        if sentences:
            grams[id(c)] = _trigrams(sentences, c)
            if any(_repeat(grams[id(c)], grams[id(k)]) > config.max_repeat for k in chosen):
                continue
        c.keywords = vocab.keywords(c.i, c.j, config.keywords_per_clip)
        if any(_jaccard(c.keywords, k.keywords) >= config.max_similarity for k in chosen):
            continue
        chosen.append(c)
    return chosen


def _trigrams(sentences: Sequence[Sentence], c: _Candidate) -> set[tuple[str, ...]]:
    toks = tokens(" ".join(s.text for s in sentences[c.i : c.j + 1]))
    return {tuple(toks[k : k + 3]) for k in range(len(toks) - 2)} or {tuple(toks)}


def _repeat(a: set[tuple[str, ...]], b: set[tuple[str, ...]]) -> float:
    """How much of the shorter clip's wording the other clip says too (0-1)."""
    return len(a & b) / max(1, min(len(a), len(b)))


def no_clip_reason(transcript: Transcript, config: SelectionConfig = SelectionConfig()) -> str:
    """Why ``select_clips`` found nothing, in a sentence for the user."""
    words = transcript.words
    skipped = transcript.untranscribed
    if skipped and not words:
        part = skipped[0]
        return f"No clips: none of the speech could be transcribed. {part['reason']} {part['advice']}"
    if not words:
        return "No clips: we could not find any speech in this video. Clips are cut from what people say."
    speech = words[-1].end - words[0].start
    if speech < config.short_min_duration:
        return (
            f"No clips: the video holds only {speech:.0f} seconds of speech, and a clip needs a complete thought "
            f"of at least {config.short_min_duration:.0f} seconds."
        )
    sentences = split_sentences(words, config.pause_gap, max_length=config.max_duration / 2)
    if not any(s.complete for s in sentences):
        return (
            "No clips: the speech never finishes a sentence, so any clip would stop mid-thought. "
            "Clips are cut at the end of complete sentences."
        )
    longest = max(b.end - a.start for k, a in enumerate(sentences) for b in sentences[k:]
                  if not _crosses(a.start, b.end, _barriers(transcript)))
    if longest < config.min_duration:
        short = " (and no shorter part holds a complete thought)" if _short_video(transcript, config) else ""
        extra = " The rest could not be transcribed: " + skipped[0]["reason"] if skipped else ""
        return (
            f"No clips: the longest stretch of connected speech lasts {longest:.0f} seconds, shorter than the "
            f"{config.min_duration:.0f}-second minimum{short}.{extra}"
        )
    return "No clips: no stretch of speech ends on a complete sentence within the clip length limits."


def _overlap(a: _Candidate, b: _Candidate) -> float:
    shared = min(a.end, b.end) - max(a.start, b.start)
    return max(0.0, shared) / max(min(a.end - a.start, b.end - b.start), 1e-6)


def _jaccard(a: Sequence[str], b: Sequence[str]) -> float:
    sa, sb = set(a), set(b)
    return len(sa & sb) / len(sa | sb) if sa or sb else 0.0


def _to_clip(
    c: _Candidate,
    sentences: Sequence[Sentence],
    words: Sequence[Word],
    feats: _WordFeatures,
    topics: Sequence[str],
    duration: float,
    config: SelectionConfig,
) -> ClipCandidate:
    first, last = sentences[c.i].first, sentences[c.j].last
    start, end = padded_bounds(words, first, last, config.padding, duration)
    span = sentences[c.i : c.j + 1]
    text = " ".join(w.text for w in words[first : last + 1])
    span_tokens = tokens(text)
    token_set = set(span_tokens)
    clip_topics = [t for t in topics if all(part in token_set or part + "s" in token_set for part in t.split())][:3]
    return ClipCandidate(
        start=start,
        end=end,
        title=make_title(span),
        text=text,
        hook_score=int(round(c.hook.value)),
        engagement_score=int(round(c.engagement.value)),
        virality_score=int(round(c.virality)),
        topics=clip_topics,
        keywords=list(c.keywords),
        emotions=_emotions(span_tokens),
        reasons=[*c.hook.reasons, *c.engagement.reasons],
    )


def padded_bounds(words: Sequence[Word], first: int, last: int, padding: float, duration: float) -> tuple[float, float]:
    """Clip edges: ``padding`` around the words, never into a neighbouring word or past the media.

    A cut exactly on a word edge clips the attack of its first sound and the release of
    its last; a little air fixes that, but it must stop where the next word begins.
    """
    start = words[first].start - padding
    if first > 0:
        start = max(start, words[first - 1].end)
    end = words[last].end + padding
    if last + 1 < len(words):
        end = min(end, words[last + 1].start)
    start = min(max(0.0, start), words[first].start)
    end = max(min(duration, end), words[last].end)
    return round(start, 3), round(end, 3)


# --------------------------------------------------------------------------------------
# Titles and key moments


def _sentence_strength(s: Sentence) -> float:
    n_words = s.last - s.first + 1
    return _text_strength(s.text) + (1.0 if 4 <= n_words <= 12 else 0.0)  # short lines read at a glance


def make_title(span: Sequence[Sentence], max_chars: int = 60) -> str:
    """A short title from the span's strongest sentence (the earliest among equals)."""
    best = max(enumerate(span), key=lambda p: (_sentence_strength(p[1]), -p[0]))[1]
    return title_from_sentence(best.text, max_chars)


def title_from_sentence(text: str, max_chars: int = 60) -> str:
    """The sentence, or its strongest run of whole clauses when it is too long, tidied up.

    Cutting at a clause boundary keeps a title a phrase someone would say; cutting at
    an arbitrary word leaves "...remember this, clarity beat".
    """
    text = _strip_fillers(text)
    if len(text) > max_chars:
        text = _strongest_clauses(text, max_chars)
    title = text.rstrip(",;:-– ")
    if title.endswith(".") and not title.endswith(".."):
        title = title[:-1]
    return title[:1].upper() + title[1:]


def _strip_fillers(text: str) -> str:
    parts = text.split()
    while len(parts) > 1 and tokens(parts[0]) and tokens(parts[0])[0] in TITLE_FILLERS:
        parts = parts[1:]
    return " ".join(parts)


def _strongest_clauses(text: str, max_chars: int) -> str:
    clauses = [c.strip() for c in re.split(r"(?<=[,;:])\s+", text) if c.strip()]
    runs: list[tuple[float, int, int, str]] = []
    for a in range(len(clauses)):
        for b in range(a, len(clauses)):
            run = _strip_fillers(" ".join(clauses[a : b + 1]))
            if len(run) > max_chars:
                break
            runs.append((_text_strength(run), len(run), -a, run))
    if not runs:  # one clause longer than a title: cut it at a word boundary
        return _cut_words(clauses[0], max_chars)
    return max(runs)[3]


def _text_strength(text: str) -> float:
    """Question, number, strong words, direct address: what makes a line stand out."""
    toks = tokens(text)
    return (
        3.0 * text.rstrip().endswith("?")
        + 2.0 * min(1, sum(t[0].isdigit() or t in NUMBER_WORDS for t in toks))
        + 2.0 * min(2, sum(t in STRONG_WORDS for t in toks))
        + 1.5 * min(1, sum(t in DIRECT_ADDRESS for t in toks))
    )


def _cut_words(text: str, max_chars: int) -> str:
    out = ""
    for part in text.split():
        candidate = f"{out} {part}".strip()
        if len(candidate) > max_chars:
            break
        out = candidate
    parts = out.split()
    # Never end a title on "and a": drop trailing function words.
    while len(parts) > 1 and tokens(parts[-1]) and tokens(parts[-1])[-1] in STOPWORDS:
        parts.pop()
    return " ".join(parts) or text[:max_chars]


def key_moments(
    transcript: Transcript,
    loudness: LoudnessEnvelope | None = None,
    *,
    limit: int = 10,
    min_spacing: float = 10.0,
    pause_gap: float = 0.7,
) -> list[dict[str, Any]]:
    """The video's standout sentences as JSON-able dicts, in time order.

    A moment is a sentence that asks a question, gives a number, makes a strong claim,
    speaks to the viewer or is said louder than usual; moments are at least
    ``min_spacing`` seconds apart so a timeline shows the whole video, not one passage.
    """
    words = transcript.words
    if not words:
        return []
    sentences = split_sentences(words, pause_gap)
    feats = _WordFeatures.build(words)
    loud = _LoudnessStats.build(loudness)
    scored: list[tuple[float, Sentence, list[str]]] = []
    for s in sentences:
        reasons = _moment_reasons(s, feats, loud)
        if reasons:
            strength = _sentence_strength(s) + (1.5 if "said with emphasis" in reasons else 0.0)
            scored.append((strength, s, reasons))
    scored.sort(key=lambda x: (-x[0], x[1].start))
    picked: list[tuple[float, Sentence, list[str]]] = []
    for item in scored:
        if len(picked) == limit:
            break
        if all(abs(item[1].start - p[1].start) >= min_spacing for p in picked):
            picked.append(item)
    picked.sort(key=lambda x: x[1].start)
    top = max((p[0] for p in picked), default=1.0)
    return [
        {
            "time": s.start,
            "end": s.end,
            "description": s.text,
            "reason": "; ".join(reasons),
            "score": int(round(100 * strength / top)),
        }
        for strength, s, reasons in picked
    ]


def _moment_reasons(s: Sentence, feats: _WordFeatures, loud: _LoudnessStats | None) -> list[str]:
    reasons: list[str] = []
    if s.question:
        reasons.append("asks a question")
    if feats.count(feats.number, s.first, s.last):
        reasons.append("gives a number")
    if feats.count(feats.strong, s.first, s.last):
        reasons.append("makes a strong claim")
    if feats.count(feats.you, s.first, s.last):
        reasons.append("speaks to the viewer")
    if loud is not None:
        voiced = loud.speech_windows(s.start, s.end)
        if voiced.size and float(np.mean(voiced)) - loud.speech_median >= 3.0:
            reasons.append("said with emphasis")
    return reasons
