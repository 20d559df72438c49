"""«Справки»: a patient requests a certificate, the clinic's staff take it through its statuses.

submitted → in_review → more_info (the clinic asks, the patient answers: back
to in_review) → ready (a numbered certificate, as a PDF) or refused (with a
reason); an open request is withdrawn when its relative is removed from the
account (nobody is left to answer or collect it). Every change the clinic makes is a push through the outbox that
respects the quiet hours of the clinic's zone: one made at night arrives in
the morning. Staff see only the requests of their clinics (the patient's
attached clinic, or the one chosen when there is none); a patient only their
own and their relatives'. The PDF's data are frozen when the certificate is
issued (``Sheet``), so a later profile edit does not change a paper already
handed to a school. The use cases are domain/certificate_requests.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Protocol

from domain.documents import DocumentsRepository
from domain.errors import DomainError, InvalidTransition
from domain.models import Clinic, JournalEntry, Patient
from domain.notifications import Kind, OutboxItem
from domain.quiet_hours import QuietWindow, in_quiet, quiet_end_after

MIN_TEXT = 3
MAX_TEXT = 500
MAX_ATTACHED = 10


class CertKind(StrEnum):
    POOL = "pool"
    SCHOOL = "school"
    WORK = "work"
    EXTRACT = "extract"


# The official (Russian) names printed on the certificate, and their English glosses.
KIND_NAMES: dict[CertKind, tuple[str, str]] = {
    CertKind.POOL: ("Справка для бассейна / занятий спортом", "Certificate for a pool / sports"),
    CertKind.SCHOOL: (
        "Медицинская справка в школу / детский сад (форма 086/у)",
        "Certificate for school / kindergarten (form 086/u)",
    ),
    CertKind.WORK: ("Справка для работы / учёбы", "Certificate for work / studies"),
    CertKind.EXTRACT: (
        "Выписка из медицинской карты (форма 027/у)",
        "Extract from the medical record (form 027/u)",
    ),
}


def kind_name(kind: CertKind, locale: str) -> str:
    ru, en = KIND_NAMES[kind]
    return en if locale == "en" else ru


class CertStatus(StrEnum):
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    MORE_INFO = "more_info"
    READY = "ready"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"

    @property
    def open(self) -> bool:
        return self not in (CertStatus.READY, CertStatus.REFUSED, CertStatus.WITHDRAWN)


_ENDS = frozenset({CertStatus.REFUSED, CertStatus.WITHDRAWN})
TRANSITIONS: dict[CertStatus, frozenset[CertStatus]] = {
    CertStatus.SUBMITTED: frozenset({CertStatus.IN_REVIEW}) | _ENDS,
    CertStatus.IN_REVIEW: frozenset({CertStatus.MORE_INFO, CertStatus.READY}) | _ENDS,
    CertStatus.MORE_INFO: frozenset({CertStatus.IN_REVIEW}) | _ENDS,
    CertStatus.READY: frozenset(),
    CertStatus.REFUSED: frozenset(),
    CertStatus.WITHDRAWN: frozenset(),
}


def check_transition(current: CertStatus, new: CertStatus) -> None:
    if new not in TRANSITIONS[current]:
        raise InvalidTransition(f"{current} → {new}")


class CertificateRefused(DomainError):
    """A request that cannot be taken: ``reason`` is ``text`` (the purpose, question,
    answer or refusal reason is empty or too long), ``no_clinic`` or ``status`` (the
    request moved on since the screen was shown)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def clean_text(text: str | None) -> str:
    value = (text or "").strip()
    if len(value) < MIN_TEXT or len(value) > MAX_TEXT:
        raise CertificateRefused("text")
    return value


@dataclass(frozen=True, slots=True)
class Sheet:
    """What the issued certificate says, frozen at issue (personal data: encrypted)."""

    patient_name: str
    birth_date: date | None
    clinic_name: str
    clinic_address: str
    issued_on: date


@dataclass(frozen=True, slots=True)
class CertificateRequest:
    id: int
    patient_id: int
    user_id: int
    clinic_id: int
    kind: CertKind
    status: CertStatus
    purpose: str
    document_ids: tuple[int, ...]
    created_at: datetime
    updated_at: datetime
    question: str = ""
    answer: str = ""
    refusal: str = ""
    sheet: Sheet | None = None

    @property
    def number(self) -> str:
        return certificate_number(self.clinic_id, self.id)


def certificate_number(clinic_id: int, request_id: int) -> str:
    return f"{clinic_id}-{request_id:05d}"


@dataclass(frozen=True, slots=True)
class NewRequest:
    patient_id: int
    user_id: int
    clinic_id: int
    kind: CertKind
    purpose: str
    document_ids: tuple[int, ...] = field(default_factory=tuple)


class CertificatesRepository(Protocol):
    async def add(self, new: NewRequest, now: datetime) -> CertificateRequest: ...
    async def get(self, request_id: int) -> CertificateRequest | None: ...
    async def for_user(self, user_id: int) -> list[CertificateRequest]: ...
    async def open_for_clinics(self, clinic_ids: tuple[int, ...]) -> list[CertificateRequest]: ...
    async def clinic_choices(self) -> list[tuple[int, str]]: ...
    async def update(
        self,
        request_id: int,
        expected: CertStatus,
        status: CertStatus,
        now: datetime,
        *,
        question: str | None = None,
        answer: str | None = None,
        refusal: str | None = None,
        sheet: Sheet | None = None,
    ) -> bool: ...


class CertificatesOutbox(Protocol):
    async def cancel_by_key_prefix(self, prefix: str, reason: str) -> int: ...


class PatientsPort(Protocol):
    async def patients_of(self, user_id: int) -> list[Patient]: ...
    async def patient(self, patient_id: int) -> Patient | None: ...


class ClinicsPort(Protocol):
    async def clinic(self, clinic_id: int) -> Clinic | None: ...


class OutboxPort(Protocol):
    async def add(self, items: list[OutboxItem], created_at_utc: object) -> None: ...


class JournalPort(Protocol):
    async def add(self, entry: JournalEntry) -> None: ...


class CertificatesUnitOfWork(Protocol):
    """What the section needs: its requests, the documents they attach, the account's
    patients, the clinics, the outbox and the journal."""

    @property
    def certificates(self) -> CertificatesRepository: ...
    @property
    def documents(self) -> DocumentsRepository: ...
    @property
    def users(self) -> PatientsPort: ...
    @property
    def directory(self) -> ClinicsPort: ...
    @property
    def outbox(self) -> OutboxPort: ...
    @property
    def journal(self) -> JournalPort: ...


# ---------------------------------------------------------------- the outbox


def push_due(now: datetime, tz: str, quiet: QuietWindow | None) -> datetime:
    """Now, or the end of the quiet hours when now is inside them (not urgent: a
    certificate's status can wait for the morning)."""
    if quiet is not None and in_quiet(now, tz, quiet):
        return quiet_end_after(now, tz, quiet)
    return now


def push_key_prefix(request_id: int) -> str:
    """What every status push of one request starts its idempotency key with."""
    return f"cert:{request_id}:"


def status_item(
    request: CertificateRequest, status: CertStatus, now: datetime, due: datetime
) -> OutboxItem:
    stamp = int(now.timestamp())
    return OutboxItem(
        kind=Kind.CERTIFICATE_STATUS,
        user_id=request.user_id,
        due_at=due,
        idem_key=f"{push_key_prefix(request.id)}{status.value}:{stamp}",
        payload={
            "request_id": request.id,
            "status": status.value,
            "kind": request.kind.value,
            "clinic_id": request.clinic_id,
        },
    )


class CertificatePdf(Protocol):
    """Builds the issued certificate's PDF (documents/certificate.py, injected as
    ``certificate_pdf``): flows hand it plain data and get the file's bytes."""

    def __call__(
        self,
        *,
        number: str,
        kind_name: str,
        patient_name: str,
        birth_date: date | None,
        purpose: str,
        clinic_name: str,
        clinic_address: str,
        issued_on: date,
        created: datetime,
    ) -> bytes: ...
