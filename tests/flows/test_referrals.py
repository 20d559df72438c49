"""Referral and history rules of domain/records.py: the legal waiting time (14 working days
from issue), status (active / used / expired), the «nearly out» warning, the history's
filters and order. Pure functions: no database, no bot."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from domain.models import Appointment, AppointmentStatus, Referral
from domain.records import (
    HistoryFilter,
    HistoryItem,
    add_working_days,
    apply_filter,
    in_history,
    legal_deadline,
    referral_status,
    wait_warning,
    working_days_between,
)

NOW = datetime(2026, 12, 10, 9, 0, tzinfo=UTC)


def referral(issued: date, valid: date, used: int | None = None) -> Referral:
    return Referral(
        id=1,
        number="N-1",
        patient_id=1,
        specialty_id=9,
        clinic_id=None,
        issued_at=datetime(issued.year, issued.month, issued.day, 8, tzinfo=UTC),
        valid_until=valid,
        used_appointment_id=used,
    )


def test_legal_deadline_counts_working_days_only() -> None:
    assert legal_deadline(date(2026, 12, 3)) == date(2026, 12, 23)  # Thu → 14 working days
    assert legal_deadline(date(2026, 12, 5)) == date(2026, 12, 24)  # issued on a Saturday
    assert add_working_days(date(2026, 12, 4), 1) == date(2026, 12, 7)  # Fri → Mon
    assert working_days_between(date(2026, 12, 3), date(2026, 12, 23)) == 14
    assert working_days_between(date(2026, 12, 23), date(2026, 12, 3)) == -14


def test_referral_status() -> None:
    assert referral_status(referral(date(2026, 12, 1), date(2027, 1, 1)), NOW.date()) == "active"
    assert referral_status(referral(date(2026, 11, 1), date(2026, 12, 9)), NOW.date()) == "expired"
    used = referral(date(2026, 12, 1), date(2027, 1, 1), used=5)
    assert referral_status(used, NOW.date()) == "used"


def test_wait_warning_when_the_legal_wait_is_nearly_out() -> None:
    fresh = referral(date(2026, 12, 9), date(2027, 1, 31))
    old = referral(date(2026, 11, 23), date(2027, 1, 31))  # deadline 11 December
    assert not wait_warning(fresh, NOW.date())
    assert wait_warning(old, NOW.date())
    used = referral(date(2026, 11, 23), date(2027, 1, 31), used=3)
    assert not wait_warning(used, NOW.date())


def item(n: int, days_ago: int, status: AppointmentStatus, patient: int = 1) -> HistoryItem:
    start = NOW - timedelta(days=days_ago)
    appointment = Appointment(
        id=n,
        number=f"A-{n}",
        patient_id=patient,
        user_id=1001,
        slot_id=n,
        doctor_id=10 + n,
        clinic_id=1,
        specialty_id=1 if n % 2 else 2,
        start=start,
        minutes=15,
        kind="consultation",
        status=status,
        created_at=start - timedelta(days=1),
    )
    return HistoryItem(appointment, 1001, "Иванов", "self", "Терапевт", "GP", "Д", "П", "UTC")


def test_history_filters_and_order() -> None:
    items = [
        item(1, 2, AppointmentStatus.COMPLETED),
        item(2, 40, AppointmentStatus.NO_SHOW),
        item(3, 200, AppointmentStatus.CANCELLED, patient=2),
        item(4, -3, AppointmentStatus.PENDING),  # upcoming: not history
        item(5, 1, AppointmentStatus.RESCHEDULED),  # moved: its new row is the visit
    ]
    past = [i for i in items if in_history(i.appointment, NOW)]
    assert [i.appointment.id for i in past] == [1, 2, 3]
    newest = apply_filter(past, HistoryFilter(), NOW)
    assert [i.appointment.id for i in newest] == [1, 2, 3]
    oldest = apply_filter(past, HistoryFilter(newest_first=False), NOW)
    assert [i.appointment.id for i in oldest] == [3, 2, 1]
    assert [i.appointment.id for i in apply_filter(past, HistoryFilter(period_days=30), NOW)] == [1]
    assert [i.appointment.id for i in apply_filter(past, HistoryFilter(only_done=True), NOW)] == [1]
    assert [i.appointment.id for i in apply_filter(past, HistoryFilter(patient_id=2), NOW)] == [3]
    by_spec = apply_filter(past, HistoryFilter(specialty_id=2), NOW)
    assert [i.appointment.id for i in by_spec] == [2]
    assert apply_filter(past, HistoryFilter(doctor_id=13, clinic_id=1), NOW)[0].appointment.id == 3
