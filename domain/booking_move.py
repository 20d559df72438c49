"""Moving a visit to another slot: by the patient, or by the registrar («Перенести приём»).

One transaction: the new slot is taken first, then the old visit is retired
conditionally and its slot given back, so a visit is never both lost nor both kept.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from domain.booking_ports import BookingUnitOfWork, NewAppointment, SlotContext
from domain.booking_rules import (
    BookingPolicy,
    check_booking_rules,
    check_staff,
    get_owned_appointment,
    outbox_for_new,
    owner_of,
    slot_context,
    slot_taken,
    take_remote_first,
)
from domain.errors import (
    CancelWindowClosed,
    DomainError,
    InvalidTransition,
    NotFound,
    NotOwner,
    SlotUnavailable,
)
from domain.lifecycle import JOURNAL_ACTION, Event, next_status, transition
from domain.models import Appointment, Patient, SlotStatus
from domain.notifications import clinic_moved_item
from domain.schedule_source import cancel_remote, undo_remote


async def move_one(
    uow: BookingUnitOfWork,
    now: datetime,
    old: Appointment,
    new_slot_id: int,
    policy: BookingPolicy,
    *,
    actor: str,
    actor_user_id: int,
    journal_user_id: int | None,
    reason: str | None,
) -> Appointment:
    repo = uow.appointments
    patient = await repo.get_patient(old.patient_id)
    if patient is None:
        raise NotFound(f"patient {old.patient_id}")
    ctx = await slot_context(uow, new_slot_id)
    if ctx.slot.specialty_id != old.specialty_id:
        raise SlotUnavailable("other_specialty")
    if new_slot_id == old.slot_id:
        raise SlotUnavailable("same_slot")
    # 1. Take the new slot first: if it is gone, nothing has changed. The whole move is
    #    a savepoint: a refusal half-way (a rule, the old visit changed meanwhile, the
    #    owner refused to give the old time back) leaves nothing of it, whatever the
    #    caller's update does next.
    remote = await take_remote_first(uow, now, ctx, patient, policy)
    try:
        async with uow.savepoint():
            new = await _swap(uow, now, old, ctx, policy, actor, actor_user_id, reason, patient)
    except DomainError:
        await undo_remote(uow, remote)
        raise
    await uow.outbox.cancel_for_appointment(old.id)
    await uow.outbox.add(outbox_for_new(new, ctx.clinic_tz, now, policy, confirmation=False), now)
    await transition(
        uow,
        now,
        new,
        Event.BOOK,
        actor=actor,
        actor_user_id=actor_user_id,
        journal_user_id=journal_user_id,
        event_reason=f"rescheduled_from:{old.id}",
        journal_action=JOURNAL_ACTION[Event.RESCHEDULE],
        from_appointment=old.id,
        from_number=old.number,
        from_start=old.start.isoformat(),
        by=actor,
    )
    await repo.delete_hold(actor_user_id)
    return new


async def _swap(
    uow: BookingUnitOfWork,
    now: datetime,
    old: Appointment,
    ctx: SlotContext,
    policy: BookingPolicy,
    actor: str,
    actor_user_id: int,
    reason: str | None,
    patient: Patient,
) -> Appointment:
    """Take the new slot, check the rules under the patient's lock, write the new visit,
    retire the old one (conditionally: a concurrent cancel/reschedule that committed
    first refuses the move) and give its time back — at the owner first (issue 11),
    then here and to the wait list.

    Locks in the booking's order (domain/booking_take.py): the slot (the take), then
    the patient — never the other way round, so a move and a booking of one patient
    onto one slot cannot deadlock. The rules still come before «taken» (a blocked
    slot is refused as such)."""
    repo = uow.appointments
    taken = ctx.slot.status == SlotStatus.FREE and await repo.take_slot(
        ctx.slot.id, actor_user_id, now
    )
    await repo.lock_patient(patient.id)
    await check_booking_rules(
        uow, now, actor_user_id, patient, ctx, policy, rescheduling=True, moving_id=old.id
    )
    if not taken:
        raise await slot_taken(uow, now, ctx, policy, actor_user_id)
    new = await repo.insert(
        NewAppointment(
            patient_id=old.patient_id,
            user_id=old.user_id,
            slot=ctx.slot,
            status=next_status(None, Event.BOOK),
            referral_id=old.referral_id,
            created_at=now,
            calendar_uid=old.calendar_uid,
            calendar_seq=old.calendar_seq + 1,
        )
    )
    await transition(
        uow,
        now,
        old,
        Event.RESCHEDULE,
        actor=actor,
        actor_user_id=actor_user_id,
        journal_user_id=None,
        reason=reason,
        rescheduled_to=new.id,
        journal=False,  # one journal entry for the move, on the new visit
    )
    await cancel_remote(uow, old)
    await repo.release_slot(old.slot_id, now)
    return new


async def reschedule(
    uow: BookingUnitOfWork,
    now: datetime,
    user_id: int,
    appointment_id: int,
    new_slot_id: int,
    policy: BookingPolicy,
) -> Appointment:
    """Move the user's appointment to ``new_slot_id`` (same doctor or same specialty).

    One transaction: the new slot is taken first (conditional UPDATE), then
    the new appointment is written, the old one becomes 'rescheduled'
    (``rescheduled_to`` = new id) and its slot is freed, reminders move.
    SlotTaken(alternatives) → nothing changed. Never both lost, never both kept.
    Returns the NEW appointment.
    """
    old = await get_owned_appointment(uow, user_id, appointment_id)
    if not old.status.active:
        raise InvalidTransition(f"appointment {appointment_id} is {old.status}")
    if old.start <= now:
        raise CancelWindowClosed()
    new = await move_one(
        uow,
        now,
        old,
        new_slot_id,
        policy,
        actor="patient",
        actor_user_id=user_id,
        journal_user_id=user_id,
        reason=None,
    )
    return new


async def reschedule_by_clinic(
    uow: BookingUnitOfWork,
    now: datetime,
    staff_user_id: int,
    staff_clinic_ids: Iterable[int],
    appointment_id: int,
    new_slot_id: int,
    policy: BookingPolicy,
    reason: str,
    *,
    notify: bool = True,
) -> Appointment:
    """Staff move one appointment («Перенести приём») to a slot of the same doctor or
    specialty; with ``notify`` adds the urgent ``clinic_moved`` outbox row. Returns
    the new appointment."""
    old = check_staff(await uow.appointments.get(appointment_id), staff_clinic_ids)
    if not old.status.active:
        raise InvalidTransition(f"appointment {appointment_id} is {old.status}")
    target = await slot_context(uow, new_slot_id)
    if target.slot.clinic_id != old.clinic_id:
        # A registrar moves a visit within their own clinic: another clinic's time
        # (a doctor who works in two) is neither theirs to take nor the patient's address.
        raise NotOwner(f"slot {new_slot_id} is in another clinic")
    owner = await owner_of(uow, old)
    new = await move_one(
        uow,
        now,
        old,
        new_slot_id,
        policy,
        actor="staff",
        actor_user_id=staff_user_id,
        journal_user_id=owner,
        reason=reason,
    )
    if notify:
        await uow.outbox.add([clinic_moved_item(old.id, new, now)], now)
    return new
