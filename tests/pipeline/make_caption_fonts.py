"""Build clipflow_worker/fonts/ (caption fonts for Latin, Greek, Cyrillic, Arabic, Hebrew and CJK).

Sources, all SIL Open Font License 1.1 (the licence travels with the fonts as OFL.txt), from PyPI:
fontpkg-noto-sans (Noto Sans), fontpkg-noto-sans-arabic (Noto Sans Arabic), pylopdf-fonts-he
(Noto Sans Hebrew) and cvttf-notosanscjk-bold (Noto Sans CJK TC Bold). The variable fonts are
pinned to Bold (captions are bold) and everything is subset to the scripts captions need; the
CJK font keeps the characters of GB 2312, JIS X 0208 and KS X 1001 (common Chinese, Japanese
and Korean), which takes it from 17 MB to a few. Run with the wheels unpacked in one folder:

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


def cjk() -> list[int]:
    common = set(_encodable("gb2312")) | set(_encodable("euc_jp")) | set(_encodable("euc_kr"))
    return sorted(common | set(range(0x3000, 0x3100)) | set(range(0xFF00, 0xFFF0)) | set(range(0x20, 0x7F)))


def build(src: Path, out: Path, unicodes: list[int], *, bold: bool = True) -> None:
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
    font.save(str(out))


def main(root: Path) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    build(root / "fontpkg_noto_sans" / "files" / "NotoSans[wdth,wght].ttf", OUT / "NotoSans-Bold.ttf", LATIN_GREEK_CYRILLIC)
    build(root / "fontpkg_noto_sans_arabic" / "files" / "NotoSansArabic[wdth,wght].ttf", OUT / "NotoSansArabic-Bold.ttf", ARABIC)
    build(root / "pylopdf_fonts_he" / "NotoSansHebrew-Variable.ttf", OUT / "NotoSansHebrew-Bold.ttf", HEBREW)
    build(root / "cvttf_NotoSansCJK_Bold" / "NotoSansCJKtc-Bold.otf", OUT / "NotoSansCJK-Bold.otf", cjk(), bold=False)
    (OUT / "OFL.txt").write_text((root / "fontpkg_noto_sans" / "LICENSE").read_text())


if __name__ == "__main__":
    main(Path(sys.argv[1]))
