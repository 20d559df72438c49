"""The wait list's vocabulary: entry statuses and limits, the entry and offer data, the
port storage implements, and the pure matching rules (domain/waitlist.py has the
use cases and re-exports all of this for its callers).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from domain.booking_ports import BookingUnitOfWork

ACTIVE = "active"
OFFERED = "offered"
BOOKED = "booked"
LEFT = "left"
EXPIRED = "expired"
LIVE = (ACTIVE, OFFERED)

TIMES_OF_DAY = ("any", "morning", "day", "evening")
# Local wall-clock bounds [from, to) of each time of day in the clinic's zone.
_TOD_BOUNDS: dict[str, tuple[time, time]] = {
    "morning": (time(0, 0), time(12, 0)),
    "day": (time(12, 0), time(17, 0)),
    "evening": (time(17, 0), time(23, 59, 59)),
}
RANGE_DAYS = (1, 7, 14, 30)  # 1 = today only: «a time today, if someone cancels»
MAX_LIVE_ENTRIES = 5  # per account: against abuse
DEFAULT_LEAD = timedelta(minutes=120)  # settings.limits.offer_lead_minutes


@dataclass(frozen=True, slots=True)
class WaitEntry:
    id: int
    patient_id: int
    user_id: int
    specialty_id: int
    region_id: str
    doctor_id: int | None
    clinic_id: int | None
    date_from: date | None
    date_to: date | None
    time_of_day: str
    status: str
    offered_slot_id: int | None
    offer_until: datetime | None
    created_at: datetime
    region_tz: str = "Europe/Moscow"


@dataclass(frozen=True, slots=True)
class NewEntry:
    patient_id: int
    user_id: int
    specialty_id: int
    region_id: str
    doctor_id: int | None
    clinic_id: int | None
    date_from: date
    date_to: date
    time_of_day: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Candidate:
    slot_id: int
    start: datetime  # aware UTC
    clinic_tz: str


class WaitListRepository(Protocol):
    async def add(self, entry: NewEntry) -> int: ...
    async def get(self, entry_id: int) -> WaitEntry | None: ...
    async def live_for_user(self, user_id: int) -> list[WaitEntry]: ...
    async def active_in_order(self, limit: int) -> list[WaitEntry]: ...
    async def offers_due(self, now: datetime) -> list[WaitEntry]: ...
    async def live_ending_before(self, day: date) -> list[WaitEntry]: ...
    async def set_status(self, entry_id: int, expected: tuple[str, ...], status: str) -> bool: ...
    async def set_offer(self, entry_id: int, slot_id: int, until: datetime) -> bool: ...
    async def offered_before(self, entry_id: int) -> set[int]: ...
    async def candidates(
        self, entry: WaitEntry, lo: datetime, hi: datetime, now: datetime, limit: int
    ) -> list[Candidate]: ...
    async def hold_for(
        self, user_id: int, patient_id: int, slot_id: int, until: datetime, now: datetime
    ) -> bool: ...
    async def drop_hold(self, user_id: int, slot_id: int) -> None: ...


class WaitListUnitOfWork(BookingUnitOfWork, Protocol):
    @property
    def waitlist(self) -> WaitListRepository: ...


@dataclass
class RunStats:
    timed_out: int = 0
    expired: int = 0
    offered: int = 0


# --------------------------------------------------------------------------- pure rules


def time_of_day_fits(start: datetime, tz: str, time_of_day: str) -> bool:
    bounds = _TOD_BOUNDS.get(time_of_day)
    if bounds is None:
        return True
    wall = start.astimezone(ZoneInfo(tz)).time()
    return bounds[0] <= wall < bounds[1]


def slot_fits(entry: WaitEntry, start: datetime, tz: str) -> bool:
    """The slot's local day is inside the entry's range and its time in the time of day."""
    day = start.astimezone(ZoneInfo(tz)).date()
    if entry.date_from is not None and day < entry.date_from:
        return False
    if entry.date_to is not None and day > entry.date_to:
        return False
    return time_of_day_fits(start, tz, entry.time_of_day)


def entry_range(today: date, days: int) -> tuple[date, date]:
    """«The next N days»: today .. today + N - 1 (local dates)."""
    return today, today + timedelta(days=max(1, days) - 1)
