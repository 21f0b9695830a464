"""Build clipflow_worker/fonts/ (caption fonts for Latin, Greek, Cyrillic, Arabic, Hebrew and CJK).

Sources, all SIL Open Font License 1.1 (the licence travels with the fonts as licenses/OFL.txt), from PyPI:
fontpkg-noto-sans (Noto Sans), fontpkg-noto-sans-arabic (Noto Sans Arabic), pylopdf-fonts-he
(Noto Sans Hebrew) and cvttf-notosanscjk-bold (Noto Sans CJK TC Bold). The variable fonts are
pinned to Bold (captions are bold) and everything is subset to the scripts captions need; the
CJK font keeps the first levels of GB 2312 and JIS X 0208 and the hangul of KS X 1001 (the
common Chinese, Japanese and Korean characters), which takes it from 17 MB to about 4 MB. Run with the wheels unpacked in one folder:

    .venv/bin/python tests/pipeline/make_caption_fonts.py /path/to/unpacked
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont
from fontTools.varLib import instancer

OUT = Path(__file__).resolve().parents[2] / "clipflow_worker" / "fonts"

LATIN_GREEK_CYRILLIC = [*range(0x20, 0x250), *range(0x2B0, 0x370), *range(0x370, 0x400), *range(0x400, 0x530),
                        *range(0x1E00, 0x1F00), *range(0x1F00, 0x2000), *range(0x2000, 0x2070), *range(0x20A0, 0x20C0)]
ARABIC = [*range(0x20, 0x80), *range(0x600, 0x700), *range(0x750, 0x780), *range(0x8A0, 0x900), *range(0xFB50, 0xFE00),
          *range(0xFE70, 0xFF00), *range(0x2000, 0x2070)]
HEBREW = [*range(0x20, 0x80), *range(0x590, 0x600), *range(0xFB1D, 0xFB50), *range(0x2000, 0x2070)]


def _encodable(codec: str, lo: int = 0x2E80) -> list[int]:
    out = []
    for cp in range(lo, 0x10000):
        try:
            chr(cp).encode(codec)
        except UnicodeEncodeError:
            continue
        out.append(cp)
    return out


def _level_one(codec: str, first: bytes, last: bytes) -> set[int]:
    """The characters of a double-byte charset's first (most common) level, from ``first`` to ``last``."""
    out = set()
    lo, hi = int.from_bytes(first, "big"), int.from_bytes(last, "big")
    for code in range(lo, hi + 1):
        try:
            out.add(ord(code.to_bytes(2, "big").decode(codec)))
        except (UnicodeDecodeError, TypeError):
            continue
    return out


def cjk() -> list[int]:
    hanzi = _level_one("gb2312", b"\xb0\xa1", b"\xd7\xf9")  # GB 2312 level 1: the 3,755 most used
    kanji = _level_one("shift_jis", b"\x88\x9f", b"\x98\x72")  # JIS X 0208 level 1: 2,965 kanji
    hangul = _level_one("euc_kr", b"\xb0\xa1", b"\xc8\xfe")  # KS X 1001: 2,350 hangul syllables
    kana = set(range(0x3040, 0x3100))
    common = hanzi | kanji | hangul | kana
    return sorted(common | set(range(0x3000, 0x3100)) | set(range(0xFF00, 0xFFF0)) | set(range(0x20, 0x7F)))


def build(src: Path, out: Path, unicodes: list[int], *, bold: bool = True, family: str = "") -> None:
    font = TTFont(str(src))
    if bold and "fvar" in font:
        axes = {a.axisTag: a for a in font["fvar"].axes}
        pins = {"wght": 700} | ({"wdth": 100} if "wdth" in axes else {})
        font = instancer.instantiateVariableFont(font, pins)
    options = subset.Options()
    options.layout_features = ["*"]  # keep shaping (init/medi/fina, ligatures, marks) for HarfBuzz
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.hinting = False
    sub = subset.Subsetter(options)
    sub.populate(unicodes=unicodes)
    sub.subset(font)
    if family:
        _name_bold(font, family)
    font.save(str(out))


def _name_bold(font: TTFont, family: str) -> None:
    """Name a pinned instance as the Bold of ``family`` (the instancer keeps the variable font's names)."""
    names = font["name"]
    for record in list(names.names):
        if record.nameID in (16, 17) or record.nameID >= 256:
            names.removeNames(nameID=record.nameID)
    postscript = family.replace(" ", "") + "-Bold"
    for name_id, value in ((1, family), (2, "Bold"), (3, postscript), (4, f"{family} Bold"), (6, postscript)):
        names.setName(value, name_id, 3, 1, 0x409)
        names.setName(value, name_id, 1, 0, 0)
    font["OS/2"].usWeightClass = 700
    font["OS/2"].fsSelection = (font["OS/2"].fsSelection & ~0b1000001) | 0b100000  # BOLD, not REGULAR/ITALIC
    font["head"].macStyle = (font["head"].macStyle & ~0b10) | 0b1


def main(root: Path) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    build(root / "fontpkg_noto_sans" / "files" / "NotoSans[wdth,wght].ttf", OUT / "NotoSans-Bold.ttf", LATIN_GREEK_CYRILLIC,
          family="Noto Sans")
    build(root / "fontpkg_noto_sans_arabic" / "files" / "NotoSansArabic[wdth,wght].ttf", OUT / "NotoSansArabic-Bold.ttf", ARABIC,
          family="Noto Sans Arabic")
    build(root / "pylopdf_fonts_he" / "NotoSansHebrew-Variable.ttf", OUT / "NotoSansHebrew-Bold.ttf", HEBREW,
          family="Noto Sans Hebrew")
    build(root / "cvttf_NotoSansCJK_Bold" / "NotoSansCJKtc-Bold.otf", OUT / "NotoSansCJK-Bold.otf", cjk(), bold=False,
          family="Noto Sans CJK TC")
    (OUT / "licenses").mkdir(exist_ok=True)  # a subfolder: libass loads every file in fontsdir itself
    (OUT / "licenses" / "OFL.txt").write_text((root / "fontpkg_noto_sans" / "LICENSE").read_text())


if __name__ == "__main__":
    main(Path(sys.argv[1]))
