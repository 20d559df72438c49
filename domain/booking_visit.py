"""After booking: the patient confirms attendance («Приду»), staff mark the visit."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from domain.booking_ports import BookingUnitOfWork
from domain.booking_rules import check_staff, get_owned_appointment, owner_of
from domain.errors import InvalidTransition
from domain.lifecycle import Event, transition
from domain.models import Appointment, AppointmentStatus

_MARKS = {AppointmentStatus.COMPLETED: Event.COMPLETE, AppointmentStatus.NO_SHOW: Event.NO_SHOW}


async def confirm_attendance(
    uow: BookingUnitOfWork, now: datetime, user_id: int, appointment_id: int
) -> Appointment:
    """«Приду» on the 24 h reminder: pending → confirmed (already confirmed is a no-op).
    Past or inactive → InvalidTransition."""
    appointment = await get_owned_appointment(uow, user_id, appointment_id)
    if appointment.status is AppointmentStatus.CONFIRMED:
        return appointment
    if appointment.start <= now:
        raise InvalidTransition(f"appointment {appointment_id} has started")
    await transition(
        uow,
        now,
        appointment,
        Event.CONFIRM,
        actor="patient",
        actor_user_id=user_id,
        journal_user_id=user_id,
    )
    updated = await uow.appointments.get(appointment_id)
    assert updated is not None
    return updated


async def mark_visit(
    uow: BookingUnitOfWork,
    now: datetime,
    staff_user_id: int,
    staff_clinic_ids: Iterable[int],
    appointment_id: int,
    status: AppointmentStatus,
) -> Appointment:
    """Staff mark an active appointment that has started as completed or no-show.

    A no-show increments the booking account's ``no_show_count``. The slot
    stays 'booked' (it is in the past).
    """
    event = _MARKS.get(status)
    if event is None:
        raise InvalidTransition(f"cannot mark a visit {status}")
    appointment = check_staff(await uow.appointments.get(appointment_id), staff_clinic_ids)
    if appointment.start > now:
        raise InvalidTransition(f"appointment {appointment_id} has not started")
    await transition(
        uow,
        now,
        appointment,
        event,
        actor="staff",
        actor_user_id=staff_user_id,
        journal_user_id=await owner_of(uow, appointment),
    )
    repo = uow.appointments
    if status is AppointmentStatus.NO_SHOW:
        await repo.increment_no_show(appointment.user_id)
    await uow.outbox.cancel_for_appointment(appointment_id)
    updated = await repo.get(appointment_id)
    assert updated is not None
    return updated
