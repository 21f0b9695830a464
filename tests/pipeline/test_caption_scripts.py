"""Captions in other scripts: the shipped Noto fonts cover them and the bundled libass shapes them.

Each case burns a caption with the bundled ffmpeg and checks that libass found every glyph
in the chosen face (no fallback, no missing glyph), drew it, and shapes with HarfBuzz and
lays out right-to-left text with FriBidi.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

from clipflow_worker.pipeline.captions import (
    SHIPPED_FONTS,
    build_ass,
    caption_font,
    fonts_dir,
    script_of,
)
from clipflow_worker.pipeline.ffmpeg import ffmpeg_binary
from clipflow_worker.pipeline.types import FORMATS, Word

CASES = [
    ("arabic", "مرحبا بكم في عالم الأفكار", "Noto Sans Arabic"),
    ("hebrew", "שלום לכולם וברוכים הבאים", "Noto Sans Hebrew"),
    ("cjk", "你好世界 こんにちは 안녕하세요", "Noto Sans CJK TC"),
    ("greek", "Καλημέρα σε όλους", "Noto Sans"),
    ("cyrillic", "Привет всем друзьям", "Noto Sans"),
    ("latin", "Clarity beats talent", "DejaVu Sans"),
]


def test_the_shipped_fonts_are_small_enough_for_the_repository() -> None:
    sizes = {p.name: p.stat().st_size for p in SHIPPED_FONTS.glob("*.[to]tf")}
    assert set(sizes) == {"NotoSans-Bold.ttf", "NotoSansArabic-Bold.ttf", "NotoSansHebrew-Bold.ttf", "NotoSansCJK-Bold.otf"}
    assert sum(sizes.values()) < 4_000_000
    assert (SHIPPED_FONTS / "licenses" / "OFL.txt").read_text().count("SIL Open Font License") >= 1
    assert fonts_dir() == SHIPPED_FONTS or fonts_dir() is not None


@pytest.mark.parametrize(("script", "text", "font"), CASES, ids=[c[0] for c in CASES])
def test_a_caption_renders_in_its_script(script: str, text: str, font: str, tmp_path: Path) -> None:
    assert (script_of(text), caption_font(text)) == (script, font)
    words = [Word(w, 0.2 + i * 0.4, 0.5 + i * 0.4) for i, w in enumerate(text.split())]
    fmt = FORMATS["16:9"]
    ass = tmp_path / "c.ass"
    ass.write_text(build_ass(words, fmt, clip_start=0.0, clip_end=3.0, style="karaoke"), encoding="utf-8")
    assert f"Style: Caption,{font}," in ass.read_text(encoding="utf-8")
    png = tmp_path / "c.png"

    run = subprocess.run(
        [ffmpeg_binary(), "-hide_banner", "-loglevel", "verbose", "-y",
         "-f", "lavfi", "-i", f"color=black:s={fmt.width // 2}x{fmt.height // 2}:r=10:d=2",
         "-vf", f"scale={fmt.width}:{fmt.height},ass={ass}:fontsdir={SHIPPED_FONTS},select='gte(t,1)'",
         "-frames:v", "1", str(png)],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip

    log = run.stderr
    assert "FriBidi" in log and "HarfBuzz" in log  # the shapers libass reports at start-up
    assert "Glyph 0x" not in log and "failed to find any fallback" not in log, log[-2000:]
    if font != "DejaVu Sans":
        assert f"fontselect: ({font}, 700, 0) -> " in log and "Noto" in log.split(f"fontselect: ({font}, 700, 0) -> ")[1][:80]
    lit = cv2.imread(str(png)).max(axis=2) > 24
    assert int(np.count_nonzero(lit)) > 500


@pytest.mark.parametrize(("text", "first_on_the_right"), [("مرحبا بكم", True), ("שלום לכולם", True), ("Hello friends", False)],
                         ids=["arabic", "hebrew", "latin"])
def test_right_to_left_lines_start_on_the_right(text: str, first_on_the_right: bool, tmp_path: Path) -> None:
    # given a karaoke caption at the moment its first word is sung (yellow) and the second is not (white)
    first, second = text.split()
    words = [Word(first, 0.2, 0.5), Word(second, 0.9, 1.5)]
    fmt = FORMATS["16:9"]
    ass = tmp_path / "k.ass"
    ass.write_text(build_ass(words, fmt, clip_start=0.0, clip_end=3.0, style="karaoke"), encoding="utf-8")
    png = tmp_path / "k.png"
    subprocess.run(
        [ffmpeg_binary(), "-hide_banner", "-loglevel", "error", "-y",
         "-f", "lavfi", "-i", f"color=black:s={fmt.width}x{fmt.height}:r=10:d=2",
         "-vf", f"ass={ass}:fontsdir={SHIPPED_FONTS},select='gte(t,0.7)'", "-frames:v", "1", str(png)],
        check=True, timeout=120,
    )  # fmt: skip
    bgr = cv2.imread(str(png)).astype(int)
    yellow = (bgr[..., 2] > 180) & (bgr[..., 1] > 160) & (bgr[..., 0] < 90)
    white = (bgr.min(axis=2) > 200)
    assert yellow.sum() > 100 and white.sum() > 100
    # then the sung (first) word lies right of the unsung one in a right-to-left script, left of it in Latin
    assert (np.nonzero(yellow)[1].mean() > np.nonzero(white)[1].mean()) == first_on_the_right
