"""What the booking wizard needs from the unit of work, as Protocols (flows never import storage).

``WizardUoW`` is domain/booking_ports.py's BookingUnitOfWork (what the booking
services take) plus the directory and patient reads of the wizard's loaders and
the outbox's «confirmed in chat». storage/uow.py's SqlUnitOfWork satisfies it.
When domain/ports.py gets the one UnitOfWork Protocol (issue 8.5), this file
shrinks to an alias of it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Protocol

from domain.booking_ports import BookingUnitOfWork, OutboxPort
from domain.flow_ports import StaffReader
from domain.models import Patient
from domain.ports import DirectoryPort

# The wizard reads the directory through the domain's one directory Protocol.
DirectoryReads = DirectoryPort


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
    def after_reply(
        self, job: Callable[[Any], Awaitable[object]], *, one_statement: bool = False
    ) -> None: ...


class StaffWizardUoW(WizardUoW, Protocol):
    """The registrar's start of the wizard also lists their clinics' visits."""

    @property
    def staff(self) -> StaffReader: ...
