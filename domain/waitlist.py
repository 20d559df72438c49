"""The wait list (SPEC §5): fair, first-come offers of freed slots, held for a set time.

Design: a slot given back records it (``slots.freed_at``, stamped by the booking
services when a patient cancels or a visit moves), and matching looks only at
such freed slots. ``run`` (the wait-list job, every 60 s on the injected clock)
does three things (the job, bot/waitlist_job.py, commits after each):

1. offers that ran out become passes and the entry is active again;
2. entries whose date range has ended expire;
3. active entries, oldest first, each get the earliest matching slot that was
   freed, is free now, not held by anyone, not in another live offer, never
   offered to this entry before and starts no sooner than the lead time from
   now — held for them (holds, purpose 'waitlist') and announced through the
   outbox (``waitlist_offer``).

Time that was simply never booked is not news and is never offered (it is in
the schedule for anyone to book); a day the clinic called off is 'blocked',
not freed, so it is never offered either.
«Пропустить» (``decline``) passes the slot on at once, in the same transaction.

"Never offered this slot before" is read from the outbox: each offer row has
the idempotency key ``wl:<entry>:offer:<slot>:0`` (unique), so no extra table
is needed and a passed slot is never offered to the same entry again.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from domain import booking, rules
from domain.booking_ports import SlotContext
from domain.errors import DomainError, Duplicate, InvalidTransition, NotOwner
from domain.models import Appointment, Patient
from domain.notifications import waitlist_offer_item

# The vocabulary and pure rules live in domain/waitlist_rules.py; re-exported for callers.
from domain.waitlist_rules import ACTIVE as ACTIVE
from domain.waitlist_rules import BOOKED as BOOKED
from domain.waitlist_rules import DEFAULT_LEAD as DEFAULT_LEAD
from domain.waitlist_rules import EXPIRED as EXPIRED
from domain.waitlist_rules import LEFT as LEFT
from domain.waitlist_rules import LIVE as LIVE
from domain.waitlist_rules import MAX_LIVE_ENTRIES as MAX_LIVE_ENTRIES
from domain.waitlist_rules import OFFERED as OFFERED
from domain.waitlist_rules import RANGE_DAYS as RANGE_DAYS
from domain.waitlist_rules import TIMES_OF_DAY as TIMES_OF_DAY
from domain.waitlist_rules import Candidate as Candidate
from domain.waitlist_rules import NewEntry as NewEntry
from domain.waitlist_rules import RunStats as RunStats
from domain.waitlist_rules import WaitEntry as WaitEntry
from domain.waitlist_rules import WaitListRepository as WaitListRepository
from domain.waitlist_rules import WaitListUnitOfWork as WaitListUnitOfWork
from domain.waitlist_rules import entry_range as entry_range
from domain.waitlist_rules import slot_fits as slot_fits
from domain.waitlist_rules import time_of_day_fits as time_of_day_fits

# --------------------------------------------------------------------------- use cases


async def join(uow: WaitListUnitOfWork, new: NewEntry) -> int:
    """Subscribe the user's own patient; the same patient + specialty twice → Duplicate.
    Returns the entry id."""
    patient = await uow.appointments.get_patient(new.patient_id)
    if patient is None or patient.owner_user_id != new.user_id:
        raise NotOwner(f"patient {new.patient_id}")
    if new.time_of_day not in TIMES_OF_DAY or new.date_to < new.date_from:
        raise InvalidTransition("bad wait-list entry")
    live = await uow.waitlist.live_for_user(new.user_id)
    if any(e.patient_id == new.patient_id and e.specialty_id == new.specialty_id for e in live):
        raise Duplicate("already on the wait list for this specialty")
    if len(live) >= MAX_LIVE_ENTRIES:
        raise Duplicate("too many wait-list entries")
    return await uow.waitlist.add(new)


async def owned_entry(uow: WaitListUnitOfWork, user_id: int, entry_id: int) -> WaitEntry:
    entry = await uow.waitlist.get(entry_id)
    if entry is None or entry.user_id != user_id:
        raise NotOwner(f"wait-list entry {entry_id}")
    return entry


async def leave(uow: WaitListUnitOfWork, user_id: int, entry_id: int) -> None:
    """The patient leaves the list; a live offer's hold is given back."""
    entry = await owned_entry(uow, user_id, entry_id)
    if not await uow.waitlist.set_status(entry.id, LIVE, LEFT):
        raise InvalidTransition(f"entry {entry_id} is {entry.status}")
    if entry.offered_slot_id is not None and entry.status == OFFERED:
        await uow.waitlist.drop_hold(user_id, entry.offered_slot_id)


async def leave_all(uow: WaitListUnitOfWork, user_id: int) -> int:
    """Every live entry of the account is left (the account is being erased); the
    offers' holds go with the account's other holds. Does not commit."""
    left = 0
    for entry in await uow.waitlist.live_for_user(user_id):
        if await uow.waitlist.set_status(entry.id, LIVE, LEFT):
            left += 1
    return left


async def _live_offer(
    uow: WaitListUnitOfWork, now: datetime, user_id: int, entry_id: int, slot_id: int
) -> WaitEntry:
    entry = await owned_entry(uow, user_id, entry_id)
    if (
        entry.status != OFFERED
        or entry.offered_slot_id != slot_id
        or entry.offer_until is None
        or entry.offer_until <= now
    ):
        raise NotOwner(f"offer {entry_id}/{slot_id} is not open")
    return entry


async def decline(
    uow: WaitListUnitOfWork,
    now: datetime,
    user_id: int,
    entry_id: int,
    slot_id: int,
    minutes: int,
    lead: timedelta = DEFAULT_LEAD,
) -> None:
    """«Пропустить»: the entry stays on the list, the slot goes to the next subscriber
    (offered in the same transaction)."""
    entry = await _live_offer(uow, now, user_id, entry_id, slot_id)
    await _pass(uow, entry)
    await match(uow, now, minutes, lead)


async def accept(
    uow: WaitListUnitOfWork,
    now: datetime,
    user_id: int,
    entry_id: int,
    slot_id: int,
    policy: booking.BookingPolicy,
) -> Appointment:
    """«Записаться»: book through the same atomic take (the holder passes the hold check).

    The entry becomes 'booked' in the booking's own transaction. A refusal
    (taken, rules) writes nothing of the booking (domain/booking_take.py), returns
    the entry to the list and re-raises: the handler shows it and its update commits
    the pass (a refusal that escapes the handler rolls the pass back too; the job
    times the offer out later).
    """
    entry = await _live_offer(uow, now, user_id, entry_id, slot_id)
    try:
        appointment = await booking.book(uow, now, user_id, entry.patient_id, slot_id, policy)
    except DomainError:
        await _pass(uow, entry)
        raise
    await uow.waitlist.set_status(entry.id, (OFFERED,), BOOKED)
    return appointment


async def _pass(uow: WaitListUnitOfWork, entry: WaitEntry) -> None:
    """End the entry's offer (skip or timeout): the hold goes, the entry is active again."""
    passed = await uow.waitlist.set_status(entry.id, (OFFERED,), ACTIVE)
    if passed and entry.offered_slot_id is not None:
        await uow.waitlist.drop_hold(entry.user_id, entry.offered_slot_id)


async def time_out_offers(uow: WaitListUnitOfWork, now: datetime) -> int:
    """Offers nobody answered in time become passes; the entries are active again."""
    timed_out = 0
    for entry in await uow.waitlist.offers_due(now):
        await _pass(uow, entry)
        timed_out += 1
    return timed_out


async def expire_ended(uow: WaitListUnitOfWork, now: datetime) -> int:
    """Entries whose date range has ended (in their region's zone) expire."""
    expired = 0
    # Coarse bound in UTC (the earliest zone is ahead of UTC by < 1 day), exact per zone.
    for entry in await uow.waitlist.live_ending_before(now.date() + timedelta(days=1)):
        today = now.astimezone(ZoneInfo(entry.region_tz)).date()
        if entry.status == ACTIVE and entry.date_to is not None and entry.date_to < today:
            await uow.waitlist.set_status(entry.id, (ACTIVE,), EXPIRED)
            expired += 1
    return expired


async def run(
    uow: WaitListUnitOfWork, now: datetime, minutes: int, lead: timedelta = DEFAULT_LEAD
) -> RunStats:
    """The three steps in one transaction (tests, the console); the job
    (bot/waitlist_job.py) runs them one by one and commits after each."""
    stats = RunStats()
    stats.timed_out = await time_out_offers(uow, now)
    stats.expired = await expire_ended(uow, now)
    stats.offered = await match(uow, now, minutes, lead)
    return stats


async def match(
    uow: WaitListUnitOfWork,
    now: datetime,
    minutes: int,
    lead: timedelta = DEFAULT_LEAD,
    limit: int = 500,
) -> int:
    """Offer each active entry (oldest first) its earliest fitting freed slot, none
    starting sooner than ``lead`` from now."""
    offered = 0
    for entry in await uow.waitlist.active_in_order(limit):
        if await _offer_one(uow, now, entry, minutes, lead):
            offered += 1
    return offered


async def _offer_one(
    uow: WaitListUnitOfWork, now: datetime, entry: WaitEntry, minutes: int, lead: timedelta
) -> bool:
    lo = now + lead
    if entry.date_from is not None:
        lo = max(lo, datetime.combine(entry.date_from, time(0), ZoneInfo(entry.region_tz)))
    hi = now + timedelta(days=60)
    if entry.date_to is not None:
        hi = datetime.combine(entry.date_to + timedelta(days=2), time(0), ZoneInfo("UTC"))
    if hi <= lo:
        return False
    seen = await uow.waitlist.offered_before(entry.id)
    patient = await uow.appointments.get_patient(entry.patient_id)
    if patient is None:
        return False
    for cand in await uow.waitlist.candidates(entry, lo, hi, now, limit=50):
        if cand.slot_id in seen or not slot_fits(entry, cand.start, cand.clinic_tz):
            continue
        ctx = await uow.appointments.slot_context(cand.slot_id)
        if ctx is None or not await _allowed(uow, now, patient, ctx):
            return False  # rules depend on the patient, not on which slot: skip this entry
        if await uow.appointments.overlapping(patient.id, cand.start, ctx.slot.minutes, None):
            continue  # the patient is elsewhere at that time: a later slot may fit
        # Never held past the visit's start: a time later today is offered until it begins.
        until = min(now + timedelta(minutes=minutes), cand.start)
        if not await uow.waitlist.hold_for(
            entry.user_id, entry.patient_id, cand.slot_id, until, now
        ):
            return False  # the user is in the middle of a booking: next run
        await uow.waitlist.set_offer(entry.id, cand.slot_id, until)
        await uow.outbox.add([waitlist_offer_item(entry.id, entry.user_id, cand.slot_id, now)], now)
        return True
    return False


async def _allowed(
    uow: WaitListUnitOfWork, now: datetime, patient: Patient, ctx: SlotContext
) -> bool:
    """Age/sex, referral and one-active rules: a subscriber they refuse is skipped."""
    day = booking.local_day(ctx.slot.start, ctx.clinic_tz)
    try:
        rules.check_age_sex(patient, ctx.specialty, day)
        referral = None
        if ctx.specialty.referral_required:
            referral = await uow.appointments.usable_referral(patient.id, ctx.specialty.id, day)
        rules.check_referral(ctx.specialty, patient.id, referral, day)
        active = await uow.appointments.count_active_for_specialty(
            patient.id, ctx.specialty.id, now
        )
        rules.check_one_active(active, True)
    except DomainError:
        return False
    return True
