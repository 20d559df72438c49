"""Pure helpers of the directory: search keys, working hours → slot times, local days.

Kept free of SQL and of the clock: the caller passes ``now`` and the zone, so
the same inputs always give the same slots (the demo seed and the benchmark
rely on that).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from domain.models import Clinic, Doctor, Slot


class DoctorCard(NamedTuple):
    """A doctor of a clinic's specialty with the nearest free slot (None: nothing free)."""

    doctor: Doctor
    nearest: Slot | None


class ClinicPage(NamedTuple):
    """One page of a clinic list and the number of matches overall (for the pager)."""

    items: list[Clinic]
    total: int


@dataclass(frozen=True, slots=True)
class WorkDay:
    """A doctor's working hours on one local day, with an optional break."""

    day: date
    start: time
    end: time
    slot_minutes: int
    break_start: time | None = None
    break_end: time | None = None


def search_key(text: str) -> str:
    """Normalise text for the clinic search: lower case, ё → е, single spaces.

    Stored ``clinics.search_text`` and typed queries both go through this, so
    «Щёлковское» finds «Щелковское» and the other way round.
    """
    return " ".join(text.lower().replace("ё", "е").split())


def slot_times(work: WorkDay) -> Iterator[time]:
    """Local start times of the slots of a working day, none overlapping the break.

    A slot that would run past the break's start or the day's end is not
    offered (a doctor cannot see a patient in half a slot).
    """
    step = timedelta(minutes=work.slot_minutes)
    day = work.day
    cursor = datetime.combine(day, work.start)
    end = datetime.combine(day, work.end)
    brk_start = datetime.combine(day, work.break_start) if work.break_start else None
    brk_end = datetime.combine(day, work.break_end) if work.break_end else None
    while cursor + step <= end:
        if (
            brk_start is not None
            and brk_end is not None
            and cursor < brk_end
            and cursor + step > brk_start
        ):
            cursor = max(cursor, brk_end)
            continue
        yield cursor.time()
        cursor += step


def local_to_utc(day: date, at: time, tz: str) -> datetime:
    """A clinic's local wall time → aware UTC."""
    return datetime.combine(day, at, tzinfo=ZoneInfo(tz)).astimezone(UTC)


def local_day_bounds(day: date, tz: str) -> tuple[datetime, datetime]:
    """[start, end) of a local day in aware UTC (handles zones with DST, too)."""
    zone = ZoneInfo(tz)
    start = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return start, end


def local_date(moment: datetime, tz: str) -> date:
    """The clinic-local date of an aware instant."""
    return moment.astimezone(ZoneInfo(tz)).date()
