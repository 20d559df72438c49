"""«Мои близкие»'s vocabulary: its types, ports and the pure rules services apply.

What a relative, a consent request and an outcome are; what the section needs
of storage (FamilyRepository and the unit of work); who must consent, the limit,
and how a stored relative reads back as a Profile. A module of its own: the
services of domain/family.py (which re-exports these names, the section's one
import) are the I/O around them; the rules are tested without a database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from domain.accounts import Profile, RegisterCheck
from domain.booking_ports import BookingUnitOfWork
from domain.booking_ports import OutboxPort as BookingOutbox
from domain.certificates import CertificatesOutbox, CertificatesRepository
from domain.errors import Duplicate, LimitReached
from domain.models import JournalEntry, Patient

SELF = "self"
RELATIONS = ("child", "spouse", "parent", "other")


class FamilyFull(LimitReached):
    """``Policy.max_relatives`` relatives (and pending requests) already."""


class AlreadyInFamily(Duplicate):
    """The same SNILS twice in one account's family, or the holder themself."""


class Kind:
    """Outbox kinds of this section (rendered by bot/notify_records.py)."""

    CONSENT_REQUEST = "relative_consent"  # payload: request_id, relation (to the one asked)
    CONSENT_DECIDED = "relative_decided"  # payload: request_id, approved (to the asker)


class RequestStatus:
    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True, slots=True)
class ConsentRequest:
    """A relative waiting for another account's approval; ``profile`` decrypted."""

    id: int
    owner_user_id: int
    target_user_id: int
    relation: str
    profile: Profile
    status: str
    created_at: datetime
    patient_id: int | None = None


@dataclass(frozen=True, slots=True)
class Added:
    """The outcome of «Добавить близкого»: a relative now, or a request waiting."""

    patient: Patient | None = None
    request: ConsentRequest | None = None


@dataclass(frozen=True, slots=True)
class Removed:
    visits: int  # upcoming visits cancelled
    certificates: int  # open certificate requests withdrawn


# --- Ports -------------------------------------------------------------------


class FamilyRepository(Protocol):
    async def patients_of(self, user_id: int) -> list[Patient]: ...
    async def self_patient(self, user_id: int) -> Patient | None: ...
    async def patients_with_snils(self, snils: str) -> list[Patient]: ...
    async def add_relative(
        self, owner_user_id: int, relation: str, profile: Profile, now: datetime
    ) -> Patient: ...
    async def set_confirmation(
        self, patient_id: int, *, confirmed: bool, clinic_id: int | None
    ) -> None: ...
    async def register_check(self, patient: Patient) -> RegisterCheck | None: ...
    async def remove_relative(self, patient_id: int, now: datetime) -> bool: ...
    async def update_relative(self, patient_id: int, profile: Profile) -> None: ...
    async def add_request(
        self, owner_user_id: int, target_user_id: int, relation: str, profile: Profile,
        now: datetime,
    ) -> ConsentRequest: ...  # fmt: skip
    async def request(self, request_id: int) -> ConsentRequest | None: ...
    async def pending_requests(self, owner_user_id: int) -> list[ConsentRequest]: ...
    async def decide_request(
        self, request_id: int, status: str, patient_id: int | None, now: datetime
    ) -> bool: ...


class FamilyJournal(Protocol):
    async def add(self, entry: JournalEntry) -> None: ...


class FamilyOutbox(BookingOutbox, CertificatesOutbox, Protocol):
    """The booking outbox plus cancelling a withdrawn certificate request's pushes."""


class FamilyUoW(BookingUnitOfWork, Protocol):
    """What the family section needs: the booking ports (to cancel visits), its repo and
    the certificate requests (withdrawn with the relative)."""

    @property
    def family(self) -> FamilyRepository: ...
    @property
    def certificates(self) -> CertificatesRepository: ...
    @property
    def outbox(self) -> FamilyOutbox: ...


# --- Rules -------------------------------------------------------------------


def consent_holder(owner_user_id: int, same_snils: Sequence[Patient]) -> int | None:
    """The account that must approve adding this SNILS, or None (nobody holds it).

    Raises Duplicate when the SNILS is already one of the owner's own patients
    (the holder themself, or a relative added before).
    """
    if any(p.owner_user_id == owner_user_id for p in same_snils):
        raise AlreadyInFamily("snils")
    own = [p for p in same_snils if p.relation == SELF]  # their own account first
    holders = own or list(same_snils)
    return holders[0].owner_user_id if holders else None


def check_room(relatives: int, pending: int, max_relatives: int) -> None:
    """At most ``max_relatives``: relatives plus requests still waiting."""
    if relatives + pending >= max_relatives:
        raise FamilyFull("relatives")


def relatives_of(patients: Sequence[Patient]) -> list[Patient]:
    return [p for p in patients if p.relation != SELF]


EDITABLE = ("name", "birth_date", "sex", "snils", "policy")


def profile_of(patient: Patient) -> Profile:
    """A relative's stored values as a Profile (every field of a relative is set)."""
    assert patient.birth_date is not None and patient.sex is not None
    return Profile(
        surname=patient.surname,
        name=patient.name,
        patronymic=patient.patronymic,
        birth_date=patient.birth_date,
        sex=patient.sex,
        snils=patient.snils or "",
        policy=patient.policy or "",
        email=None,
    )


def relation_of(value: str) -> str:
    return value if value in RELATIONS else "other"


def born_text(born: date | None) -> str:
    return born.strftime("%d.%m.%Y") if born else ""
