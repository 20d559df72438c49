"""Protocols the domain depends on; storage and bot provide the implementations.

``UnitOfWork`` is what a handler receives as ``uow`` (issue 8.5): flows annotate
``uow: UnitOfWork`` and never import storage. It is typed against the domain's
own ports (domain/booking_ports.py, domain/accounts_ports.py, domain/waitlist_rules.py) plus
the reads the dialogues make; storage.uow.SqlUnitOfWork satisfies it (checked by
mypy in bot/app.py). It has no commit and no rollback: the update is the
transaction (bot/middlewares/database.py); ``savepoint()`` undoes one part alone.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from datetime import date, datetime
from typing import TYPE_CHECKING, Protocol

from domain.accounts_ports import AccountsUoW
from domain.accounts_ports import JournalPort as AccountsJournalPort
from domain.accounts_ports import UsersPort as AccountsUsersPort
from domain.booking_ports import BookingRepository, BookingUnitOfWork, OutboxPort
from domain.directory import ClinicPage, DoctorCard
from domain.models import Clinic, Doctor, Patient, Region, Slot, Specialty
from domain.waitlist_rules import WaitListRepository, WaitListUnitOfWork


class Clock(Protocol):
    """The only source of "now" for the domain (aware UTC datetimes)."""

    def now(self) -> datetime: ...


class Random(Protocol):
    def randint(self, a: int, b: int) -> int: ...


class UsersPort(AccountsUsersPort, Protocol):
    """The account services' port, plus the patients a dialogue lists and shows."""

    async def patient(self, patient_id: int) -> Patient | None: ...
    async def patients_of(self, user_id: int) -> list[Patient]: ...


class DirectoryPort(Protocol):
    """The directory a dialogue browses (storage/repos/directory.py)."""

    async def regions(self) -> list[Region]: ...
    async def region(self, region_id: str) -> Region | None: ...
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


class DialogueOutboxPort(OutboxPort, Protocol):
    async def mark_sent_by_key(self, idem_key: str, now: datetime) -> bool: ...


class UnitOfWork(Protocol):
    """The update's unit of work as the flows and the domain services see it.

    It satisfies every service's narrower port (BookingUnitOfWork,
    WaitListUnitOfWork, AccountsUoW), so a handler passes ``uow`` straight on.
    """

    @property
    def users(self) -> UsersPort: ...
    @property
    def directory(self) -> DirectoryPort: ...
    @property
    def appointments(self) -> BookingRepository: ...
    @property
    def journal(self) -> AccountsJournalPort: ...
    @property
    def outbox(self) -> DialogueOutboxPort: ...
    @property
    def waitlist(self) -> WaitListRepository: ...
    def savepoint(self) -> AbstractAsyncContextManager[None]: ...
    def after_reply(
        self, job: Callable[[UnitOfWork], Awaitable[object]], *, one_statement: bool = False
    ) -> None: ...


if TYPE_CHECKING:  # mypy: a handler's ``uow`` goes straight on to every service

    def _narrows(uow: UnitOfWork) -> tuple[BookingUnitOfWork, WaitListUnitOfWork, AccountsUoW]:
        return uow, uow, uow
