"""Cancelling: by the patient (the 24 h rule), by the clinic (a reason, a notice), a day
closed, every visit of an account before its erasure.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from domain import rules
from domain.booking_ports import BookingUnitOfWork
from domain.booking_rules import check_staff, get_owned_appointment, owner_of
from domain.errors import CancelWindowClosed, InvalidTransition
from domain.lifecycle import Event, transition
from domain.models import Appointment
from domain.notifications import clinic_cancelled_item
from domain.schedule_source import cancel_remote


async def cancel_one(
    uow: BookingUnitOfWork,
    now: datetime,
    appointment: Appointment,
    event: Event,
    *,
    journal_user_id: int | None,
    actor: str,
    actor_user_id: int | None,
    reason: str | None,
    block_slot: bool = False,
) -> Appointment:
    """Cancel and give the slot back to the schedule (``freed_at`` = now: the wait list
    offers it), or with ``block_slot`` close it (a day the clinic called off)."""
    repo = uow.appointments
    cancelled_by = "clinic" if actor == "staff" else actor
    await cancel_remote(uow, appointment)  # issue 11: the owner first; a failure keeps it
    await transition(
        uow,
        now,
        appointment,
        event,
        actor=actor,
        actor_user_id=actor_user_id,
        journal_user_id=journal_user_id,
        reason=reason,
        cancelled_by=cancelled_by,
        by=cancelled_by,
    )
    if block_slot:
        await repo.block_slot(appointment.slot_id)
    else:
        await repo.release_slot(appointment.slot_id, now)
    await uow.outbox.cancel_for_appointment(appointment.id)
    updated = await repo.get(appointment.id)
    assert updated is not None
    return updated


async def cancel(
    uow: BookingUnitOfWork,
    now: datetime,
    user_id: int,
    appointment_id: int,
    *,
    confirmed_twice: bool,
    reason: str | None = None,
) -> Appointment:
    """The patient cancels: started/past → CancelWindowClosed; < 24 h ahead without
    ``confirmed_twice`` → ConfirmationRequired (ask again, then call with True).

    The slot returns to 'free', pending reminders are cancelled, the status
    event and the journal are written (domain/lifecycle.py). Use
    ``rules.cancel_kind(start, now)`` beforehand to decide which prompt to show.
    """
    appointment = await get_owned_appointment(uow, user_id, appointment_id)
    if not appointment.status.active:
        raise InvalidTransition(f"appointment {appointment_id} is {appointment.status}")
    rules.check_cancel(appointment.start, now, confirmed_twice=confirmed_twice)
    return await cancel_one(
        uow,
        now,
        appointment,
        Event.CANCEL_BY_PATIENT,
        journal_user_id=user_id,
        actor="patient",
        actor_user_id=user_id,
        reason=reason,
    )


async def cancel_by_clinic(
    uow: BookingUnitOfWork,
    now: datetime,
    staff_user_id: int,
    staff_clinic_ids: Iterable[int],
    appointment_id: int,
    reason: str,
    *,
    notify: bool = True,
    block_slot: bool = False,
) -> Appointment:
    """Staff cancel (doctor ill, day cancelled): no 24 h rule, only not past.

    With ``block_slot`` (the clinic called the day off) the slot becomes 'blocked',
    not free: nobody can book it and the wait list is not offered it.
    With ``notify`` adds the urgent ``clinic_cancelled`` outbox row
    (domain.notifications.clinic_cancelled_item; the notifier reads the reason
    from the appointment and offers ``alternatives()`` at send time).
    """
    appointment = check_staff(await uow.appointments.get(appointment_id), staff_clinic_ids)
    if not appointment.status.active:
        raise InvalidTransition(f"appointment {appointment_id} is {appointment.status}")
    if appointment.start <= now:
        raise CancelWindowClosed()
    owner = await owner_of(uow, appointment)
    result = await cancel_one(
        uow,
        now,
        appointment,
        Event.CANCEL_BY_CLINIC,
        journal_user_id=owner,
        actor="staff",
        actor_user_id=staff_user_id,
        reason=reason,
        block_slot=block_slot,
    )
    if notify:
        await uow.outbox.add([clinic_cancelled_item(appointment, now)], now)
    return result


async def block_doctor_time(
    uow: BookingUnitOfWork,
    doctor_id: int,
    staff_clinic_ids: Iterable[int],
    lo: datetime,
    hi: datetime,
) -> int:
    """Close the doctor's free slots starting in [lo, hi) at the staff member's clinics
    (the rest of a day the clinic called off): 'blocked', not bookable, not offered to
    the wait list. Returns how many were closed."""
    return await uow.appointments.block_free_between(doctor_id, tuple(staff_clinic_ids), lo, hi)


async def cancel_all_for_account(
    uow: BookingUnitOfWork, now: datetime, user_id: int, reason: str
) -> int:
    """Cancel every appointment of the account that has not started (before its data are
    erased), so the time goes back to the schedule and the wait list; the erasure that
    follows is the same transaction."""
    cancelled = 0
    for appointment in await uow.appointments.list_for_owner(user_id, now):
        if appointment.status.active and appointment.start > now:
            await cancel_one(
                uow,
                now,
                appointment,
                Event.ERASE,
                journal_user_id=user_id,
                actor="patient",
                actor_user_id=user_id,
                reason=reason,
            )
            cancelled += 1
    return cancelled
