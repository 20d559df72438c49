"""Holds and the slot's other states: the summary's few-minute hold, giving a slot
back, closing time, and the nearest free slots for the wait list and the clinic.

Kept apart from the take (slot_take.py): these are the writes around a slot that
are not a booking race (a hold is replaced, a release or a block is a conditional
UPDATE of its own). A mixin of storage/repos/appointments.py's repository.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, exists, select, update

from domain.booking_ports import Hold
from storage.prepared import prepared
from storage.repos.base import Repository, from_db, to_db
from storage.repos.booking_sql import _CLEAR_HOLDS, _DELETE_HOLD, _PUT_HOLD_PG, _PUT_HOLD_SQLITE
from storage.schema import doctor_roles, holds, slots


def _role_active() -> Any:
    """The slot's doctor still works there (a blocked doctor's time is never offered)."""
    return exists().where(doctor_roles.c.id == slots.c.role_id, doctor_roles.c.active.is_(True))


class HoldsAndSlots(Repository):
    """Holds and slot states (a mixin of AppointmentRepository)."""

    async def put_hold(
        self, user_id: int, patient_id: int, slot_id: int, expires_at: datetime, now: datetime
    ) -> bool:
        """Replace the user's hold with one on ``slot_id``; False if another user's
        unexpired hold is on that slot. Expired holds of the slot are swept first."""
        await prepared(_CLEAR_HOLDS).run(
            self.conn, {"user_id": user_id, "slot_id": slot_id, "now": to_db(now)}
        )
        values = {
            "user_id": user_id,
            "patient_id": patient_id,
            "slot_id": slot_id,
            "expires_at": to_db(expires_at),
        }
        # A concurrent holder of the slot makes this False, not an error.
        put = _PUT_HOLD_SQLITE if self.is_sqlite else _PUT_HOLD_PG
        return await prepared(put).count(self.conn, values) == 1

    async def get_hold(self, user_id: int, now: datetime) -> Hold | None:
        row = (
            await self.conn.execute(
                select(holds).where(holds.c.user_id == user_id, holds.c.expires_at > to_db(now))
            )
        ).first()
        if row is None:
            return None
        return Hold(
            user_id=row.user_id,
            slot_id=row.slot_id,
            patient_id=row.patient_id,
            expires_at=from_db(row.expires_at),
        )

    async def delete_hold(self, user_id: int) -> None:
        await prepared(_DELETE_HOLD).run(self.conn, {"user_id": user_id})

    async def sweep_holds(self, now: datetime) -> int:
        """Drop expired holds (housekeeping; an expired hold never blocks anyone anyway)."""
        result = await self.conn.execute(delete(holds).where(holds.c.expires_at <= to_db(now)))
        return int(result.rowcount)

    async def release_slot(self, slot_id: int, now: datetime) -> bool:
        """booked → free (the schedule gets it back at once), stamped ``freed_at`` so the
        wait list knows this time was given back; True if it was booked."""
        result = await self.conn.execute(
            update(slots)
            .where(slots.c.id == slot_id, slots.c.status == "booked")
            .values(status="free", freed_at=to_db(now))
        )
        return int(result.rowcount) == 1

    async def block_slot(self, slot_id: int) -> bool:
        """booked/free → blocked (the clinic closed this time); True if it changed."""
        result = await self.conn.execute(
            update(slots)
            .where(slots.c.id == slot_id, slots.c.status.in_(("booked", "free")))
            .values(status="blocked", freed_at=None)
        )
        return int(result.rowcount) == 1

    async def block_free_between(
        self, doctor_id: int, clinic_ids: tuple[int, ...], lo: datetime, hi: datetime
    ) -> int:
        """Every free slot of the doctor at these clinics starting in [lo, hi) → blocked.
        A slot on someone's booking summary (a hold) is closed too: the take refuses it."""
        result = await self.conn.execute(
            update(slots)
            .where(
                slots.c.doctor_id == doctor_id,
                slots.c.clinic_id.in_(clinic_ids),
                slots.c.status == "free",
                slots.c.start_utc >= to_db(lo),
                slots.c.start_utc < to_db(hi),
            )
            .values(status="blocked", freed_at=None)
        )
        return int(result.rowcount)

    async def nearest_free(
        self,
        *,
        around: datetime,
        now: datetime,
        exclude: set[int],
        limit: int,
        doctor_id: int | None = None,
        specialty_id: int | None = None,
        region_id: str | None = None,
        not_before: datetime | None = None,
        clinic_id: int | None = None,
        skip_doctor_between: tuple[int, datetime, datetime] | None = None,
    ) -> list[int]:
        """Free, unheld, future slot ids nearest to ``around``: later ones first, then
        earlier ones (still after ``now`` and from ``not_before`` on), nearest first
        within each side. ``skip_doctor_between`` = (doctor, lo, hi): not that doctor's
        slots starting in [lo, hi) (a day the clinic called off)."""
        if limit <= 0:
            return []
        conds = [slots.c.status == "free", slots.c.start_utc > to_db(now), _role_active()]
        if not_before is not None:
            conds.append(slots.c.start_utc >= to_db(not_before))
        if doctor_id is not None:
            conds.append(slots.c.doctor_id == doctor_id)
        if specialty_id is not None:
            conds.append(slots.c.specialty_id == specialty_id)
        if region_id is not None:
            conds.append(slots.c.region_id == region_id)
        if clinic_id is not None:
            conds.append(slots.c.clinic_id == clinic_id)
        if skip_doctor_between is not None:
            doctor, lo, hi = skip_doctor_between
            conds.append(
                ~and_(
                    slots.c.doctor_id == doctor,
                    slots.c.start_utc >= to_db(lo),
                    slots.c.start_utc < to_db(hi),
                )
            )
        unheld = ~exists().where(holds.c.slot_id == slots.c.id, holds.c.expires_at > to_db(now))
        base = and_(*conds, unheld)
        pivot = to_db(around)
        # Fetch a few more than needed: excluded ids are filtered in Python.
        fetch = limit + len(exclude)
        later = await self.conn.execute(
            select(slots.c.id)
            .where(base, slots.c.start_utc >= pivot)
            .order_by(slots.c.start_utc, slots.c.id)
            .limit(fetch)
        )
        found = [r.id for r in later if r.id not in exclude][:limit]
        if len(found) < limit:
            earlier = await self.conn.execute(
                select(slots.c.id)
                .where(base, slots.c.start_utc < pivot)
                .order_by(slots.c.start_utc.desc(), slots.c.id.desc())
                .limit(fetch)
            )
            found += [r.id for r in earlier if r.id not in exclude][: limit - len(found)]
        return found
