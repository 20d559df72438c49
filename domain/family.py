"""«Мои близкие»: relatives of an account — add, consent, remove — as domain rules.

A relative is a patient row of the account with ``relation`` other than self:
booking, «Мои записи» and reminders already treat every patient of the account
alike. What is decided here: at most ``Policy.max_relatives`` (pending consent
requests count), no duplicates (the same SNILS twice, or the holder themself),
and a person who holds an account of their own or is another account's relative
is added only after that account approves in its own chat (a consent request
through the outbox). Removing a relative cancels their upcoming visits with the
booking services (slots return, the wait list is offered them). Every change is
journaled with ids only. Services never commit: the update is the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from domain.accounts import Profile, RegisterCheck
from domain.booking_cancel import cancel_one
from domain.booking_ports import BookingUnitOfWork
from domain.booking_ports import OutboxPort as BookingOutbox
from domain.certificate_requests import withdraw_for_patient
from domain.certificates import CertificatesOutbox, CertificatesRepository
from domain.errors import Duplicate, LimitReached, Stale
from domain.lifecycle import Event
from domain.models import Appointment, JournalEntry, Patient
from domain.notifications import OutboxItem

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


async def _log(uow: FamilyUoW, user_id: int, now: datetime, action: str, **details: object) -> None:
    await uow.journal.add(JournalEntry(user_id=user_id, at=now, action=action, details=details))


# --- Services ----------------------------------------------------------------


async def owned_relative(uow: FamilyUoW, user_id: int, patient_id: int) -> Patient:
    """The user's relative (not themself), else Stale: a forged or old button."""
    for patient in relatives_of(await uow.family.patients_of(user_id)):
        if patient.id == patient_id:
            return patient
    raise Stale


async def add_relative(
    uow: FamilyUoW,
    now: datetime,
    user_id: int,
    relation: str,
    profile: Profile,
    max_relatives: int,
) -> Added:
    """Add a relative, or ask the account that holds this person for consent.

    LimitReached past ``max_relatives``; Duplicate for the same SNILS twice (or
    the holder themself). A pending request for the same SNILS is a duplicate too.
    """
    if relation not in RELATIONS:
        raise Stale
    family = uow.family
    mine = await family.patients_of(user_id)
    pending = await family.pending_requests(user_id)
    holder = consent_holder(user_id, await family.patients_with_snils(profile.snils))
    if any(r.profile.snils == profile.snils for r in pending):
        raise AlreadyInFamily("snils")
    check_room(len(relatives_of(mine)), len(pending), max_relatives)
    if holder is not None:
        request = await family.add_request(user_id, holder, relation, profile, now)
        await uow.outbox.add(
            [
                OutboxItem(
                    kind=Kind.CONSENT_REQUEST,
                    user_id=holder,
                    due_at=now,
                    idem_key=f"relreq:{request.id}:ask",
                    payload={"request_id": request.id, "relation": relation},
                )
            ],
            now,
        )
        await _log(uow, user_id, now, "family.consent_requested", request_id=request.id)
        return Added(request=request)
    patient = await _create(uow, user_id, relation, profile, now)
    await _log(uow, user_id, now, "family.added", patient_id=patient.id, relation=relation)
    return Added(patient=patient)


async def _create(
    uow: FamilyUoW, user_id: int, relation: str, profile: Profile, now: datetime
) -> Patient:
    """The relative's patient row, checked against the attachment register (a match
    attaches them to their clinic, as onboarding does for the holder)."""
    family = uow.family
    patient = await family.add_relative(user_id, relation, profile, now)
    check = await family.register_check(patient)
    if check is not None and not check.mismatched:
        await family.set_confirmation(patient.id, confirmed=True, clinic_id=check.clinic_id)
    return patient


async def decide(
    uow: FamilyUoW, now: datetime, user_id: int, request_id: int, *, approve: bool
) -> ConsentRequest:
    """The asked account answers «Разрешить» / «Отклонить». Only that account, only once
    (anything else is Stale). On approval the relative is added to the asking account;
    the asking account is told either way."""
    request = await uow.family.request(request_id)
    if (
        request is None
        or request.target_user_id != user_id
        or request.status != RequestStatus.PENDING
    ):
        raise Stale
    patient_id: int | None = None
    if approve:
        mine = await uow.family.patients_of(request.owner_user_id)
        if any(p.snils == request.profile.snils for p in mine):
            raise Stale  # added meanwhile another way
        patient = await _create(uow, request.owner_user_id, request.relation, request.profile, now)
        patient_id = patient.id
    status = RequestStatus.APPROVED if approve else RequestStatus.DECLINED
    if not await uow.family.decide_request(request_id, status, patient_id, now):
        raise Stale
    await uow.outbox.add(
        [
            OutboxItem(
                kind=Kind.CONSENT_DECIDED,
                user_id=request.owner_user_id,
                due_at=now,
                idem_key=f"relreq:{request.id}:decided",
                payload={"request_id": request.id, "approved": int(approve)},
            )
        ],
        now,
    )
    await _log(uow, user_id, now, f"family.consent_{status}", request_id=request.id)
    await _log(uow, request.owner_user_id, now, f"family.request_{status}", request_id=request.id)
    decided = await uow.family.request(request_id)
    assert decided is not None
    return decided


async def withdraw(uow: FamilyUoW, now: datetime, user_id: int, request_id: int) -> None:
    """The asking account takes back a request still waiting (the other side never
    answered, or it was a mistake): it stops counting toward the limit; the consent
    buttons in the other chat become stale."""
    request = await uow.family.request(request_id)
    if (
        request is None
        or request.owner_user_id != user_id
        or request.status != RequestStatus.PENDING
        or not await uow.family.decide_request(request_id, RequestStatus.WITHDRAWN, None, now)
    ):
        raise Stale
    await _log(uow, user_id, now, "family.request_withdrawn", request_id=request_id)


async def upcoming_visits(
    uow: FamilyUoW, now: datetime, user_id: int, patient_id: int
) -> list[Appointment]:
    """The relative's active visits that have not started: removing them cancels these."""
    return [
        a
        for a in await uow.appointments.list_for_owner(user_id, now)
        if a.patient_id == patient_id and a.status.active and a.start > now
    ]


@dataclass(frozen=True, slots=True)
class Removed:
    visits: int  # upcoming visits cancelled
    certificates: int  # open certificate requests withdrawn


async def remove_relative(uow: FamilyUoW, now: datetime, user_id: int, patient_id: int) -> Removed:
    """Remove a relative of the user (Stale otherwise), cancelling their upcoming visits
    first (the slots go back to the schedule and the wait list is offered them) and
    withdrawing their open certificate requests (domain/certificate_requests.py)."""
    patient = await owned_relative(uow, user_id, patient_id)
    visits = await upcoming_visits(uow, now, user_id, patient.id)
    for visit in visits:
        await cancel_one(
            uow,
            now,
            visit,
            Event.CANCEL_BY_PATIENT,  # the holder removed the relative: «отменена вами»
            journal_user_id=user_id,
            actor="patient",
            actor_user_id=user_id,
            reason=None,  # «отменена вами»: the holder removed the relative
        )
    withdrawn = await withdraw_for_patient(uow, now, user_id, patient.id)
    if not await uow.family.remove_relative(patient.id, now):
        raise Stale
    await _log(uow, user_id, now, "family.removed", patient_id=patient.id, cancelled=len(visits),
               certificates_withdrawn=withdrawn)  # fmt: skip
    return Removed(visits=len(visits), certificates=withdrawn)


EDITABLE = ("name", "birth_date", "sex", "snils", "policy")


async def edit_relative(
    uow: FamilyUoW, now: datetime, user_id: int, patient_id: int, changed: Profile
) -> Patient:
    """Save a relative's corrected profile (values already validated by domain.validators).

    A SNILS that another patient row holds (this account's or anyone's) is refused
    (AlreadyInFamily): a person of another account is added only with their consent.
    The register is asked again, as when the relative was added.
    """
    relative = await owned_relative(uow, user_id, patient_id)
    if changed.snils != relative.snils:
        others = await uow.family.patients_with_snils(changed.snils)
        if any(p.id != relative.id for p in others):
            raise AlreadyInFamily("snils")
    await uow.family.update_relative(relative.id, changed)
    updated = await owned_relative(uow, user_id, relative.id)
    check = await uow.family.register_check(updated)
    confirmed = check is not None and not check.mismatched
    await uow.family.set_confirmation(
        updated.id, confirmed=confirmed, clinic_id=check.clinic_id if confirmed and check else None
    )
    await _log(uow, user_id, now, "family.edited", patient_id=relative.id)
    return await owned_relative(uow, user_id, relative.id)


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
