"""Clip selection on transcripts built in the test: exact spans, scores, de-duplication, topics."""

from __future__ import annotations

import numpy as np
import pytest

from clipflow_worker.pipeline.audio import LoudnessEnvelope
from clipflow_worker.pipeline.select import (
    SelectionConfig,
    key_moments,
    padded_bounds,
    select_clips,
    split_sentences,
    title_from_sentence,
    video_topics,
)
from clipflow_worker.pipeline.types import Segment, Transcript, Word

STEP = 0.4  # a word every 0.4 s (150 words/min), each 0.3 s long
LENGTH = 0.3


def said(start: float, text: str) -> list[Word]:
    return [Word(w, round(start + i * STEP, 3), round(start + i * STEP + LENGTH, 3)) for i, w in enumerate(text.split())]


def transcript(*parts: tuple[float, str], duration: float | None = None) -> Transcript:
    segments = []
    for start, text in parts:
        words = said(start, text)
        segments.append(Segment(words[0].start, words[-1].end, text, tuple(words)))
    end = segments[-1].end if segments else 0.0
    return Transcript(language="en", duration=duration if duration is not None else end + 1.0, segments=tuple(segments))


SHORT = SelectionConfig(min_duration=5.0, max_duration=9.0, ideal_duration=(6.0, 8.0))


def test_spans_are_whole_sentences_snapped_to_word_edges_with_padding() -> None:
    # given three sentences of 3.5-3.9 s: only two pairs fit 5-9 s, and they overlap by 49%
    t = transcript(
        (1.0, "Why do you think most startups fail so fast?"),
        (5.0, "It is the team and never the money at all."),
        (10.0, "We met on Tuesdays in a small quiet room there."),
    )

    # when
    clips = select_clips(t, config=SHORT)

    # then one clip: the question-led pair, 0.15 s of air each side, none taken from a neighbour
    assert len(clips) == 1
    clip = clips[0]
    assert (clip.start, clip.end) == (0.85, 9.05)
    assert clip.text == "Why do you think most startups fail so fast? It is the team and never the money at all."
    assert clip.title == "Why do you think most startups fail so fast?"


def test_padding_stops_at_the_neighbouring_words() -> None:
    # given words 0.05 s apart around the clip edges
    words = [Word("a", 0.0, 1.0), Word("b", 1.05, 2.0), Word("c", 2.1, 3.0), Word("d", 3.04, 4.0)]

    # then the padded edges are the neighbours' edges, never inside them
    assert padded_bounds(words, 1, 2, 0.15, 10.0) == (1.0, 3.04)
    # and at the media's edges, padding stops at 0 and at the duration
    assert padded_bounds(words, 0, 3, 0.15, 4.1) == (0.0, 4.1)
    assert padded_bounds(words, 0, 3, 0.15, 10.0) == (0.0, 4.15)


def test_a_question_led_span_has_a_higher_hook_than_a_flat_one() -> None:
    # given two passages with identical timing, one opening on a question to the viewer
    t = transcript(
        (0.0, "Why do you keep losing your best people?"),
        (3.6, "Here is what I learned."),
        (30.0, "The weather that spring was mild and calm."),
        (33.6, "We met in a room."),
    )

    clips = select_clips(t, config=SHORT)

    assert [c.text.split()[0] for c in clips] == ["Why", "The"]
    question, flat = clips
    # 20 base + 30 question + 20 strong words ("losing", "best") + 15 "you"
    assert question.hook_score == 85
    assert question.reasons[:3] == ["opens with a question", "strong words up front", "speaks to the viewer"]
    assert flat.hook_score == 20
    assert question.virality_score > flat.virality_score
    assert question.engagement_score > flat.engagement_score


def test_a_louder_opening_raises_the_hook() -> None:
    # given a flat passage whose first 3 s are 6 dB louder than the rest of the speech
    t = transcript((0.0, "The weather that spring was mild and calm."), (3.6, "We met in a room."))
    db = np.full(100, -30.0, dtype=np.float32)
    db[:30] = -24.0
    envelope = LoudnessEnvelope(0.1, db)

    plain = select_clips(t, config=SHORT)[0]
    loud = select_clips(t, envelope, config=SHORT)[0]

    # then +6 dB earns the full +10 loudness points
    assert (plain.hook_score, loud.hook_score) == (20, 30)
    assert "louder opening" in loud.reasons and "louder opening" not in plain.reasons


def test_the_same_point_made_twice_is_kept_once() -> None:
    # given the same two sentences said again a minute later (no time overlap at all)
    point = ("Write a decision document for your team.", "Name one owner for every decision today.")
    t = transcript((0.0, point[0]), (3.6, point[1]), (60.0, point[0]), (63.6, point[1]))

    deduplicated = select_clips(t, config=SHORT)
    permissive = select_clips(t, config=SelectionConfig(**{**SHORT.__dict__, "max_similarity": 1.01, "max_repeat": 1.01}))

    assert [c.start for c in deduplicated] == [0.0]
    assert [c.start for c in permissive] == [0.0, 59.85]
    assert deduplicated[0].keywords == permissive[1].keywords


LONG_TALK = [
    "Why do most startups fail in their first three years?",
    "It is not the money.",
    "It is the team and I will show you why.",
    "Here is a number that shocked me.",
    "Ninety percent of founders never wrote down how decisions get made.",
    "When things got hard nobody knew who had the final word.",
    "So what should you do about it?",
    "First write a one page decision document.",
    "Second name one owner for every decision.",
    "Third review it every quarter.",
    "Let me tell you about a company in Berlin.",
    "They had twelve engineers and two founders who disagreed about everything.",
    "After six months they shipped twice as fast.",
    "The weather that spring was mild.",
    "We usually met on Tuesdays in a small room.",
    "Here is the truth nobody wants to hear.",
    "Your product will never be better than your decisions.",
    "Clarity beats talent every single time.",
]


def long_talk() -> Transcript:
    parts, cursor = [], 0.5
    for i, sentence in enumerate(LONG_TALK):
        parts.append((round(cursor, 3), sentence))
        n = len(sentence.split())
        cursor += n * STEP + (1.3 if i % 3 == 2 else 0.3)  # a paragraph pause after every third sentence
    return transcript(*parts)


def test_clips_over_a_whole_talk_obey_every_rule() -> None:
    t = long_talk()
    config = SelectionConfig(min_duration=8.0, max_duration=20.0, max_clips=4)
    words = t.words

    clips = select_clips(t, config=config)

    assert 1 <= len(clips) <= 4
    assert [c.virality_score for c in clips] == sorted((c.virality_score for c in clips), reverse=True)
    for c in clips:
        assert all(0 <= s <= 100 for s in (c.hook_score, c.engagement_score, c.virality_score))
        first = next(i for i, w in enumerate(words) if w.start >= c.start)
        last = max(i for i, w in enumerate(words) if w.end <= c.end)
        assert (c.start, c.end) == padded_bounds(words, first, last, config.padding, t.duration)
        assert words[last].text.endswith((".", "?", "!"))
        assert first == 0 or words[first - 1].text.endswith((".", "?", "!"))
        assert config.min_duration <= words[last].end - words[first].start <= config.max_duration
    for a in clips:
        for b in clips:
            if a is not b:
                shared = max(0.0, min(a.end, b.end) - max(a.start, b.start))
                assert shared <= 0.3 * min(a.duration, b.duration)


def test_selection_is_deterministic() -> None:
    t = long_talk()
    config = SelectionConfig(min_duration=8.0, max_duration=20.0)

    assert [c.to_dict() for c in select_clips(t, config=config)] == [c.to_dict() for c in select_clips(t, config=config)]


def test_the_best_clip_of_the_talk_is_the_opening_question() -> None:
    clips = select_clips(long_talk(), config=SelectionConfig(min_duration=8.0, max_duration=20.0, max_clips=3))

    best = clips[0]
    assert best.text.startswith("Why do most startups fail")
    assert best.title == "Why do most startups fail in their first three years?"
    assert "opens with a question" in best.reasons


def test_nothing_to_select_gives_no_clips() -> None:
    assert select_clips(Transcript("en", 0.0, ())) == []
    # 10 words = 3.9 s: shorter than the 15 s minimum
    assert select_clips(transcript((0.0, "This is a very short video about nothing at all."))) == []


def test_config_rejects_impossible_limits() -> None:
    with pytest.raises(ValueError):
        SelectionConfig(min_duration=30.0, max_duration=20.0)
    with pytest.raises(ValueError):
        SelectionConfig(max_clips=0)


def test_sentences_end_at_punctuation_or_at_a_pause() -> None:
    # given unpunctuated speech with one 1 s pause, and a full stop
    words = said(0.0, "so we tried it") + said(2.5, "and it worked. Then we grew")

    sentences = split_sentences(words, pause_gap=0.7)

    assert [s.text for s in sentences] == ["so we tried it", "and it worked.", "Then we grew"]
    assert [(s.complete, s.question) for s in sentences] == [(False, False), (True, False), (False, False)]


def test_a_long_ramble_is_split_at_its_longest_pause() -> None:
    # given 10 unpunctuated words over 3.9 s whose longest gap (0.25 s) precedes word 6
    words = said(0.0, "one two three four five") + said(2.15, "six seven eight nine ten")

    sentences = split_sentences(words, pause_gap=0.7, max_length=3.0)

    assert [s.text for s in sentences] == ["one two three four five", "six seven eight nine ten"]


def test_titles_come_from_whole_clauses() -> None:
    assert title_from_sentence("So, what should you do about it?") == "What should you do about it?"
    assert title_from_sentence("It is the team.") == "It is the team"
    assert (
        title_from_sentence("If you remember one thing today, remember this, clarity beats talent every single time.")
        == "If you remember one thing today, remember this"
    )
    assert (
        title_from_sentence("the office had large windows facing a quiet courtyard and a very long corridor")
        == "The office had large windows facing a quiet courtyard"
    )


def test_video_topics_are_terms_and_phrases_found_in_several_sentences() -> None:
    t = transcript(
        (0.0, "Write a decision document today."),
        (3.0, "A decision document names one owner."),
        (6.0, "Owners review the decision every quarter."),
    )

    assert video_topics(t) == ["decision", "decision document", "document", "owner"]


def test_clip_keywords_rank_rare_terms_over_common_ones() -> None:
    t = transcript(
        (0.0, "Berlin engineers shipped twice as fast."),
        (3.0, "Engineers in Berlin love engineers."),
        (6.0, "Other engineers elsewhere disagreed."),
    )

    clip = select_clips(t, config=SelectionConfig(min_duration=5.0, max_duration=9.0, keywords_per_clip=3))[0]

    # "engineers" is in every sentence but said 4 times; "berlin" twice in 2 of 3; the rest tie (alphabetical)
    assert clip.keywords == ["engineers", "berlin", "disagreed"]


def test_key_moments_are_spaced_standout_sentences_in_time_order() -> None:
    t = transcript(
        (0.0, "Why do startups fail?"),
        (2.0, "Ninety percent never write it down."),
        (15.0, "The office was quiet."),
        (30.0, "Remember this one thing."),
    )

    moments = key_moments(t, min_spacing=10.0)

    assert moments == [
        {"time": 0.0, "end": 1.5, "description": "Why do startups fail?", "reason": "asks a question; makes a strong claim", "score": 100},
        {"time": 30.0, "end": 31.5, "description": "Remember this one thing.", "reason": "makes a strong claim", "score": 50},
    ]
