"""Wait-list entries, their offers and the slot candidates for them (domain/waitlist.py).

Implements domain.waitlist.WaitListRepository. Offers hold the slot in the
``holds`` table with purpose 'waitlist' (one hold per user, as for booking),
so the slot is invisible to everyone else until the offer ends.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, bindparam, delete, exists, insert, select, update
from sqlalchemy.engine import Row

from domain.waitlist import LIVE, OFFERED, Candidate, NewEntry, WaitEntry
from storage.repos.base import Repository, from_db, from_db_opt, to_db
from storage.schema import (
    clinics,
    doctor_roles,
    holds,
    outbox,
    regions,
    slots,
    users,
    wait_list,
)

_W = wait_list


def _entry(row: Row[Any]) -> WaitEntry:
    return WaitEntry(
        id=row.id,
        patient_id=row.patient_id,
        user_id=row.user_id,
        specialty_id=row.specialty_id,
        region_id=row.region_id,
        doctor_id=row.doctor_id,
        clinic_id=row.clinic_id,
        date_from=row.date_from,
        date_to=row.date_to,
        time_of_day=row.time_of_day,
        status=row.status,
        offered_slot_id=row.offered_slot_id,
        offer_until=from_db_opt(row.offer_until),
        created_at=from_db(row.created_at),
        region_tz=row.region_tz or "Europe/Moscow",
    )


def _select() -> Any:
    return select(_W, regions.c.tz.label("region_tz")).select_from(
        _W.outerjoin(regions, regions.c.id == _W.c.region_id)
    )


# The wait-list job's reads, built once: they run every minute (every tick of the
# console's clock) and building them cost more than running them on a short list.
_MUTED = exists().where(
    users.c.id == _W.c.user_id,
    (users.c.unreachable.is_(True))
    | (users.c.status != "active")
    | (users.c.notify_optout.like("%waitlist_offer%")),
)
_ACTIVE_IN_ORDER = (
    _select()
    .where(_W.c.status == "active", ~_MUTED)
    .order_by(_W.c.created_at, _W.c.id)
    .limit(bindparam("limit"))
)
_OFFERS_DUE = (
    _select()
    .where(_W.c.status == OFFERED, _W.c.offer_until <= bindparam("now"))
    .order_by(_W.c.offer_until, _W.c.id)
)
_LIVE_ENDING_BEFORE = (
    _select().where(_W.c.status.in_(LIVE), _W.c.date_to < bindparam("day")).order_by(_W.c.id)
)


class WaitListRepository(Repository):
    async def add(self, entry: NewEntry) -> int:
        result = await self.conn.execute(
            insert(_W)
            .values(
                patient_id=entry.patient_id,
                user_id=entry.user_id,
                specialty_id=entry.specialty_id,
                region_id=entry.region_id,
                doctor_id=entry.doctor_id,
                clinic_id=entry.clinic_id,
                date_from=entry.date_from,
                date_to=entry.date_to,
                time_of_day=entry.time_of_day,
                status="active",
                created_at=to_db(entry.created_at),
            )
            .returning(_W.c.id)
        )
        return int(result.scalar_one())

    async def get(self, entry_id: int) -> WaitEntry | None:
        row = (await self.conn.execute(_select().where(_W.c.id == entry_id))).first()
        return None if row is None else _entry(row)

    async def live_for_user(self, user_id: int) -> list[WaitEntry]:
        rows = await self.conn.execute(
            _select()
            .where(_W.c.user_id == user_id, _W.c.status.in_(LIVE))
            .order_by(_W.c.created_at, _W.c.id)
        )
        return [_entry(r) for r in rows]

    async def active_in_order(self, limit: int) -> list[WaitEntry]:
        """Active entries, first come first: of reachable users who did not mute offers."""
        rows = await self.conn.execute(_ACTIVE_IN_ORDER, {"limit": limit})
        return [_entry(r) for r in rows]

    async def offers_due(self, now: datetime) -> list[WaitEntry]:
        rows = await self.conn.execute(_OFFERS_DUE, {"now": to_db(now)})
        return [_entry(r) for r in rows]

    async def live_ending_before(self, day: date) -> list[WaitEntry]:
        rows = await self.conn.execute(_LIVE_ENDING_BEFORE, {"day": day})
        return [_entry(r) for r in rows]

    async def set_status(self, entry_id: int, expected: tuple[str, ...], status: str) -> bool:
        values: dict[str, Any] = {"status": status}
        if status != OFFERED:
            values.update(offer_until=None)
        result = await self.conn.execute(
            update(_W).where(_W.c.id == entry_id, _W.c.status.in_(expected)).values(**values)
        )
        return int(result.rowcount) == 1

    async def set_offer(self, entry_id: int, slot_id: int, until: datetime) -> bool:
        result = await self.conn.execute(
            update(_W)
            .where(_W.c.id == entry_id, _W.c.status == "active")
            .values(status=OFFERED, offered_slot_id=slot_id, offer_until=to_db(until))
        )
        return int(result.rowcount) == 1

    async def offered_before(self, entry_id: int) -> set[int]:
        """Slots this entry was ever offered (outbox keys ``wl:<entry>:offer:<slot>:…``)."""
        prefix = f"wl:{entry_id}:offer:"
        rows = await self.conn.execute(
            select(outbox.c.idem_key).where(outbox.c.idem_key.like(f"{prefix}%"))
        )
        found: set[int] = set()
        for (key,) in rows:
            part = str(key)[len(prefix) :].split(":", 1)[0]
            if part.isdigit():
                found.add(int(part))
        return found

    async def candidates(
        self, entry: WaitEntry, lo: datetime, hi: datetime, now: datetime, limit: int
    ) -> list[Candidate]:
        """Freed (``freed_at`` set: given back by a cancel or a move), free, unheld slots of
        the entry's specialty/region (and doctor/clinic) starting in (lo, hi), not in a
        live offer, earliest first; the local day and time are checked by the caller."""
        s = slots
        held = exists().where(holds.c.slot_id == s.c.id, holds.c.expires_at > to_db(now))
        in_offer = exists().where(
            _W.c.offered_slot_id == s.c.id,
            _W.c.status == OFFERED,
            _W.c.offer_until > to_db(now),
        )
        cond = [
            s.c.specialty_id == entry.specialty_id,
            s.c.region_id == entry.region_id,
            s.c.status == "free",
            s.c.freed_at.is_not(None),
            exists().where(doctor_roles.c.id == s.c.role_id, doctor_roles.c.active.is_(True)),
            s.c.start_utc > to_db(max(lo, now)),
            s.c.start_utc < to_db(hi),
            ~held,
            ~in_offer,
        ]
        if entry.doctor_id is not None:
            cond.append(s.c.doctor_id == entry.doctor_id)
        if entry.clinic_id is not None:
            cond.append(s.c.clinic_id == entry.clinic_id)
        rows = await self.conn.execute(
            select(s.c.id, s.c.start_utc, clinics.c.tz)
            .select_from(s.join(clinics, clinics.c.id == s.c.clinic_id))
            .where(and_(*cond))
            .order_by(s.c.start_utc, s.c.id)
            .limit(limit)
        )
        return [Candidate(slot_id=r.id, start=from_db(r.start_utc), clinic_tz=r.tz) for r in rows]

    async def hold_for(
        self, user_id: int, patient_id: int, slot_id: int, until: datetime, now: datetime
    ) -> bool:
        """Hold the slot for the subscriber unless they hold something right now (a booking
        summary open): their own hold is never taken away from them."""
        await self.conn.execute(
            delete(holds).where(
                ((holds.c.user_id == user_id) | (holds.c.slot_id == slot_id))
                & (holds.c.expires_at <= to_db(now))
            )
        )
        values = {
            "user_id": user_id,
            "patient_id": patient_id,
            "slot_id": slot_id,
            "expires_at": to_db(until),
            "purpose": "waitlist",
        }
        return await self.insert_unless_conflict(holds, values)

    async def drop_hold(self, user_id: int, slot_id: int) -> None:
        await self.conn.execute(
            delete(holds).where(holds.c.user_id == user_id, holds.c.slot_id == slot_id)
        )
