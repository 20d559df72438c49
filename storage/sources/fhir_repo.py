"""SQL of the FHIR import and export: upserts keyed by FHIR ids, appointments for export."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update

from storage.repos.base import from_db, to_db
from storage.schema import (
    appointments,
    clinics,
    doctor_roles,
    doctors,
    fhir_links,
    patients,
    slot_sources,
    slots,
)
from storage.sources.repo import SourceRepository, _new_id


@dataclass(frozen=True, slots=True)
class ExportRow:
    id: int
    number: str
    status: str
    start: datetime  # aware UTC
    minutes: int
    created_at: datetime
    cancel_reason: str | None
    cancelled_by: str | None
    rescheduled_to: int | None
    patient_id: int
    patient_name: str
    doctor_fhir_id: str | None
    doctor_id: int
    doctor_name: str
    clinic_id: int
    clinic_fhir_id: str | None
    clinic_name: str
    slot_external: str | None


class FhirRepository(SourceRepository):
    async def link(self, kind: str, fhir_id: str) -> tuple[int | None, dict[str, Any]] | None:
        row = (
            await self.conn.execute(
                select(fhir_links.c.local_id, fhir_links.c.data).where(
                    fhir_links.c.kind == kind, fhir_links.c.fhir_id == fhir_id
                )
            )
        ).first()
        if row is None:
            return None
        local = None if row.local_id is None else int(row.local_id)
        data: dict[str, Any] = json.loads(row.data)
        return local, data

    async def put_link(
        self, kind: str, fhir_id: str, local_id: int | None, data: dict[str, Any]
    ) -> None:
        values = {"local_id": local_id, "data": json.dumps(data, ensure_ascii=False)}
        if await self.link(kind, fhir_id) is None:
            await self.conn.execute(insert(fhir_links).values(kind=kind, fhir_id=fhir_id, **values))
        else:
            await self.conn.execute(
                update(fhir_links)
                .where(fhir_links.c.kind == kind, fhir_links.c.fhir_id == fhir_id)
                .values(values)
            )

    async def upsert_doctor_by_fhir(self, fhir_id: str, values: dict[str, Any]) -> int:
        found = await self.conn.scalar(select(doctors.c.id).where(doctors.c.fhir_id == fhir_id))
        if found is not None:
            await self.conn.execute(update(doctors).where(doctors.c.id == found).values(values))
            return int(found)
        return _new_id(await self.conn.execute(insert(doctors).values(fhir_id=fhir_id, **values)))

    async def doctor_by_fhir(self, fhir_id: str) -> int | None:
        found = await self.conn.scalar(select(doctors.c.id).where(doctors.c.fhir_id == fhir_id))
        return None if found is None else int(found)

    async def clinic_region(self, clinic_id: int) -> str:
        return str(
            await self.conn.scalar(select(clinics.c.region_id).where(clinics.c.id == clinic_id))
        )

    async def upsert_slot(
        self,
        role_id: int,
        external_id: str,
        start: datetime,
        minutes: int,
        status: str,
        room: str,
        address: str,
    ) -> bool:
        """A slot keyed by its FHIR id; True when added. A slot booked here keeps its status
        and time (the appointment points at it)."""
        role = (
            await self.conn.execute(select(doctor_roles).where(doctor_roles.c.id == role_id))
        ).one()
        found = await self.conn.scalar(
            select(slot_sources.c.slot_id).where(
                slot_sources.c.clinic_id == role.clinic_id,
                slot_sources.c.external_id == external_id,
            )
        )
        values = {
            "role_id": role_id,
            "doctor_id": role.doctor_id,
            "clinic_id": role.clinic_id,
            "specialty_id": role.specialty_id,
            "region_id": await self.clinic_region(role.clinic_id),
            "start_utc": to_db(start),
            "minutes": minutes,
        }
        if found is not None:
            await self.conn.execute(
                update(slots)
                .where(slots.c.id == found, slots.c.status != "booked")
                .values(status=status, **values)
            )
            await self.conn.execute(
                update(slot_sources)
                .where(slot_sources.c.slot_id == found)
                .values(room=room, address=address)
            )
            return False
        slot_id = _new_id(await self.conn.execute(insert(slots).values(status=status, **values)))
        await self.conn.execute(
            insert(slot_sources).values(
                slot_id=slot_id,
                clinic_id=role.clinic_id,
                external_id=external_id,
                room=room,
                address=address,
            )
        )
        return True

    def _patient_name(self, name_enc: str | None) -> str:
        """The full name from its ciphertext (JSON [surname, name, patronymic]); "" when erased."""
        parts = json.loads(self.cipher.decrypt(name_enc) or "[]")
        return " ".join(str(p) for p in parts if p)

    async def appointments_since(self, since: datetime) -> list[ExportRow]:
        """Appointments created or changed since ``since`` (aware), oldest first."""
        from storage.schema import clinic_sources

        rows = await self.conn.execute(
            select(
                appointments,
                patients.c.name_enc,
                doctors.c.fhir_id.label("doctor_fhir"),
                doctors.c.surname.label("d_surname"),
                doctors.c.name.label("d_name"),
                doctors.c.patronymic.label("d_patronymic"),
                clinics.c.fhir_id.label("clinic_fhir"),
                clinics.c.name.label("clinic_name"),
                clinic_sources.c.external_id.label("clinic_ext"),
                slot_sources.c.external_id.label("slot_ext"),
            )
            .join(patients, patients.c.id == appointments.c.patient_id)
            .join(doctors, doctors.c.id == appointments.c.doctor_id)
            .join(clinics, clinics.c.id == appointments.c.clinic_id)
            .outerjoin(clinic_sources, clinic_sources.c.clinic_id == clinics.c.id)
            .outerjoin(slot_sources, slot_sources.c.slot_id == appointments.c.slot_id)
            .where(appointments.c.updated_at >= to_db(since))
            .order_by(appointments.c.id)
        )
        out = []
        for r in rows:
            m = r._mapping
            out.append(
                ExportRow(
                    id=int(m["id"]),
                    number=str(m["number"]),
                    status=str(m["status"]),
                    start=from_db(m["start_utc"]),
                    minutes=int(m["minutes"]),
                    created_at=from_db(m["created_at"]),
                    cancel_reason=m["cancel_reason"],
                    cancelled_by=m["cancelled_by"],
                    rescheduled_to=m["rescheduled_to"],
                    patient_id=int(m["patient_id"]),
                    patient_name=self._patient_name(m["name_enc"]),
                    doctor_fhir_id=m["doctor_fhir"],
                    doctor_id=int(m["doctor_id"]),
                    doctor_name=" ".join(
                        p for p in (m["d_surname"], m["d_name"], m["d_patronymic"]) if p
                    ),
                    clinic_id=int(m["clinic_id"]),
                    clinic_fhir_id=m["clinic_fhir"] or m["clinic_ext"],
                    clinic_name=str(m["clinic_name"]),
                    slot_external=m["slot_ext"],
                )
            )
        return out
