"""Taking a slot: hold it for the summary, book it (idempotently), list the user's visits.

The slot is the unit of contention: it is taken by one conditional UPDATE
(``status='free'`` → ``'booked'``, rowcount 1) and released by the reverse,
so two patients can never hold one slot on SQLite or PostgreSQL, and the
partial unique index on active appointments is the last line of defence.
"""

from __future__ import annotations

from contextlib import nullcontext
from datetime import datetime, timedelta

from domain.booking_ports import BookingUnitOfWork, Hold, NewAppointment, SlotContext
from domain.booking_rules import (
    BookingPolicy,
    check_booking_rules,
    outbox_for_new,
    owned_patient,
    slot_context,
    slot_taken,
    take_remote_first,
)
from domain.errors import DomainError, ReferralRequired
from domain.lifecycle import Event, next_status, transition
from domain.models import Appointment, SlotStatus
from domain.schedule_source import undo_remote


async def hold_slot(
    uow: BookingUnitOfWork,
    now: datetime,
    user_id: int,
    patient_id: int,
    slot_id: int,
    policy: BookingPolicy,
    *,
    rescheduling: bool = False,
) -> Hold:
    """Reserve a slot for the summary screen for ``policy.hold_minutes``.

    One hold per user (a new hold replaces the previous one); an expired hold
    of anyone frees the slot. Runs the booking rules too, so a refusal
    (referral, age, cap, …) is shown at the summary, not after «Подтвердить».
    With ``rescheduling=True`` (the summary of a move) the one-active and
    daily-cap rules are skipped: the patient keeps one appointment either way.
    Raises NotOwner, SlotUnavailable, rule errors, or SlotTaken(alternatives).
    """
    patient = await owned_patient(uow, user_id, patient_id)
    ctx = await slot_context(uow, slot_id)
    if ctx.slot.status == SlotStatus.BOOKED and ctx.slot.start > now:
        raise await slot_taken(uow, now, ctx, policy)
    await check_booking_rules(
        uow,
        now,
        user_id,
        patient,
        ctx,
        policy,
        rescheduling=rescheduling,
    )
    if ctx.slot.status != SlotStatus.FREE:
        raise await slot_taken(uow, now, ctx, policy)
    expires = now + timedelta(minutes=policy.hold_minutes)
    if not await uow.appointments.put_hold(user_id, patient_id, slot_id, expires, now):
        raise await slot_taken(uow, now, ctx, policy)
    return Hold(user_id=user_id, slot_id=slot_id, patient_id=patient_id, expires_at=expires)


async def release_hold(uow: BookingUnitOfWork, user_id: int) -> None:
    """The user left the summary («Назад»): give the slot back to others (at the commit)."""
    await uow.appointments.delete_hold(user_id)


async def book(
    uow: BookingUnitOfWork,
    now: datetime,
    user_id: int,
    patient_id: int,
    slot_id: int,
    policy: BookingPolicy,
) -> Appointment:
    """Book ``slot_id`` for the user's own patient (self or a relative).

    In one transaction: the slot is taken by one conditional UPDATE (free and
    not held by someone else), the appointment, its first status event, the
    journal entry, the spent referral and the outbox rows (confirmation now,
    reminders at the policy offsets) are written, the user's hold is dropped
    (the caller's unit of work commits). Raises NotOwner, SlotUnavailable, AgeSexRestricted, VisitOverlaps,
    ReferralRequired, AlreadyBooked, DailyCapReached or SlotTaken(alternatives).
    """
    appointment, _created = await book_once(uow, now, user_id, patient_id, slot_id, policy)
    return appointment


async def book_once(
    uow: BookingUnitOfWork,
    now: datetime,
    user_id: int,
    patient_id: int,
    slot_id: int,
    policy: BookingPolicy,
    *,
    files: bool = False,
) -> tuple[Appointment, bool]:
    """``book`` that is idempotent per (patient, slot): a repeated confirm of a slot
    the same account already booked for the same patient (a double tap, a retried
    update) returns that appointment and ``False`` instead of «taken» or a second
    appointment; ``True`` when this call created it. ``files``: a new visit's .ics and
    PDF are queued with its other outbox rows (domain.notifications.booking_files_item).

    The patient row is locked first (``lock_patient``; SQLite's writers are serial
    anyway), so concurrent bookings of one patient run one after another and the
    second sees the first: the same slot → its appointment, an overlapping one →
    VisitOverlaps.
    """
    repo = uow.appointments
    patient = await owned_patient(uow, user_id, patient_id)
    await repo.lock_patient(patient_id)
    ctx = await slot_context(uow, slot_id)
    # A repeated confirm finds its own visit on the slot. An active appointment's slot is
    # never 'free' (tests/storage/invariants.py), so a free slot needs no look for one.
    mine = None
    if ctx.slot.status != SlotStatus.FREE:
        mine = await repo.active_on_slot(patient_id, slot_id)
    if mine is not None and mine.user_id == user_id:
        await repo.delete_hold(user_id)
        return mine, False
    if ctx.slot.status == SlotStatus.BOOKED and ctx.slot.start > now:
        raise await slot_taken(
            uow, now, ctx, policy
        )  # the common loss in a rush: answer it cheaply
    referral_id = await check_booking_rules(uow, now, user_id, patient, ctx, policy)
    remote = await take_remote_first(uow, now, ctx, patient, policy)
    # A spent referral shows only after the insert: that rare race undoes the take and
    # the insert alone (a savepoint), whatever the caller's update does next.
    try:
        async with uow.savepoint() if referral_id is not None else nullcontext():
            appointment = await _take(uow, now, user_id, patient_id, ctx, referral_id, policy)
    except DomainError:
        await undo_remote(uow, remote)
        raise
    await transition(
        uow,
        now,
        appointment,
        Event.BOOK,
        actor="patient",
        actor_user_id=user_id,
        journal_user_id=user_id,
        patient_id=patient_id,
    )
    await uow.outbox.add(
        outbox_for_new(appointment, ctx.clinic_tz, now, policy, confirmation=True, files=files),
        now,
    )
    await repo.delete_hold(user_id)
    return appointment, True


async def _take(
    uow: BookingUnitOfWork,
    now: datetime,
    user_id: int,
    patient_id: int,
    ctx: SlotContext,
    referral_id: int | None,
    policy: BookingPolicy,
) -> Appointment:
    """The slot by one conditional UPDATE, the appointment row, the referral spent."""
    repo = uow.appointments
    if ctx.slot.status != SlotStatus.FREE or not await repo.take_slot(ctx.slot.id, user_id, now):
        raise await slot_taken(uow, now, ctx, policy)
    appointment = await repo.insert(
        NewAppointment(
            patient_id=patient_id,
            user_id=user_id,
            slot=ctx.slot,
            status=next_status(None, Event.BOOK),
            referral_id=referral_id,
            created_at=now,
        )
    )
    if referral_id is not None and not await repo.mark_referral_used(referral_id, appointment.id):
        raise ReferralRequired(ctx.specialty.code)  # spent by a concurrent booking
    return appointment


async def list_appointments(
    uow: BookingUnitOfWork, user_id: int, now: datetime, include_past: bool = False
) -> list[Appointment]:
    """Appointments of the user's patients (self and relatives), nearest first, every status.

    Without ``include_past`` only those that have not ended yet (start +
    duration > now). Filtering by status (e.g. hiding 'rescheduled') is the
    caller's choice.
    """
    since = None if include_past else now
    return await uow.appointments.list_for_owner(user_id, since)
