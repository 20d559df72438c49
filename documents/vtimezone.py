"""A VTIMEZONE that every common calendar parser reads the same way.

icalendar's ``Timezone.from_tzid`` lists all of a zone's transitions since
1970 on one RDATE line per component. Mozilla's ical.js (Thunderbird) and
vobject take only part of such a line, and so read a Moscow visit one hour
early — 13 of the 27 Russian zones came out wrong. This block instead has one
STANDARD/DAYLIGHT component per offset change, each with a single DTSTART and
no RDATE/RRULE, and only the changes that matter for the event: the last one
at or before its start, and those up to a year after it (so a zone that still
observes daylight time is described around the visit). A zone without DST
since 2014/2016 — every Russian zone — thus gets exactly one STANDARD
component with its current offset.

Transitions are found from ``zoneinfo`` itself (weekly samples, then
bisection to the second), once per zone per process (~10 ms); the serialised
block is cached per (zone, range of transitions). Checked by the tests with
vobject and icalendar, and by hand with ical.js 2 (Thunderbird's parser) on
every Russian zone: all read the visit's instant.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

_FROM = int(datetime(1970, 1, 1, tzinfo=UTC).timestamp())
_UNTIL = int(datetime(2040, 1, 1, tzinfo=UTC).timestamp())
# Sampling step. A change and its reversal inside one step would be missed; only the
# changes around a visit (in the future, months apart) are ever written out.
_STEP = 7 * 24 * 3600
# Changes after the event's start that are still written into its block.
AHEAD = timedelta(days=366)


@dataclass(frozen=True, slots=True)
class Transition:
    """From ``at`` (aware UTC) on, the zone's offset is ``after`` (was ``before``)."""

    at: datetime
    before: timedelta
    after: timedelta
    dst: bool
    name: str


def _offset(zone: ZoneInfo, ts: int) -> timedelta:
    return datetime.fromtimestamp(ts, zone).utcoffset() or timedelta(0)


@lru_cache(maxsize=64)
def transitions(tzid: str) -> tuple[Transition, ...]:
    """Every change of the UTC offset of ``tzid`` between 1970 and 2040, in order."""
    zone = ZoneInfo(tzid)
    found: list[Transition] = []
    lo, lo_off = _FROM, _offset(zone, _FROM)
    while lo < _UNTIL:
        hi = lo + _STEP
        hi_off = _offset(zone, hi)
        if hi_off != lo_off:
            a, b = lo, hi  # offset(a) == lo_off, offset(b) != lo_off
            while b - a > 1:
                mid = (a + b) // 2
                if _offset(zone, mid) == lo_off:
                    a = mid
                else:
                    b = mid
            moment = datetime.fromtimestamp(b, zone)
            after = moment.utcoffset() or timedelta(0)
            found.append(
                Transition(
                    at=moment.astimezone(UTC),
                    before=lo_off,
                    after=after,
                    dst=bool(moment.dst()),
                    name=moment.tzname() or "",
                )
            )
            # A further change inside the same step is found from b on.
            lo, lo_off = b, after
            continue
        lo, lo_off = hi, hi_off
    return tuple(found)


def _since_1970(tzid: str) -> Transition:
    """The offset in force from 1970 to the zone's first change (or for good)."""
    local = datetime.fromtimestamp(_FROM, ZoneInfo(tzid))
    offset = local.utcoffset() or timedelta(0)
    at = datetime(1970, 1, 1, tzinfo=UTC) - offset  # 19700101T000000 local
    return Transition(at, offset, offset, bool(local.dst()), local.tzname() or "")


@lru_cache(maxsize=256)
def _block(tzid: str, first: int, last: int) -> bytes:
    """Serialised VTIMEZONE of transitions[first:last]; ``first`` -1: from 1970 on."""
    every = transitions(tzid)
    chosen = [_since_1970(tzid)] if first < 0 else []
    chosen += every[max(first, 0) : last]
    from icalendar import Timezone, TimezoneDaylight, TimezoneStandard  # see documents/ics.py

    tz = Timezone()
    tz.add("tzid", tzid)
    for t in chosen:
        part = TimezoneDaylight() if t.dst else TimezoneStandard()
        # DTSTART is the onset in the local time that was in force before it.
        part.add("dtstart", (t.at + t.before).replace(tzinfo=None))
        part.add("tzoffsetfrom", t.before)
        part.add("tzoffsetto", t.after)
        if t.name:
            part.add("tzname", t.name)
        tz.add_component(part)
    return bytes(tz.to_ical())


def vtimezone(tzid: str, start: datetime, end: datetime) -> bytes:
    """The VTIMEZONE for an event of zone ``tzid`` from ``start`` to ``end`` (aware)."""
    every = transitions(tzid)
    ats = [t.at for t in every]
    # The last change at or before the start (-1: none since 1970).
    first = bisect_right(ats, start) - 1
    last = bisect_right(ats, max(end, start + AHEAD))
    return _block(tzid, first, last)
