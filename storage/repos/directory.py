"""The read side of finding a doctor (SPEC §2): regions, specialties, clinics, doctors, free slots.

"Free" means ``slots.status = 'free'`` and no unexpired hold of another user
(a hold is the few minutes a booking summary reserves a slot; the holder
passes ``for_user_id`` and still sees it). ``now`` always comes from the
caller's clock.

The statements (and which index each one scans) are in storage/repos/directory_sql.py,
the row mapping in storage/repos/directory_rows.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from domain.booking_ports import SlotContext
from domain.directory import ClinicPage, search_key
from domain.models import Clinic, Doctor, Region, Slot, Specialty
from storage.memo import directory_cache, read_memo
from storage.prepared import prepared
from storage.repos.directory_rows import (
    _clinic,
    _doctor,
    _escape_like,
    _region,
    _slot,
    _slot_context,
    _specialty,
    natural_key,
)
from storage.repos.directory_sql import (
    _CLINIC_BY_ID,
    _CLINIC_NAMES,
    _DOCTOR_BY_ID,
    _SLOT_CONTEXT_BY_ID,
    _SPECIALTIES,
    _SPECIALTY_BY_ID,
)
from storage.repos.directory_times import FreeTimes
from storage.schema import clinics, doctor_roles, regions, specialties

__all__ = ["DirectoryRepository", "natural_key"]


class DirectoryRepository(FreeTimes):
    # Specialties, clinics and doctors by id, remembered for one unit of work (set by
    # SqlUnitOfWork.directory): a booking step asked for the same rows two or three
    # times (handler, screen, details). These rows are never changed by a dialogue
    # and the domain objects are frozen, so handing out the same object is safe.
    memo: dict[tuple[str, int], Any] | None = None

    async def _memo(self, kind: str, key: int, load: Any) -> Any:
        """Per unit of work first, then the engine's directory cache (storage/memo.py:
        shared for a minute, emptied by any write to these tables through this engine)."""
        memo = self.memo
        if memo is not None and (kind, key) in memo:
            return memo[(kind, key)]
        cache = directory_cache(self.conn)
        found, value = cache.get((kind, key)) if cache is not None else (False, None)
        if not found:
            value = await load()
            if cache is not None and value is not None:
                cache.put((kind, key), value)
        if memo is not None:
            memo[(kind, key)] = value
        return value

    # --- reference data -------------------------------------------------------------------
    async def regions(self) -> list[Region]:
        rows = await self.conn.execute(select(regions).order_by(regions.c.name_ru))
        return [_region(r) for r in rows]

    async def region(self, region_id: str) -> Region | None:
        row = (await self.conn.execute(select(regions).where(regions.c.id == region_id))).first()
        return None if row is None else _region(row)

    async def specialties(self) -> list[Specialty]:
        async def load() -> tuple[Specialty, ...]:
            rows = await self.conn.execute(_SPECIALTIES)
            return tuple(_specialty(r) for r in rows)

        found: tuple[Specialty, ...] = await self._memo("specialties", 0, load)
        return list(found)

    async def specialty(self, specialty_id: int) -> Specialty | None:
        async def load() -> Specialty | None:
            row = (await self.conn.execute(_SPECIALTY_BY_ID, {"id": specialty_id})).first()
            return None if row is None else _specialty(row)

        found: Specialty | None = await self._memo("specialty", specialty_id, load)
        return found

    async def specialty_by_code(self, code: str) -> Specialty | None:
        row = (
            await self.conn.execute(select(specialties).where(specialties.c.code == code))
        ).first()
        return None if row is None else _specialty(row)

    async def clinic(self, clinic_id: int) -> Clinic | None:
        async def load() -> Clinic | None:
            row = (await self.conn.execute(_CLINIC_BY_ID, {"id": clinic_id})).first()
            return None if row is None else _clinic(row)

        found: Clinic | None = await self._memo("clinic", clinic_id, load)
        return found

    async def doctor(self, doctor_id: int) -> Doctor | None:
        async def load() -> Doctor | None:
            row = (await self.conn.execute(_DOCTOR_BY_ID, {"id": doctor_id})).first()
            return None if row is None else _doctor(row._mapping)

        found: Doctor | None = await self._memo("doctor", doctor_id, load)
        return found

    async def slot(self, slot_id: int) -> Slot | None:
        """Read once per unit of work until its next write (storage/memo.py read memo)."""
        memo = read_memo(self.conn)
        if memo is not None and ("slot", slot_id) in memo:
            known: Slot | None = memo[("slot", slot_id)]
            return known
        found, _context = await self.slot_with_context(slot_id)
        return found

    async def slot_with_context(self, slot_id: int) -> tuple[Slot | None, SlotContext | None]:
        """The slot (its own status) and its booking context (status BLOCKED when the
        doctor's role is inactive), from one statement; both kept in the read memo."""
        memo = read_memo(self.conn)
        if memo is not None and ("slot_context", slot_id) in memo:
            return memo[("slot", slot_id)], memo[("slot_context", slot_id)]
        rows = await prepared(_SLOT_CONTEXT_BY_ID).records(self.conn, {"id": slot_id})
        row = rows[0] if rows else None
        slot = None if row is None else _slot(row._mapping)
        context = None if row is None else _slot_context(row)
        if memo is not None:
            memo[("slot", slot_id)] = slot
            memo[("slot_context", slot_id)] = context
        return slot, context

    async def has_role(self, doctor_id: int, clinic_id: int, specialty_id: int) -> bool:
        """Whether the doctor actively works as this specialty in this clinic (ownership checks)."""
        row = (
            await self.conn.execute(
                select(doctor_roles.c.id).where(
                    doctor_roles.c.doctor_id == doctor_id,
                    doctor_roles.c.clinic_id == clinic_id,
                    doctor_roles.c.specialty_id == specialty_id,
                    doctor_roles.c.active.is_(True),
                )
            )
        ).first()
        return row is not None

    # --- clinics ---------------------------------------------------------------------------
    async def clinics_for_specialty(
        self,
        region_id: str,
        specialty_id: int,
        *,
        query: str | None = None,
        attached_clinic_id: int | None = None,
        offset: int = 0,
        limit: int = 10,
    ) -> ClinicPage:
        """Clinics of a region where the specialty is practised: attached first, then by name.

        ``query`` matches every typed word inside the name or address (case- and ё-insensitive).
        """
        words = search_key(query or "").split()
        params = {"region_id": region_id, "specialty_id": specialty_id}
        if not words:  # the wizard's page: one statement built once
            names: Sequence[Any] = await prepared(_CLINIC_NAMES).records(self.conn, params)
        else:
            conditions = [
                clinics.c.search_text.like(f"%{_escape_like(word)}%", escape="\\") for word in words
            ]
            names = (await self.conn.execute(_CLINIC_NAMES.where(*conditions), params)).all()
        # Natural order («№ 3» before «№ 180»), which neither SQLite nor PostgreSQL sorts
        # portably: the region's matching names (a few hundred at most) are ordered here.
        ordered = sorted(
            names, key=lambda r: (r.id != attached_clinic_id, natural_key(r.name), r.id)
        )
        page_ids = [r.id for r in ordered[offset : offset + limit]]
        by_id = await self._clinics_by_id(page_ids)
        return ClinicPage([by_id[i] for i in page_ids if i in by_id], len(names))

    async def _clinics_by_id(self, ids: list[int]) -> dict[int, Clinic]:
        """Clinics from the directory cache (storage/memo.py), the missing ones in one
        statement (and cached): a page of the same region and specialty is usually the
        page the previous user saw."""
        cache = directory_cache(self.conn)
        by_id: dict[int, Clinic] = {}
        missing: list[int] = []
        for clinic_id in ids:
            found, value = cache.get(("clinic", clinic_id)) if cache is not None else (False, None)
            if found and value is not None:
                by_id[clinic_id] = value
            else:
                missing.append(clinic_id)
        if missing:
            rows = await self.conn.execute(select(clinics).where(clinics.c.id.in_(missing)))
            for row in rows:
                clinic = by_id[row.id] = _clinic(row)
                if cache is not None:
                    cache.put(("clinic", row.id), clinic)
        return by_id
