"""The port to whoever owns the schedule: our own tables (local) or a regional system.

Booking, «Мои записи», reminders and the wait list read the directory from our
tables. A remote owner (St Petersburg's Gorzdrav) is mirrored into those tables
(bot/sources/gorzdrav/mirror.py), and only the two writes that must reach the
owner first go through here: taking a slot and cancelling a visit. The booking
services call ``take_remote`` / ``cancel_remote`` / ``undo_remote``; with no
remote attached to the unit of work (the local source) they do nothing, so the
atomic conditional take of the local tables stays the only contention point.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from domain.errors import DomainError, SlotTaken
from domain.models import Appointment, Patient, Slot

# --------------------------------------------------------------------------- data


@dataclass(frozen=True, slots=True)
class SourceDistrict:
    external_id: str
    name: str


@dataclass(frozen=True, slots=True)
class SourceClinic:
    external_id: str
    name: str
    full_name: str
    address: str
    phone: str
    district: str


@dataclass(frozen=True, slots=True)
class SourceSpecialty:
    external_id: str  # local to its clinic
    fer_code: str  # the federal code
    name: str
    free: int


@dataclass(frozen=True, slots=True)
class SourceDoctor:
    external_id: str  # unique within its clinic only
    name: str  # as the owner spells it: «Абаева Р.О. 3 ТО 25/27 участки»
    comment: str
    free: int


@dataclass(frozen=True, slots=True)
class SourceSlot:
    external_id: str
    start: datetime  # aware
    end: datetime  # aware
    room: str
    address: str


@dataclass(frozen=True, slots=True)
class SourceVisit:
    """A patient's future visit as the owner sees it."""

    external_id: str
    start: datetime  # aware
    clinic_name: str
    doctor: str
    specialty: str


class ScheduleSource(Protocol):
    """What booking needs from the owner of a region's schedule (ids are the owner's)."""

    name: str

    async def districts(self) -> list[SourceDistrict]: ...
    async def clinics(self, district_id: str) -> list[SourceClinic]: ...
    async def specialties(self, clinic_id: str) -> list[SourceSpecialty]: ...
    async def doctors(self, clinic_id: str, specialty_id: str) -> list[SourceDoctor]: ...
    async def free_days(self, clinic_id: str, doctor_id: str) -> list[date]: ...
    async def slots(self, clinic_id: str, doctor_id: str) -> list[SourceSlot]: ...
    async def find_patient(self, clinic_id: str, patient: Patient) -> str: ...
    async def take(self, clinic_id: str, patient_id: str, slot_id: str) -> None: ...
    async def cancel(self, clinic_id: str, patient_id: str, slot_id: str) -> None: ...
    async def visits(self, clinic_id: str, patient_id: str) -> list[SourceVisit]: ...
    async def attached_clinics(self, policy: str) -> list[str]: ...


# --------------------------------------------------------------------------- refusals


class RemoteSlotGone(SlotTaken):
    """The owner says the time is no longer free (taken elsewhere, «нет свободных талонов»):
    shown like any taken slot, with the nearest alternatives."""


class RemoteRefused(DomainError):
    """The owner refused or could not be asked; ``kind`` picks the patient's message.

    Kinds: ``patient_not_found`` (the clinic has no card for this name and birth date),
    ``unavailable`` (the registry did not answer: try later or call), ``refused``
    (any other refusal; ``message`` is the owner's own words).
    """

    def __init__(self, kind: str, message: str = "", phone: str = "") -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.message = message
        self.phone = phone


class RemoteCancelFailed(RemoteRefused):
    """The owner did not confirm a cancellation: our visit stays active."""


# --------------------------------------------------------------------------- hooks


@dataclass(frozen=True, slots=True)
class RemoteTake:
    """A slot taken at the owner, kept until our own record is written (to undo it)."""

    clinic_id: str
    patient_id: str
    slot_id: str


class RemoteBooking(Protocol):
    """Attached to a unit of work as ``uow.schedule_remote`` when some region is remote."""

    async def take(self, uow: object, slot: Slot, patient: Patient) -> RemoteTake | None: ...
    async def undo(self, take: RemoteTake) -> None: ...
    async def cancel(self, uow: object, appointment: Appointment) -> None: ...


def _remote(uow: object) -> RemoteBooking | None:
    remote: RemoteBooking | None = getattr(uow, "schedule_remote", None)
    return remote


async def take_remote(uow: object, slot: Slot, patient: Patient) -> RemoteTake | None:
    """Take ``slot`` at its owner first (None for a local slot). Raises RemoteSlotGone or
    RemoteRefused; on success the caller writes its own record or calls ``undo_remote``."""
    remote = _remote(uow)
    return None if remote is None else await remote.take(uow, slot, patient)


async def undo_remote(uow: object, take: RemoteTake | None) -> None:
    """Our own record could not be written after the owner's take: give it back."""
    remote = _remote(uow)
    if remote is not None and take is not None:
        await remote.undo(take)


async def cancel_remote(uow: object, appointment: Appointment) -> None:
    """Cancel at the owner before our record changes; RemoteCancelFailed keeps it active."""
    remote = _remote(uow)
    if remote is not None:
        await remote.cancel(uow, appointment)
