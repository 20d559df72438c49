"""Quiet hours: no non-urgent message at night in the patient's time zone.

The rule is applied when a notification is *planned*: a reminder whose due
time falls inside the quiet window is moved to just before the window begins
(the evening before), never after it — after would be too late for an early
visit. A short reminder (less than a day ahead, «через 2 ч») moved that way
would arrive ten hours early, so for those the window's ``short_reminders``
decides: SKIP drops it (the default), SHIFT moves it like the others; either
way a moved reminder names the visit's real day and time when it is sent.
Urgent clinic changes ignore the window. We use the clinic's zone as
the patient's zone (a patient books the polyclinic they live near).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

# How long before the window a moved reminder goes out.
LEAD = timedelta(minutes=1)
# What quiet hours do to a short reminder (ZAPIS_REMINDER_QUIET_POLICY).
SKIP = "skip"
SHIFT = "shift"


@dataclass(frozen=True, slots=True)
class QuietWindow:
    """[start, end) in local wall time; start > end means the window spans midnight."""

    start: time = time(22, 0)
    end: time = time(8, 0)
    short_reminders: str = SKIP  # SKIP | SHIFT

    def contains(self, local: time) -> bool:
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end


def in_quiet(moment: datetime, tz: str, window: QuietWindow) -> bool:
    local = moment.astimezone(ZoneInfo(tz))
    return window.contains(local.time().replace(tzinfo=None))


def quiet_start_before(moment: datetime, tz: str, window: QuietWindow) -> datetime:
    """The instant (aware UTC) the quiet period containing ``moment`` began."""
    zone = ZoneInfo(tz)
    local = moment.astimezone(zone)
    day = local.date()
    start_local = datetime.combine(day, window.start, tzinfo=zone)
    if start_local > local:  # we are after midnight: the window began yesterday evening
        start_local = datetime.combine(day - timedelta(days=1), window.start, tzinfo=zone)
    return start_local.astimezone(UTC)


def quiet_end_after(moment: datetime, tz: str, window: QuietWindow) -> datetime:
    """The instant (aware UTC) the quiet period containing ``moment`` ends."""
    zone = ZoneInfo(tz)
    local = moment.astimezone(zone)
    end_local = datetime.combine(local.date(), window.end, tzinfo=zone)
    if end_local <= local:
        end_local = datetime.combine(local.date() + timedelta(days=1), window.end, tzinfo=zone)
    return end_local.astimezone(UTC)


def before_quiet(due: datetime, tz: str, window: QuietWindow) -> datetime:
    """``due`` itself when outside the window, else one minute before the window began."""
    if not in_quiet(due, tz, window):
        return due
    return quiet_start_before(due, tz, window) - LEAD


# A non-urgent message found due inside quiet hours (the bot was down) is still sent
# if it is at most this late; otherwise it waits for the morning.
QUIET_GRACE = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class Deferral:
    """What to do with a late message in quiet hours: ``retry_at`` the morning, or drop it
    (``retry_at`` None) when the morning comes after the visit; ``reason`` for the log."""

    retry_at: datetime | None
    reason: str


def defer_late(
    now: datetime,
    due: datetime,
    visit_start: datetime,
    tz: str,
    window: QuietWindow,
    *,
    urgent: bool,
) -> Deferral | None:
    """The notifier's one question (bot/notifier.py): a message about a visit, due at
    ``due``, found now — send it (None), or wait for the end of the quiet hours, or drop
    it? Urgent messages and ones at most QUIET_GRACE late always go."""
    if urgent or now - due <= QUIET_GRACE or not in_quiet(now, tz, window):
        return None
    morning = quiet_end_after(now, tz, window)
    if morning < visit_start:
        return Deferral(morning, "quiet hours")
    return Deferral(None, "quiet hours until the visit")
