"""A one-page PDF confirmation to show at the clinic (fpdf2 + the shipped DejaVu Sans).

DejaVu Sans is bundled (bot/assets/fonts, Bitstream Vera licence) because the
PDF core fonts have no Cyrillic; the file is embedded (subset) in the PDF.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from fpdf import FPDF

FONTS = Path(__file__).resolve().parent.parent / "assets" / "fonts"
FONT = "DejaVu"


def _document() -> FPDF:
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_font(FONT, "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.set_creator("Zapis")
    pdf.add_page()
    return pdf


def appointment_pdf(
    *,
    title: str,
    rows: Sequence[tuple[str, str]],
    notes_title: str = "",
    notes: str = "",
    footer: str = "",
) -> bytes:
    """Title, «label: value» rows (number, patient, doctor, clinic, date, time…), notes, footer.

    Texts arrive translated; long values wrap, so a long address never runs off the page.
    """
    pdf = _document()
    pdf.set_title(title)
    width = pdf.epw
    pdf.set_font(FONT, "B", 16)
    pdf.multi_cell(width, 9, title, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    label_w = 55
    for label, value in rows:
        pdf.set_font(FONT, "B", 11)
        y = pdf.get_y()
        pdf.multi_cell(label_w, 7, label, new_x="RIGHT", new_y="TOP")
        pdf.set_font(FONT, "", 11)
        pdf.multi_cell(width - label_w, 7, value or "—", new_x="LMARGIN", new_y="NEXT")
        pdf.set_y(max(pdf.get_y(), y + 7))
    if notes:
        pdf.ln(4)
        pdf.set_font(FONT, "B", 11)
        pdf.multi_cell(width, 7, notes_title, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FONT, "", 11)
        pdf.multi_cell(width, 6, notes, new_x="LMARGIN", new_y="NEXT")
    if footer:
        pdf.ln(6)
        pdf.set_font(FONT, "", 9)
        pdf.multi_cell(width, 5, footer, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
