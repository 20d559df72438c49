"""What the booking services need from storage, as Protocols (storage implements them).

Kept apart from domain/booking.py so the services module stays readable; the
SQL implementation is storage/repos/appointments.py (with the modules it composes:
slot_take.py, holds.py, booking_facts.py) and storage/uow.py.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from domain.models import (
    Appointment,
    AppointmentStatus,
    JournalEntry,
    Patient,
    Referral,
    Slot,
    Specialty,
)
from domain.notifications import OutboxItem


@dataclass(frozen=True, slots=True)
class Hold:
    """A slot reserved for one user while they look at the booking summary."""

    user_id: int
    slot_id: int
    patient_id: int
    expires_at: datetime  # aware UTC


@dataclass(frozen=True, slots=True)
class SlotContext:
    """A slot with what the rules need to judge it: the clinic's zone and the specialty."""

    slot: Slot
    clinic_tz: str
    specialty: Specialty


@dataclass(frozen=True, slots=True)
class Clash:
    """An active visit of the patient that blocks a booking: what the patient is told."""

    appointment_id: int
    number: str
    start: datetime  # aware UTC
    minutes: int
    clinic_tz: str
    doctor_name: str
    specialty_ru: str
    specialty_en: str


@dataclass(frozen=True, slots=True)
class SlotTake:
    """What the booking's first statement found (``BookingRepository.take_first``).

    ``taken``: this transaction took the slot (free → booked); ``ctx`` is the slot's
    context as it was before the take (status FREE, or BLOCKED for a blocked doctor),
    None when the slot does not exist. When not taken, ``ctx`` is current and
    ``mine_id`` is the patient's own active visit on the slot booked by this account
    (a repeated confirm), if any. ``patient_locked``: the patient's row is already
    locked for the rest of the transaction (or needs no lock: SQLite's serial writers).
    ``candidates``: when read with the take (PostgreSQL, a slot found booked), the
    alternatives' candidates in order of preference (``alternative_candidates`` with
    ``per_side`` = its maximum), so «taken» needs no statement more.
    """

    taken: bool
    ctx: SlotContext | None
    mine_id: int | None = None
    patient_locked: bool = False
    candidates: list[int] | None = None


@dataclass(frozen=True, slots=True)
class NewAppointment:
    patient_id: int
    user_id: int
    slot: Slot
    status: AppointmentStatus
    referral_id: int | None
    created_at: datetime
    # A move continues the old visit's calendar event ("" : a new event of its own).
    calendar_uid: str = ""
    calendar_seq: int = 0


class BookingRepository(Protocol):
    async def get_patient(self, patient_id: int) -> Patient | None: ...
    async def patient_ids_of(self, user_id: int) -> list[int]: ...
    async def slot_context(self, slot_id: int) -> SlotContext | None: ...

    async def put_hold(
        self, user_id: int, patient_id: int, slot_id: int, expires_at: datetime, now: datetime
    ) -> bool: ...
    async def get_hold(self, user_id: int, now: datetime) -> Hold | None: ...
    async def delete_hold(self, user_id: int) -> None: ...

    async def take_slot(self, slot_id: int, user_id: int, now: datetime) -> bool: ...
    async def take_first(
        self,
        slot_id: int,
        user_id: int,
        patient_id: int,
        now: datetime,
        offer_from: datetime,
        since: datetime | None = None,
    ) -> SlotTake:
        """The booking's conditional take (as ``take_slot``) and the slot's context in
        one round trip where the engine allows (PostgreSQL); the winner's patient row
        locked in it too. See SlotTake. ``since``: the daily cap's window (``rule_facts``'
        ``since``), for a repository that reads the rules' facts with the take."""
        ...

    async def untake_slot(self, slot_id: int) -> None:
        """Undo this transaction's own ``take_first`` (booked → free, ``freed_at`` kept):
        a refusal after the take leaves the slot as it found it."""
        ...

    async def alternative_candidates(
        self, slot: Slot, now: datetime, not_before: datetime | None, per_side: int
    ) -> list[int]:
        """Free, unheld slots instead of ``slot``, in order of preference, in ONE
        statement: the same doctor (later side nearest first, then the earlier side),
        then the other doctors of the specialty in the region (likewise); at most
        ``per_side`` from each of the four, and the first ten in this order in all."""
        ...

    async def release_slot(self, slot_id: int, now: datetime) -> bool: ...
    async def block_slot(self, slot_id: int) -> bool: ...
    async def block_free_between(
        self, doctor_id: int, clinic_ids: tuple[int, ...], lo: datetime, hi: datetime
    ) -> int: ...
    async def nearest_free(
        self,
        *,
        around: datetime,
        now: datetime,
        exclude: set[int],
        limit: int,
        doctor_id: int | None = None,
        specialty_id: int | None = None,
        region_id: str | None = None,
        not_before: datetime | None = None,
        clinic_id: int | None = None,
        skip_doctor_between: tuple[int, datetime, datetime] | None = None,
    ) -> list[int]: ...

    async def lock_patient(self, patient_id: int) -> None: ...
    async def active_on_slot(self, patient_id: int, slot_id: int) -> Appointment | None: ...
    async def overlapping(
        self, patient_id: int, start: datetime, minutes: int, exclude_id: int | None
    ) -> Clash | None: ...
    async def active_for_specialty(
        self, patient_id: int, specialty_id: int, now: datetime
    ) -> Clash | None: ...

    async def usable_referral(
        self, patient_id: int, specialty_id: int, visit_day: date
    ) -> Referral | None: ...
    async def mark_referral_used(self, referral_id: int, appointment_id: int) -> bool: ...
    async def count_active_for_specialty(
        self, patient_id: int, specialty_id: int, now: datetime
    ) -> int: ...
    async def count_created_by(self, user_id: int, since: datetime) -> int: ...
    async def rule_counts(
        self, patient_id: int, specialty_id: int, user_id: int, now: datetime, since: datetime
    ) -> tuple[int, int]: ...
    async def rule_facts(
        self,
        patient_id: int,
        start: datetime,
        minutes: int,
        exclude_id: int | None,
        specialty_id: int,
        user_id: int,
        now: datetime,
        since: datetime,
    ) -> tuple[Clash | None, int, int]:
        """``overlapping(patient_id, start, minutes, exclude_id)`` and ``rule_counts(...)`` in
        one round trip: (the first overlapping visit, active in the specialty, created
        since)."""
        ...

    async def insert(self, new: NewAppointment) -> Appointment: ...
    async def get(self, appointment_id: int) -> Appointment | None: ...
    async def set_status(
        self,
        appointment_id: int,
        *,
        expected: tuple[AppointmentStatus, ...],
        status: AppointmentStatus,
        now: datetime,
        cancelled_by: str | None = None,
        reason: str | None = None,
        rescheduled_to: int | None = None,
    ) -> bool: ...
    async def add_event(
        self,
        appointment_id: int,
        *,
        at: datetime,
        status: AppointmentStatus,
        actor: str,
        actor_user_id: int | None,
        reason: str | None = None,
    ) -> None: ...
    async def list_for_owner(self, user_id: int, since: datetime | None) -> list[Appointment]: ...
    async def increment_no_show(self, user_id: int) -> None: ...
    async def no_show_count(self, user_id: int) -> int: ...


class OutboxPort(Protocol):
    async def add(self, items: list[OutboxItem], created_at_utc: object) -> None: ...
    async def cancel_for_appointment(self, appointment_id: int) -> int: ...


class JournalPort(Protocol):
    async def add(self, entry: JournalEntry) -> None: ...


class BookingUnitOfWork(Protocol):
    """The subset of storage.uow.SqlUnitOfWork the booking services use.

    No commit, no rollback: the update (or the job) is the transaction and ends it;
    a service whose write may still be refused wraps it in ``savepoint()``.
    """

    @property
    def appointments(self) -> BookingRepository: ...
    @property
    def outbox(self) -> OutboxPort: ...
    @property
    def journal(self) -> JournalPort: ...
    def savepoint(self) -> AbstractAsyncContextManager[None]: ...
