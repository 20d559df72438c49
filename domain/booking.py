"""Booking use cases: hold, book, cancel, reschedule, list, confirm attendance, mark a visit.

Every mutating service checks ownership first, then the rules, then changes
rows in ONE transaction of the given unit of work and commits it itself
(``await uow.commit()``) before returning, so a handler only answers after the
change is durable. A refusal raises a domain error (domain/errors.py) and
commits nothing; the caller's unit of work rolls back on exit.

The slot is the unit of contention: it is taken by one conditional UPDATE
(``status='free'`` → ``'booked'``, rowcount 1) and released by the reverse,
so two patients can never hold one slot on SQLite or PostgreSQL, and the
partial unique index on active appointments is the last line of defence.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from domain import rules
from domain.booking_ports import BookingUnitOfWork, Hold, NewAppointment, SlotContext
from domain.errors import (
    CancelWindowClosed,
    InvalidTransition,
    NotFound,
    NotOwner,
    ReferralRequired,
    SlotTaken,
    SlotUnavailable,
)
from domain.models import Appointment, AppointmentStatus, JournalEntry, Patient
from domain.notifications import (
    OutboxItem,
    booked_item,
    clinic_cancelled_item,
    clinic_moved_item,
    reminder_items,
)
from domain.quiet_hours import QuietWindow
from domain.schedule_source import (
    RemoteRefused,
    RemoteSlotGone,
    RemoteTake,
    cancel_remote,
    take_remote,
    undo_remote,
)

__all__ = [
    "BookingPolicy",
    "Hold",
    "alternatives",
    "block_doctor_time",
    "book",
    "book_once",
    "cancel",
    "cancel_by_clinic",
    "confirm_attendance",
    "get_owned_appointment",
    "hold_slot",
    "list_appointments",
    "mark_visit",
    "release_hold",
    "reschedule",
]

ACTIVE = (AppointmentStatus.PENDING, AppointmentStatus.CONFIRMED)


@dataclass(frozen=True, slots=True)
class BookingPolicy:
    """Settings values the services need, passed in (domain never reads settings).

    Build from bot.settings: ``BookingPolicy(hold_minutes=s.limits.hold_minutes,
    daily_cap=s.limits.daily_booking_cap, one_active_per_specialty=
    s.limits.one_active_per_specialty, reminder_offsets_minutes=
    tuple(s.reminder_offsets_minutes))``.
    """

    hold_minutes: int = 5
    daily_cap: int = 6
    one_active_per_specialty: bool = True
    reminder_offsets_minutes: tuple[int, ...] = field(default=(24 * 60, 120))
    # Reminders falling in these local hours of the clinic go out before them.
    quiet: QuietWindow | None = None
    # Missed-visit rule (SPEC §5): shown always, enforced only when switched on.
    no_show_limit: int = 3
    no_show_restriction: bool = False
    # Alternatives («Это время уже заняли», a clinic's cancel) and wait-list offers never
    # start sooner than this from now: nobody can reach a clinic in ten minutes.
    offer_lead_minutes: int = 120

    def earliest_offer(self, now: datetime) -> datetime:
        return now + timedelta(minutes=self.offer_lead_minutes)


def local_day(moment: datetime, tz: str) -> date:
    return moment.astimezone(ZoneInfo(tz)).date()


# --------------------------------------------------------------------------- helpers


async def _owned_patient(uow: BookingUnitOfWork, user_id: int, patient_id: int) -> Patient:
    patient = await uow.appointments.get_patient(patient_id)
    if patient is None or patient.owner_user_id != user_id:
        raise NotOwner(f"patient {patient_id}")
    return patient


async def _slot_context(uow: BookingUnitOfWork, slot_id: int) -> SlotContext:
    ctx = await uow.appointments.slot_context(slot_id)
    if ctx is None:
        raise SlotUnavailable("missing")
    return ctx


async def alternatives(
    uow: BookingUnitOfWork,
    now: datetime,
    slot_id: int,
    n: int = 3,
    *,
    ctx: SlotContext | None = None,
    not_before: datetime | None = None,
) -> tuple[int, ...]:
    """The ``n`` free slots nearest in time to ``slot_id``: same doctor first,
    then the same specialty in the region. Slots held by anyone are skipped, and
    none starts before ``not_before`` (the policy's lead time from now)."""
    if ctx is None:
        ctx = await uow.appointments.slot_context(slot_id)
    if ctx is None:
        return ()
    slot = ctx.slot
    repo = uow.appointments
    found = await repo.nearest_free(
        around=slot.start,
        now=now,
        exclude={slot_id},
        limit=n,
        doctor_id=slot.doctor_id,
        not_before=not_before,
    )
    if len(found) < n:
        found += await repo.nearest_free(
            around=slot.start,
            now=now,
            exclude={slot_id, *found},
            limit=n - len(found),
            specialty_id=slot.specialty_id,
            region_id=slot.region_id,
            not_before=not_before,
        )
    return tuple(found)


async def _taken(
    uow: BookingUnitOfWork, now: datetime, ctx: SlotContext, policy: BookingPolicy
) -> SlotTaken:
    found = await alternatives(
        uow, now, ctx.slot.id, ctx=ctx, not_before=policy.earliest_offer(now)
    )
    return SlotTaken(ctx.slot.id, found)


async def _take_remote(
    uow: BookingUnitOfWork,
    now: datetime,
    ctx: SlotContext,
    patient: Patient,
    policy: BookingPolicy,
) -> RemoteTake | None:
    """Issue 11: a slot of a remote schedule owner is taken there first (None when local,
    or when it is not free here anyway: the caller refuses that without asking the owner)."""
    if ctx.slot.status != "free":
        return None
    try:
        return await take_remote(uow, ctx.slot, patient)
    except RemoteSlotGone:
        raise await _taken(uow, now, ctx, policy) from None


async def _check_booking_rules(
    uow: BookingUnitOfWork,
    now: datetime,
    user_id: int,
    patient: Patient,
    ctx: SlotContext,
    policy: BookingPolicy,
    *,
    rescheduling: bool = False,
    moving_id: int | None = None,
) -> int | None:
    """All rules of SPEC §2–§3 for booking ``ctx.slot`` for ``patient``; returns the
    referral id to spend (None when the specialty is open for self-booking).

    A move (``rescheduling``) keeps the old appointment's referral, does not
    count against one-active-per-specialty nor the daily cap; the visit being
    moved (``moving_id``) does not count as an overlap. The overlap rule is
    race-free only after ``repo.lock_patient`` in the same transaction.
    """
    repo = uow.appointments
    rules.check_slot_bookable(ctx.slot.start, ctx.slot.status, now)
    visit_day = local_day(ctx.slot.start, ctx.clinic_tz)
    rules.check_age_sex(patient, ctx.specialty, visit_day)
    rules.check_no_overlap(
        await repo.overlapping(patient.id, ctx.slot.start, ctx.slot.minutes, moving_id)
    )
    if rescheduling:
        return None
    if policy.no_show_restriction:
        rules.check_no_show(await repo.no_show_count(user_id), policy.no_show_limit, True)
    referral = None
    if ctx.specialty.referral_required:
        referral = await repo.usable_referral(patient.id, ctx.specialty.id, visit_day)
    used = rules.check_referral(ctx.specialty, patient.id, referral, visit_day)
    active, created = await repo.rule_counts(
        patient.id, ctx.specialty.id, user_id, now, now - rules.DAILY_CAP_WINDOW
    )
    if active and policy.one_active_per_specialty:
        existing = await repo.active_for_specialty(patient.id, ctx.specialty.id, now)
        rules.check_one_active(active, True, existing)
    rules.check_daily_cap(created, policy.daily_cap)
    return None if used is None else used.id


async def _journal(
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


async def _owner_of(uow: BookingUnitOfWork, appointment: Appointment) -> int | None:
    patient = await uow.appointments.get_patient(appointment.patient_id)
    return None if patient is None else patient.owner_user_id


# --------------------------------------------------------------------------- hold & book


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
    Commits.
    """
    patient = await _owned_patient(uow, user_id, patient_id)
    ctx = await _slot_context(uow, slot_id)
    if ctx.slot.status == "booked" and ctx.slot.start > now:
        raise await _taken(uow, now, ctx, policy)
    await _check_booking_rules(
        uow,
        now,
        user_id,
        patient,
        ctx,
        policy,
        rescheduling=rescheduling,
    )
    if ctx.slot.status != "free":
        raise await _taken(uow, now, ctx, policy)
    expires = now + timedelta(minutes=policy.hold_minutes)
    if not await uow.appointments.put_hold(user_id, patient_id, slot_id, expires, now):
        raise await _taken(uow, now, ctx, policy)
    await uow.commit()
    return Hold(user_id=user_id, slot_id=slot_id, patient_id=patient_id, expires_at=expires)


async def release_hold(uow: BookingUnitOfWork, user_id: int) -> None:
    """The user left the summary («Назад»): give the slot back to others now. Commits."""
    await uow.appointments.delete_hold(user_id)
    await uow.commit()


def _outbox_for_new(
    appointment: Appointment,
    tz: str,
    now: datetime,
    policy: BookingPolicy,
    *,
    confirmation: bool,
) -> list[OutboxItem]:
    items = [booked_item(appointment, now)] if confirmation else []
    items += reminder_items(
        appointment, list(policy.reminder_offsets_minutes), now, tz=tz, quiet=policy.quiet
    )
    return items


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
    reminders at the policy offsets) are written, the user's hold is dropped;
    then COMMIT. Raises NotOwner, SlotUnavailable, AgeSexRestricted, VisitOverlaps,
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
) -> tuple[Appointment, bool]:
    """``book`` that is idempotent per (patient, slot): a repeated confirm of a slot
    the same account already booked for the same patient (a double tap, a retried
    update) returns that appointment and ``False`` instead of «taken» or a second
    appointment; ``True`` when this call created it.

    The patient row is locked first (``lock_patient``; SQLite's writers are serial
    anyway), so concurrent bookings of one patient run one after another and the
    second sees the first: the same slot → its appointment, an overlapping one →
    VisitOverlaps.
    """
    repo = uow.appointments
    patient = await _owned_patient(uow, user_id, patient_id)
    await repo.lock_patient(patient_id)
    mine = await repo.active_on_slot(patient_id, slot_id)
    if mine is not None and mine.user_id == user_id:
        await repo.delete_hold(user_id)
        await uow.commit()
        return mine, False
    ctx = await _slot_context(uow, slot_id)
    if ctx.slot.status == "booked" and ctx.slot.start > now:
        raise await _taken(uow, now, ctx, policy)  # the common loss in a rush: answer it cheaply
    referral_id = await _check_booking_rules(uow, now, user_id, patient, ctx, policy)
    remote = await _take_remote(uow, now, ctx, patient, policy)
    if ctx.slot.status != "free" or not await repo.take_slot(slot_id, user_id, now):
        await undo_remote(uow, remote)
        raise await _taken(uow, now, ctx, policy)
    appointment = await repo.insert(
        NewAppointment(
            patient_id=patient_id,
            user_id=user_id,
            slot=ctx.slot,
            status=AppointmentStatus.PENDING,
            referral_id=referral_id,
            created_at=now,
        )
    )
    await repo.add_event(
        appointment.id,
        at=now,
        status=AppointmentStatus.PENDING,
        actor="patient",
        actor_user_id=user_id,
    )
    if referral_id is not None and not await repo.mark_referral_used(referral_id, appointment.id):
        # Spent by a concurrent booking between our read and now: refuse cleanly, and
        # undo the take and the insert now (the update's unit of work commits later).
        await uow.rollback()
        await undo_remote(uow, remote)
        raise ReferralRequired(ctx.specialty.code)
    await uow.outbox.add(
        _outbox_for_new(appointment, ctx.clinic_tz, now, policy, confirmation=True), now
    )
    await _journal(uow, now, user_id, "appointment.booked", appointment, patient_id=patient_id)
    await repo.delete_hold(user_id)
    await uow.commit()
    return appointment, True


# --------------------------------------------------------------------------- read side


async def get_owned_appointment(
    uow: BookingUnitOfWork, user_id: int, appointment_id: int
) -> Appointment:
    """The appointment if its patient belongs to the user, else NotOwner (stale/forged button)."""
    appointment = await uow.appointments.get(appointment_id)
    if appointment is None or await _owner_of(uow, appointment) != user_id:
        raise NotOwner(f"appointment {appointment_id}")
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


# --------------------------------------------------------------------------- cancel


async def _cancel(
    uow: BookingUnitOfWork,
    now: datetime,
    appointment: Appointment,
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
    if not await repo.set_status(
        appointment.id,
        expected=ACTIVE,
        status=AppointmentStatus.CANCELLED,
        now=now,
        cancelled_by=cancelled_by,
        reason=reason,
    ):
        raise InvalidTransition(f"appointment {appointment.id} is no longer active")
    if block_slot:
        await repo.block_slot(appointment.slot_id)
    else:
        await repo.release_slot(appointment.slot_id, now)
    await uow.outbox.cancel_for_appointment(appointment.id)
    await repo.add_event(
        appointment.id,
        at=now,
        status=AppointmentStatus.CANCELLED,
        actor=actor,
        actor_user_id=actor_user_id,
        reason=reason,
    )
    await _journal(uow, now, journal_user_id, "appointment.cancelled", appointment, by=cancelled_by)
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

    The slot returns to 'free' at once, pending reminders are cancelled, the
    status event and the journal are written; commits. Use
    ``rules.cancel_kind(start, now)`` beforehand to decide which prompt to show.
    """
    appointment = await get_owned_appointment(uow, user_id, appointment_id)
    if not appointment.status.active:
        raise InvalidTransition(f"appointment {appointment_id} is {appointment.status}")
    rules.check_cancel(appointment.start, now, confirmed_twice=confirmed_twice)
    result = await _cancel(
        uow,
        now,
        appointment,
        journal_user_id=user_id,
        actor="patient",
        actor_user_id=user_id,
        reason=reason,
    )
    await uow.commit()
    return result


def _check_staff(appointment: Appointment | None, staff_clinic_ids: Iterable[int]) -> Appointment:
    if appointment is None or appointment.clinic_id not in set(staff_clinic_ids):
        raise NotOwner("appointment of another clinic")
    return appointment


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
    from the appointment and offers ``alternatives()`` at send time). Commits.
    """
    appointment = _check_staff(await uow.appointments.get(appointment_id), staff_clinic_ids)
    if not appointment.status.active:
        raise InvalidTransition(f"appointment {appointment_id} is {appointment.status}")
    if appointment.start <= now:
        raise CancelWindowClosed()
    owner = await _owner_of(uow, appointment)
    result = await _cancel(
        uow,
        now,
        appointment,
        journal_user_id=owner,
        actor="staff",
        actor_user_id=staff_user_id,
        reason=reason,
        block_slot=block_slot,
    )
    if notify:
        await uow.outbox.add([clinic_cancelled_item(appointment, now)], now)
    await uow.commit()
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
    the wait list. Returns how many were closed. Commits."""
    repo = uow.appointments
    closed = await repo.block_free_between(doctor_id, tuple(staff_clinic_ids), lo, hi)
    await uow.commit()
    return closed


# --------------------------------------------------------------------------- reschedule


async def _reschedule(
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
    ctx = await _slot_context(uow, new_slot_id)
    if ctx.slot.specialty_id != old.specialty_id:
        raise SlotUnavailable("other_specialty")
    if new_slot_id == old.slot_id:
        raise SlotUnavailable("same_slot")
    await repo.lock_patient(patient.id)
    await _check_booking_rules(
        uow, now, actor_user_id, patient, ctx, policy, rescheduling=True, moving_id=old.id
    )
    # 1. Take the new slot first: if it is gone, nothing has changed.
    remote = await _take_remote(uow, now, ctx, patient, policy)
    if ctx.slot.status != "free" or not await repo.take_slot(new_slot_id, actor_user_id, now):
        await undo_remote(uow, remote)
        raise await _taken(uow, now, ctx, policy)
    new = await repo.insert(
        NewAppointment(
            patient_id=old.patient_id,
            user_id=old.user_id,
            slot=ctx.slot,
            status=AppointmentStatus.PENDING,
            referral_id=old.referral_id,
            created_at=now,
            calendar_uid=old.calendar_uid,
            calendar_seq=old.calendar_seq + 1,
        )
    )
    # 2. Retire the old one conditionally: a concurrent cancel/reschedule that
    #    committed first makes this 0 rows, and the whole move rolls back.
    if not await repo.set_status(
        old.id,
        expected=ACTIVE,
        status=AppointmentStatus.RESCHEDULED,
        now=now,
        reason=reason,
        rescheduled_to=new.id,
    ):
        await uow.rollback()  # the new slot and appointment must not survive the refusal
        await undo_remote(uow, remote)
        raise InvalidTransition(f"appointment {old.id} is no longer active")
    # 3. Only now the old slot goes back to the schedule (to its owner, issue 11, and to the wait list).
    try:
        await cancel_remote(uow, old)
    except RemoteRefused:
        await uow.rollback()  # the old visit stays where it was, at the owner and here
        await undo_remote(uow, remote)
        raise
    await repo.release_slot(old.slot_id, now)
    await uow.outbox.cancel_for_appointment(old.id)
    await uow.outbox.add(_outbox_for_new(new, ctx.clinic_tz, now, policy, confirmation=False), now)
    await repo.add_event(
        old.id,
        at=now,
        status=AppointmentStatus.RESCHEDULED,
        actor=actor,
        actor_user_id=actor_user_id,
        reason=reason,
    )
    await repo.add_event(
        new.id,
        at=now,
        status=AppointmentStatus.PENDING,
        actor=actor,
        actor_user_id=actor_user_id,
        reason=f"rescheduled_from:{old.id}",
    )
    await _journal(
        uow,
        now,
        journal_user_id,
        "appointment.rescheduled",
        new,
        from_appointment=old.id,
        from_number=old.number,
        from_start=old.start.isoformat(),
        by=actor,
    )
    await repo.delete_hold(actor_user_id)
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
    Returns the NEW appointment; commits.
    """
    old = await get_owned_appointment(uow, user_id, appointment_id)
    if not old.status.active:
        raise InvalidTransition(f"appointment {appointment_id} is {old.status}")
    if old.start <= now:
        raise CancelWindowClosed()
    new = await _reschedule(
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
    await uow.commit()
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
    the new appointment. Commits."""
    old = _check_staff(await uow.appointments.get(appointment_id), staff_clinic_ids)
    if not old.status.active:
        raise InvalidTransition(f"appointment {appointment_id} is {old.status}")
    target = await _slot_context(uow, new_slot_id)
    if target.slot.clinic_id != old.clinic_id:
        # A registrar moves a visit within their own clinic: another clinic's time
        # (a doctor who works in two) is neither theirs to take nor the patient's address.
        raise NotOwner(f"slot {new_slot_id} is in another clinic")
    owner = await _owner_of(uow, old)
    new = await _reschedule(
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
    await uow.commit()
    return new


async def cancel_all_for_account(
    uow: BookingUnitOfWork, now: datetime, user_id: int, reason: str
) -> int:
    """Cancel every appointment of the account that has not started (before its data are
    erased), so the time goes back to the schedule and the wait list. Does not commit:
    the erasure that follows is the same transaction."""
    cancelled = 0
    for appointment in await uow.appointments.list_for_owner(user_id, now):
        if appointment.status.active and appointment.start > now:
            await _cancel(
                uow,
                now,
                appointment,
                journal_user_id=user_id,
                actor="patient",
                actor_user_id=user_id,
                reason=reason,
            )
            cancelled += 1
    return cancelled


# --------------------------------------------------------------------------- attendance


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
    await _journal(uow, now, user_id, "appointment.confirmed", appointment)
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
    appointment = _check_staff(await uow.appointments.get(appointment_id), staff_clinic_ids)
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
    await _journal(
        uow, now, await _owner_of(uow, appointment), f"appointment.{status.value}", appointment
    )
    await uow.commit()
    updated = await repo.get(appointment_id)
    assert updated is not None
    return updated
