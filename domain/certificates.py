"""«Справки»: a patient requests a certificate, the clinic's staff take it through its statuses.

submitted → in_review → more_info (the clinic asks, the patient answers: back
to in_review) → ready (a numbered certificate, as a PDF) or refused (with a
reason). Every change the clinic makes is a push through the outbox that
respects the quiet hours of the clinic's zone: one made at night arrives in
the morning. Staff see only the requests of their clinics (the patient's
attached clinic, or the one chosen when there is none); a patient only their
own and their relatives'. The PDF's data are frozen when the certificate is
issued (``Sheet``), so a later profile edit does not change a paper already
handed to a school.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Protocol
from zoneinfo import ZoneInfo

from domain.documents import Document, DocumentsRepository
from domain.errors import DomainError, InvalidTransition, Stale
from domain.models import Clinic, JournalEntry, Patient, StaffMember
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

    @property
    def open(self) -> bool:
        return self not in (CertStatus.READY, CertStatus.REFUSED)


TRANSITIONS: dict[CertStatus, frozenset[CertStatus]] = {
    CertStatus.SUBMITTED: frozenset({CertStatus.IN_REVIEW, CertStatus.REFUSED}),
    CertStatus.IN_REVIEW: frozenset({CertStatus.MORE_INFO, CertStatus.READY, CertStatus.REFUSED}),
    CertStatus.MORE_INFO: frozenset({CertStatus.IN_REVIEW, CertStatus.REFUSED}),
    CertStatus.READY: frozenset(),
    CertStatus.REFUSED: frozenset(),
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


def status_item(
    request: CertificateRequest, status: CertStatus, now: datetime, due: datetime
) -> OutboxItem:
    stamp = int(now.timestamp())
    return OutboxItem(
        kind=Kind.CERTIFICATE_STATUS,
        user_id=request.user_id,
        due_at=due,
        idem_key=f"cert:{request.id}:{status.value}:{stamp}",
        payload={
            "request_id": request.id,
            "status": status.value,
            "kind": request.kind.value,
            "clinic_id": request.clinic_id,
        },
    )


# ---------------------------------------------------------------- the patient's side


async def own_request(
    uow: CertificatesUnitOfWork, user_id: int, request_id: int
) -> CertificateRequest:
    request = await uow.certificates.get(request_id)
    if request is None or request.user_id != user_id:
        raise Stale
    if not any(p.id == request.patient_id for p in await uow.users.patients_of(user_id)):
        raise Stale
    return request


async def submit(uow: CertificatesUnitOfWork, now: datetime, new: NewRequest) -> CertificateRequest:
    patients = {p.id: p for p in await uow.users.patients_of(new.user_id)}
    if new.patient_id not in patients:
        raise Stale
    if await uow.directory.clinic(new.clinic_id) is None:
        raise CertificateRefused("no_clinic")
    request = await uow.certificates.add(
        NewRequest(
            patient_id=new.patient_id,
            user_id=new.user_id,
            clinic_id=new.clinic_id,
            kind=new.kind,
            purpose=clean_text(new.purpose),
            document_ids=tuple(new.document_ids)[:MAX_ATTACHED],
        ),
        now,
    )
    await _journal(uow, now, new.user_id, request, "certificate_requested")
    return request


async def answer(
    uow: CertificatesUnitOfWork, now: datetime, user_id: int, request_id: int, text: str
) -> CertificateRequest:
    """The patient's answer to the clinic's question: the request is back in review."""
    request = await own_request(uow, user_id, request_id)
    if request.status is not CertStatus.MORE_INFO:
        raise CertificateRefused("status")
    value = clean_text(text)
    await _move(uow, request, CertStatus.IN_REVIEW, now, answer=value)
    await _journal(uow, now, user_id, request, "certificate_answered")
    return request


async def journal_download(
    uow: CertificatesUnitOfWork, now: datetime, actor: int, request: CertificateRequest
) -> None:
    await _journal(uow, now, actor, request, "certificate_downloaded")


# ---------------------------------------------------------------- the clinic's side


async def for_staff(
    uow: CertificatesUnitOfWork, staff: StaffMember, request_id: int
) -> CertificateRequest:
    request = await uow.certificates.get(request_id)
    if request is None or not staff.covers(request.clinic_id):
        raise Stale
    return request


async def attached_for_staff(
    uow: CertificatesUnitOfWork,
    now: datetime,
    actor: int,
    staff: StaffMember,
    request_id: int,
    document_id: int,
) -> Document:
    """A document the patient attached to a request of the staff member's clinics (journaled:
    a medical document was opened by the clinic)."""
    request = await for_staff(uow, staff, request_id)
    document = await uow.documents.get(document_id)
    if document is None or document.id not in request.document_ids:
        raise Stale
    await uow.journal.add(
        JournalEntry(
            user_id=actor,
            at=now,
            action="certificate_document_viewed",
            details={"certificate_request_id": request.id, "document_id": document.id},
        )
    )
    return document


async def take(
    uow: CertificatesUnitOfWork,
    now: datetime,
    actor: int,
    staff: StaffMember,
    request_id: int,
    quiet: QuietWindow | None,
) -> CertificateRequest:
    request = await for_staff(uow, staff, request_id)
    await _staff_move(uow, now, actor, request, CertStatus.IN_REVIEW, quiet)
    return request


async def ask(
    uow: CertificatesUnitOfWork,
    now: datetime,
    actor: int,
    staff: StaffMember,
    request_id: int,
    question: str,
    quiet: QuietWindow | None,
) -> CertificateRequest:
    request = await for_staff(uow, staff, request_id)
    value = clean_text(question)
    await _staff_move(uow, now, actor, request, CertStatus.MORE_INFO, quiet, question=value)
    return request


async def refuse(
    uow: CertificatesUnitOfWork,
    now: datetime,
    actor: int,
    staff: StaffMember,
    request_id: int,
    reason: str,
    quiet: QuietWindow | None,
) -> CertificateRequest:
    request = await for_staff(uow, staff, request_id)
    value = clean_text(reason)
    await _staff_move(uow, now, actor, request, CertStatus.REFUSED, quiet, refusal=value)
    return request


async def issue(
    uow: CertificatesUnitOfWork,
    now: datetime,
    actor: int,
    staff: StaffMember,
    request_id: int,
    quiet: QuietWindow | None,
) -> CertificateRequest:
    """Ready: the certificate's data are frozen now (name, birth date, clinic, the
    clinic's local date of issue)."""
    request = await for_staff(uow, staff, request_id)
    patient = await uow.users.patient(request.patient_id)
    clinic = await uow.directory.clinic(request.clinic_id)
    if patient is None or clinic is None:
        raise Stale
    sheet = Sheet(
        patient_name=patient.full_name,
        birth_date=patient.birth_date,
        clinic_name=clinic.name,
        clinic_address=clinic.address,
        issued_on=local_day(now, clinic.tz),
    )
    await _staff_move(uow, now, actor, request, CertStatus.READY, quiet, sheet=sheet)
    return request


def local_day(moment: datetime, tz: str) -> date:
    return moment.astimezone(ZoneInfo(tz)).date()


async def _move(
    uow: CertificatesUnitOfWork,
    request: CertificateRequest,
    status: CertStatus,
    now: datetime,
    **values: object,
) -> None:
    try:
        check_transition(request.status, status)
    except InvalidTransition:
        raise CertificateRefused("status") from None
    moved = await uow.certificates.update(request.id, request.status, status, now, **values)  # type: ignore[arg-type]
    if not moved:  # another tap or another registrar got there first
        raise CertificateRefused("status")


async def _staff_move(
    uow: CertificatesUnitOfWork,
    now: datetime,
    actor: int,
    request: CertificateRequest,
    status: CertStatus,
    quiet: QuietWindow | None,
    **values: object,
) -> None:
    await _move(uow, request, status, now, **values)
    clinic = await uow.directory.clinic(request.clinic_id)
    tz = clinic.tz if clinic is not None else "Europe/Moscow"
    await uow.outbox.add([status_item(request, status, now, push_due(now, tz, quiet))], now)
    await _journal(uow, now, actor, request, f"certificate_{status.value}")


async def _journal(
    uow: CertificatesUnitOfWork,
    now: datetime,
    actor: int,
    request: CertificateRequest,
    action: str,
) -> None:
    await uow.journal.add(
        JournalEntry(
            user_id=actor,
            at=now,
            action=action,
            details={
                "certificate_request_id": request.id,
                "patient_id": request.patient_id,
                "clinic_id": request.clinic_id,
                "kind": request.kind.value,
            },
        )
    )


class CertificatePdf(Protocol):
    """Builds the issued certificate's PDF (bot/documents/certificate.py, injected as
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
