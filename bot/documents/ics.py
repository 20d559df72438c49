"""The appointment as an iCalendar (.ics) event in the clinic's own time zone.

DTSTART/DTEND carry the clinic's IANA zone (TZID) and the file embeds the
matching VTIMEZONE, so a calendar app in another zone still shows the right
moment, and one in the clinic's zone shows the clinic's wall-clock time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

PRODID = "-//Zapis//Appointment booking bot//RU"
UID_DOMAIN = "zapis.bot"


def appointment_ics(
    *,
    number: str,
    start: datetime,
    minutes: int,
    tz: str,
    summary: str,
    location: str,
    description: str,
    stamp: datetime,
) -> bytes:
    """One VEVENT for appointment ``number``; ``start`` and ``stamp`` are aware instants.

    ``stamp`` (DTSTAMP) comes from the injected clock, never from ``now()``,
    so the same appointment always yields the same bytes.
    """
    if start.tzinfo is None or stamp.tzinfo is None:
        raise ValueError("appointment_ics needs aware datetimes")
    zone = ZoneInfo(tz)
    local_start = start.astimezone(zone)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"appointment-{number}@{UID_DOMAIN}")
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("dtstart", local_start)
    event.add("dtend", local_start + timedelta(minutes=minutes))
    event.add("summary", summary)
    event.add("location", location)
    event.add("description", description)
    event.add("status", "CONFIRMED")
    cal.add_component(event)
    cal.add_missing_timezones()
    return bytes(cal.to_ical())
