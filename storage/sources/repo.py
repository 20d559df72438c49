"""SQL of the schedule sources: a remote owner's directory mirrored into our tables.

Every upsert is keyed by the owner's id (clinic_sources, doctor_sources,
clinic_specialties, slot_sources), so a second mirror run or a re-import
updates rows instead of adding duplicates. A slot that vanished at the owner
while free here becomes 'blocked' (never deleted: appointments point at it);
one that comes back is 'free' again. A slot we booked stays as it is.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, insert, select, update

from storage.repos.base import Repository, from_db, to_db
from storage.schema import (
    appointments,
    attachments,
    clinic_sources,
    clinic_specialties,
    clinics,
    doctor_roles,
    doctor_sources,
    doctors,
    external_patients,
    regions,
    slot_sources,
    slots,
    specialties,
)


@dataclass(frozen=True, slots=True)
class SlotRef:
    """What the owner needs to take or cancel one of our slots."""

    slot_id: int
    clinic_id: int
    source: str
    clinic_external: str
    slot_external: str
    phone: str


@dataclass(frozen=True, slots=True)
class RemoteVisit:
    """One of our upcoming visits on a remote slot (for the reconcile job)."""

    appointment_id: int
    clinic_id: int
    clinic_external: str
    patient_id: int
    patient_external: str | None
    slot_external: str
    start: datetime


@dataclass(frozen=True, slots=True)
class MirrorSlot:
    external_id: str
    start: datetime  # aware
    minutes: int
    room: str
    address: str


def _new_id(result: Any) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def specialty_code(prefix: str, fer_code: str, name: str) -> str:
    """A stable code for an owner's specialty: one local specialty per (federal code, name),
    since Gorzdrav gives «Диспансеризация» and «Терапевт участковый» the same federal code."""
    digest = hashlib.sha1(name.strip().lower().encode()).hexdigest()[:8]
    return f"{prefix}-{fer_code or '0'}-{digest}"


class SourceRepository(Repository):
    # --- directory ----------------------------------------------------------------------
    async def ensure_region(self, region_id: str, name_ru: str, name_en: str, tz: str) -> None:
        found = await self.conn.scalar(select(regions.c.id).where(regions.c.id == region_id))
        if found is None:
            await self.conn.execute(
                insert(regions).values(id=region_id, name_ru=name_ru, name_en=name_en, tz=tz)
            )

    async def upsert_clinic(
        self, source: str, external_id: str, values: dict[str, Any], district: str = ""
    ) -> int:
        """``values``: clinics columns (region_id, name, address, phone, tz, kind, …)."""
        values = {**values, "search_text": f"{values['name']} {values['address']}".lower()}
        found = await self.conn.scalar(
            select(clinic_sources.c.clinic_id).where(
                clinic_sources.c.source == source, clinic_sources.c.external_id == external_id
            )
        )
        if found is not None:
            await self.conn.execute(update(clinics).where(clinics.c.id == found).values(values))
            return int(found)
        clinic_id = _new_id(await self.conn.execute(insert(clinics).values(values)))
        await self.conn.execute(
            insert(clinic_sources).values(
                clinic_id=clinic_id, source=source, external_id=external_id, district=district
            )
        )
        return clinic_id

    async def clinic_by_external(self, source: str, external_id: str) -> int | None:
        found = await self.conn.scalar(
            select(clinic_sources.c.clinic_id).where(
                clinic_sources.c.source == source, clinic_sources.c.external_id == external_id
            )
        )
        return None if found is None else int(found)

    async def upsert_specialty(self, code: str, name_ru: str, name_en: str) -> int:
        found = await self.conn.scalar(select(specialties.c.id).where(specialties.c.code == code))
        if found is not None:
            return int(found)
        result = await self.conn.execute(
            insert(specialties).values(code=code, name_ru=name_ru, name_en=name_en)
        )
        return _new_id(result)

    async def link_specialty(
        self, clinic_id: int, specialty_id: int, external_id: str, fer_code: str
    ) -> None:
        where = and_(
            clinic_specialties.c.clinic_id == clinic_id,
            clinic_specialties.c.external_id == external_id,
        )
        if await self.conn.scalar(select(clinic_specialties.c.id).where(where)) is None:
            await self.conn.execute(
                insert(clinic_specialties).values(
                    clinic_id=clinic_id,
                    specialty_id=specialty_id,
                    external_id=external_id,
                    fer_code=fer_code,
                )
            )
        else:
            await self.conn.execute(
                update(clinic_specialties)
                .where(where)
                .values(specialty_id=specialty_id, fer_code=fer_code)
            )

    async def upsert_doctor(self, clinic_id: int, external_id: str, values: dict[str, Any]) -> int:
        """``values``: doctors columns (surname, name, patronymic, qualification)."""
        found = await self.conn.scalar(
            select(doctor_sources.c.doctor_id).where(
                doctor_sources.c.clinic_id == clinic_id,
                doctor_sources.c.external_id == external_id,
            )
        )
        if found is not None:
            await self.conn.execute(update(doctors).where(doctors.c.id == found).values(values))
            return int(found)
        doctor_id = _new_id(await self.conn.execute(insert(doctors).values(values)))
        await self.conn.execute(
            insert(doctor_sources).values(
                doctor_id=doctor_id, clinic_id=clinic_id, external_id=external_id
            )
        )
        return doctor_id

    async def ensure_role(self, doctor_id: int, clinic_id: int, specialty_id: int) -> int:
        found = await self.conn.scalar(
            select(doctor_roles.c.id).where(
                doctor_roles.c.doctor_id == doctor_id,
                doctor_roles.c.clinic_id == clinic_id,
                doctor_roles.c.specialty_id == specialty_id,
            )
        )
        if found is not None:
            await self.conn.execute(
                update(doctor_roles).where(doctor_roles.c.id == found).values(active=True)
            )
            return int(found)
        result = await self.conn.execute(
            insert(doctor_roles).values(
                doctor_id=doctor_id, clinic_id=clinic_id, specialty_id=specialty_id
            )
        )
        return _new_id(result)

    # --- slots --------------------------------------------------------------------------
    async def sync_slots(
        self, role_id: int, region_id: str, mirrored: list[MirrorSlot], now: datetime
    ) -> tuple[int, int]:
        """Make the role's future slots match the owner's free list; (added, closed)."""
        role = (
            await self.conn.execute(select(doctor_roles).where(doctor_roles.c.id == role_id))
        ).one()
        rows = await self.conn.execute(
            select(slots.c.id, slots.c.status, slot_sources.c.external_id)
            .join(slot_sources, slot_sources.c.slot_id == slots.c.id)
            .where(slots.c.role_id == role_id, slots.c.start_utc > to_db(now))
        )
        known = {r.external_id: (int(r.id), str(r.status)) for r in rows}
        wanted = {m.external_id: m for m in mirrored}
        added = closed = 0
        for ext, (slot_id, status) in known.items():
            if ext not in wanted and status == "free":
                await self._set_status(slot_id, "free", "blocked")
                closed += 1
            elif ext in wanted and status == "blocked":
                await self._set_status(slot_id, "blocked", "free")
        for ext, m in wanted.items():
            if ext in known or m.start <= now or await self._slot_known(role.clinic_id, ext):
                continue  # (known under another specialty of the same doctor: keep that one)
            result = await self.conn.execute(
                insert(slots).values(
                    role_id=role_id,
                    doctor_id=role.doctor_id,
                    clinic_id=role.clinic_id,
                    specialty_id=role.specialty_id,
                    region_id=region_id,
                    start_utc=to_db(m.start),
                    minutes=m.minutes,
                )
            )
            await self.conn.execute(
                insert(slot_sources).values(
                    slot_id=_new_id(result),
                    clinic_id=role.clinic_id,
                    external_id=ext,
                    room=m.room,
                    address=m.address,
                )
            )
            added += 1
        return added, closed

    async def _slot_known(self, clinic_id: int, external_id: str) -> bool:
        found = await self.conn.scalar(
            select(slot_sources.c.slot_id).where(
                slot_sources.c.clinic_id == clinic_id, slot_sources.c.external_id == external_id
            )
        )
        return found is not None

    async def _set_status(self, slot_id: int, expected: str, status: str) -> bool:
        result = await self.conn.execute(
            update(slots)
            .where(slots.c.id == slot_id, slots.c.status == expected)
            .values(status=status)
        )
        return int(result.rowcount) == 1

    async def close_free_slot(self, slot_id: int) -> bool:
        """The owner says this time is gone: no one here may pick it any more."""
        return await self._set_status(slot_id, "free", "blocked")

    async def slot_ref(self, slot_id: int) -> SlotRef | None:
        row = (
            await self.conn.execute(
                select(
                    slot_sources.c.clinic_id,
                    slot_sources.c.external_id.label("slot_ext"),
                    clinic_sources.c.source,
                    clinic_sources.c.external_id.label("clinic_ext"),
                    clinics.c.phone,
                )
                .join(clinic_sources, clinic_sources.c.clinic_id == slot_sources.c.clinic_id)
                .join(clinics, clinics.c.id == slot_sources.c.clinic_id)
                .where(slot_sources.c.slot_id == slot_id)
            )
        ).first()
        if row is None:
            return None
        return SlotRef(
            slot_id=slot_id,
            clinic_id=int(row.clinic_id),
            source=str(row.source),
            clinic_external=str(row.clinic_ext),
            slot_external=str(row.slot_ext),
            phone=str(row.phone),
        )

    async def slot_place(self, slot_id: int) -> tuple[str, str] | None:
        """(room, address) of a mirrored or imported slot."""
        row = (
            await self.conn.execute(
                select(slot_sources.c.room, slot_sources.c.address).where(
                    slot_sources.c.slot_id == slot_id
                )
            )
        ).first()
        return None if row is None else (str(row.room), str(row.address))

    # --- patients -----------------------------------------------------------------------
    async def external_patient(self, patient_id: int, clinic_id: int) -> str | None:
        found = await self.conn.scalar(
            select(external_patients.c.external_id).where(
                external_patients.c.patient_id == patient_id,
                external_patients.c.clinic_id == clinic_id,
            )
        )
        return None if found is None else str(found)

    async def put_external_patient(
        self, patient_id: int, clinic_id: int, external_id: str, now: datetime
    ) -> None:
        await self.insert_unless_conflict(
            external_patients,
            {
                "patient_id": patient_id,
                "clinic_id": clinic_id,
                "external_id": external_id,
                "found_at": to_db(now),
            },
        )

    async def attach(self, snils: str, policy: str, clinic_id: int) -> None:
        """The attachment register learns (from the owner) where this person is attached."""
        snils_hash = self.cipher.lookup_hash(snils)
        policy_hash = self.cipher.lookup_hash(policy)
        where = and_(
            attachments.c.snils_hash == snils_hash, attachments.c.policy_hash == policy_hash
        )
        if await self.conn.scalar(select(attachments.c.id).where(where)) is None:
            await self.conn.execute(
                insert(attachments).values(
                    snils_hash=snils_hash, policy_hash=policy_hash, clinic_id=clinic_id
                )
            )
        else:
            await self.conn.execute(update(attachments).where(where).values(clinic_id=clinic_id))

    # --- reconcile ----------------------------------------------------------------------
    async def upcoming_remote_visits(self, source: str, now: datetime) -> list[RemoteVisit]:
        rows = await self.conn.execute(
            select(
                appointments.c.id,
                appointments.c.clinic_id,
                appointments.c.patient_id,
                appointments.c.start_utc,
                clinic_sources.c.external_id.label("clinic_ext"),
                slot_sources.c.external_id.label("slot_ext"),
                external_patients.c.external_id.label("patient_ext"),
            )
            .join(slot_sources, slot_sources.c.slot_id == appointments.c.slot_id)
            .join(clinic_sources, clinic_sources.c.clinic_id == appointments.c.clinic_id)
            .outerjoin(
                external_patients,
                and_(
                    external_patients.c.patient_id == appointments.c.patient_id,
                    external_patients.c.clinic_id == appointments.c.clinic_id,
                ),
            )
            .where(
                clinic_sources.c.source == source,
                appointments.c.status.in_(("pending", "confirmed")),
                appointments.c.start_utc > to_db(now),
            )
            .order_by(appointments.c.start_utc)
        )
        return [
            RemoteVisit(
                appointment_id=int(r.id),
                clinic_id=int(r.clinic_id),
                clinic_external=str(r.clinic_ext),
                patient_id=int(r.patient_id),
                patient_external=None if r.patient_ext is None else str(r.patient_ext),
                slot_external=str(r.slot_ext),
                start=from_db(r.start_utc),
            )
            for r in rows
        ]

    async def count_mirrored(self, source: str) -> int:
        found = await self.conn.scalar(
            select(func.count())
            .select_from(slot_sources)
            .join(clinic_sources, clinic_sources.c.clinic_id == slot_sources.c.clinic_id)
            .where(clinic_sources.c.source == source)
        )
        return int(found or 0)
