"""The booking calendar's weeks (issue 7, item 9)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from aiogram.utils.i18n import I18n

from flows.ui.calendar import calendar_rows, window
from flows.ui.callbacks import BkDay, day_code


def _rows(today: date, free: list[date], locale: str = "ru") -> list[list[tuple[str, str]]]:
    rows = calendar_rows(window(today), free, lambda d: BkDay(doctor_id=1, day=day_code(d)), locale)
    return [[(b.text, str(b.callback_data)) for b in row] for row in rows]


def test_calendar_weeks_start_on_monday_with_past_days_disabled() -> None:
    """Regression: rows began on today's weekday (a Tuesday), so columns were not weekdays."""
    today = date(2026, 12, 1)  # a Tuesday
    rows = _rows(today, [date(2026, 12, 3), date(2026, 12, 14)])
    assert [t for t, _d in rows[0]] == ["пн", "вт", "ср", "чт", "пт", "сб", "вс"]
    assert all(len(row) == 7 for row in rows)
    week1 = rows[1]
    assert week1[0] == ("·30", "nop:past")  # Monday 30 Nov is past: disabled
    assert week1[1] == ("·1", "nop:day")  # today, nothing free
    assert week1[3] == ("3", "by:1:20261203:0")  # Thursday 3 Dec is bookable
    last = rows[-1]
    assert last[0] == ("14", "by:1:20261214:0")  # Monday 14 Dec: last day of the window
    assert last[1:] == [(f"·{d}", "nop:later") for d in range(15, 21)]
    assert [t for t, _d in _rows(today, [], "en")[0]] == ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"]


def test_calendar_on_a_monday_has_no_past_days() -> None:
    rows = _rows(date(2026, 12, 7), [])
    assert rows[1][0] == ("·7", "nop:day")
    assert "nop:past" not in {d for row in rows for _t, d in row}


def test_times_are_babels_hh_mm_in_every_locale() -> None:
    """flows/ui/format.py writes a slot's «HH:mm» without Babel: the same text."""
    from datetime import UTC, datetime, timedelta

    from babel.dates import format_time

    from flows.ui.format import _time_text, local

    start = datetime(2026, 3, 28, 20, 7, tzinfo=UTC)  # across Europe's DST change
    for step in range(0, 60 * 30, 23):
        moment = start + timedelta(minutes=step * 7)
        for tz in ("Europe/Moscow", "Asia/Novosibirsk", "Europe/Berlin", "Asia/Kolkata"):
            for loc in ("ru", "en"):
                expected = format_time(local(moment, tz), "HH:mm", locale=loc)
                assert _time_text(moment, tz, loc) == expected


def test_a_remembered_calendar_is_the_one_built_for_its_doctor_days_and_locale() -> None:
    """flows/booking_views.py remembers a doctor's two weeks: what comes back is what
    calendar_rows builds for exactly that doctor, those free days and that locale (the rows are
    tuples: a screen adds its own rows to a copy)."""
    from flows.booking_views import _calendar_grid
    from flows.ui.calendar import months_caption

    def texts(rows: object) -> list[list[tuple[str, str]]]:
        return [[(b.text, str(b.callback_data)) for b in row] for row in rows]  # type: ignore[attr-defined]

    today = date(2026, 12, 29)
    free = (date(2026, 12, 30), date(2027, 1, 4))
    for doctor_id, days, loc in [
        (7, free, "ru"),
        (8, free, "ru"),
        (7, free[:1], "ru"),
        (7, free, "en"),
    ]:
        grid, months = _calendar_grid(today, days, doctor_id, loc)
        built = calendar_rows(
            window(today), days, lambda d, n=doctor_id: BkDay(doctor_id=n, day=day_code(d)), loc
        )
        assert texts(grid) == texts(built)
        assert months == months_caption(window(today), loc)
    assert "by:8:20261230:0" in str(texts(_calendar_grid(today, free, 8, "ru")[0]))
    assert "январь" in _calendar_grid(today, free, 7, "ru")[1]
    assert "January" in _calendar_grid(today, free, 7, "en")[1]


def test_a_days_time_buttons_pack_as_bkslot_does() -> None:
    """flows/booking_views.py packs the patient's part of a time button once a screen: the
    buttons' data is BkSlot.packed's, for any patient and slot id (a value outside what
    BkSlot accepts still goes through it, and is refused there)."""
    from datetime import UTC, datetime

    from domain.models import Clinic, Doctor
    from flows.wizard_loaders import Looks

    clinic = Clinic(1, "msk", "ГП 1", "ул. 1", "ЦАО", "adult", "+7", "8-20", "Europe/Moscow", 4.5)
    doctor = Doctor(3, "Иванов", "Иван", "Иванович", "терапевт", 10)
    looks = Looks(home_tz="Europe/Moscow", hold_minutes=5)
    start = datetime(2026, 12, 2, 6, tzinfo=UTC)
    i18n = I18n(path=Path(__file__).parents[2] / "locales", default_locale="ru", domain="messages")
    with i18n.context():
        _time_buttons_pack_as_bkslot_does(clinic, doctor, looks, start)


def _time_buttons_pack_as_bkslot_does(clinic: Any, doctor: Any, looks: Any, start: Any) -> None:
    from datetime import timedelta

    import pytest

    from domain.models import Slot, SlotStatus
    from flows.booking_draft import BookingDraft
    from flows.booking_views import slots_screen
    from flows.ui.callbacks import BkSlot
    from flows.ui.safe_callback import MAX_INT
    from flows.wizard_loaders import SlotsView

    for patient_id in (1, 42, MAX_INT):
        ids = [1, 9, 10, 12345, MAX_INT]
        slots = [
            Slot(
                n,
                1,
                doctor.id,
                clinic.id,
                1,
                "msk",
                start + timedelta(minutes=20 * i),
                20,
                "consultation",
                SlotStatus.FREE,
            )
            for i, n in enumerate(ids)
        ]
        draft = BookingDraft(step="slot", patient_id=patient_id, doctor_id=doctor.id, day=20261202)
        view = SlotsView(doctor, clinic, date(2026, 12, 2), slots, None)
        _text, markup = slots_screen(draft, view, looks)
        assert markup is not None
        packed = [b.callback_data for row in markup.inline_keyboard for b in row][: len(ids)]
        assert packed == [BkSlot.packed(patient_id=patient_id, slot_id=n) for n in ids]
    bad = Slot(
        MAX_INT + 1, 1, doctor.id, clinic.id, 1, "msk", start, 20, "consultation", SlotStatus.FREE
    )
    view = SlotsView(doctor, clinic, date(2026, 12, 2), [bad], None)
    with pytest.raises(ValueError):
        slots_screen(BookingDraft(step="slot", patient_id=1, doctor_id=doctor.id), view, looks)
