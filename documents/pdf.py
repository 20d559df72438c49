"""A one-page PDF confirmation to show at the clinic (fpdf2 + a shipped DejaVu Sans subset).

The PDF core fonts have no Cyrillic, so a font is embedded. fpdf2 parses the
font file and subsets it again for every document, so the shipped font is
small: documents/fonts/DejaVuSans-Zapis*.ttf is DejaVu Sans cut down (once, at
development time, by documents/fonts/build_subset.py) to ~700 glyphs — Latin
incl. Latin-1 and Extended-A, Cyrillic, punctuation, № ₽ « » — which makes a PDF
several times cheaper than with the full ~6,000-glyph font (bench/README-documents.md).

A character outside the subset (a name with 'ǎ', a Georgian letter, an emoji)
must not break the confirmation: `printable` turns it into its base letter when
the font has that, otherwise into a visible '?'.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where a PDF is built: ~45 MiB a bot process only needs then
    from fpdf import FPDF

FONTS = Path(__file__).resolve().parent / "fonts"
FONT = "DejaVu"
FONT_FILES = {"": FONTS / "DejaVuSans-Zapis.ttf", "B": FONTS / "DejaVuSans-Zapis-Bold.ttf"}
REPLACEMENT = "?"
_KEEP = frozenset("\n\r\t")  # line breaks and tabs are layout, not glyphs


@cache
def covered() -> frozenset[int]:
    """Code points every shipped style can draw (read once per process)."""
    from fontTools.ttLib import TTFont

    sets = []
    for path in FONT_FILES.values():
        font = TTFont(path, lazy=True)
        try:
            sets.append(frozenset(font.getBestCmap()))
        finally:
            font.close()
    return frozenset.intersection(*sets)


def _substitute(ch: str, fonts: frozenset[int]) -> str:
    """One character the font lacks → the closest thing it can draw, or '?'."""
    decomposed = unicodedata.normalize("NFKD", ch)
    for candidate in (unicodedata.normalize("NFC", decomposed), decomposed):
        if candidate and all(ord(c) in fonts for c in candidate):
            return candidate  # e.g. 'ﬁ' → 'fi', 'ǎ' → 'a' + combining caron
    base = "".join(c for c in decomposed if not unicodedata.combining(c))
    if base and all(ord(c) in fonts for c in base):
        return base  # e.g. 'ặ' → 'a'
    if unicodedata.category(ch) in ("Mn", "Me", "Cf", "Cc"):
        return ""  # invisible: variation selectors, joiners, stray marks and controls
    return REPLACEMENT


def printable(text: str) -> str:
    """``text`` in NFC with every character the shipped font lacks substituted."""
    text = unicodedata.normalize("NFC", text)
    fonts = covered()
    if all(ord(c) in fonts or c in _KEEP for c in text):
        return text
    return "".join(c if ord(c) in fonts or c in _KEEP else _substitute(c, fonts) for c in text)


def _document(created: datetime) -> FPDF:
    from fpdf import FPDF  # see the imports: loaded with the first document

    pdf = FPDF(format="A4")
    # The app clock, not fpdf2's own now(): the console's virtual time and the
    # tests see the date the document claims, and the same visit gives the same file.
    pdf.set_creation_date(created)
    pdf.set_auto_page_break(auto=True, margin=15)
    for style, path in FONT_FILES.items():
        pdf.add_font(FONT, style, str(path))
    for font in pdf.fonts.values():
        # The shipped glyphs already carry correct bounding boxes: without this,
        # fontTools unpacks and re-encodes every embedded glyph to recompute them.
        ttfont = getattr(font, "ttfont", None)
        if ttfont is not None:
            ttfont.recalcBBoxes = False
    pdf.set_creator("Zapis")
    pdf.add_page()
    return pdf


def appointment_pdf(
    *,
    title: str,
    rows: Sequence[tuple[str, str]],
    created: datetime,
    notes_title: str = "",
    notes: str = "",
    footer: str = "",
) -> bytes:
    """Title, «label: value» rows (number, patient, doctor, clinic, date, time…), notes, footer.

    Texts arrive translated; long values wrap, so a long address never runs off the page.
    ``created`` (aware, from the injected clock) is the document's creation date.
    """
    if created.tzinfo is None:
        raise ValueError("appointment_pdf needs an aware creation date")
    pdf = _document(created)
    title = printable(title)
    pdf.set_title(title)
    width = pdf.epw
    pdf.set_font(FONT, "B", 16)
    pdf.multi_cell(width, 9, title, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    label_w = 55
    for label, value in rows:
        pdf.set_font(FONT, "B", 11)
        y = pdf.get_y()
        pdf.multi_cell(label_w, 7, printable(label), new_x="RIGHT", new_y="TOP")
        pdf.set_font(FONT, "", 11)
        pdf.multi_cell(width - label_w, 7, printable(value) or "—", new_x="LMARGIN", new_y="NEXT")
        pdf.set_y(max(pdf.get_y(), y + 7))
    if notes:
        pdf.ln(4)
        pdf.set_font(FONT, "B", 11)
        pdf.multi_cell(width, 7, printable(notes_title), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FONT, "", 11)
        pdf.multi_cell(width, 6, printable(notes), new_x="LMARGIN", new_y="NEXT")
    if footer:
        pdf.ln(6)
        pdf.set_font(FONT, "", 9)
        pdf.multi_cell(width, 5, printable(footer), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
