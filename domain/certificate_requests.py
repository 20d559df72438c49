"""The certificate requests' use cases (the rules and types are domain/certificates.py).

The patient's side: submit (for self or a relative, to a clinic that exists,
with documents of that patient), answer the clinic's question, download. The
clinic's side: take, ask, issue, refuse — each only for a request of the staff
member's clinics, each a conditional status change (a second tap or a second
registrar moves it once), a push planned through the outbox in the clinic's
zone outside the quiet hours, and a journal entry. Services never commit: the
update is the transaction.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from domain.certificates import (
    MAX_ATTACHED,
    CertificateRefused,
    CertificateRequest,
    CertificatesOutbox,
    CertificatesRepository,
    CertificatesUnitOfWork,
    CertStatus,
    JournalPort,
    NewRequest,
    Sheet,
    check_transition,
    clean_text,
    push_due,
    push_key_prefix,
    status_item,
)
from domain.documents import Document
from domain.errors import InvalidTransition, Stale
from domain.models import JournalEntry, StaffMember
from domain.quiet_hours import QuietWindow

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


class WithdrawUoW(Protocol):
    """What withdrawing needs (the family section's unit of work has it too)."""

    @property
    def certificates(self) -> CertificatesRepository: ...
    @property
    def outbox(self) -> CertificatesOutbox: ...
    @property
    def journal(self) -> JournalPort: ...


async def withdraw_for_patient(
    uow: WithdrawUoW, now: datetime, user_id: int, patient_id: int
) -> int:
    """The relative is being removed: their open requests are withdrawn (the same status
    machine, journaled), so the clinic stops working on them; pushes still queued for any
    of their requests (a status change made in the quiet hours) are cancelled — their
    buttons would open a request the account can no longer see. Returns how many were
    withdrawn. Called before the relative is removed (their requests are still listed)."""
    withdrawn = 0
    for request in await uow.certificates.for_user(user_id):
        if request.patient_id != patient_id:
            continue
        # a ready or refused one's push would open it too: none of them may still go out
        await uow.outbox.cancel_by_key_prefix(push_key_prefix(request.id), "relative removed")
        if request.status.open and await _withdraw(uow, request, now):
            await _journal(uow, now, user_id, request, "certificate_withdrawn")
            withdrawn += 1
    return withdrawn


async def _withdraw(uow: WithdrawUoW, request: CertificateRequest, now: datetime) -> bool:
    current: CertificateRequest | None = request
    for _attempt in range(3):  # a registrar may move it at the same moment: read it again
        if current is None or not current.status.open:
            return False
        check_transition(current.status, CertStatus.WITHDRAWN)
        if await uow.certificates.update(current.id, current.status, CertStatus.WITHDRAWN, now):
            return True
        current = await uow.certificates.get(request.id)
    return False


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
    uow: CertificatesUnitOfWork | WithdrawUoW,
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
