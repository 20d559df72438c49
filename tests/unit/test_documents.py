"""The .ics parses back to the clinic's local time and zone; the PDF's text holds the details."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar
from pypdf import PdfReader

from bot.documents import appointment_ics, appointment_pdf

START = datetime(2026, 12, 3, 3, 30, tzinfo=UTC)  # 10:30 in Novosibirsk (UTC+7)
STAMP = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _ics(tz: str = "Asia/Novosibirsk") -> bytes:
    return appointment_ics(
        number="A-000123",
        start=START,
        minutes=20,
        tz=tz,
        summary="Приём: терапевт — Петрова Анна Сергеевна",
        location="Поликлиника № 1, ул. Ленина, 5",
        description="Номер записи A-000123; возьмите полис ОМС",
        stamp=STAMP,
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
