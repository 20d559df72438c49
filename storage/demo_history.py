"""A demo patient with a past, for the interactive console only (issue 9).

«История посещений» and «Направления» are empty for anyone who just
registered; to try them at once the console (``--demo-history``, on by
default without ``--script``) pre-registers Telegram user 5001 — Смирнова Анна
Сергеевна from the attachment register, confirmed, attached to clinic 2 — with
two completed visits with results (one issued an active referral to the
cardiologist, a referral-only specialty), one cancelled visit and her journal.

Never seeded where tests and e2e scripts run: appointment numbers come from
ids, and they expect the first booking to be № A-0000001. Everything goes
through the repositories (encryption, the result's JSON, the referral's
number); only the past slots — which the demo seed never makes — are
inserted here, as booked (or freed) rows of the doctors' real roles.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.booking_ports import NewAppointment
from domain.directory import local_date, local_to_utc
from domain.models import (
    AccountLevel,
    AppointmentStatus,
    JournalEntry,
    Sex,
    Slot,
    SlotStatus,
)
from domain.records import VisitResult
from storage.crypto import PersonalDataCipher
from storage.repos.base import to_db
from storage.schema import clinics, doctor_roles, doctors, slots, specialties
from storage.uow import SqlUnitOfWork

__all__ = ["DEMO_HISTORY_USER", "seed_demo_history"]

DEMO_HISTORY_USER = 5001
CLINIC_ID = 2
STAFF_USER = 9001  # the demo registrar who «wrote» the results
MINUTES = 20

# (doctor surname, specialty code, days ago, local time, status, result, referral to)
VISITS: tuple[tuple[str, str, int, time, AppointmentStatus, VisitResult | None, str], ...] = (
    (
        "Егорова",
        "ophthalmologist",
        45,
        time(9, 30),
        AppointmentStatus.COMPLETED,
        VisitResult(
            conclusion="Миопия слабой степени обоих глаз",
            recommendations="Гимнастика для глаз, перерывы при работе за компьютером",
            prescriptions="Капли «Визин Чистая слеза» по 1 капле 3 раза в день, 14 дней",
        ),
        "",
    ),
    (
        "Волкова",
        "therapist",
        12,
        time(10, 0),
        AppointmentStatus.COMPLETED,
        VisitResult(
            conclusion="Артериальная гипертензия I степени, впервые выявленная",
            recommendations="Контроль давления утром и вечером, ограничить соль",
            prescriptions="Дневник давления; консультация кардиолога",
        ),
        "cardiologist",
    ),
    ("Степанов", "otolaryngologist", 5, time(15, 0), AppointmentStatus.CANCELLED, None, ""),
)


async def seed_demo_history(engine: AsyncEngine, cipher: PersonalDataCipher, now: datetime) -> bool:
    """Add the demo patient 5001 and her past; False (and no change) if 5001 exists."""
    async with SqlUnitOfWork(engine, cipher) as uow:
        users = uow.users
        if await users.get(DEMO_HISTORY_USER) is not None:
            return False
        since = now - timedelta(days=60)
        await users.ensure(DEMO_HISTORY_USER, since)
        await users.set_locale(DEMO_HISTORY_USER, "ru")
        await users.set_consent(DEMO_HISTORY_USER, since)
        await users.set_phone(DEMO_HISTORY_USER, "+79990005001")
        patient = await users.save_self_patient(
            DEMO_HISTORY_USER,
            surname="Смирнова",
            name="Анна",
            patronymic="Сергеевна",
            birth_date=date(1990, 9, 3),
            sex=Sex.FEMALE,
            snils="20394857679",
            policy="7700002345678910",
            email=None,
            now=since,
        )
        await users.set_confirmation(patient.id, confirmed=True, clinic_id=CLINIC_ID)
        await users.set_level(DEMO_HISTORY_USER, AccountLevel.CONFIRMED)
        await uow.journal.add(
            JournalEntry(user_id=DEMO_HISTORY_USER, at=since, action="account.registered")
        )
        conn = uow.conn
        cardiologist = (
            await conn.execute(select(specialties.c.id).where(specialties.c.code == "cardiologist"))
        ).scalar_one()
        tz, region_id = (
            await conn.execute(
                select(clinics.c.tz, clinics.c.region_id).where(clinics.c.id == CLINIC_ID)
            )
        ).one()
        for surname, code, days_ago, at, status, result, referral_to in VISITS:
            role = (
                await conn.execute(
                    select(doctor_roles.c.id, doctors.c.id, specialties.c.id)
                    .select_from(
                        doctor_roles.join(doctors, doctors.c.id == doctor_roles.c.doctor_id).join(
                            specialties, specialties.c.id == doctor_roles.c.specialty_id
                        )
                    )
                    .where(
                        doctors.c.surname == surname,
                        specialties.c.code == code,
                        doctor_roles.c.clinic_id == CLINIC_ID,
                    )
                )
            ).one()
            role_id, doctor_id, specialty_id = (int(v) for v in role)
            minutes = MINUTES
            start = local_to_utc(local_date(now, tz) - timedelta(days=days_ago), at, tz)
            booked_at = start - timedelta(days=7)
            slot_status = (
                SlotStatus.BOOKED if status is AppointmentStatus.COMPLETED else SlotStatus.FREE
            )
            key = (
                await conn.execute(
                    insert(slots).values(
                        role_id=role_id,
                        doctor_id=doctor_id,
                        clinic_id=CLINIC_ID,
                        specialty_id=specialty_id,
                        region_id=region_id,
                        start_utc=to_db(start),
                        minutes=minutes,
                        kind="consultation",
                        status=slot_status.value,
                    )
                )
            ).inserted_primary_key
            assert key is not None
            slot = Slot(
                int(key[0]), role_id, doctor_id, CLINIC_ID, specialty_id, region_id,
                start, minutes, "consultation", slot_status,
            )  # fmt: skip
            visit = await uow.appointments.insert(
                NewAppointment(
                    patient_id=patient.id,
                    user_id=DEMO_HISTORY_USER,
                    slot=slot,
                    status=AppointmentStatus.CONFIRMED,
                    referral_id=None,
                    created_at=booked_at,
                )
            )
            await _event(uow, visit.id, booked_at, AppointmentStatus.CONFIRMED, "patient")
            await _journal(uow, booked_at, "appointment.booked", visit.id, doctor_id)
            if status is AppointmentStatus.CANCELLED:
                cancelled_at = start - timedelta(days=1)
                await uow.appointments.set_status(
                    visit.id,
                    expected=(AppointmentStatus.CONFIRMED,),
                    status=status,
                    now=cancelled_at,
                    cancelled_by="patient",
                    reason="Планы изменились",
                )
                await _event(uow, visit.id, cancelled_at, status, "patient")
                await _journal(uow, cancelled_at, "appointment.cancelled", visit.id, doctor_id)
                continue
            done_at = start + timedelta(minutes=minutes)
            await uow.appointments.set_status(
                visit.id, expected=(AppointmentStatus.CONFIRMED,), status=status, now=done_at
            )
            await _event(uow, visit.id, done_at, status, "staff", STAFF_USER)
            await _journal(uow, done_at, "appointment.completed", visit.id, doctor_id)
            assert result is not None
            await uow.records.save_result(visit.id, result, STAFF_USER, done_at)
            details: dict[str, object] = {"staff_user_id": STAFF_USER}
            if referral_to:
                referral = await uow.records.add_referral(
                    patient_id=patient.id,
                    specialty_id=int(cardiologist),
                    clinic_id=None,
                    doctor_id=doctor_id,
                    source_appointment_id=visit.id,
                    issued_by_user_id=STAFF_USER,
                    issued_at=done_at,
                    valid_until=(done_at + timedelta(days=60)).date(),
                )
                details["referral_id"] = referral.id
            await _journal(uow, done_at, "visit.results", visit.id, doctor_id, details)
        await uow.commit()
    return True


async def _event(
    uow: SqlUnitOfWork,
    appointment_id: int,
    at: datetime,
    status: AppointmentStatus,
    actor: str,
    actor_user_id: int | None = DEMO_HISTORY_USER,
) -> None:
    await uow.appointments.add_event(
        appointment_id, at=at, status=status, actor=actor, actor_user_id=actor_user_id
    )


async def _journal(
    uow: SqlUnitOfWork,
    at: datetime,
    action: str,
    appointment_id: int,
    doctor_id: int,
    details: dict[str, object] | None = None,
) -> None:
    await uow.journal.add(
        JournalEntry(
            user_id=DEMO_HISTORY_USER,
            at=at,
            action=action,
            appointment_id=appointment_id,
            doctor_id=doctor_id,
            details=details or {},
        )
    )
