"""The issued certificate («справка») as a one-page PDF, in Russian like every clinic paper.

A school, a pool or an employer reads it, so it is printed in Russian whatever
the patient's language; Cyrillic comes from the shipped DejaVu subset (pdf.py).
A pure function of its data: the same issued request gives the same file, so
the section rebuilds it on every download instead of storing it.
"""

from __future__ import annotations

from datetime import date, datetime

from documents.pdf import FONT, _document, printable


def _ru_date(day: date | None) -> str:
    return day.strftime("%d.%m.%Y") if day else "—"


def certificate_pdf(
    *,
    number: str,
    kind_name: str,
    patient_name: str,
    birth_date: date | None,
    purpose: str,
    clinic_name: str,
    clinic_address: str,
    issued_on: date,
    created: datetime,
) -> bytes:
    """Header (clinic), title with the number, the patient's data, purpose, issue date."""
    if created.tzinfo is None:
        raise ValueError("certificate_pdf needs an aware creation date")
    pdf = _document(created)
    width = pdf.epw
    title = f"Справка № {number}"
    pdf.set_title(printable(title))
    pdf.set_font(FONT, "", 10)
    pdf.multi_cell(
        width, 5, printable(f"{clinic_name}\n{clinic_address}"), new_x="LMARGIN", new_y="NEXT"
    )
    pdf.ln(8)
    pdf.set_font(FONT, "B", 16)
    pdf.multi_cell(width, 9, printable(title), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "B", 12)
    pdf.multi_cell(width, 7, printable(kind_name), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    rows = [
        ("Пациент", patient_name),
        ("Дата рождения", _ru_date(birth_date)),
        ("Цель", purpose),
        ("Медицинская организация", clinic_name),
        ("Дата выдачи", _ru_date(issued_on)),
        ("Номер", number),
    ]
    label_w = 60
    for label, value in rows:
        y = pdf.get_y()
        pdf.set_font(FONT, "B", 11)
        pdf.multi_cell(label_w, 7, printable(label), new_x="RIGHT", new_y="TOP")
        pdf.set_font(FONT, "", 11)
        pdf.multi_cell(width - label_w, 7, printable(value) or "—", new_x="LMARGIN", new_y="NEXT")
        pdf.set_y(max(pdf.get_y(), y + 7))
    pdf.ln(16)
    pdf.set_font(FONT, "", 11)
    pdf.multi_cell(
        width, 7, printable("Врач ____________________      М. П."), new_x="LMARGIN", new_y="NEXT"
    )
    pdf.ln(6)
    pdf.set_font(FONT, "", 8)
    pdf.multi_cell(
        width,
        4,
        printable(
            "Выдана через сервис записи к врачу «Запись». Номер справки проверяется в регистратуре."
        ),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    return bytes(pdf.output())
