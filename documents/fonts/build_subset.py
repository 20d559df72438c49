"""Development-time tool: cut DejaVuSans-Zapis*.ttf out of the full DejaVu Sans.

Run once when the character set changes (not at runtime; the bot only reads
the .ttf files it produces):

    .venv/bin/python documents/fonts/build_subset.py /usr/share/fonts/truetype/dejavu

The argument is a directory holding the original DejaVuSans.ttf and
DejaVuSans-Bold.ttf (DejaVu 2.37, e.g. Debian's fonts-dejavu-core). Why: fpdf2
parses and subsets the embedded font for every PDF; the full DejaVu Sans has
~6,000 glyphs, the booking PDF needs Latin, Cyrillic and some punctuation, so a
~700-glyph font makes each PDF several times cheaper.

Licence (LICENSE.txt, Bitstream Vera): modified fonts must be renamed to names
containing neither "Bitstream" nor "Vera", and the copyright and trademark
notices must stay. So every name record is kept (copyright, trademark, licence
text) and only the family / full / PostScript / unique names are changed to
"DejaVu Sans Zapis"; the version string says it is a subset.

fontTools ships with fpdf2 (its dependency), so nothing extra is installed.
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

HERE = Path(__file__).resolve().parent
FAMILY = "DejaVu Sans Zapis"

# Code point ranges kept (whatever DejaVu Sans has inside them).
RANGES: list[tuple[int, int]] = [
    (0x0020, 0x007E),  # Basic Latin
    (0x00A0, 0x017F),  # Latin-1 Supplement (« » ° × ä é ü …), Latin Extended-A (ł ś ž ğ ş ı …)
    (0x018F, 0x018F),  # Ə (Azerbaijani)
    (0x0218, 0x021B),  # Ș ș Ț ț (Romanian)
    (0x0259, 0x0259),  # ə
    (0x0300, 0x0308),  # combining grave, acute (Russian stress mark) … breve, dot, diaeresis
    (0x030A, 0x030C),  # combining ring, double acute, caron
    (0x0327, 0x0328),  # cedilla, ogonek
    (0x0400, 0x045F),  # Cyrillic: Russian incl. ё Ё, Ukrainian, Belarusian, Serbian, Macedonian
    (0x0490, 0x04FF),  # Cyrillic: Ґ ґ, Kazakh, Tatar, Bashkir, Chuvash, Yakut, Tuvan … letters
    (
        0x2000,
        0x206F,
    ),  # General Punctuation: spaces (U+202F in Babel times), – — ‘ ’ “ ” „ • … ‰ ‹ ›
    (0x20A0, 0x20CF),  # currency: € ₽ ₸ ₴
    (0x2103, 0x2103),  # ℃
    (0x2116, 0x2116),  # №
    (0x2122, 0x2122),  # ™
    (0x2190, 0x2193),  # ← ↑ → ↓
    (0x2212, 0x2212),  # minus
    (0x25A0, 0x25A1),  # ■ □
    (0x25CB, 0x25CB),  # ○
    (0x25CF, 0x25CF),  # ●
    (0x2713, 0x2714),  # ✓ ✔
    (0x2717, 0x2717),  # ✗
    (0xFFFD, 0xFFFD),  # replacement character
]

SOURCES = {
    "DejaVuSans.ttf": ("DejaVuSans-Zapis.ttf", "Book", "DejaVuSansZapis"),
    "DejaVuSans-Bold.ttf": ("DejaVuSans-Zapis-Bold.ttf", "Bold", "DejaVuSansZapis-Bold"),
}


def codepoints() -> list[int]:
    return [cp for lo, hi in RANGES for cp in range(lo, hi + 1)]


def _rename(font: TTFont, style: str, postscript: str) -> None:
    """Family / full / PostScript / unique names → "DejaVu Sans Zapis" (licence: no "Vera")."""
    full = FAMILY if style == "Book" else f"{FAMILY} {style}"
    table = font["name"]
    version = ""
    for record in table.names:
        if record.nameID == 5:
            version = record.toUnicode()
            break
    new = {
        1: FAMILY,
        3: f"{FAMILY} {style}; subset for Zapis",
        4: full,
        5: f"{version}; subset for Zapis (Latin, Cyrillic, punctuation)",
        6: postscript,
        16: FAMILY,
    }
    for record in table.names:
        if record.nameID in new:
            record.string = new[record.nameID]
    for record in table.names:
        for nid in (1, 4, 6, 16):
            if record.nameID == nid:
                text = record.toUnicode()
                if "Vera" in text or "Bitstream" in text:
                    raise SystemExit(f"name {nid} still says {text!r}")


def build(source_dir: Path) -> None:
    for source, (target, style, postscript) in SOURCES.items():
        font = TTFont(source_dir / source, recalcTimestamp=False)
        options = subset.Options()
        options.name_IDs = ["*"]  # keep copyright, trademark and licence records
        options.name_languages = ["*"]
        options.glyph_names = False  # fpdf2 embeds post format 3 anyway
        options.notdef_outline = True
        options.recommended_glyphs = True
        options.hinting = True  # same rendering as the full font
        options.layout_features = []
        # fpdf2 drops these when it embeds the font anyway (no text shaping here)
        options.drop_tables += ["FFTM", "GDEF", "GPOS", "GSUB", "MATH", "kern"]
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=codepoints())
        subsetter.subset(font)
        _rename(font, style, postscript)
        font.save(HERE / target)
        print(target, font["maxp"].numGlyphs, "glyphs", (HERE / target).stat().st_size, "bytes")


if __name__ == "__main__":
    build(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/usr/share/fonts/truetype/dejavu"))
