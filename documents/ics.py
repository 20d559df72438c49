"""The appointment as an iCalendar (.ics) event in the clinic's own time zone.

DTSTART/DTEND carry the clinic's IANA zone (TZID) and the file embeds a
VTIMEZONE for it (documents/vtimezone.py: one component per offset change,
never a list of RDATEs, so ical.js/Thunderbird, vobject and icalendar all read
the same instant).

One calendar event per visit for its whole life (RFC 5546 iTIP semantics):
the UID is kept when the visit is moved (the new appointment row carries it),
every move publishes the event again with a higher SEQUENCE, and a
cancellation (by the patient or by the clinic) sends METHOD:CANCEL with
STATUS:CANCELLED and a higher SEQUENCE still. Every event names the clinic as
ORGANIZER, which RFC 5546 §3.2.1 requires of PUBLISH; DTSTAMP is the app clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from documents.vtimezone import vtimezone

# icalendar (~2.6 MiB) is imported with the first calendar file, not by every process
# that imports documents: a bot process that sends none never loads it.

PRODID = "-//Zapis//Appointment booking bot//RU"
# Clinics have no e-mail of their own in the directory: ORGANIZER needs a
# calendar address, so each clinic gets a placeholder in a reserved TLD
# (RFC 2606 ".invalid": nothing is ever delivered there).
ORGANIZER_DOMAIN = "zapis.invalid"
_EVENT = b"BEGIN:VEVENT\r\n"


@dataclass(frozen=True, slots=True)
class Organizer:
    """The clinic as the event's ORGANIZER: its name (CN) and a mailto: address."""

    name: str
    address: str

    @classmethod
    def clinic(cls, clinic_id: int, name: str) -> Organizer:
        return cls(name=name, address=f"mailto:clinic-{clinic_id}@{ORGANIZER_DOMAIN}")


def appointment_ics(
    *,
    uid: str,
    sequence: int,
    start: datetime,
    minutes: int,
    tz: str,
    summary: str,
    location: str,
    description: str,
    stamp: datetime,
    organizer: Organizer,
    cancelled: bool = False,
) -> bytes:
    """One VEVENT ``uid`` at revision ``sequence``; ``start`` and ``stamp`` are aware instants.

    ``cancelled`` makes it the iTIP cancellation of that event (METHOD:CANCEL,
    STATUS:CANCELLED). ``stamp`` (DTSTAMP) comes from the injected clock, never
    from ``now()``, so the same state of a visit always yields the same bytes.
    """
    if start.tzinfo is None or stamp.tzinfo is None:
        raise ValueError("appointment_ics needs aware datetimes")
    zone = ZoneInfo(tz)
    local_start = start.astimezone(zone)
    local_end = local_start + timedelta(minutes=minutes)
    from icalendar import Calendar, Event, vCalAddress

    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "CANCEL" if cancelled else "PUBLISH")
    event = Event()
    event.add("uid", uid)
    event.add("sequence", sequence)
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("dtstart", local_start)
    event.add("dtend", local_end)
    # A DQUOTE cannot appear inside a quoted parameter value (RFC 5545 §3.1).
    cn = organizer.name.replace('"', "'")
    event.add("organizer", vCalAddress(organizer.address), parameters={"CN": cn})
    event.add("summary", summary)
    event.add("location", location)
    event.add("description", description)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    cal.add_component(event)
    raw = bytes(cal.to_ical())
    if not cal.get_missing_tzids():
        return raw  # UTC: DTSTART is written with "Z", no VTIMEZONE needed
    zones = vtimezone(tz, start.astimezone(UTC), local_end.astimezone(UTC))
    # The calendar's own properties are fixed above, so the first BEGIN:VEVENT
    # line is the event's; the VTIMEZONE goes right before it (RFC 5545 puts no
    # order on components, but every client reads a zone defined before its use).
    head, sep, tail = raw.partition(_EVENT)
    if not sep:
        raise AssertionError("serialised calendar has no VEVENT")
    return head + zones + sep + tail
