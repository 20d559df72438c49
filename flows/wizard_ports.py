"""What the booking wizard needs from the unit of work, as Protocols (flows never import storage).

``WizardUoW`` is domain/booking_ports.py's BookingUnitOfWork (what the booking
services take) plus the directory and patient reads of the wizard's loaders and
the outbox's «confirmed in chat». storage/uow.py's SqlUnitOfWork satisfies it.
When domain/ports.py gets the one UnitOfWork Protocol (issue 8.5), this file
shrinks to an alias of it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Any, Protocol

from domain.booking_ports import BookingUnitOfWork, OutboxPort
from domain.directory import ClinicPage, DoctorCard
from domain.flow_ports import StaffReader
from domain.models import Clinic, Doctor, Patient, Slot, Specialty


class DirectoryReads(Protocol):
    async def specialties(self) -> list[Specialty]: ...
    async def specialty(self, specialty_id: int) -> Specialty | None: ...
    async def specialty_by_code(self, code: str) -> Specialty | None: ...
    async def clinic(self, clinic_id: int) -> Clinic | None: ...
    async def doctor(self, doctor_id: int) -> Doctor | None: ...
    async def slot(self, slot_id: int) -> Slot | None: ...
    async def has_role(self, doctor_id: int, clinic_id: int, specialty_id: int) -> bool: ...
    async def clinics_for_specialty(
        self,
        region_id: str,
        specialty_id: int,
        *,
        query: str | None = None,
        attached_clinic_id: int | None = None,
        offset: int = 0,
        limit: int = 10,
    ) -> ClinicPage: ...
    async def doctors_in_clinic(
        self, clinic_id: int, specialty_id: int, now: datetime, *, for_user_id: int | None = None
    ) -> list[DoctorCard]: ...
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
    ) -> list[date]: ...
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
    ) -> list[Slot]: ...
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
    ) -> list[Slot]: ...


class PatientReads(Protocol):
    async def patient(self, patient_id: int) -> Patient | None: ...
    async def patients_of(self, user_id: int) -> list[Patient]: ...


class ConfirmedOutbox(OutboxPort, Protocol):
    async def mark_sent_by_key(self, idem_key: str, now: datetime) -> bool: ...


class WizardUoW(BookingUnitOfWork, Protocol):
    """The update's unit of work as the booking wizard sees it."""

    @property
    def directory(self) -> DirectoryReads: ...
    @property
    def users(self) -> PatientReads: ...
    @property
    def outbox(self) -> ConfirmedOutbox: ...
    def after_reply(self, job: Callable[[Any], Awaitable[object]]) -> None: ...


class StaffWizardUoW(WizardUoW, Protocol):
    """The registrar's start of the wizard also lists their clinics' visits."""

    @property
    def staff(self) -> StaffReader: ...
