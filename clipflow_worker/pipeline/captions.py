"""Animated captions as an ASS (libass) script, one per output format.

Each style is data (``CaptionStyle``); ``build_ass`` groups the clip's words into short
lines, sizes the font so a line fits the format's safe zone, and writes one Dialogue event
per line (or per word, for styles that highlight the spoken word). PlayResX/PlayResY are the
output size, so every number here is in output pixels.

Fonts: libass needs a font file. Latin captions use "DejaVu Sans" (Debian's fonts-dejavu-core,
found through fontconfig; the width table below is its metrics). Captions in other scripts use
the Noto fonts shipped in ``clipflow_worker/fonts`` (Noto Sans for Greek and Cyrillic, Noto Sans
Arabic, Noto Sans Hebrew, Noto Sans CJK; OFL, built by tests/pipeline/make_caption_fonts.py),
which ``fonts_dir`` points the ass filter at. The bundled libass shapes with HarfBuzz and lays
out right-to-left text with FriBidi, so Arabic and Hebrew need nothing more than the font.
``CLIPFLOW_FONTS_DIR`` overrides the folder (e.g. brand fonts). A brand font that is not
installed falls back to whatever fontconfig offers, which libass reports as a warning.
"""

from __future__ import annotations

import math
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Literal, Sequence

from clipflow_api.models.enums import CaptionStyle as StyleName  # the one list of style names (API, DB, worker)

from .types import BrandKit, OutputFormat, Word

DEFAULT_FONT = "DejaVu Sans"
SHIPPED_FONTS = Path(__file__).resolve().parent.parent / "fonts"
_SYSTEM_FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/TTF", "/usr/share/fonts")

# The shipped face for each script that DejaVu Sans does not cover well (checked in this order).
SCRIPT_FONTS: tuple[tuple[str, str], ...] = (
    ("arabic", "Noto Sans Arabic"),
    ("hebrew", "Noto Sans Hebrew"),
    ("cjk", "Noto Sans CJK TC"),
    ("greek", "Noto Sans"),
    ("cyrillic", "Noto Sans"),
)

Mode = Literal["highlight", "static", "karaoke"]


@dataclass(frozen=True)
class CaptionStyle:
    """How one caption style looks and moves (sizes are shares of the output's short side)."""

    name: str
    mode: Mode
    font_size: float
    max_words: int
    min_words: int = 1
    uppercase: bool = False
    sentence_case: bool = False  # capitalise the first word of each sentence
    bold: bool = True
    outline: float = 0.08  # of the font size
    shadow: float = 0.0
    lift: float = 0.02  # extra distance above the safe zone's bottom, share of output height
    text_colour: str = "#FFFFFF"
    highlight_colour: str = "#FFE000"
    outline_colour: str = "#000000"
    pop: bool = False
    font_role: Literal["heading", "body"] = "heading"


CAPTION_STYLES: dict[str, CaptionStyle] = {
    StyleName.HORMOZI: CaptionStyle(
        StyleName.HORMOZI,
        "highlight",
        font_size=0.075,
        max_words=4,
        min_words=2,
        uppercase=True,
        outline=0.09,
        shadow=0.03,
        lift=0.08,
        pop=True,
    ),
    StyleName.MINIMAL: CaptionStyle(
        StyleName.MINIMAL,
        "static",
        font_size=0.042,
        max_words=7,
        sentence_case=True,
        bold=False,
        outline=0.0,
        shadow=0.05,
        lift=0.01,
        font_role="body",
    ),
    StyleName.BOLD: CaptionStyle(StyleName.BOLD, "static", font_size=0.09, max_words=3, outline=0.14, shadow=0.04, lift=0.08),
    StyleName.KARAOKE: CaptionStyle(
        StyleName.KARAOKE, "karaoke", font_size=0.055, max_words=6, outline=0.07, lift=0.03, font_role="body"
    ),
}

# Advance widths (em) of DejaVu Sans Bold for printable ASCII (read from the font with fontTools),
# padded by _WIDTH_MARGIN so other bold sans faces fit too; other characters count as wide.
_ASCII = " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~"
_ASCII_EM = (
    0.35, 0.46, 0.52, 0.84, 0.7, 1, 0.87, 0.31, 0.46, 0.46, 0.52, 0.84, 0.38, 0.42, 0.38, 0.37,
    0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.4, 0.4, 0.84, 0.84, 0.84, 0.58,
    1, 0.77, 0.76, 0.73, 0.83, 0.68, 0.68, 0.82, 0.84, 0.37, 0.37, 0.77, 0.64, 1, 0.84, 0.85,
    0.73, 0.85, 0.77, 0.72, 0.68, 0.81, 0.77, 1.1, 0.77, 0.72, 0.73, 0.46, 0.37, 0.46, 0.84, 0.5,
    0.5, 0.67, 0.72, 0.59, 0.72, 0.68, 0.44, 0.72, 0.71, 0.34, 0.34, 0.67, 0.34, 1.04, 0.71, 0.69,
    0.72, 0.72, 0.49, 0.6, 0.48, 0.71, 0.65, 0.92, 0.65, 0.65, 0.58, 0.71, 0.37, 0.71, 0.84,
)  # fmt: skip
_ADVANCE_EM = dict(zip(_ASCII, _ASCII_EM))
_WIDE_EM, _OTHER_EM = 1.0, 0.8
_WIDTH_MARGIN = 1.08
_SENTENCE_END = (".", "?", "!", "…")
_PAUSE = 0.7  # seconds of silence that start a new line
_HOLD = 0.25  # a line stays this long after its last word when the next one is far off


def fonts_dir() -> Path | None:
    """Folder of font files for libass's ``fontsdir``: $CLIPFLOW_FONTS_DIR, else the shipped fonts
    (DejaVu stays reachable through fontconfig), else the system DejaVu."""
    explicit = os.environ.get("CLIPFLOW_FONTS_DIR")
    if explicit and Path(explicit).is_dir():
        return Path(explicit)
    if any(SHIPPED_FONTS.glob("*.[to]tf")):
        return SHIPPED_FONTS
    return next((Path(d) for d in _SYSTEM_FONT_DIRS if Path(d).is_dir()), None)


def script_of(text: str) -> str:
    """The writing system of ``text`` that decides its font: arabic, hebrew, cjk, greek, cyrillic or latin."""
    counts: dict[str, int] = {}
    for ch in text:
        if not ch.isalpha():
            continue
        name = unicodedata.name(ch, "")
        script = next((s for key, s in _SCRIPT_NAMES if name.startswith(key)), "latin")
        counts[script] = counts.get(script, 0) + 1
    for script, _font in SCRIPT_FONTS:
        if counts.get(script):
            return script
    return "latin"


RTL_FONTS = frozenset({"Noto Sans Arabic", "Noto Sans Hebrew"})

_SCRIPT_NAMES = (
    ("ARABIC", "arabic"), ("HEBREW", "hebrew"), ("CJK", "cjk"), ("HIRAGANA", "cjk"), ("KATAKANA", "cjk"),
    ("HANGUL", "cjk"), ("GREEK", "greek"), ("CYRILLIC", "cyrillic"),
)


def caption_font(text: str) -> str:
    """The font family for captions of ``text``: DejaVu Sans for Latin, a shipped Noto face otherwise."""
    script = script_of(text)
    return next((font for s, font in SCRIPT_FONTS if s == script), DEFAULT_FONT)


def build_ass(
    words: Sequence[Word],
    fmt: OutputFormat,
    *,
    clip_start: float,
    clip_end: float,
    style: str = StyleName.HORMOZI,
    brand: BrandKit | None = None,
) -> str:
    """An ASS script for the words spoken in ``[clip_start, clip_end)``, timed from the clip start."""
    if style not in CAPTION_STYLES:
        raise ValueError(f"Unknown caption style {style!r}; choose one of {', '.join(CAPTION_STYLES)}.")
    spec = CAPTION_STYLES[style]
    layout = _Layout.for_format(spec, fmt)
    clip_words = clip_relative_words(words, clip_start, clip_end)
    if spec.sentence_case:
        clip_words = _sentence_case(clip_words)
    lines = group_lines(clip_words, spec, layout.max_line_width, layout.font_size)
    events = _events(lines, spec, layout, clip_end - clip_start, brand)
    font = caption_font(" ".join(w.text for w in clip_words))
    return _header(fmt) + _style_line(spec, layout, brand, font) + _events_section(events)


def write_ass(
    path: str | Path,
    words: Sequence[Word],
    fmt: OutputFormat,
    *,
    clip_start: float,
    clip_end: float,
    style: str = StyleName.HORMOZI,
    brand: BrandKit | None = None,
) -> Path:
    """Write ``build_ass(...)`` to ``path`` (UTF-8) and return the path."""
    path = Path(path)
    script = build_ass(words, fmt, clip_start=clip_start, clip_end=clip_end, style=style, brand=brand)
    path.write_text(script, encoding="utf-8")
    return path


def clip_relative_words(words: Iterable[Word], clip_start: float, clip_end: float) -> list[Word]:
    """Words whose middle falls inside the clip, shifted to clip time and clamped to it."""
    duration = clip_end - clip_start
    out = []
    for w in sorted(words, key=lambda w: w.start):
        text = _clean(w.text)
        if not text or not clip_start <= (w.start + w.end) / 2 < clip_end:
            continue
        start = min(max(0.0, w.start - clip_start), duration)
        end = min(max(start, w.end - clip_start), duration)
        out.append(Word(text=text, start=start, end=end, confidence=w.confidence))
    return out


def group_lines(words: Sequence[Word], spec: CaptionStyle, max_width: float, font_size: float) -> list[list[Word]]:
    """Split words into lines of at most ``max_words`` that fit ``max_width``, breaking at pauses and sentence ends."""
    lines: list[list[Word]] = []
    current: list[Word] = []
    for word in words:
        if current and _must_break(current, word, spec, max_width, font_size):
            lines.append(current)
            current = []
        current.append(word)
    if current:
        lines.append(current)
    return lines


def _sentence_case(words: list[Word]) -> list[Word]:
    out, starts_sentence = [], True
    for w in words:
        text = w.text[:1].upper() + w.text[1:] if starts_sentence else w.text
        out.append(Word(text=text, start=w.start, end=w.end, confidence=w.confidence))
        starts_sentence = w.text.endswith(_SENTENCE_END)
    return out


def _must_break(current: list[Word], word: Word, spec: CaptionStyle, max_width: float, font_size: float) -> bool:
    if len(current) >= spec.max_words:
        return True
    candidate = " ".join(_display(w.text, spec) for w in [*current, word])
    if text_width(candidate, font_size) > max_width:
        return True
    if word.start - current[-1].end > _PAUSE:
        return True
    # A sentence end closes the line, unless that leaves it shorter than the style likes.
    return current[-1].text.endswith(_SENTENCE_END) and len(current) >= spec.min_words


def text_width(text: str, font_size: float) -> float:
    """Estimated rendered width in pixels of ``text`` at ``font_size`` (bold sans, a little generous)."""
    em = sum(_advance(ch) for ch in text)
    return em * font_size * _WIDTH_MARGIN


def _advance(ch: str) -> float:
    if ch in _ADVANCE_EM:
        return _ADVANCE_EM[ch]
    return _WIDE_EM if unicodedata.east_asian_width(ch) in ("W", "F") else _OTHER_EM


@dataclass(frozen=True)
class _Layout:
    font_size: int
    outline: float
    shadow: float
    margin_l: int
    margin_r: int
    margin_v: int
    max_line_width: float

    @classmethod
    def for_format(cls, spec: CaptionStyle, fmt: OutputFormat) -> _Layout:
        font_size = round(spec.font_size * min(fmt.width, fmt.height))
        outline = round(spec.outline * font_size, 1)
        pad = round(0.01 * fmt.width)  # breathing room inside the safe zone
        margin_l, margin_r = fmt.safe_left + pad, fmt.safe_right + pad
        return cls(
            font_size=font_size,
            outline=outline,
            shadow=round(spec.shadow * font_size, 1),
            margin_l=margin_l,
            margin_r=margin_r,
            margin_v=fmt.safe_bottom + pad + round(spec.lift * fmt.height),
            max_line_width=fmt.width - margin_l - margin_r - 2 * outline,
        )


def _events(
    lines: list[list[Word]], spec: CaptionStyle, layout: _Layout, duration: float, brand: BrandKit | None
) -> list[tuple[float, float, str]]:
    highlight = _tag_colour(_brand_highlight(spec, brand))
    text_colour = _tag_colour(_brand_text(spec, brand))
    events: list[tuple[float, float, str]] = []
    for index, line in enumerate(lines):
        next_start = lines[index + 1][0].start if index + 1 < len(lines) else duration
        end = _line_end(line[-1].end, next_start, duration)
        scale = _fit_scale(line, spec, layout)
        if spec.mode == "highlight":
            events += _highlight_events(line, spec, end, scale, highlight, text_colour)
        elif spec.mode == "karaoke":
            events.append((line[0].start, end, _scale_tag(scale) + _karaoke_text(line, spec, end)))
        else:
            events.append((line[0].start, end, _scale_tag(scale) + " ".join(_display(w.text, spec) for w in line)))
    return events


def _line_end(last_word_end: float, next_start: float, duration: float) -> float:
    # Close small gaps so lines hand over without a blank flash; hold a little otherwise.
    if next_start - last_word_end < 2 * _HOLD:
        return min(next_start, duration)
    return min(last_word_end + _HOLD, next_start, duration)


def _highlight_events(
    line: list[Word], spec: CaptionStyle, end: float, scale: int, highlight: str, text_colour: str
) -> list[tuple[float, float, str]]:
    events = []
    for i, word in enumerate(line):
        until = line[i + 1].start if i + 1 < len(line) else end
        parts = [
            f"{{\\1c{highlight}}}{_display(w.text, spec)}{{\\1c{text_colour}}}" if j == i else _display(w.text, spec)
            for j, w in enumerate(line)
        ]
        tags = _pop_tag(scale) if spec.pop and i == 0 else _scale_tag(scale)
        events.append((word.start, until, tags + " ".join(parts)))
    return events


def _karaoke_text(line: list[Word], spec: CaptionStyle, end: float) -> str:
    parts = []
    for i, word in enumerate(line):
        # A word's sweep lasts until the next word starts, so pauses don't jump the highlight.
        until = line[i + 1].start if i + 1 < len(line) else min(word.end, end)
        centis = max(1, round((until - word.start) * 100))
        parts.append(f"{{\\kf{centis}}}{_display(word.text, spec)}")
    return " ".join(parts)


def _fit_scale(line: list[Word], spec: CaptionStyle, layout: _Layout) -> int:
    # A single long word can overflow even alone on a line: shrink that line to fit.
    width = text_width(" ".join(_display(w.text, spec) for w in line), layout.font_size)
    if width <= layout.max_line_width:
        return 100
    return max(10, math.floor(100 * layout.max_line_width / width))


def _scale_tag(scale: int) -> str:
    return "" if scale == 100 else f"{{\\fscx{scale}\\fscy{scale}}}"


def _pop_tag(scale: int) -> str:
    small = round(scale * 0.85)
    return f"{{\\fscx{small}\\fscy{small}\\t(0,90,\\fscx{scale}\\fscy{scale})}}"


def _display(text: str, spec: CaptionStyle) -> str:
    return text.upper() if spec.uppercase else text


def _clean(text: str) -> str:
    # Braces and backslashes are ASS markup and a line break would start a new script line:
    # transcript text (which users can edit) must not inject tags, styles or events.
    return " ".join(re.sub(r"[{}\\]", "", text).split())


def _brand_text(spec: CaptionStyle, brand: BrandKit | None) -> str:
    return (brand.text_color if brand and brand.text_color else None) or spec.text_colour


def _brand_highlight(spec: CaptionStyle, brand: BrandKit | None) -> str:
    if brand:
        for colour in (brand.accent_color, brand.primary_color):
            if colour:
                return colour
    return spec.highlight_colour


def _brand_font(spec: CaptionStyle, brand: BrandKit | None, script_font: str = DEFAULT_FONT) -> str:
    if script_font != DEFAULT_FONT:
        return script_font  # a brand's Latin face would show other scripts as boxes
    if brand:
        preferred = brand.heading_font if spec.font_role == "heading" else brand.body_font
        for font in (preferred, brand.heading_font, brand.body_font):
            if font:
                return " ".join(re.sub(r"[,{}\\]", " ", font).split())  # a comma would split the Style line
    return DEFAULT_FONT


def _rgb(hex_colour: str) -> tuple[str, str, str]:
    value = hex_colour.strip().lstrip("#")
    if not re.fullmatch(r"[0-9a-fA-F]{6}", value):
        raise ValueError(f"Colour {hex_colour!r} is not of the form #RRGGBB.")
    value = value.upper()
    return value[0:2], value[2:4], value[4:6]


def _style_colour(hex_colour: str, alpha: int = 0) -> str:
    r, g, b = _rgb(hex_colour)
    return f"&H{alpha:02X}{b}{g}{r}"


def _tag_colour(hex_colour: str) -> str:
    r, g, b = _rgb(hex_colour)
    return f"&H{b}{g}{r}&"


def _header(fmt: OutputFormat) -> str:
    return (
        "[Script Info]\n"
        "ScriptType: v4.00+\n"
        f"PlayResX: {fmt.width}\n"
        f"PlayResY: {fmt.height}\n"
        "WrapStyle: 0\n"
        "ScaledBorderAndShadow: yes\n"
        "YCbCr Matrix: None\n"
        "\n"
    )


def _style_line(spec: CaptionStyle, layout: _Layout, brand: BrandKit | None, font: str = DEFAULT_FONT) -> str:
    text = _style_colour(_brand_text(spec, brand))
    highlight = _style_colour(_brand_highlight(spec, brand))
    # Karaoke sweeps from SecondaryColour (not yet sung) to PrimaryColour (sung).
    primary, secondary = (highlight, text) if spec.mode == "karaoke" else (text, highlight)
    outline = _style_colour(spec.outline_colour)
    back = _style_colour("#000000", alpha=0x80)
    fields = [
        "Caption", _brand_font(spec, brand, font), str(layout.font_size), primary, secondary, outline, back,
        "-1" if spec.bold else "0", "0", "0", "0", "100", "100", "0", "0", "1",
        _num(layout.outline), _num(layout.shadow), "2",
        # Encoding -1 makes libass choose the paragraph direction from the text: right-to-left lines
        # then read from the right even when karaoke tags split them into one run per word.
        str(layout.margin_l), str(layout.margin_r), str(layout.margin_v), "-1" if font in RTL_FONTS else "1",
    ]  # fmt: skip
    return (
        "[V4+ Styles]\n"
        "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, "
        "Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, "
        "MarginR, MarginV, Encoding\n"
        f"Style: {','.join(fields)}\n\n"
    )


def _events_section(events: list[tuple[float, float, str]]) -> str:
    rows = [
        f"Dialogue: 0,{_ass_time(start)},{_ass_time(end)},Caption,,0,0,0,,{text}"
        for start, end, text in events
        if round(end * 100) > round(start * 100)
    ]
    return "[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n" + "".join(
        row + "\n" for row in rows
    )


def _ass_time(seconds: float) -> str:
    centis = max(0, round(seconds * 100))
    hours, rest = divmod(centis, 360000)
    minutes, rest = divmod(rest, 6000)
    secs, centis = divmod(rest, 100)
    return f"{hours}:{minutes:02d}:{secs:02d}.{centis:02d}"


def _num(value: float) -> str:
    return f"{value:g}"
