"""What a reminder says about the time left, rendered in both languages.

Regression of issue 7, item 7: a reminder moved by quiet hours said «через 2 ч» at 21:59
for an 08:00 visit. A reminder sent on plan (within 15 min of visit − offset) still says
«через N ч»; one sent at another time names the visit's real day and time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.i18n import build_i18n
from bot.notify_parts import RenderContext
from bot.notify_render import render
from domain.models import AppointmentStatus
from domain.notifications import Kind, OutboxRow
from storage.repos.notify_context import VisitInfo

VISIT = datetime(2026, 12, 3, 5, 0, tzinfo=UTC)  # 08:00 Moscow, Thu 3 Dec
I18N = build_i18n("ru")


def _text(now: datetime, offset: int, locale: str) -> str:
    visit = VisitInfo(
        start=VISIT,
        minutes=20,
        doctor_id=1,
        doctor_name="Соколова Мария Петровна",
        clinic_id=1,
        clinic_name="Городская поликлиника № 12",
        clinic_address="ул. Ленина, 5",
        clinic_tz="Europe/Moscow",
        region_id="77",
        specialty_id=1,
        specialty_ru="Терапевт",
        specialty_en="Therapist",
        prep_ru="",
        prep_en="",
        appointment_id=7,
        number="A-0000007",
        status=AppointmentStatus.PENDING,
    )
    row = OutboxRow(
        id=1,
        kind=Kind.REMINDER,
        user_id=1001,
        due_at=now,
        payload={"appointment_id": 7, "offset_minutes": offset},
        urgent=False,
        attempts=0,
    )
    ctx = RenderContext(
        home_tz="Europe/Moscow", now=now, button_offset=1440, appointments={7: visit}
    )
    with I18N.context(), I18N.use_locale(locale):
        return render(row, ctx, locale).text.splitlines()[0]


@pytest.mark.parametrize(
    ("now", "offset", "ru", "en"),
    [
        # on plan: how long is left
        (VISIT - timedelta(hours=2), 120, "через 2 часа", "in 2 hours"),
        (VISIT - timedelta(hours=1), 60, "через 1 час", "in 1 hour"),
        (VISIT - timedelta(days=1, minutes=3), 1440, "через 1 день", "in 1 day"),  # was «in 1 d»
        (VISIT - timedelta(days=2), 2880, "через 2 дня", "in 2 days"),
        (VISIT - timedelta(days=5), 7200, "через 5 дней", "in 5 days"),
        (VISIT - timedelta(minutes=30), 30, "через 30 минут", "in 30 minutes"),
        # moved by quiet hours to 21:59 the evening before: not «через 2 ч»
        (datetime(2026, 12, 2, 18, 59, tzinfo=UTC), 120, "завтра в 08:00", "tomorrow at 08:00"),
        # the 24 h reminder sent late the same morning (the bot was down)
        (datetime(2026, 12, 3, 3, 30, tzinfo=UTC), 1440, "сегодня в 08:00", "today at 08:00"),
        # moved two evenings back (a 07:00 visit's day-ahead reminder): the date itself
        (
            datetime(2026, 12, 1, 18, 59, tzinfo=UTC),
            1440,
            "чт, 3 декабря 2026 в 08:00",
            "on Thu, 3 December 2026 at 08:00",
        ),
    ],
)
def test_reminder_moved_by_quiet_hours_says_the_real_time_left(
    now: datetime, offset: int, ru: str, en: str
) -> None:
    assert _text(now, offset, "ru") == f"⏰ Напоминание: приём у врача {ru}"
    assert _text(now, offset, "en") == f"⏰ Reminder: your doctor's appointment is {en}"
