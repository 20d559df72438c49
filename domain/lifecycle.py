"""An appointment's life as data: which event moves which status where, and the one
helper that applies it (status + the appointment_events row + the journal entry).

Why a table: the booking services used to write these three rows by hand in five
places, each with its own guard; a missed guard or a forgotten event row was a
silent hole in the history the clinic and the patient read. Now a service names
the event, ``transition()`` looks the move up (``InvalidTransition`` when the
table has no such arrow) and writes all three, with the status change
conditional on the status it saw (a concurrent change makes it refuse, not
overwrite).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from domain.booking_ports import BookingUnitOfWork
from domain.errors import InvalidTransition
from domain.models import Appointment, AppointmentStatus, JournalEntry

S = AppointmentStatus


class Event(StrEnum):
    BOOK = "book"  # a new appointment (also the new half of a move)
    CONFIRM = "confirm"  # «Приду» on the reminder
    CANCEL_BY_PATIENT = "cancel_by_patient"
    CANCEL_BY_CLINIC = "cancel_by_clinic"
    RESCHEDULE = "reschedule"  # the old half of a move
    COMPLETE = "complete"
    NO_SHOW = "no_show"
    ERASE = "erase"  # the account is erased: its coming visits are cancelled


# (status before, event) → status after. ``None`` before: the appointment is being created.
TRANSITIONS: dict[tuple[AppointmentStatus | None, Event], AppointmentStatus] = {
    (None, Event.BOOK): S.PENDING,
    (S.PENDING, Event.CONFIRM): S.CONFIRMED,
    **{(s, Event.CANCEL_BY_PATIENT): S.CANCELLED for s in (S.PENDING, S.CONFIRMED)},
    **{(s, Event.CANCEL_BY_CLINIC): S.CANCELLED for s in (S.PENDING, S.CONFIRMED)},
    **{(s, Event.ERASE): S.CANCELLED for s in (S.PENDING, S.CONFIRMED)},
    **{(s, Event.RESCHEDULE): S.RESCHEDULED for s in (S.PENDING, S.CONFIRMED)},
    **{(s, Event.COMPLETE): S.COMPLETED for s in (S.PENDING, S.CONFIRMED)},
    **{(s, Event.NO_SHOW): S.NO_SHOW for s in (S.PENDING, S.CONFIRMED)},
}

# The journal's action per event (what the clinic's history shows).
JOURNAL_ACTION: dict[Event, str] = {
    Event.BOOK: "appointment.booked",
    Event.CONFIRM: "appointment.confirmed",
    Event.CANCEL_BY_PATIENT: "appointment.cancelled",
    Event.CANCEL_BY_CLINIC: "appointment.cancelled",
    Event.ERASE: "appointment.cancelled",
    Event.RESCHEDULE: "appointment.rescheduled",
    Event.COMPLETE: "appointment.completed",
    Event.NO_SHOW: "appointment.no_show",
}


def next_status(status: AppointmentStatus | None, event: Event) -> AppointmentStatus:
    """The status ``event`` leads to from ``status``; InvalidTransition when none."""
    after = TRANSITIONS.get((status, event))
    if after is None:
        raise InvalidTransition(f"{event} is not possible for a {status or 'new'} appointment")
    return after


def sources(event: Event) -> tuple[AppointmentStatus, ...]:
    """Every status ``event`` may start from (the guard of the conditional UPDATE)."""
    return tuple(s for (s, e) in TRANSITIONS if e is event and s is not None)


async def write_journal(
    uow: BookingUnitOfWork,
    now: datetime,
    user_id: int | None,
    action: str,
    appointment: Appointment,
    **details: object,
) -> None:
    await uow.journal.add(
        JournalEntry(
            user_id=user_id,
            at=now,
            action=action,
            appointment_id=appointment.id,
            doctor_id=appointment.doctor_id,
            details={"number": appointment.number, **details},
        )
    )


async def transition(
    uow: BookingUnitOfWork,
    now: datetime,
    appointment: Appointment,
    event: Event,
    *,
    actor: str,
    actor_user_id: int | None,
    journal_user_id: int | None,
    reason: str | None = None,
    event_reason: str | None = None,
    cancelled_by: str | None = None,
    rescheduled_to: int | None = None,
    journal: bool = True,
    journal_action: str | None = None,
    **details: object,
) -> AppointmentStatus:
    """Apply ``event`` to ``appointment``: the status (conditional on the one it has:
    a concurrent change → InvalidTransition, nothing written), the status event row
    and, unless ``journal=False``, the journal entry. For ``Event.BOOK`` the row was
    just inserted with its status: only the event and the journal are written.
    Returns the new status.
    """
    before = None if event is Event.BOOK else appointment.status
    after = next_status(before, event)
    repo = uow.appointments
    if before is not None and not await repo.set_status(
        appointment.id,
        expected=sources(event),
        status=after,
        now=now,
        cancelled_by=cancelled_by,
        reason=reason,
        rescheduled_to=rescheduled_to,
    ):
        raise InvalidTransition(f"appointment {appointment.id} changed meanwhile")
    await repo.add_event(
        appointment.id,
        at=now,
        status=after,
        actor=actor,
        actor_user_id=actor_user_id,
        reason=event_reason if event_reason is not None else reason,
    )
    if journal:
        action = journal_action or JOURNAL_ACTION[event]
        await write_journal(uow, now, journal_user_id, action, appointment, **details)
    return after
