"""SRT / WebVTT captions from word timings: cue splitting rules and exact file text."""

from __future__ import annotations

from pathlib import Path

from clipflow_worker.pipeline.subtitles import (
    Cue,
    build_cues,
    format_srt_time,
    format_vtt_time,
    to_srt,
    to_vtt,
    write_srt,
    write_vtt,
)
from clipflow_worker.pipeline.types import Word


def spoken(start: float, text: str, step: float = 0.3, length: float = 0.25) -> list[Word]:
    """Words every ``step`` seconds from ``start``, each ``length`` long."""
    return [Word(w, round(start + i * step, 3), round(start + i * step + length, 3)) for i, w in enumerate(text.split())]


def texts(cues: list[Cue]) -> list[str]:
    return [c.text for c in cues]


def test_timestamps_are_exact_and_carry_rounding_into_the_next_unit() -> None:
    assert format_srt_time(1.23) == "00:00:01,230"
    assert format_vtt_time(1.23) == "00:00:01.230"
    assert format_srt_time(3725.5) == "01:02:05,500"
    assert format_srt_time(59.9996) == "00:01:00,000"
    assert format_vtt_time(0.0004) == "00:00:00.000"
    assert format_srt_time(-0.2) == "00:00:00,000"


def test_a_finished_sentence_closes_its_cue() -> None:
    # given two sentences spoken without a pause between them
    words = spoken(0.0, "Not once. Nobody knew who decided.")

    # when
    cues = build_cues(words)

    # then
    assert texts(cues) == ["Not once.", "Nobody knew who decided."]
    assert (cues[0].start, cues[0].end) == (0.0, 0.55)
    assert (cues[1].start, cues[1].end) == (0.6, 1.75)


def test_cues_hold_at_most_seven_words() -> None:
    words = spoken(0.0, "we met on a big day in a big room")

    cues = build_cues(words)

    assert texts(cues) == ["we met on a big day in", "a big room"]


def test_cues_hold_at_most_32_characters() -> None:
    # given words whose total length passes 32 characters at the fourth word
    words = spoken(0.0, "extraordinary conversations about organisational design")

    cues = build_cues(words)

    assert texts(cues) == ["extraordinary conversations", "about organisational design"]
    assert all(len(t) <= 32 for t in texts(cues))


def test_a_single_word_longer_than_the_limit_gets_its_own_cue() -> None:
    words = spoken(0.0, "a supercalifragilisticexpialidocious-style word")

    assert texts(build_cues(words)) == ["a", "supercalifragilisticexpialidocious-style", "word"]


def test_no_cue_crosses_a_long_pause() -> None:
    # given a 0.8 s silence in the middle of a short phrase
    words = [Word("three", 0.0, 0.3), Word("steps", 0.35, 0.7), Word("thirty", 1.5, 1.8), Word("minutes", 1.85, 2.2)]

    cues = build_cues(words)

    assert texts(cues) == ["three steps", "thirty minutes"]
    assert (cues[0].end, cues[1].start) == (0.7, 1.5)


def test_a_pause_just_under_the_limit_stays_inside_the_cue() -> None:
    words = [Word("three", 0.0, 0.3), Word("steps", 1.09, 1.4)]

    assert texts(build_cues(words)) == ["three steps"]


def test_times_are_relative_to_the_clip_and_words_outside_it_are_dropped() -> None:
    # given a clip from 10.0 to 11.5 s whose padding reaches into neighbouring words' halves
    words = [Word("before", 9.5, 9.95), Word("inside", 10.05, 10.5), Word("edge", 11.0, 11.7), Word("after", 11.75, 12.0)]

    cues = build_cues(words, clip_start=10.0, clip_end=11.5)

    # then the word whose middle lies outside is dropped, and the edge word is clamped to the clip
    assert texts(cues) == ["inside edge"]
    assert (cues[0].start, cues[0].end) == (0.05, 1.5)


def test_srt_text_is_exact() -> None:
    words = spoken(1.23, "Why do startups fail? It is the team.")
    cues = build_cues(words, clip_start=0.0)

    assert to_srt(cues) == (
        "1\n"
        "00:00:01,230 --> 00:00:02,380\n"
        "Why do startups fail?\n"
        "\n"
        "2\n"
        "00:00:02,430 --> 00:00:03,580\n"
        "It is the team.\n"
    )


def test_vtt_text_is_exact_and_escapes_markup() -> None:
    words = [Word("R&D", 0.0, 0.4), Word("<3", 0.5, 0.8), Word("-->", 0.9, 1.0), Word("go.", 1.1, 1.4)]
    cues = build_cues(words)

    assert to_vtt(cues) == "WEBVTT\n\n00:00:00.000 --> 00:00:01.400\nR&amp;D &lt;3 -&gt; go.\n"
    assert to_srt(cues) == "1\n00:00:00,000 --> 00:00:01,400\nR&D <3 -> go.\n"


def test_no_words_give_a_valid_empty_file() -> None:
    assert to_vtt([]) == "WEBVTT\n"
    assert to_srt([]) == ""


def test_files_are_written_as_utf8_without_bom(tmp_path: Path) -> None:
    cues = build_cues([Word("Grüße", 0.0, 0.5), Word("aus", 0.6, 0.8), Word("Köln.", 0.9, 1.3)])

    srt = write_srt(cues, tmp_path / "clip.srt").read_bytes()
    vtt = write_vtt(cues, tmp_path / "clip.vtt").read_bytes()

    assert srt == "1\n00:00:00,000 --> 00:00:01,300\nGrüße aus Köln.\n".encode()
    assert vtt.startswith(b"WEBVTT\n\n00:00:00.000 --> 00:00:01.300\nGr\xc3\xbc\xc3\x9fe")
