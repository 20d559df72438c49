"""The .ics parses back to the clinic's local time and zone; the PDF's text holds the details."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar
from pypdf import PdfReader

from documents import Organizer, appointment_ics, appointment_pdf

START = datetime(2026, 12, 3, 3, 30, tzinfo=UTC)  # 10:30 in Novosibirsk (UTC+7)
STAMP = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _ics(tz: str = "Asia/Novosibirsk", *, start: datetime = START) -> bytes:
    return appointment_ics(
        uid="appointment-A-000123@zapis.bot",
        sequence=0,
        start=start,
        minutes=20,
        tz=tz,
        summary="Приём: терапевт — Петрова Анна Сергеевна",
        location="Поликлиника № 1, ул. Ленина, 5",
        description="Номер записи A-000123; возьмите полис ОМС",
        stamp=STAMP,
        organizer=Organizer.clinic(1, "Поликлиника № 1"),
    )


def test_ics_parses_back_to_local_time_and_zone() -> None:
    raw = _ics()
    cal = Calendar.from_ical(raw)
    events = list(cal.walk("VEVENT"))
    assert len(events) == 1
    event = events[0]
    start = event.decoded("dtstart")
    end = event.decoded("dtend")
    assert start.hour == 10 and start.minute == 30
    assert start.date().isoformat() == "2026-12-03"
    assert str(start.tzinfo) == "Asia/Novosibirsk" or start.tzinfo.key == "Asia/Novosibirsk"
    assert start.astimezone(UTC) == START
    assert end - start == timedelta(minutes=20)
    assert "A-000123" in str(event["uid"])
    assert str(event["summary"]).startswith("Приём")
    assert "Ленина" in str(event["location"])
    # The zone travels with the file: a VTIMEZONE for the TZID of DTSTART.
    zones = [str(tz["tzid"]) for tz in cal.walk("VTIMEZONE")]
    assert zones == ["Asia/Novosibirsk"]
    assert b"DTSTART;TZID=Asia/Novosibirsk:20261203T103000" in raw


def test_ics_is_deterministic_and_moscow_time() -> None:
    raw = _ics("Europe/Moscow")
    assert raw == _ics("Europe/Moscow")
    event = next(iter(Calendar.from_ical(raw).walk("VEVENT")))
    start = event.decoded("dtstart")
    assert start.astimezone(ZoneInfo("Europe/Moscow")).hour == 6
    assert b"DTSTART;TZID=Europe/Moscow:20261203T063000" in raw


def test_pdf_text_holds_patient_doctor_date_time() -> None:
    raw = appointment_pdf(
        title="Подтверждение записи к врачу",
        rows=[
            ("Номер записи", "A-000123"),
            ("Пациент", "Иванов Иван Иванович"),
            ("Врач", "Петрова Анна Сергеевна (терапевт)"),
            ("Поликлиника", "Городская поликлиника № 1, ул. Ленина, 5, очень длинный адрес " * 3),
            ("Дата", "3 декабря 2026 г."),
            ("Время", "10:30 (Новосибирск, UTC+7)"),
        ],
        notes_title="Подготовка",
        notes="Натощак. Возьмите паспорт и полис ОМС.",
        footer="Покажите этот документ в регистратуре.",
        created=STAMP,
    )
    assert raw.startswith(b"%PDF")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(raw)).pages)
    flat = " ".join(text.split())
    for needle in (
        "A-000123",
        "Иванов Иван Иванович",
        "Петрова Анна Сергеевна",
        "3 декабря 2026",
        "10:30",
        "Натощак",
    ):
        assert needle in flat, needle


def test_ics_in_utc_has_no_vtimezone() -> None:
    assert b"VTIMEZONE" not in _ics("UTC")
    assert b"DTSTART:20261203T033000Z" in _ics("UTC")


def _pdf_text(patient: str) -> str:
    raw = appointment_pdf(
        title="Подтверждение записи к врачу",
        rows=[("Пациент", patient), ("Врач", "Петрова Анна Сергеевна"), ("Время", "10:30")],
        created=STAMP,
    )
    assert raw.startswith(b"%PDF")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(raw)).pages)
    return " ".join(text.split())


def test_pdf_names_beyond_russian_render() -> None:
    """Latin-1 / Latin Extended-A and non-Russian Cyrillic letters are in the shipped subset."""
    flat = _pdf_text("Łukasz Müller-Øster, Ґалина Її Ўладзімір Әлия Ёлкина №5 «₽»")
    assert "Łukasz Müller-Øster, Ґалина Її Ўладзімір Әлия Ёлкина №5 «₽»" in flat
    assert "Петрова Анна Сергеевна" in flat


def test_pdf_characters_outside_the_font_do_not_break_it() -> None:
    # 'ǎ' (Latin Extended-B) and 'ặ' are outside the subset: drawn from their base letter;
    # Georgian, Chinese and an emoji have no substitute: a visible '?'.
    flat = _pdf_text("Nguyễn Đặng Ǎna ნინო 李 🙂")
    assert "Nguy" in flat and "Đang" in flat
    assert "ნ" not in flat and "李" not in flat
    assert "?" in flat
    assert "Петрова Анна Сергеевна" in flat


def test_printable_substitutions() -> None:
    from documents.pdf import printable

    assert printable("Иванов Иван\nПетрович") == "Иванов Иван\nПетрович"
    assert printable("Ёлкина") == "Ёлкина"
    assert printable("Е\u0308лкина") == "Ёлкина"  # typed decomposed: composed again
    assert printable("ǎ") in ("a\u030c", "a")
    assert printable("ặ") == "a"
    assert printable("ﬁle") == "file"
    assert printable("ნ 李 🙂") == "? ? ?"
    assert printable("a\ufe0fb") == "ab"  # an invisible variation selector is dropped


def test_shipped_fonts_are_renamed_and_keep_the_notices() -> None:
    """Bitstream Vera licence: a modified font may not be named "Bitstream" or "Vera"."""
    from fontTools.ttLib import TTFont

    from documents.pdf import FONT_FILES

    for path in FONT_FILES.values():
        font = TTFont(path, lazy=True)
        names = {r.nameID: r.toUnicode() for r in font["name"].names if r.platformID == 3}
        font.close()
        for nid in (1, 3, 4, 6, 16):
            if nid in names:
                assert "Vera" not in names[nid] and "Bitstream" not in names[nid], names[nid]
        assert names[1] == "DejaVu Sans Zapis"
        assert "Bitstream" in names[0]  # copyright notice kept
        assert 13 in names  # licence text kept


def test_pdf_creation_date_comes_from_the_app_clock() -> None:
    """Regression: fpdf2 stamped the machine's now() (the console's virtual time was ignored)."""
    created = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    raw = appointment_pdf(title="Подтверждение записи к врачу", rows=[], created=created)
    meta = PdfReader(io.BytesIO(raw)).metadata
    assert meta is not None and meta.creation_date == created
    assert raw == appointment_pdf(title="Подтверждение записи к врачу", rows=[], created=created)
