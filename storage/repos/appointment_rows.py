"""What every appointment module shares: the row → Appointment mapping, the number,
the "active" predicate and the clash columns.

Split out of storage/repos/appointments.py so the booking's statements
(booking_sql.py), its rule facts (booking_facts.py) and the records of visits
(records.py) read appointments the same way without importing the repository.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import or_
from sqlalchemy.engine import Row

from domain.booking_ports import Clash
from domain.calendar import calendar_uid
from domain.models import Appointment, AppointmentStatus
from storage.repos.base import from_db
from storage.schema import ACTIVE_APPOINTMENT_STATES, appointments, clinics, doctors, specialties

NUMBER_PREFIX = "A-"
# Longest visit we expect; bounds the coarse index filter of list_for_owner.
_MAX_VISIT = timedelta(hours=24)


def appointment_number(appointment_id: int) -> str:
    """Human number printed on the confirmation: «A-0000042» (unique: from the id)."""
    return f"{NUMBER_PREFIX}{appointment_id:07d}"


def _appointment(row: Row[Any]) -> Appointment:
    return Appointment(
        id=row.id,
        number=row.number,
        patient_id=row.patient_id,
        user_id=row.user_id,
        slot_id=row.slot_id,
        doctor_id=row.doctor_id,
        clinic_id=row.clinic_id,
        specialty_id=row.specialty_id,
        start=from_db(row.start_utc),
        minutes=row.minutes,
        kind=row.kind,
        status=AppointmentStatus(row.status),
        created_at=from_db(row.created_at),
        referral_id=row.referral_id,
        cancelled_by=row.cancelled_by,
        cancel_reason=row.cancel_reason,
        rescheduled_to=row.rescheduled_to,
        calendar_uid=row.calendar_uid or calendar_uid(row.number),
        calendar_seq=row.calendar_seq or 0,
    )


# An active appointment, in the prebuilt hot statements: an OR of equalities, not an
# expanding IN, which SQLAlchemy renders anew into the whole statement at every run.
_IS_ACTIVE = or_(*(appointments.c.status == state for state in ACTIVE_APPOINTMENT_STATES))

_CLASH_COLUMNS = (
    appointments.c.id,
    appointments.c.number,
    appointments.c.start_utc,
    appointments.c.minutes,
    clinics.c.tz,
    doctors.c.surname,
    doctors.c.name,
    doctors.c.patronymic,
    specialties.c.name_ru,
    specialties.c.name_en,
)
_CLASH_JOIN = (
    appointments.join(clinics, clinics.c.id == appointments.c.clinic_id)
    .join(doctors, doctors.c.id == appointments.c.doctor_id)
    .join(specialties, specialties.c.id == appointments.c.specialty_id)
)


def _clash(r: Any) -> Clash:
    return Clash(
        appointment_id=r.id,
        number=r.number,
        start=from_db(r.start_utc),
        minutes=r.minutes,
        clinic_tz=r.tz,
        doctor_name=" ".join(x for x in (r.surname, r.name, r.patronymic) if x),
        specialty_ru=r.name_ru,
        specialty_en=r.name_en,
    )
