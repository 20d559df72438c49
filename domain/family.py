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

The section's types, ports and pure rules are domain/family_rules.py's,
re-exported here: flows import ``domain.family`` alone.
"""

from __future__ import annotations

from datetime import datetime

from domain.accounts import Profile
from domain.booking_cancel import cancel_one
from domain.certificate_requests import withdraw_for_patient
from domain.errors import Stale
from domain.family_rules import (
    EDITABLE,
    RELATIONS,
    SELF,
    Added,
    AlreadyInFamily,
    ConsentRequest,
    FamilyFull,
    FamilyJournal,
    FamilyOutbox,
    FamilyRepository,
    FamilyUoW,
    Kind,
    Removed,
    RequestStatus,
    born_text,
    check_room,
    consent_holder,
    profile_of,
    relation_of,
    relatives_of,
)
from domain.lifecycle import Event
from domain.models import Appointment, JournalEntry, Patient
from domain.notifications import OutboxItem

__all__ = [  # the section's one import: its rules and types with its services
    "EDITABLE",
    "RELATIONS",
    "SELF",
    "Added",
    "AlreadyInFamily",
    "ConsentRequest",
    "FamilyFull",
    "FamilyJournal",
    "FamilyOutbox",
    "FamilyRepository",
    "FamilyUoW",
    "Kind",
    "Removed",
    "RequestStatus",
    "add_relative",
    "born_text",
    "check_room",
    "consent_holder",
    "decide",
    "edit_relative",
    "owned_relative",
    "profile_of",
    "relation_of",
    "relatives_of",
    "remove_relative",
    "upcoming_visits",
    "withdraw",
]


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
