"""A doctor's free times: the doctors of a clinic with their nearest slot, the days
with a free slot, a day's slots, the earliest free slots of a specialty.

The schedule half of the directory (a mixin of storage/repos/directory.py's
repository): each answer is one prebuilt statement (storage/repos/directory_sql.py)
scanning one index and stopping at the rows it needs; ``for_user_id`` still sees
the slot it holds itself.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from domain.directory import DoctorCard, local_date
from domain.models import Slot
from storage.prepared import prepared
from storage.repos.base import Repository
from storage.repos.directory_rows import _doctor, _slot
from storage.repos.directory_sql import (
    _day_range,
    _day_slots_stmt,
    _doctors_in_clinic_stmt,
    _earliest_stmt,
    _free_days_params,
    _free_days_stmt,
    _now,
)
from storage.schema import doctors, slots

# ``_doctors_in_clinic_stmt``'s columns (``d_<column>``, ``s_<column>``, directory_sql's
# ``_prefixed``) by their table's names: a card's doctor and slot read with the keys known.
_DOCTOR_KEYS = tuple((f"d_{c.name}", c.name) for c in doctors.c)
_SLOT_KEYS = tuple((f"s_{c.name}", c.name) for c in slots.c)


class FreeTimes(Repository):
    """Free times (a mixin of DirectoryRepository)."""

    # --- doctors and their slots -----------------------------------------------------------
    async def doctors_in_clinic(
        self, clinic_id: int, specialty_id: int, now: datetime, *, for_user_id: int | None = None
    ) -> list[DoctorCard]:
        """The specialty's doctors in a clinic, by surname, each with the nearest free slot.

        One statement: the nearest slot is a correlated subquery per doctor on the doctor's
        index, so the cost does not grow with the clinic's other doctors.
        """
        params = {"clinic_id": clinic_id, "specialty_id": specialty_id, **_now(now, for_user_id)}
        cards: list[DoctorCard] = []
        seen: set[int] = set()
        for row in await prepared(_doctors_in_clinic_stmt()).records(self.conn, params):
            if row["d_id"] in seen:
                continue
            seen.add(row["d_id"])
            doctor = _doctor({name: row[key] for key, name in _DOCTOR_KEYS})
            nearest = None
            if row["s_id"] is not None:
                nearest = _slot({name: row[key] for key, name in _SLOT_KEYS})
            cards.append(DoctorCard(doctor, nearest))
        return cards

    async def free_days(
        self,
        doctor_id: int,
        clinic_id: int,
        specialty_id: int,
        now: datetime,
        tz: str,
        days: int = 14,
        *,
        for_user_id: int | None = None,
    ) -> list[date]:
        """Local dates (from today in ``tz``) with at least one free slot starting after now.

        One round trip: an EXISTS probe per day, each stopping at its first free slot.
        """
        today = local_date(now, tz)
        params = _free_days_params(today, tz, days, now)
        params["doctor_id"] = doctor_id
        params["clinic_id"] = clinic_id
        params["specialty_id"] = specialty_id
        params.update(_now(now, for_user_id))
        rows = await prepared(_free_days_stmt(days)).records(self.conn, params)
        offsets = sorted(int(r.n) for r in rows)
        return [today + timedelta(days=n) for n in offsets]

    async def free_slots_on_day(
        self,
        doctor_id: int,
        clinic_id: int,
        specialty_id: int,
        day: date,
        tz: str,
        now: datetime,
        *,
        for_user_id: int | None = None,
    ) -> list[Slot]:
        """The doctor's free slots on a local day, in time order (past ones left out)."""
        lo, hi = _day_range(day, tz, now)
        params = {
            "doctor_id": doctor_id,
            "clinic_id": clinic_id,
            "specialty_id": specialty_id,
            "lo": lo,
            "hi": hi,
            **_now(now, for_user_id),
        }
        rows = await prepared(_day_slots_stmt()).records(self.conn, params)
        return [_slot(r) for r in rows]

    async def earliest_free(
        self,
        specialty_id: int,
        region_id: str,
        now: datetime,
        limit: int = 10,
        clinic_id: int | None = None,
        doctor_id: int | None = None,
        *,
        for_user_id: int | None = None,
        exclude_slot_id: int | None = None,
    ) -> list[Slot]:
        """ "Any doctor, earliest time": the first free slots of a specialty, soonest first.

        Narrowed to a clinic or a doctor when given (also the "three nearest
        alternatives" of a slot just taken; pass that slot as ``exclude_slot_id``).
        """
        mode = (
            "doctor" if doctor_id is not None else "clinic" if clinic_id is not None else "region"
        )
        with_clinic = doctor_id is not None and clinic_id is not None
        stmt = _earliest_stmt(mode, with_clinic, exclude_slot_id is not None)
        params = {
            "specialty_id": specialty_id,
            "region_id": region_id,
            "clinic_id": clinic_id,
            "doctor_id": doctor_id,
            "exclude_id": exclude_slot_id,
            "lim": limit,
            **_now(now, for_user_id),
        }
        rows = await self.conn.execute(stmt, params)
        return [_slot(r._mapping) for r in rows]
