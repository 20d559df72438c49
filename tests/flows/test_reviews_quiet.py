"""The review ask is never planned inside the quiet hours of the clinic's zone (issue 10.3)."""

from __future__ import annotations

from datetime import UTC, datetime, time

from domain.models import AppointmentStatus
from domain.quiet_hours import QuietWindow
from domain.reviews import ASK_DELAY, Visit, ask_item

QUIET = QuietWindow(time(22, 0), time(8, 0))


def _visit(tz: str) -> Visit:
    return Visit(7, 1001, 3, 1, 1, AppointmentStatus.COMPLETED, tz)


def test_ask_at_night_waits_for_the_morning_of_the_clinic() -> None:
    late = datetime(2026, 12, 3, 19, 30, tzinfo=UTC)  # 22:30 in Moscow an hour later
    item = ask_item(_visit("Europe/Moscow"), late, QUIET)
    assert item.due_at == datetime(2026, 12, 4, 5, 0, tzinfo=UTC)  # 08:00 Moscow
    assert item.idem_key == "review:7:ask" and item.payload == {"appointment_id": 7}


def test_ask_in_the_day_goes_an_hour_later() -> None:
    noon = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    assert ask_item(_visit("Europe/Moscow"), noon, QUIET).due_at == noon + ASK_DELAY
    # an hour after 15:00 UTC is 23:00 in Novosibirsk (UTC+7): quiet there
    evening = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)
    assert ask_item(_visit("Asia/Novosibirsk"), evening, QUIET).due_at == datetime(
        2026, 12, 4, 1, 0, tzinfo=UTC
    )
