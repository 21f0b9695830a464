"""ASS captions: exact style lines and timings, and libass-rendered text inside each safe zone."""

from __future__ import annotations

import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

from clipflow_worker.pipeline.captions import (
    CAPTION_STYLES,
    build_ass,
    clip_relative_words,
    fonts_dir,
    write_ass,
)
from clipflow_worker.pipeline.ffmpeg import ffmpeg_binary
from clipflow_worker.pipeline.types import FORMATS, BrandKit, OutputFormat, Word


def words_at(start: float, text: str, step: float = 0.5, length: float = 0.4) -> list[Word]:
    return [Word(w, start + i * step, start + i * step + length) for i, w in enumerate(text.split())]


def lines_of(ass: str, prefix: str) -> list[str]:
    return [line for line in ass.splitlines() if line.startswith(prefix)]


def dialogue(ass: str) -> list[tuple[str, str, str]]:
    """(start, end, text) of each Dialogue line."""
    rows = []
    for line in lines_of(ass, "Dialogue: "):
        fields = line[len("Dialogue: ") :].split(",", 9)
        rows.append((fields[1], fields[2], fields[9]))
    return rows


def test_hormozi_style_line_and_script_info_for_vertical_video() -> None:
    ass = build_ass(words_at(10.0, "hello there"), FORMATS["9:16"], clip_start=10.0, clip_end=20.0, style="hormozi")
    assert "PlayResX: 1080\nPlayResY: 1920\n" in ass
    assert lines_of(ass, "Style: ") == [
        "Style: Caption,DejaVu Sans,81,&H00FFFFFF,&H0000E0FF,&H00000000,&H80000000,"
        "-1,0,0,0,100,100,0,0,1,7.3,2.4,2,71,151,585,1"
    ]


def test_hormozi_upper_cases_and_highlights_each_spoken_word_in_clip_time() -> None:
    # given: words in source time, the clip starting at 100 s
    words = [
        Word("So", 100.0, 100.3),
        Word("here's", 100.3, 100.7),
        Word("the", 100.7, 100.9),
        Word("thing.", 101.0, 101.4),
    ]
    # when
    ass = build_ass(words, FORMATS["9:16"], clip_start=100.0, clip_end=110.0, style="hormozi")
    # then: one event per word, the line visible throughout, the spoken word yellow, a pop on the
    # first; the last line holds a quarter second after its last word
    hi, plain = "{\\1c&H00E0FF&}", "{\\1c&HFFFFFF&}"
    assert dialogue(ass) == [
        ("0:00:00.00", "0:00:00.30", "{\\fscx85\\fscy85\\t(0,90,\\fscx100\\fscy100)}" + f"{hi}SO{plain} HERE'S THE"),
        ("0:00:00.30", "0:00:00.70", f"SO {hi}HERE'S{plain} THE"),
        ("0:00:00.70", "0:00:01.00", f"SO HERE'S {hi}THE{plain}"),
        ("0:00:01.00", "0:00:01.65", "{\\fscx85\\fscy85\\t(0,90,\\fscx100\\fscy100)}" + f"{hi}THING.{plain}"),
    ]


def test_hormozi_lines_hold_two_to_four_words() -> None:
    text = "we grew the company from nothing to ten million in under three years and here is how"
    ass = build_ass(
        words_at(0.0, text, step=0.3, length=0.25), FORMATS["9:16"], clip_start=0.0, clip_end=60.0, style="hormozi"
    )
    first_events = [t for _, _, t in dialogue(ass) if t.startswith("{\\fscx85")]
    counts = [len(t.split("}", 2)[-1].split()) for t in first_events]
    assert sum(counts) == len(text.split())
    assert all(1 <= c <= 4 for c in counts)
    assert max(counts) >= 3


def test_minimal_is_sentence_case_small_and_bottom() -> None:
    words = words_at(5.0, "and then it worked. we were amazed by it")
    ass = build_ass(words, FORMATS["16:9"], clip_start=5.0, clip_end=15.0, style="minimal")
    assert lines_of(ass, "Style: ") == [
        "Style: Caption,DejaVu Sans,45,&H00FFFFFF,&H0000E0FF,&H00000000,&H80000000,"
        "0,0,0,0,100,100,0,0,1,0,2.2,2,115,115,120,1"
    ]
    assert dialogue(ass) == [
        ("0:00:00.00", "0:00:02.00", "And then it worked."),
        ("0:00:02.00", "0:00:04.65", "We were amazed by it"),
    ]


def test_bold_style_is_big_with_a_thick_outline() -> None:
    ass = build_ass(words_at(0.0, "big words"), FORMATS["1:1"], clip_start=0.0, clip_end=5.0, style="bold")
    style = lines_of(ass, "Style: ")[0].split(",")
    font_size, outline = int(style[2]), float(style[16])
    assert font_size == 97 and outline == 13.6
    assert dialogue(ass) == [("0:00:00.00", "0:00:01.15", "big words")]


def test_karaoke_sweeps_each_word_until_the_next_one_starts() -> None:
    words = [Word("one", 2.0, 2.3), Word("two", 2.5, 2.8), Word("three", 3.0, 3.6)]
    ass = build_ass(words, FORMATS["9:16"], clip_start=2.0, clip_end=8.0, style="karaoke")
    style = lines_of(ass, "Style: ")[0].split(",")
    assert (style[3], style[4]) == ("&H0000E0FF", "&H00FFFFFF"), "sung words turn yellow from white"
    assert dialogue(ass) == [("0:00:00.00", "0:00:01.85", "{\\kf50}one {\\kf50}two {\\kf60}three")]


def test_brand_kit_sets_fonts_and_colours() -> None:
    brand = BrandKit(accent_color="#12AB34", text_color="#FAFAFA", heading_font="Anton", body_font="Inter")
    hormozi = build_ass(
        words_at(0.0, "a b"), FORMATS["9:16"], clip_start=0.0, clip_end=5.0, style="hormozi", brand=brand
    )
    minimal = build_ass(
        words_at(0.0, "a b"), FORMATS["9:16"], clip_start=0.0, clip_end=5.0, style="minimal", brand=brand
    )
    assert lines_of(hormozi, "Style: ")[0].split(",")[1:5] == ["Anton", "81", "&H00FAFAFA", "&H0034AB12"]
    assert "{\\1c&H34AB12&}A{\\1c&HFAFAFA&} B" in hormozi
    assert lines_of(minimal, "Style: ")[0].split(",")[1] == "Inter"


def test_words_outside_the_clip_are_dropped_and_edges_clamped() -> None:
    # given: words judged by their middle ("late" is mostly after the end)
    words = [
        Word("before", 8.0, 9.0), Word("edge", 9.8, 10.4), Word("inside", 11.0, 11.5),
        Word("tail", 14.6, 15.2), Word("late", 14.8, 15.6), Word("after", 15.6, 16.0),
    ]  # fmt: skip
    # when
    kept = clip_relative_words(words, 10.0, 15.0)
    # then
    assert [(w.text, w.start, w.end) for w in kept] == [
        ("edge", 0.0, pytest.approx(0.4)),
        ("inside", 1.0, 1.5),
        ("tail", pytest.approx(4.6), 5.0),
    ]


def test_transcript_and_brand_text_cannot_inject_tags_or_lines() -> None:
    words = [Word("{\\pos(0,0)}hi\\N", 0.0, 0.5), Word("there\nStyle: Evil,Arial", 0.5, 0.9)]
    brand = BrandKit(heading_font="Inter,\nStyle: Evil", body_font="Inter,\nStyle: Evil")
    ass = build_ass(words, FORMATS["1:1"], clip_start=0.0, clip_end=2.0, style="minimal", brand=brand)
    assert dialogue(ass) == [("0:00:00.00", "0:00:01.15", "Pos(0,0)hiN there Style: Evil,Arial")]
    assert lines_of(ass, "Style: ")[0].split(",")[:2] == ["Style: Caption", "Inter Style: Evil"]
    assert len(lines_of(ass, "Style: ")) == 1


def test_a_word_too_long_for_the_line_is_scaled_down() -> None:
    ass = build_ass(
        [Word("Pneumonoultramicroscopicsilicovolcanoconiosis", 0.0, 1.0)],
        FORMATS["9:16"],
        clip_start=0.0,
        clip_end=2.0,
        style="bold",
    )
    assert dialogue(ass)[0][2].startswith("{\\fscx29\\fscy29}")


def test_unknown_style_and_bad_colour_are_refused() -> None:
    with pytest.raises(ValueError, match="Unknown caption style 'comic'"):
        build_ass([], FORMATS["9:16"], clip_start=0.0, clip_end=1.0, style="comic")
    with pytest.raises(ValueError, match="not of the form #RRGGBB"):
        build_ass([], FORMATS["9:16"], clip_start=0.0, clip_end=1.0, brand=BrandKit(accent_color="red"))


@pytest.mark.parametrize("style", sorted(CAPTION_STYLES))
@pytest.mark.parametrize("fmt", list(FORMATS.values()), ids=list(FORMATS))
def test_margins_sit_inside_the_safe_zone(style: str, fmt: OutputFormat) -> None:
    ass = build_ass(words_at(0.0, "x"), fmt, clip_start=0.0, clip_end=1.0, style=style)
    fields = lines_of(ass, "Style: ")[0].split(",")
    font_size, margin_l, margin_r, margin_v = int(fields[2]), int(fields[19]), int(fields[20]), int(fields[21])
    assert margin_l >= fmt.safe_left and margin_r >= fmt.safe_right and margin_v >= fmt.safe_bottom
    assert margin_v + 2.5 * font_size <= fmt.height - fmt.safe_top, "two wrapped lines still clear the top"


def test_fonts_dir_prefers_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLIPFLOW_FONTS_DIR", str(tmp_path))
    assert fonts_dir() == tmp_path
    monkeypatch.delenv("CLIPFLOW_FONTS_DIR")
    assert fonts_dir() is not None and any(fonts_dir().rglob("*.ttf"))


def rendered_text_box(ass_path: Path, fmt: OutputFormat, at: float, out: Path) -> tuple[int, int, int, int]:
    """Burn the script onto black with libass and return the lit pixels' (left, top, right, bottom)."""
    fonts = fonts_dir()
    vf = f"ass={ass_path}" + (f":fontsdir={fonts}" if fonts else "") + f",select='gte(t,{at})'"
    subprocess.run(
        [ffmpeg_binary(), "-loglevel", "error", "-y",
         "-f", "lavfi", "-i", f"color=black:s={fmt.width}x{fmt.height}:r=10:d={at + 1}",
         "-vf", vf, "-frames:v", "1", str(out)],
        check=True,
    )  # fmt: skip
    lit = cv2.imread(str(out)).max(axis=2) > 24
    ys, xs = np.nonzero(lit)
    assert len(xs), "libass drew nothing"
    return int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())


WORST_CASE = "WOMBAT MAXIMUM WWWWWWWWWWWWWWWWWWWWWWWW wonderful mammoth moments"


@pytest.mark.parametrize("style", sorted(CAPTION_STYLES))
@pytest.mark.parametrize("fmt", list(FORMATS.values()), ids=list(FORMATS))
def test_libass_draws_every_line_inside_the_safe_zone(style: str, fmt: OutputFormat, tmp_path: Path) -> None:
    # given: wide letters, a word too long for any line, and the hormozi pop at its largest
    words = words_at(0.0, WORST_CASE, step=0.6, length=0.5)
    ass = write_ass(tmp_path / "c.ass", words, fmt, clip_start=0.0, clip_end=5.0, style=style)
    for at in (0.3, 1.4, 2.0):
        # when
        left, top, right, bottom = rendered_text_box(ass, fmt, at, tmp_path / f"{at}.png")
        # then
        assert left >= fmt.safe_left and right <= fmt.width - fmt.safe_right, (at, left, right)
        assert top >= fmt.safe_top and bottom <= fmt.height - fmt.safe_bottom, (at, top, bottom)
