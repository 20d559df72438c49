"""The appointment as an iCalendar (.ics) event in the clinic's own time zone.

DTSTART/DTEND carry the clinic's IANA zone (TZID) and the file embeds the
matching VTIMEZONE, so a calendar app in another zone still shows the right
moment, and one in the clinic's zone shows the clinic's wall-clock time.

Building a VTIMEZONE from zoneinfo walks the zone's transitions 1970–2038 and
costs 15–60 ms, so it is built and serialised once per zone per process
(`_vtimezone`, immutable bytes) and spliced into each file: the output is
byte-for-byte what ``Calendar.add_missing_timezones()`` produces.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone

PRODID = "-//Zapis//Appointment booking bot//RU"
UID_DOMAIN = "zapis.bot"
_EVENT = b"BEGIN:VEVENT\r\n"


@lru_cache(maxsize=64)
def _vtimezone(tzid: str) -> bytes:
    """The serialised VTIMEZONE for ``tzid``, exactly as add_missing_timezones() builds it.

    Bytes, not the component: a cached mutable component shared by every
    calendar could be changed by one caller under all the others. b"" for a
    zone icalendar cannot describe (add_missing_timezones() skips those too).
    """
    try:
        return bytes(Timezone.from_tzid(tzid).to_ical())
    except ValueError:
        return b""


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
    raw = bytes(cal.to_ical())
    zones = b"".join(_vtimezone(tzid) for tzid in sorted(cal.get_missing_tzids()))
    if not zones:
        return raw  # UTC: DTSTART is written with "Z", no VTIMEZONE needed
    # The calendar's own properties are fixed above, so the first BEGIN:VEVENT
    # line is the event's; the VTIMEZONE goes right before it, where
    # add_missing_timezones() puts it (timezones first among the components).
    head, sep, tail = raw.partition(_EVENT)
    if not sep:
        raise AssertionError("serialised calendar has no VEVENT")
    return head + zones + sep + tail
