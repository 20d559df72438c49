"""Taking a slot: hold it for the summary, book it (idempotently), list the user's visits.

The slot is the unit of contention: it is taken by one conditional UPDATE
(``status='free'`` → ``'booked'``, rowcount 1) and released by the reverse,
so two patients can never hold one slot on SQLite or PostgreSQL, and the
partial unique index on active appointments is the last line of defence.
"""

from __future__ import annotations

from contextlib import nullcontext
from datetime import datetime, timedelta

from domain import rules
from domain.booking_ports import BookingUnitOfWork, Hold, NewAppointment, SlotContext, SlotTake
from domain.booking_rules import (
    BookingPolicy,
    check_booking_rules,
    outbox_for_new,
    owned_patient,
    slot_context,
    slot_taken,
    take_remote_first,
)
from domain.errors import DomainError, ReferralRequired, SlotTaken, SlotUnavailable
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
        raise await slot_taken(uow, now, ctx, policy, user_id)
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
        raise await slot_taken(uow, now, ctx, policy, user_id)
    expires = now + timedelta(minutes=policy.hold_minutes)
    if not await uow.appointments.put_hold(user_id, patient_id, slot_id, expires, now):
        raise await slot_taken(uow, now, ctx, policy, user_id)
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

    The take comes first (issue 12, the rush): the conditional UPDATE decides, so a
    lost race is answered in about one round trip — the slot's context comes with the
    take (``take_first``) and the alternatives in one more statement — while ownership,
    the patient lock and every rule run only for the winner, in the same transaction:
    a refusal after the take gives the slot back (``untake_slot``) before it is raised,
    so it writes nothing, as before. The patient row is locked right after the take
    (in the take's own statement on PostgreSQL; SQLite's writers are serial anyway), so
    concurrent bookings of one patient run one after another and the second sees the
    first: the same slot → its appointment, an overlapping one → VisitOverlaps. Locks
    are always taken slot first, then patient (domain/booking_move.py too).
    """
    repo = uow.appointments
    since = now - rules.DAILY_CAP_WINDOW  # (as check_booking_rules asks rule_facts)
    take = await repo.take_first(
        slot_id, user_id, patient_id, now, policy.earliest_offer(now), since
    )
    if take.ctx is None:
        raise SlotUnavailable("missing")
    ctx = take.ctx
    if not take.taken:
        return await _not_taken(uow, now, user_id, patient_id, take, ctx, policy)
    try:
        patient = await owned_patient(uow, user_id, patient_id)
        if not take.patient_locked:
            await repo.lock_patient(patient_id)
        referral_id = await check_booking_rules(uow, now, user_id, patient, ctx, policy)
        remote = await take_remote_first(uow, now, ctx, patient, policy)
    except SlotTaken:
        # Only the schedule's owner says «taken» here (issue 11: take_remote_first, the
        # time is gone there). Its source closes a *free* slot; this one is ours (booked
        # by the take): closed the same way.
        await repo.block_slot(slot_id)
        raise
    except DomainError:
        await repo.untake_slot(slot_id)
        raise
    # A spent referral shows only after the insert: that rare race undoes the insert
    # alone (a savepoint), then the take, whatever the caller's update does next.
    try:
        async with uow.savepoint() if referral_id is not None else nullcontext():
            appointment = await _insert(uow, now, user_id, patient_id, ctx, referral_id)
    except DomainError:
        await undo_remote(uow, remote)
        await repo.untake_slot(slot_id)
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


async def _not_taken(
    uow: BookingUnitOfWork,
    now: datetime,
    user_id: int,
    patient_id: int,
    take: SlotTake,
    ctx: SlotContext,
    policy: BookingPolicy,
) -> tuple[Appointment, bool]:
    """The take found the slot not free: the patient's own visit there (a repeated
    confirm), «taken» with alternatives, or the rule that refuses it (past, blocked)."""
    repo = uow.appointments
    if take.mine_id is not None:
        await owned_patient(uow, user_id, patient_id)
        mine = await repo.get(take.mine_id)
        if mine is not None and mine.user_id == user_id and mine.status.active:
            await repo.delete_hold(user_id)
            return mine, False
    if ctx.slot.status == SlotStatus.BOOKED and ctx.slot.start > now:
        # The common loss in a rush: on PostgreSQL the alternatives came with the take.
        raise await slot_taken(uow, now, ctx, policy, user_id, take.candidates)
    # Blocked, past, a blocked doctor, or free but on another user's summary (a hold):
    # the rules name the refusal; a hold is «taken» as before.
    patient = await owned_patient(uow, user_id, patient_id)
    await check_booking_rules(uow, now, user_id, patient, ctx, policy)
    raise await slot_taken(uow, now, ctx, policy, user_id)


async def _insert(
    uow: BookingUnitOfWork,
    now: datetime,
    user_id: int,
    patient_id: int,
    ctx: SlotContext,
    referral_id: int | None,
) -> Appointment:
    """The taken slot's appointment row, the referral spent."""
    repo = uow.appointments
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
