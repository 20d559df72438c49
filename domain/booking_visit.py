"""After booking: the patient confirms attendance («Приду»), staff mark the visit."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from domain.booking_ports import BookingUnitOfWork
from domain.booking_rules import ACTIVE, check_staff, get_owned_appointment, owner_of, write_journal
from domain.errors import InvalidTransition
from domain.models import Appointment, AppointmentStatus


async def confirm_attendance(
    uow: BookingUnitOfWork, now: datetime, user_id: int, appointment_id: int
) -> Appointment:
    """«Приду» on the 24 h reminder: pending → confirmed (already confirmed is a no-op).
    Past or inactive → InvalidTransition. Commits."""
    appointment = await get_owned_appointment(uow, user_id, appointment_id)
    if appointment.status is AppointmentStatus.CONFIRMED:
        return appointment
    if appointment.status is not AppointmentStatus.PENDING or appointment.start <= now:
        raise InvalidTransition(f"appointment {appointment_id} is {appointment.status}")
    repo = uow.appointments
    if not await repo.set_status(
        appointment_id,
        expected=(AppointmentStatus.PENDING,),
        status=AppointmentStatus.CONFIRMED,
        now=now,
    ):
        raise InvalidTransition(f"appointment {appointment_id} changed meanwhile")
    await repo.add_event(
        appointment_id,
        at=now,
        status=AppointmentStatus.CONFIRMED,
        actor="patient",
        actor_user_id=user_id,
    )
    await write_journal(uow, now, user_id, "appointment.confirmed", appointment)
    await uow.commit()
    updated = await repo.get(appointment_id)
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
    stays 'booked' (it is in the past). Commits.
    """
    if status not in (AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW):
        raise InvalidTransition(f"cannot mark a visit {status}")
    appointment = check_staff(await uow.appointments.get(appointment_id), staff_clinic_ids)
    if not appointment.status.active or appointment.start > now:
        raise InvalidTransition(f"appointment {appointment_id} cannot be marked now")
    repo = uow.appointments
    if not await repo.set_status(appointment_id, expected=ACTIVE, status=status, now=now):
        raise InvalidTransition(f"appointment {appointment_id} changed meanwhile")
    await repo.add_event(
        appointment_id, at=now, status=status, actor="staff", actor_user_id=staff_user_id
    )
    if status is AppointmentStatus.NO_SHOW:
        await repo.increment_no_show(appointment.user_id)
    await uow.outbox.cancel_for_appointment(appointment_id)
    await write_journal(
        uow, now, await owner_of(uow, appointment), f"appointment.{status.value}", appointment
    )
    await uow.commit()
    updated = await repo.get(appointment_id)
    assert updated is not None
    return updated
