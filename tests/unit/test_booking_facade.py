"""Issue 8.4: domain/booking.py (840 lines) split by concern; callers keep ``booking.X``.

The façade must keep every service the callers use, as the very objects of the
modules they now live in, and the modules stay short enough to read.
"""

from __future__ import annotations

from pathlib import Path

from domain import (
    alternatives,
    booking,
    booking_cancel,
    booking_move,
    booking_rules,
    booking_take,
    booking_visit,
)

ROOT = Path(__file__).resolve().parents[2]
USED_BY_CALLERS = {
    "BookingPolicy",
    "Hold",
    "alternatives",
    "block_doctor_time",
    "book",
    "book_once",
    "cancel",
    "cancel_all_for_account",
    "cancel_by_clinic",
    "confirm_attendance",
    "get_owned_appointment",
    "hold_slot",
    "list_appointments",
    "local_day",
    "mark_visit",
    "release_hold",
    "reschedule",
    "reschedule_by_clinic",
}


def test_facade_exports_every_service_the_callers_use() -> None:
    assert set(booking.__all__) >= USED_BY_CALLERS
    homes = [alternatives, booking_cancel, booking_move, booking_rules, booking_take, booking_visit]
    for name in USED_BY_CALLERS - {"Hold"}:
        home = [m for m in homes if name in vars(m) and vars(m)[name].__module__ == m.__name__]
        assert len(home) == 1, name
        assert getattr(booking, name) is getattr(home[0], name)


def test_booking_modules_stay_short() -> None:
    for path in [*ROOT.glob("domain/booking*.py"), ROOT / "domain" / "alternatives.py"]:
        assert len(path.read_text(encoding="utf-8").splitlines()) <= 300, path.name
