"""What every booking service shares: the policy, ownership, the SPEC §2–§3 rules, the journal.

Split out of domain/booking.py (the public façade) so each service module
(booking_take, booking_cancel, booking_move, booking_visit) stays short; the
callers keep using ``from domain import booking``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from domain import rules
from domain.alternatives import alternatives
from domain.booking_ports import BookingUnitOfWork, SlotContext
from domain.errors import DomainError, NotOwner, SlotTaken, SlotUnavailable
from domain.lifecycle import write_journal as write_journal  # re-exported for the services
from domain.models import Appointment, AppointmentStatus, Patient, SlotStatus
from domain.notifications import OutboxItem, booked_item, booking_files_item, reminder_items
from domain.quiet_hours import QuietWindow
from domain.schedule_source import RemoteSlotGone, RemoteTake, take_remote

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


async def owned_patient(uow: BookingUnitOfWork, user_id: int, patient_id: int) -> Patient:
    patient = await uow.appointments.get_patient(patient_id)
    if patient is None or patient.owner_user_id != user_id:
        raise NotOwner(f"patient {patient_id}")
    return patient


async def slot_context(uow: BookingUnitOfWork, slot_id: int) -> SlotContext:
    ctx = await uow.appointments.slot_context(slot_id)
    if ctx is None:
        raise SlotUnavailable("missing")
    return ctx


async def slot_taken(
    uow: BookingUnitOfWork,
    now: datetime,
    ctx: SlotContext,
    policy: BookingPolicy,
    user_id: int | None = None,
    candidates: list[int] | None = None,
) -> SlotTaken:
    """«Это время уже заняли» with three alternatives (one statement, none when their
    ``candidates`` came with the take), spread by the asking account (``user_id``) so
    a rush's losers do not all meet again."""
    found = await alternatives(
        uow,
        now,
        ctx.slot.id,
        ctx=ctx,
        not_before=policy.earliest_offer(now),
        spread=user_id,
        candidates=candidates,
    )
    return SlotTaken(ctx.slot.id, found)


async def take_remote_first(
    uow: BookingUnitOfWork,
    now: datetime,
    ctx: SlotContext,
    patient: Patient,
    policy: BookingPolicy,
) -> RemoteTake | None:
    """Issue 11: a slot of a remote schedule owner is taken there first (None when local,
    or when it is not free here anyway: the caller refuses that without asking the owner)."""
    if ctx.slot.status != SlotStatus.FREE:
        return None
    try:
        return await take_remote(uow, ctx.slot, patient)
    except RemoteSlotGone:
        raise await slot_taken(uow, now, ctx, policy) from None


async def check_booking_rules(
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
    try:
        return await _check_rules(
            uow, now, user_id, patient, ctx, policy, rescheduling=rescheduling, moving_id=moving_id
        )
    except DomainError as error:
        error.about(specialty=ctx.specialty, patient=patient)  # named in the refusal's words
        raise


async def _check_rules(
    uow: BookingUnitOfWork,
    now: datetime,
    user_id: int,
    patient: Patient,
    ctx: SlotContext,
    policy: BookingPolicy,
    *,
    rescheduling: bool,
    moving_id: int | None,
) -> int | None:
    repo = uow.appointments
    rules.check_slot_bookable(ctx.slot.start, ctx.slot.status, now)
    visit_day = local_day(ctx.slot.start, ctx.clinic_tz)
    rules.check_age_sex(patient, ctx.specialty, visit_day)
    if rescheduling:
        rules.check_no_overlap(
            await repo.overlapping(patient.id, ctx.slot.start, ctx.slot.minutes, moving_id)
        )
        return None
    # A booking: the overlap and the two counts below in one statement, read up front
    # (nothing is written between them); the rules are checked in the same order.
    overlap, active, created = await repo.rule_facts(
        patient.id,
        ctx.slot.start,
        ctx.slot.minutes,
        moving_id,
        ctx.specialty.id,
        user_id,
        now,
        now - rules.DAILY_CAP_WINDOW,
    )
    rules.check_no_overlap(overlap)
    if policy.no_show_restriction:
        rules.check_no_show(await repo.no_show_count(user_id), policy.no_show_limit, True)
    referral = None
    if ctx.specialty.referral_required:
        referral = await repo.usable_referral(patient.id, ctx.specialty.id, visit_day)
    used = rules.check_referral(ctx.specialty, patient.id, referral, visit_day)
    if active and policy.one_active_per_specialty:
        existing = await repo.active_for_specialty(patient.id, ctx.specialty.id, now)
        rules.check_one_active(active, True, existing)
    rules.check_daily_cap(created, policy.daily_cap)
    return None if used is None else used.id


async def owner_of(uow: BookingUnitOfWork, appointment: Appointment) -> int | None:
    patient = await uow.appointments.get_patient(appointment.patient_id)
    return None if patient is None else patient.owner_user_id


def check_staff(appointment: Appointment | None, staff_clinic_ids: Iterable[int]) -> Appointment:
    if appointment is None or appointment.clinic_id not in set(staff_clinic_ids):
        raise NotOwner("appointment of another clinic")
    return appointment


def outbox_for_new(
    appointment: Appointment,
    tz: str,
    now: datetime,
    policy: BookingPolicy,
    *,
    confirmation: bool,
    files: bool = False,
) -> list[OutboxItem]:
    """The new visit's outbox rows: the confirmation (when asked), the reminders and,
    with ``files``, its .ics and PDF (``booking_files``: built by the notifier, not in
    the update that books) — one INSERT for all of them."""
    items = [booked_item(appointment, now)] if confirmation else []
    items += reminder_items(
        appointment, list(policy.reminder_offsets_minutes), now, tz=tz, quiet=policy.quiet
    )
    if files:
        items.append(booking_files_item(appointment, now))
    return items


async def get_owned_appointment(
    uow: BookingUnitOfWork, user_id: int, appointment_id: int
) -> Appointment:
    """The appointment if its patient belongs to the user, else NotOwner (stale/forged button)."""
    appointment = await uow.appointments.get(appointment_id)
    if appointment is None or await owner_of(uow, appointment) != user_id:
        raise NotOwner(f"appointment {appointment_id}")
    return appointment
