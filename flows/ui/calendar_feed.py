"""One .ics with every upcoming visit: «Все записи в календарь» and the subscription feed.

Each visit is built exactly as its own file is (flows/ui/files.visit_ics: the
same UID, SEQUENCE, ORGANIZER and time zone), then the events and their
VTIMEZONEs (one per zone) are gathered into one VCALENDAR with METHOD:PUBLISH,
so importing this file after a visit's own file updates that event instead of
adding a second one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from domain.calendar_feed import CalendarVisit
from flows.ui.files import visit_ics
from flows.ui.format import current_locale
from flows.ui.i18n import gettext as _

PRODID = "-//Zapis//Appointment booking bot//RU"


def _description(v: CalendarVisit, locale: str) -> str:
    lines = [
        _("Doctor: {doctor}").format(doctor=v.doctor),
        _("Clinic: {clinic}, {address}").format(clinic=v.clinic_name, address=v.address),
        _("Appointment number: {number}").format(number=v.number),
    ]
    if v.patient_name:
        lines.append(_("Patient: {name}").format(name=v.patient_name))
    return "\n".join(lines)


def feed_ics(visits: Sequence[CalendarVisit], stamp: datetime) -> bytes:
    """The calendar of ``visits`` (translated in the current locale); empty calendar if none."""
    from icalendar import Calendar  # with the first feed (documents/ics.py: ~2.6 MiB)

    locale = current_locale()
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", _("Doctor's appointments"))
    zones: set[str] = set()
    for v in visits:
        single = visit_ics(
            number=v.number,
            uid=v.uid,
            sequence=v.sequence,
            start=v.start,
            minutes=v.minutes,
            tz=v.tz,
            specialty=v.specialty(locale),
            doctor=v.doctor,
            clinic_id=v.clinic_id,
            clinic_name=v.clinic_name,
            address=v.address,
            description=_description(v, locale),
            stamp=stamp,
            cancelled=False,
        )
        parsed = Calendar.from_ical(single.data)
        for component in parsed.subcomponents:
            if component.name == "VTIMEZONE":
                tzid = str(component.get("tzid"))
                if tzid in zones:
                    continue
                zones.add(tzid)
            cal.add_component(component)
    # VTIMEZONEs first: every client reads a zone defined before its use.
    cal.subcomponents.sort(key=lambda c: 0 if c.name == "VTIMEZONE" else 1)
    return bytes(cal.to_ical())
