"""What the non-booking sections' handlers need from the unit of work, as Protocols.

The flows (onboarding, profile, «Мои записи», reminders, the wait list,
notification settings, /staff) type their injected ``uow`` against
``SectionsUnitOfWork`` instead of storage's SqlUnitOfWork, so flows never
import storage (issue 8.5). storage/uow.py implements it (a property per
repository); a type check there keeps the two in step. To be folded into the
one ``UnitOfWork`` Protocol of domain/ports.py.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from domain.accounts import UsersPort
from domain.booking_ports import BookingRepository
from domain.booking_ports import OutboxPort as BookingOutbox
from domain.models import Clinic, Doctor, JournalEntry, Patient, Specialty
from domain.waitlist import WaitListRepository


@dataclass(frozen=True, slots=True)
class StaffVisit:
    """An active visit as the /staff screens list it."""

    id: int
    number: str
    doctor_id: int
    clinic_id: int
    start: datetime  # aware UTC
    tz: str
    doctor_name: str


@dataclass(frozen=True, slots=True)
class FailedNotice:
    """A clinic's cancellation/move notice that Telegram refused for good."""

    number: str
    at: datetime  # aware UTC, when it was created
    error: str


class StaffReader(Protocol):
    """The /staff screens' reads, always limited to the staff member's clinics."""

    async def doctors_with_visits(
        self, clinic_ids: Sequence[int], after: datetime, limit: int = 30
    ) -> list[tuple[int, str, int]]: ...
    async def visits(
        self,
        clinic_ids: Sequence[int],
        *,
        after: datetime,
        before: datetime | None = None,
        doctor_id: int | None = None,
        limit: int = 200,
    ) -> list[StaffVisit]: ...
    async def failed_notices(
        self, clinic_ids: Sequence[int], since: datetime, limit: int = 10
    ) -> list[FailedNotice]: ...


class NotifyPrefs(Protocol):
    """The per-kind notification opt-out of an account."""

    async def optout(self, user_id: int) -> frozenset[str]: ...
    async def set_optout(self, user_id: int, kinds: frozenset[str]) -> None: ...


class DirectoryReader(Protocol):
    async def clinic(self, clinic_id: int) -> Clinic | None: ...
    async def doctor(self, doctor_id: int) -> Doctor | None: ...
    async def specialty(self, specialty_id: int) -> Specialty | None: ...
    async def has_role(self, doctor_id: int, clinic_id: int, specialty_id: int) -> bool: ...


class UsersReader(UsersPort, Protocol):
    async def patient(self, patient_id: int) -> Patient | None: ...


class SectionsOutbox(BookingOutbox, Protocol):
    async def mark_sent_by_key(self, idem_key: str, now: datetime) -> bool: ...


class SectionsJournal(Protocol):
    """Both the booking services' and the account services' journal."""

    async def add(self, entry: JournalEntry) -> None: ...
    async def anonymise_user(self, user_id: int, subject: str) -> None: ...


class Cipher(Protocol):
    """The personal-data cipher: an unfinished registration's draft is kept encrypted."""

    def encrypt(self, value: str | None) -> str | None: ...
    def decrypt(self, token: str | None) -> str | None: ...


class SectionsUnitOfWork(Protocol):
    """The update's unit of work as the non-booking sections see it."""

    @property
    def users(self) -> UsersReader: ...
    @property
    def directory(self) -> DirectoryReader: ...
    @property
    def appointments(self) -> BookingRepository: ...
    @property
    def outbox(self) -> SectionsOutbox: ...
    @property
    def journal(self) -> SectionsJournal: ...
    @property
    def waitlist(self) -> WaitListRepository: ...
    @property
    def staff(self) -> StaffReader: ...
    @property
    def notify_prefs(self) -> NotifyPrefs: ...
    @property
    def cipher(self) -> Cipher: ...
    # No commit, no rollback: the update is the transaction (bot/middlewares/database.py).
    def savepoint(self) -> AbstractAsyncContextManager[None]: ...
    def after_reply(
        self, job: Callable[[Any], Awaitable[object]], *, one_statement: bool = False
    ) -> None: ...


class DirectoryUoW(Protocol):
    """Any unit of work that can look the directory up (a visit's details)."""

    @property
    def directory(self) -> DirectoryReader: ...


class OutboxUoW(Protocol):
    """Any unit of work that can mark an outbox row as said in the chat."""

    @property
    def outbox(self) -> SectionsOutbox: ...
    def after_reply(
        self, job: Callable[[Any], Awaitable[object]], *, one_statement: bool = False
    ) -> None: ...
