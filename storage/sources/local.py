"""The local ScheduleSource: our own tables are the owner of the schedule.

The same port the Gorzdrav adapter implements, over today's tables, with our
ids as strings. Taking a slot is still the one conditional UPDATE (free →
booked, rowcount 1) of AppointmentRepository.take_slot, so two patients can
never hold one slot; booking itself keeps going through domain/booking.py,
which for a local slot needs nothing from here (no remote is attached).
"""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, select, update

from domain.errors import SlotTaken
from domain.models import Patient
from domain.ports import Clock
from domain.schedule_source import (
    SourceClinic,
    SourceDistrict,
    SourceDoctor,
    SourceSlot,
    SourceSpecialty,
    SourceVisit,
)
from storage.repos.base import Repository, from_db, to_db
from storage.schema import (
    appointments,
    attachments,
    clinics,
    doctor_roles,
    doctors,
    regions,
    slot_sources,
    slots,
    specialties,
)


class LocalScheduleSource(Repository):
    name = "local"

    def __init__(self, conn: object, cipher: object, clock: Clock) -> None:
        super().__init__(conn, cipher)  # type: ignore[arg-type]
        self.clock = clock

    def _free(self) -> object:
        return and_(slots.c.status == "free", slots.c.start_utc > to_db(self.clock.now()))

    async def districts(self) -> list[SourceDistrict]:
        rows = await self.conn.execute(select(regions).order_by(regions.c.id))
        return [SourceDistrict(str(r.id), str(r.name_ru)) for r in rows]

    async def clinics(self, district_id: str) -> list[SourceClinic]:
        rows = await self.conn.execute(
            select(clinics).where(clinics.c.region_id == district_id).order_by(clinics.c.id)
        )
        return [
            SourceClinic(str(r.id), r.name, r.name, r.address, r.phone, r.district) for r in rows
        ]

    async def specialties(self, clinic_id: str) -> list[SourceSpecialty]:
        free = (
            select(func.count())
            .where(slots.c.specialty_id == specialties.c.id, slots.c.clinic_id == int(clinic_id))
            .where(self._free())  # type: ignore[arg-type]
            .scalar_subquery()
        )
        rows = await self.conn.execute(
            select(specialties.c.id, specialties.c.code, specialties.c.name_ru, free.label("free"))
            .where(
                specialties.c.id.in_(
                    select(doctor_roles.c.specialty_id).where(
                        doctor_roles.c.clinic_id == int(clinic_id), doctor_roles.c.active
                    )
                )
            )
            .order_by(specialties.c.id)
        )
        return [SourceSpecialty(str(r.id), r.code, r.name_ru, int(r.free)) for r in rows]

    async def doctors(self, clinic_id: str, specialty_id: str) -> list[SourceDoctor]:
        free = (
            select(func.count())
            .where(slots.c.role_id == doctor_roles.c.id)
            .where(self._free())  # type: ignore[arg-type]
            .scalar_subquery()
        )
        rows = await self.conn.execute(
            select(doctors, free.label("free"))
            .join(doctor_roles, doctor_roles.c.doctor_id == doctors.c.id)
            .where(
                doctor_roles.c.clinic_id == int(clinic_id),
                doctor_roles.c.specialty_id == int(specialty_id),
                doctor_roles.c.active,
            )
            .order_by(doctors.c.surname)
        )
        return [
            SourceDoctor(
                str(r.id),
                " ".join(p for p in (r.surname, r.name, r.patronymic) if p),
                r.qualification,
                int(r.free),
            )
            for r in rows
        ]

    async def slots(self, clinic_id: str, doctor_id: str) -> list[SourceSlot]:
        rows = await self.conn.execute(
            select(
                slots, slot_sources.c.room, slot_sources.c.address, clinics.c.address.label("ca")
            )
            .join(clinics, clinics.c.id == slots.c.clinic_id)
            .outerjoin(slot_sources, slot_sources.c.slot_id == slots.c.id)
            .where(slots.c.clinic_id == int(clinic_id), slots.c.doctor_id == int(doctor_id))
            .where(self._free())  # type: ignore[arg-type]
            .order_by(slots.c.start_utc)
        )
        out = []
        for r in rows:
            start = from_db(r.start_utc)
            out.append(
                SourceSlot(
                    external_id=str(r.id),
                    start=start,
                    end=start + timedelta(minutes=int(r.minutes)),
                    room=r.room or "",
                    address=r.address or r.ca,
                )
            )
        return out

    async def free_days(self, clinic_id: str, doctor_id: str) -> list[date]:
        tz = await self.conn.scalar(select(clinics.c.tz).where(clinics.c.id == int(clinic_id)))
        zone = ZoneInfo(str(tz))
        return sorted(
            {s.start.astimezone(zone).date() for s in await self.slots(clinic_id, doctor_id)}
        )

    async def find_patient(self, clinic_id: str, patient: Patient) -> str:
        return str(patient.id)  # our own register: the patient's id is ours

    async def take(self, clinic_id: str, patient_id: str, slot_id: str) -> None:
        result = await self.conn.execute(
            update(slots)
            .where(slots.c.id == int(slot_id), slots.c.status == "free")
            .values(status="booked")
        )
        if int(result.rowcount) != 1:
            raise SlotTaken(int(slot_id))

    async def cancel(self, clinic_id: str, patient_id: str, slot_id: str) -> None:
        await self.conn.execute(
            update(slots)
            .where(slots.c.id == int(slot_id), slots.c.status == "booked")
            .values(status="free")
        )

    async def visits(self, clinic_id: str, patient_id: str) -> list[SourceVisit]:
        rows = await self.conn.execute(
            select(appointments.c.slot_id, appointments.c.start_utc, clinics.c.name)
            .join(clinics, clinics.c.id == appointments.c.clinic_id)
            .where(
                appointments.c.clinic_id == int(clinic_id),
                appointments.c.patient_id == int(patient_id),
                appointments.c.status.in_(("pending", "confirmed")),
                appointments.c.start_utc > to_db(self.clock.now()),
            )
            .order_by(appointments.c.start_utc)
        )
        return [SourceVisit(str(r.slot_id), from_db(r.start_utc), r.name, "", "") for r in rows]

    async def attached_clinics(self, policy: str) -> list[str]:
        rows = await self.conn.execute(
            select(attachments.c.clinic_id).where(
                attachments.c.policy_hash == self.cipher.lookup_hash(policy)
            )
        )
        return [str(r.clinic_id) for r in rows]
