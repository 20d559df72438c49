"""The .ics VTIMEZONE read back by independent parsers, for every Russian zone.

Regression of issue 7, item 6a: the VTIMEZONE listed every transition since 1970 on one
RDATE line; vobject and Mozilla's ical.js (Thunderbird) then read a Moscow visit one hour
early — 13 of the 27 Russian zones were wrong. The zones come from tzdata's own
zone1970.tab (every zone whose country list has RU), so a zone added later is covered.
"""

from __future__ import annotations

import importlib.resources
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import vobject
from icalendar import Calendar

from documents import Organizer, appointment_ics


def _russian_zones() -> list[str]:
    table = importlib.resources.files("tzdata.zoneinfo").joinpath("zone1970.tab").read_text()
    rows = [line.split("\t") for line in table.splitlines() if line and not line.startswith("#")]
    return [row[2] for row in rows if "RU" in row[0].split(",")]


RUSSIAN_ZONES = _russian_zones()
# a winter and a summer visit (summer time was abolished in Russia in 2011/2014)
INSTANTS = [datetime(2026, 12, 3, 7, 30, tzinfo=UTC), datetime(2027, 7, 15, 2, 45, tzinfo=UTC)]
STAMP = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _ics(tz: str, start: datetime, **changes: Any) -> bytes:
    fields: dict[str, Any] = {
        "uid": "appointment-A-0000001@zapis.bot",
        "sequence": 0,
        "minutes": 20,
        "summary": "Приём у врача: Терапевт — Соколова Мария Петровна",
        "location": "Городская поликлиника № 12, ул. Ленина, 5",
        "description": "Номер записи: A-0000001",
        "stamp": STAMP,
        "organizer": Organizer.clinic(1, "Городская поликлиника № 12"),
    }
    return appointment_ics(tz=tz, start=start, **(fields | changes))


def test_all_russian_zones_are_enumerated() -> None:
    assert len(RUSSIAN_ZONES) >= 27
    assert RUSSIAN_ZONES[0] == "Europe/Kaliningrad" and "Asia/Kamchatka" in RUSSIAN_ZONES
    assert "Europe/Moscow" in RUSSIAN_ZONES and "Asia/Anadyr" in RUSSIAN_ZONES


@pytest.mark.parametrize("tz", RUSSIAN_ZONES)
def test_vtimezone_of_a_russian_zone_reads_the_visits_instant(tz: str) -> None:
    for start in INSTANTS:
        raw = _ics(tz, start)
        # vobject resolves the TZID through the file's own VTIMEZONE
        parsed = vobject.readOne(raw.decode())
        assert parsed.vevent.dtstart.value.astimezone(UTC) == start, (tz, start)
        assert parsed.vevent.dtend.value.astimezone(UTC) == start + timedelta(minutes=20)
        # icalendar too
        event = next(iter(Calendar.from_ical(raw).walk("VEVENT")))
        assert event.decoded("dtstart").astimezone(UTC) == start, (tz, start)
        # One STANDARD component with the zone's offset: nothing for a parser to misread.
        zone = next(iter(Calendar.from_ical(raw).walk("VTIMEZONE")))
        parts = list(zone.subcomponents)
        assert [p.name for p in parts] == ["STANDARD"], tz
        assert parts[0].decoded("tzoffsetto") == start.astimezone(ZoneInfo(tz)).utcoffset()
        assert "DTSTART" in parts[0] and "TZOFFSETFROM" in parts[0]
        assert b"RDATE" not in raw and b"RRULE" not in raw


@pytest.mark.parametrize("tz", ["Europe/Berlin", "America/New_York", "Australia/Sydney"])
def test_vtimezone_of_a_zone_with_summer_time_reads_right(tz: str) -> None:
    """Not a Russian clinic, but ZAPIS_DEFAULT_TZ may name any zone."""
    for start in INSTANTS:
        raw = _ics(tz, start)
        assert vobject.readOne(raw.decode()).vevent.dtstart.value.astimezone(UTC) == start
        event = next(iter(Calendar.from_ical(raw).walk("VEVENT")))
        assert event.decoded("dtstart").astimezone(UTC) == start
        assert b"RDATE" not in raw


def test_every_event_names_the_clinic_as_organizer_and_its_revision() -> None:
    raw = _ics("Europe/Moscow", INSTANTS[0])
    parsed = vobject.readOne(raw.decode())
    assert parsed.method.value == "PUBLISH"
    organizer = parsed.vevent.organizer
    assert organizer.value == "mailto:clinic-1@zapis.invalid"
    assert organizer.params["CN"] == ["Городская поликлиника № 12"]
    assert parsed.vevent.sequence.value == "0"
    assert parsed.vevent.dtstamp.value == STAMP
    assert parsed.vevent.status.value == "CONFIRMED"


def test_cancellation_is_an_itip_cancel_of_the_same_event() -> None:
    raw = _ics(
        "Europe/Moscow",
        INSTANTS[0],
        sequence=3,
        organizer=Organizer.clinic(1, 'Поликлиника "Здоровье"'),
        cancelled=True,
    )
    parsed = vobject.readOne(raw.decode())
    assert parsed.method.value == "CANCEL"
    assert parsed.vevent.status.value == "CANCELLED"
    assert parsed.vevent.sequence.value == "3"
    assert parsed.vevent.uid.value == "appointment-A-0000001@zapis.bot"
    assert parsed.vevent.organizer.params["CN"] == ["Поликлиника 'Здоровье'"]
