"""The read side of finding a doctor (SPEC §2): regions, specialties, clinics, doctors, free slots.

"Free" means ``slots.status = 'free'`` and no unexpired hold of another user
(a hold is the few minutes a booking summary reserves a slot; the holder
passes ``for_user_id`` and still sees it). ``now`` always comes from the
caller's clock.

Every hot query is one index range scan that stops after the rows it needs
(bench/moscow.py measures them on 8 M slots):

* earliest free of a specialty in a region → ``ix_slots_spec_region_free``;
  with a clinic → ``ix_slots_clinic_spec_free`` (the region is then left out
  of the predicate on purpose, so no planner prefers the wider index);
* a doctor's slots → ``ix_slots_doctor_free``. The clinic and specialty of the
  doctor's role are compared as ``column + 0``: an expression no index can
  serve, which keeps SQLite's planner (no statistics) on the doctor's index
  instead of the clinic's, where a fully booked doctor would mean scanning
  every free slot of his colleagues.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Select,
    bindparam,
    exists,
    literal_column,
    select,
    union_all,
)

from domain.booking_ports import SlotContext
from domain.directory import ClinicPage, DoctorCard, local_date, local_day_bounds, search_key
from domain.models import Clinic, Doctor, Region, Sex, Slot, SlotStatus, Specialty
from storage.memo import directory_cache, read_memo
from storage.prepared import prepared
from storage.repos.base import Repository, from_db, to_db
from storage.schema import clinics, doctor_roles, doctors, holds, regions, slots, specialties

__all__ = ["DirectoryRepository"]

# Built once (the statement objects, and so their compiled forms, are reused).
_SPECIALTY_BY_ID = select(specialties).where(specialties.c.id == bindparam("id"))
_CLINIC_BY_ID = select(clinics).where(clinics.c.id == bindparam("id"))
_DOCTOR_BY_ID = select(doctors).where(doctors.c.id == bindparam("id"))
# A slot with what the booking rules need of it (its role still active, the clinic's
# zone, the specialty): one statement serves DirectoryRepository.slot (the wizard's
# «time» press) and AppointmentRepository.slot_context (the hold and the booking right
# after it in the same update), through the read memo.
_SLOT_CONTEXT_BY_ID = (
    select(
        slots,
        doctor_roles.c.active.label("role_active"),
        clinics.c.tz.label("clinic_tz"),
        specialties.c.code,
        specialties.c.name_ru,
        specialties.c.name_en,
        specialties.c.referral_required,
        specialties.c.min_age,
        specialties.c.max_age,
        specialties.c.sex,
        specialties.c.prep_ru,
        specialties.c.prep_en,
    )
    .join(clinics, clinics.c.id == slots.c.clinic_id)
    .join(specialties, specialties.c.id == slots.c.specialty_id)
    .join(doctor_roles, doctor_roles.c.id == slots.c.role_id)
    .where(slots.c.id == bindparam("id"))
)
_SPECIALTIES = select(specialties).order_by(specialties.c.id)


class DirectoryRepository(Repository):
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
        conditions: list[ColumnElement[bool]] = [
            clinics.c.region_id == region_id,
            exists().where(
                doctor_roles.c.clinic_id == clinics.c.id,
                doctor_roles.c.specialty_id == specialty_id,
                doctor_roles.c.active.is_(True),
            ),
        ]
        for word in search_key(query or "").split():
            conditions.append(clinics.c.search_text.like(f"%{_escape_like(word)}%", escape="\\"))
        # Natural order («№ 3» before «№ 180»), which neither SQLite nor PostgreSQL sorts
        # portably: the region's matching names (a few hundred at most) are ordered here.
        names = (
            await self.conn.execute(select(clinics.c.id, clinics.c.name).where(*conditions))
        ).all()
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
            doctor = _doctor(_unprefix(row, "d_"))
            nearest = None if row["s_id"] is None else _slot(_unprefix(row, "s_"))
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
        params: dict[str, Any] = {
            "doctor_id": doctor_id,
            "clinic_id": clinic_id,
            "specialty_id": specialty_id,
            **_now(now, for_user_id),
        }
        for offset in range(days):
            lo, hi = _day_range(today + timedelta(days=offset), tz, now)
            params[f"lo{offset}"], params[f"hi{offset}"] = lo, hi
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


# --- prebuilt statements -----------------------------------------------------------------
# Built once and executed with bound parameters: constructing a 14-probe statement costs
# more Python time than running it, and a fixed statement also hits SQLAlchemy's compiled
# cache every time.

_NO_USER = 0  # Telegram user ids are positive: "held by anyone but 0" is "held by anyone"


def _now(now: datetime, for_user_id: int | None) -> dict[str, Any]:
    return {"now": to_db(now), "for_user": _NO_USER if for_user_id is None else for_user_id}


def _day_range(day: date, tz: str, now: datetime) -> tuple[datetime, datetime]:
    """[lo, hi) of a local day in naive UTC, starting strictly after ``now``."""
    lo, hi = local_day_bounds(day, tz)
    return to_db(max(lo, now + timedelta(microseconds=1))), to_db(hi)


def _not_held(s: Any) -> ColumnElement[bool]:
    return ~exists().where(
        holds.c.slot_id == s.c.id,
        holds.c.expires_at > bindparam("now"),
        holds.c.user_id != bindparam("for_user"),
    )


def _doctor_slot_filter(s: Any, lo: str, hi: str) -> list[ColumnElement[bool]]:
    return [
        s.c.doctor_id == bindparam("doctor_id"),
        s.c.status == "free",
        s.c.start_utc >= bindparam(lo),
        s.c.start_utc < bindparam(hi),
        (s.c.clinic_id + 0) == bindparam("clinic_id"),
        (s.c.specialty_id + 0) == bindparam("specialty_id"),
        _not_held(s),
    ]


@cache
def _free_days_stmt(days: int) -> CompoundSelect[Any]:
    probes: list[Select[Any]] = []
    for i in range(days):
        s = slots.alias(f"d{i}")
        probe: Select[Any] = (
            select(literal_column("1"))
            .select_from(s)
            .where(*_doctor_slot_filter(s, f"lo{i}", f"hi{i}"))
        )
        probes.append(select(literal_column(str(i)).label("n")).where(probe.exists()))
    return union_all(*probes)


@cache
def _day_slots_stmt() -> Select[Any]:
    return select(slots).where(*_doctor_slot_filter(slots, "lo", "hi")).order_by(slots.c.start_utc)


@cache
def _earliest_stmt(mode: str, with_clinic: bool, exclude: bool) -> Select[Any]:
    s = slots
    conditions: list[ColumnElement[bool]] = [
        s.c.status == "free",
        s.c.start_utc > bindparam("now"),
        _not_held(s),
    ]
    if mode == "doctor":
        conditions += [
            s.c.doctor_id == bindparam("doctor_id"),
            (s.c.specialty_id + 0) == bindparam("specialty_id"),
        ]
        if with_clinic:
            conditions.append((s.c.clinic_id + 0) == bindparam("clinic_id"))
    elif mode == "clinic":
        conditions += [
            s.c.clinic_id == bindparam("clinic_id"),
            s.c.specialty_id == bindparam("specialty_id"),
        ]
    else:
        conditions += [
            s.c.specialty_id == bindparam("specialty_id"),
            s.c.region_id == bindparam("region_id"),
        ]
    if exclude:
        conditions.append(s.c.id != bindparam("exclude_id"))
    return select(s).where(*conditions).order_by(s.c.start_utc).limit(bindparam("lim"))


@cache
def _doctors_in_clinic_stmt() -> Select[Any]:
    near = slots.alias("near")
    nearest_id = (
        select(near.c.id)
        .where(
            near.c.doctor_id == doctor_roles.c.doctor_id,
            (near.c.clinic_id + 0) == bindparam("clinic_id"),
            (near.c.specialty_id + 0) == bindparam("specialty_id"),
            near.c.status == "free",
            near.c.start_utc > bindparam("now"),
            _not_held(near),
        )
        .order_by(near.c.start_utc)
        .limit(1)
        .correlate(doctor_roles)
        .scalar_subquery()
    )
    return (
        select(*_prefixed(doctors, "d_"), *_prefixed(slots, "s_"))
        .select_from(
            doctor_roles.join(doctors, doctors.c.id == doctor_roles.c.doctor_id).outerjoin(
                slots, slots.c.id == nearest_id
            )
        )
        .where(
            doctor_roles.c.clinic_id == bindparam("clinic_id"),
            doctor_roles.c.specialty_id == bindparam("specialty_id"),
            doctor_roles.c.active.is_(True),
        )
        .order_by(doctors.c.surname, doctors.c.name, doctors.c.id)
    )


def natural_key(text: str) -> tuple[tuple[int, int, str], ...]:
    """Numbers inside a name compare as numbers: «поликлиника № 3» < «поликлиника № 180»."""
    return tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part.casefold().replace("ё", "е"))
        for part in _NUMBERS.split(text)
        if part
    )


_NUMBERS = re.compile(r"(\d+)")


def _escape_like(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _prefixed(table: Any, prefix: str) -> list[Any]:
    return [c.label(f"{prefix}{c.name}") for c in table.c]


def _unprefix(row: Any, prefix: str) -> dict[str, Any]:
    n = len(prefix)
    return {k[n:]: v for k, v in row.items() if k.startswith(prefix)}


def _region(r: Any) -> Region:
    return Region(id=r.id, name_ru=r.name_ru, name_en=r.name_en, tz=r.tz)


def _clinic(r: Any) -> Clinic:
    return Clinic(
        id=r.id,
        region_id=r.region_id,
        name=r.name,
        address=r.address,
        district=r.district,
        kind=r.kind,
        phone=r.phone,
        hours=r.hours,
        tz=r.tz,
        rating=float(r.rating),
    )


def _specialty(r: Any) -> Specialty:
    return Specialty(
        id=r.id,
        code=r.code,
        name_ru=r.name_ru,
        name_en=r.name_en,
        referral_required=bool(r.referral_required),
        min_age=r.min_age,
        max_age=r.max_age,
        sex=Sex(r.sex) if r.sex else None,
        prep_ru=r.prep_ru,
        prep_en=r.prep_en,
    )


def _doctor(r: Mapping[Any, Any]) -> Doctor:
    return Doctor(
        id=r["id"],
        surname=r["surname"],
        name=r["name"],
        patronymic=r["patronymic"],
        qualification=r["qualification"],
        experience_years=r["experience_years"],
        rating_sum=r["rating_sum"],
        rating_count=r["rating_count"],
    )


def _slot_context(row: Any) -> SlotContext:
    slot = _slot(row._mapping)
    if not row.role_active:  # a doctor the clinic blocked takes no bookings at any time
        slot = replace(slot, status=SlotStatus.BLOCKED)
    specialty = Specialty(
        id=row.specialty_id,
        code=row.code,
        name_ru=row.name_ru,
        name_en=row.name_en,
        referral_required=row.referral_required,
        min_age=row.min_age,
        max_age=row.max_age,
        sex=Sex(row.sex) if row.sex else None,
        prep_ru=row.prep_ru,
        prep_en=row.prep_en,
    )
    return SlotContext(slot=slot, clinic_tz=row.clinic_tz, specialty=specialty)


def _slot(r: Mapping[Any, Any]) -> Slot:
    return Slot(
        id=int(r["id"]),
        role_id=r["role_id"],
        doctor_id=r["doctor_id"],
        clinic_id=r["clinic_id"],
        specialty_id=r["specialty_id"],
        region_id=r["region_id"],
        start=from_db(r["start_utc"]),
        minutes=r["minutes"],
        kind=r["kind"],
        status=SlotStatus(r["status"]),
    )
