"""Pure planning rules: quiet hours, reminder times, drop reasons, backoff, the rate limiter."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, time, timedelta

from bot.ratelimit import RateLimiter
from domain.models import Appointment, AppointmentStatus
from domain.notifications import (
    backoff,
    format_optout,
    parse_optout,
    reminder_drop_reason,
    reminder_items,
)
from domain.quiet_hours import SHIFT, SKIP, QuietWindow, before_quiet, in_quiet, quiet_end_after

MSK = "Europe/Moscow"  # UTC+3
NSK = "Asia/Novosibirsk"  # UTC+7
Q = QuietWindow(time(22, 0), time(8, 0))


def at(h: int, m: int = 0, day: int = 2) -> datetime:
    return datetime(2026, 12, day, h, m, tzinfo=UTC)


def appt(start: datetime) -> Appointment:
    return Appointment(
        id=7,
        number="A-7",
        patient_id=1,
        user_id=1001,
        slot_id=1,
        doctor_id=1,
        clinic_id=1,
        specialty_id=1,
        start=start,
        minutes=20,
        kind="consultation",
        status=AppointmentStatus.PENDING,
        created_at=at(0, day=1),
    )


def test_window_spans_midnight() -> None:
    assert Q.contains(time(23, 30)) and Q.contains(time(0, 0)) and Q.contains(time(7, 59))
    assert not Q.contains(time(8, 0)) and not Q.contains(time(21, 59))
    assert not QuietWindow(time(0, 0), time(0, 0)).contains(time(3, 0))  # empty window
    day_window = QuietWindow(time(13, 0), time(14, 0))
    assert day_window.contains(time(13, 30)) and not day_window.contains(time(14, 0))


def test_quiet_hours_are_the_patients_local_night() -> None:
    # 20:00 UTC is 23:00 in Moscow (quiet) but 03:00 next day in Novosibirsk (quiet too);
    # 16:00 UTC is 19:00 in Moscow (fine) and 23:00 in Novosibirsk (quiet).
    assert in_quiet(at(20), MSK, Q)
    assert not in_quiet(at(16), MSK, Q) and in_quiet(at(16), NSK, Q)


def test_a_reminder_falling_at_night_goes_out_before_the_night_begins() -> None:
    # Visit at 08:30 Moscow (05:30 UTC) on 3 Dec: the 2 h reminder would be 06:30 local.
    visit = datetime(2026, 12, 3, 5, 30, tzinfo=UTC)
    due = before_quiet(visit - timedelta(hours=2), MSK, Q)
    assert due == datetime(2026, 12, 2, 18, 59, tzinfo=UTC)  # 21:59 Moscow the evening before
    # Not in the window: unchanged.
    assert before_quiet(at(10), MSK, Q) == at(10)
    # 23:30 local → moved back to 21:59 the same evening.
    assert before_quiet(at(20, 30), MSK, Q) == at(18, 59)


def test_reminder_items_apply_quiet_hours_and_skip_the_past() -> None:
    visit = datetime(2026, 12, 3, 5, 30, tzinfo=UTC)  # 08:30 Moscow
    shift = QuietWindow(time(22, 0), time(8, 0), SHIFT)
    items = reminder_items(appt(visit), [1440, 120], at(1), tz=MSK, quiet=shift)
    assert [(i.idem_key, i.due_at) for i in items] == [
        ("appt:7:reminder:1440", datetime(2026, 12, 2, 5, 30, tzinfo=UTC)),
        ("appt:7:reminder:120", datetime(2026, 12, 2, 18, 59, tzinfo=UTC)),
    ]
    # Booked at 23:00 the night before: the 24 h one is past, the 2 h one would move into the past.
    late = reminder_items(appt(visit), [1440, 120], at(20), tz=MSK, quiet=shift)
    assert late == []
    # Without a window the old behaviour stays (callers that do not pass a zone).
    assert len(reminder_items(appt(visit), [1440, 120], at(1))) == 2
    assert all(i.payload["appointment_id"] == 7 for i in items)


def test_2h_reminder_of_an_0800_visit_is_not_sent_the_evening_before() -> None:
    """Regression: the 2 h reminder of an 08:00 visit arrived at 21:59 the evening before
    («через 2 ч»). By default (SKIP) a short reminder falling in quiet hours is not planned;
    the day-ahead one still is, and a short one outside quiet hours stays at visit − 2 h."""
    eight = datetime(2026, 12, 3, 5, 0, tzinfo=UTC)  # 08:00 Moscow
    assert Q.short_reminders == SKIP
    items = reminder_items(appt(eight), [1440, 120], at(1), tz=MSK, quiet=Q)
    assert [(i.idem_key, i.due_at) for i in items] == [("appt:7:reminder:1440", at(5))]
    noon = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)  # 12:00 Moscow: 10:00 is not quiet
    items = reminder_items(appt(noon), [1440, 120], at(1), tz=MSK, quiet=Q)
    assert [i.due_at for i in items] == [at(9), datetime(2026, 12, 3, 7, 0, tzinfo=UTC)]
    # A day-ahead reminder is long: quiet hours move it, never drop it, even under SKIP.
    seven = datetime(2026, 12, 3, 4, 0, tzinfo=UTC)  # 07:00 Moscow, 24 h before is 07:00
    items = reminder_items(appt(seven), [1440, 120], at(1, day=1), tz=MSK, quiet=Q)
    assert [i.due_at for i in items] == [datetime(2026, 12, 1, 18, 59, tzinfo=UTC)]


def test_quiet_end_after() -> None:
    assert quiet_end_after(at(20), MSK, Q) == datetime(2026, 12, 3, 5, 0, tzinfo=UTC)
    assert quiet_end_after(at(2), MSK, Q) == datetime(2026, 12, 2, 5, 0, tzinfo=UTC)


def test_drop_reasons() -> None:
    now = at(9)
    assert reminder_drop_reason(AppointmentStatus.PENDING, now + timedelta(hours=1), now) is None
    assert reminder_drop_reason(AppointmentStatus.CONFIRMED, now + timedelta(hours=1), now) is None
    assert reminder_drop_reason(AppointmentStatus.PENDING, now, now) == "visit already began"
    assert reminder_drop_reason(AppointmentStatus.CANCELLED, now + timedelta(hours=1), now) == (
        "appointment cancelled"
    )
    assert reminder_drop_reason(None, None, now) == "appointment missing"


def test_backoff_grows_and_optout_round_trips() -> None:
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    kinds = parse_optout("reminder,clinic_cancelled,waitlist_offer,junk")
    assert kinds == frozenset({"reminder", "waitlist_offer"})  # clinic changes cannot be muted
    assert format_optout(kinds) == "reminder,waitlist_offer"


class FakeTime:
    def __init__(self) -> None:
        self.t = 0.0
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds
        await asyncio.sleep(0)


async def test_limiter_keeps_30_a_second_overall() -> None:
    ft = FakeTime()
    limiter = RateLimiter(30, 1.0, monotonic=ft.now, sleep=ft.sleep)
    stamps = []
    for chat in range(95):
        await limiter.acquire(chat)
        stamps.append(ft.t)
    # In any window of one second at most 30 sends.
    for i, s in enumerate(stamps):
        assert sum(1 for x in stamps[i:] if x < s + 1.0) <= 30
    assert stamps[-1] >= 3.0  # 95 messages need more than three seconds


async def test_limiter_keeps_one_a_second_per_chat_and_honours_pauses() -> None:
    ft = FakeTime()
    limiter = RateLimiter(30, 1.0, monotonic=ft.now, sleep=ft.sleep)
    stamps = []
    for _ in range(4):
        await limiter.acquire(42)
        stamps.append(ft.t)
    assert [round(b - a, 3) for a, b in itertools.pairwise(stamps)] == [1.0, 1.0, 1.0]
    limiter.pause(7)
    before = ft.t
    await limiter.acquire(43)
    assert ft.t - before >= 7


async def test_disabled_limiter_does_not_pace_but_still_honours_429() -> None:
    ft = FakeTime()
    limiter = RateLimiter(enabled=False, monotonic=ft.now, sleep=ft.sleep)
    for _ in range(100):
        await limiter.acquire(1)
    assert ft.t == 0
    limiter.pause(3)
    await limiter.acquire(1)
    assert ft.t == 3
