"""Booking services against a real SQLite database (no fakes): rules, holds,
ownership, outbox and journal rows, cancel windows, reschedule, attendance."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import date, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from domain import booking, rules
from domain.errors import (
    AgeSexRestricted,
    AlreadyBooked,
    CancelWindowClosed,
    ConfirmationRequired,
    DailyCapReached,
    InvalidTransition,
    NotOwner,
    ReferralRequired,
    SlotTaken,
    SlotUnavailable,
    VisitOverlaps,
)
from domain.models import AppointmentStatus
from storage.crypto import PersonalDataCipher
from storage.schema import doctor_roles, journal, outbox, referrals, users
from storage.schema import slots as slots_t
from storage.uow import UnitOfWorkFactory
from tests.storage.builders import (
    CARDIOLOGIST,
    GYNAECOLOGIST,
    NOW,
    PAEDIATRICIAN,
    THERAPIST,
    World,
)
from tests.storage.invariants import assert_invariants
from tests.update_scope import as_update

POLICY = booking.BookingPolicy(hold_minutes=5, daily_cap=3)


@pytest.fixture
async def world(sqlite_engine: AsyncEngine) -> AsyncIterator[World]:
    yield await World.build(sqlite_engine, n_slots=12, n_users=3)
    await assert_invariants(sqlite_engine)


@pytest.fixture
def uows(sqlite_engine: AsyncEngine, cipher: PersonalDataCipher) -> UnitOfWorkFactory:
    return as_update(UnitOfWorkFactory(sqlite_engine, cipher))  # type: ignore[return-value]


async def rows(engine: AsyncEngine, table, *where) -> list:  # type: ignore[no-untyped-def]
    async with engine.connect() as conn:
        found = list(await conn.execute(select(table).where(*where)))
        await conn.rollback()
    return found


async def test_book_writes_everything_in_one_go(
    world: World, uows: UnitOfWorkFactory, sqlite_engine: AsyncEngine
) -> None:
    user = world.user_ids[0]
    async with uows() as uow:
        appt = await booking.book(uow, NOW, user, world.patient_of(user), world.slots()[0], POLICY)
    assert appt.number == f"A-{appt.id:07d}"
    assert appt.status is AppointmentStatus.PENDING
    keys = {r.idem_key for r in await rows(sqlite_engine, outbox)}
    assert keys == {
        f"appt:{appt.id}:booked",
        f"appt:{appt.id}:reminder:1440",
        f"appt:{appt.id}:reminder:120",
    }
    entries = await rows(sqlite_engine, journal)
    assert [(e.user_id, e.action, e.appointment_id) for e in entries] == [
        (user, "appointment.booked", appt.id)
    ]
    async with uows() as uow:
        assert [a.id for a in await booking.list_appointments(uow, user, NOW)] == [appt.id]
        assert [e["status"] for e in await uow.appointments.events(appt.id)] == ["pending"]


async def test_hold_blocks_others_until_it_expires(world: World, uows: UnitOfWorkFactory) -> None:
    a, b = world.user_ids[:2]
    slot = world.slots()[3]
    async with uows() as uow:
        hold = await booking.hold_slot(uow, NOW, a, world.patient_of(a), slot, POLICY)
    assert hold.expires_at == NOW + timedelta(minutes=5)
    for call in (booking.hold_slot, booking.book):
        async with uows() as uow:
            with pytest.raises(SlotTaken) as taken:
                await call(uow, NOW, b, world.patient_of(b), slot, POLICY)
        assert taken.value.slot_id == slot
        assert len(taken.value.alternatives) == 3 and slot not in taken.value.alternatives
    later = NOW + timedelta(minutes=6)  # a's hold has expired: the slot is free again
    async with uows() as uow:
        await booking.hold_slot(uow, later, b, world.patient_of(b), slot, POLICY)
    async with uows() as uow:  # the holder itself may book through its own hold
        appt = await booking.book(uow, later, b, world.patient_of(b), slot, POLICY)
        assert await uow.appointments.get_hold(b, later) is None
    assert appt.slot_id == slot


async def test_one_hold_per_user_and_release(world: World, uows: UnitOfWorkFactory) -> None:
    a, b = world.user_ids[:2]
    s1, s2 = world.slots()[:2]
    async with uows() as uow:
        await booking.hold_slot(uow, NOW, a, world.patient_of(a), s1, POLICY)
        await booking.hold_slot(uow, NOW, a, world.patient_of(a), s2, POLICY)
        hold = await uow.appointments.get_hold(a, NOW)
        assert hold is not None and hold.slot_id == s2
    async with uows() as uow:  # s1 was released by the replacement
        await booking.hold_slot(uow, NOW, b, world.patient_of(b), s1, POLICY)
        await booking.release_hold(uow, b)
    async with uows() as uow:
        await booking.book(uow, NOW, a, world.patient_of(a), s1, POLICY)


async def test_ownership(world: World, uows: UnitOfWorkFactory, sqlite_engine: AsyncEngine) -> None:
    a, b = world.user_ids[:2]
    async with uows() as uow:
        with pytest.raises(NotOwner):
            await booking.book(uow, NOW, a, world.patient_of(b), world.slots()[0], POLICY)
        with pytest.raises(NotOwner):
            await booking.hold_slot(uow, NOW, a, 999, world.slots()[0], POLICY)
    async with uows() as uow:
        appt = await booking.book(uow, NOW, b, world.patient_of(b), world.slots()[0], POLICY)
    async with uows() as uow:
        for forged in (
            booking.get_owned_appointment(uow, a, appt.id),
            booking.cancel(uow, NOW, a, appt.id, confirmed_twice=True),
            booking.reschedule(uow, NOW, a, appt.id, world.slots()[1], POLICY),
            booking.confirm_attendance(uow, NOW, a, appt.id),
            booking.get_owned_appointment(uow, a, 424242),
        ):
            with pytest.raises(NotOwner):
                await forged
        assert await booking.list_appointments(uow, a, NOW) == []
    # a relative is a patient of the same owner: bookable, listed for the owner
    child = await world.add_relative(sqlite_engine, a, 500, birth_date=date(2018, 3, 1))
    async with uows() as uow:
        kid = await booking.book(uow, NOW, a, child, world.slots(PAEDIATRICIAN)[0], POLICY)
        assert [x.id for x in await booking.list_appointments(uow, a, NOW)] == [kid.id]


async def test_rules_refuse(
    world: World, uows: UnitOfWorkFactory, sqlite_engine: AsyncEngine
) -> None:
    a = world.user_ids[0]
    p = world.patient_of(a)
    async with uows() as uow:
        with pytest.raises(AgeSexRestricted):
            await booking.book(uow, NOW, a, p, world.slots(PAEDIATRICIAN)[0], POLICY)
        with pytest.raises(AgeSexRestricted):
            await booking.hold_slot(uow, NOW, a, p, world.slots(GYNAECOLOGIST)[0], POLICY)
        with pytest.raises(ReferralRequired):
            await booking.book(uow, NOW, a, p, world.slots(CARDIOLOGIST)[0], POLICY)
        with pytest.raises(SlotUnavailable):  # in the past
            await booking.book(uow, NOW + timedelta(days=5), a, p, world.slots()[0], POLICY)
        with pytest.raises(SlotUnavailable):
            await booking.book(uow, NOW, a, p, 99999, POLICY)
    async with uows() as uow:
        await booking.book(uow, NOW, a, p, world.slots()[0], POLICY)
    async with uows() as uow:
        with pytest.raises(AlreadyBooked):
            await booking.book(uow, NOW, a, p, world.slots()[1], POLICY)
    relaxed = booking.BookingPolicy(daily_cap=3, one_active_per_specialty=False)
    async with uows() as uow:
        await booking.book(uow, NOW, a, p, world.slots()[1], relaxed)
        await booking.book(uow, NOW, a, p, world.slots()[2], relaxed)
    async with uows() as uow:
        with pytest.raises(DailyCapReached):
            await booking.book(uow, NOW, a, p, world.slots()[3], relaxed)
    async with uows() as uow:  # a rolling 24 h: tomorrow the cap is free again
        await booking.book(uow, NOW + timedelta(hours=24), a, p, world.slots()[4], relaxed)


async def test_referral_is_spent(
    world: World, uows: UnitOfWorkFactory, sqlite_engine: AsyncEngine
) -> None:
    a, b = world.user_ids[:2]
    slots = world.slots(CARDIOLOGIST)
    visit_day = date(2026, 12, 3)  # slots start two days after NOW (Moscow date)
    await world.add_referral(
        sqlite_engine, world.patient_of(a), CARDIOLOGIST, visit_day - timedelta(days=1), "R-old"
    )
    ref = await world.add_referral(
        sqlite_engine, world.patient_of(a), CARDIOLOGIST, visit_day, "R-ok"
    )
    async with uows() as uow:
        appt = await booking.book(uow, NOW, a, world.patient_of(a), slots[0], POLICY)
        with pytest.raises(ReferralRequired):  # b has none; a's is not b's
            await booking.book(uow, NOW, b, world.patient_of(b), slots[1], POLICY)
    assert appt.referral_id == ref
    used = await rows(sqlite_engine, referrals, referrals.c.id == ref)
    assert used[0].used_appointment_id == appt.id
    async with uows() as uow:  # the move keeps the referral; no second one needed
        moved = await booking.reschedule(uow, NOW, a, appt.id, slots[2], POLICY)
    assert moved.referral_id == ref


async def test_cancel_windows_and_outbox(
    world: World, uows: UnitOfWorkFactory, sqlite_engine: AsyncEngine
) -> None:
    a = world.user_ids[0]
    slot = world.slots()[0]  # starts at NOW + 48 h
    async with uows() as uow:
        appt = await booking.book(uow, NOW, a, world.patient_of(a), slot, POLICY)
    late = appt.start - timedelta(hours=3)
    async with uows() as uow:
        with pytest.raises(ConfirmationRequired):
            await booking.cancel(uow, late, a, appt.id, confirmed_twice=False)
        with pytest.raises(CancelWindowClosed):
            await booking.cancel(uow, appt.start, a, appt.id, confirmed_twice=True)
    async with uows() as uow:
        done = await booking.cancel(uow, late, a, appt.id, confirmed_twice=True, reason="ill")
    assert done.status is AppointmentStatus.CANCELLED and done.cancelled_by == "patient"
    assert {r.state for r in await rows(sqlite_engine, outbox)} == {"cancelled"}
    async with uows() as uow:
        with pytest.raises(InvalidTransition):
            await booking.cancel(uow, late, a, appt.id, confirmed_twice=True)
        # the slot is back at once: someone else books it
        b = world.user_ids[1]
        await booking.book(uow, late, b, world.patient_of(b), slot, POLICY)


async def test_reschedule_moves_reminders(
    world: World, uows: UnitOfWorkFactory, sqlite_engine: AsyncEngine
) -> None:
    a, b = world.user_ids[:2]
    s = world.slots()
    async with uows() as uow:
        old = await booking.book(uow, NOW, a, world.patient_of(a), s[0], POLICY)
        await booking.book(uow, NOW, b, world.patient_of(b), s[1], POLICY)
    async with uows() as uow:
        with pytest.raises(SlotTaken):
            await booking.reschedule(uow, NOW, a, old.id, s[1], POLICY)
        with pytest.raises(SlotUnavailable):  # another specialty and doctor
            await booking.reschedule(uow, NOW, a, old.id, world.slots(GYNAECOLOGIST)[0], POLICY)
    async with uows() as uow:  # a rescheduling hold skips the one-active rule
        await booking.hold_slot(uow, NOW, a, world.patient_of(a), s[5], POLICY, rescheduling=True)
        new = await booking.reschedule(uow, NOW, a, old.id, s[5], POLICY)
        again = await uow.appointments.get(old.id)
    assert again is not None and again.status is AppointmentStatus.RESCHEDULED
    assert again.rescheduled_to == new.id
    states = {r.idem_key: r.state for r in await rows(sqlite_engine, outbox)}
    assert states[f"appt:{old.id}:reminder:1440"] == "cancelled"
    assert states[f"appt:{new.id}:reminder:1440"] == "pending"
    actions = [e.action for e in await rows(sqlite_engine, journal, journal.c.user_id == a)]
    assert actions == ["appointment.booked", "appointment.rescheduled"]


async def test_attendance_and_visit_marks(
    world: World, uows: UnitOfWorkFactory, sqlite_engine: AsyncEngine
) -> None:
    a = world.user_ids[0]
    async with uows() as uow:
        appt = await booking.book(uow, NOW, a, world.patient_of(a), world.slots()[0], POLICY)
    async with uows() as uow:
        confirmed = await booking.confirm_attendance(uow, NOW, a, appt.id)
        assert confirmed.status is AppointmentStatus.CONFIRMED
        assert (await booking.confirm_attendance(uow, NOW, a, appt.id)).status is confirmed.status
    after = appt.start + timedelta(minutes=30)
    async with uows() as uow:
        with pytest.raises(NotOwner):  # staff of another clinic
            await booking.mark_visit(uow, after, 9001, [2], appt.id, AppointmentStatus.NO_SHOW)
        with pytest.raises(InvalidTransition):  # not started yet
            await booking.mark_visit(uow, NOW, 9001, [1], appt.id, AppointmentStatus.NO_SHOW)
    async with uows() as uow:
        marked = await booking.mark_visit(uow, after, 9001, [1], appt.id, AppointmentStatus.NO_SHOW)
    assert marked.status is AppointmentStatus.NO_SHOW
    user_row = (await rows(sqlite_engine, users, users.c.id == a))[0]
    assert user_row.no_show_count == 1
    async with uows() as uow:
        assert await booking.list_appointments(uow, a, after) == []
        assert [
            x.id for x in await booking.list_appointments(uow, a, after, include_past=True)
        ] == [appt.id]


async def test_clinic_cancel_notifies(
    world: World, uows: UnitOfWorkFactory, sqlite_engine: AsyncEngine
) -> None:
    a = world.user_ids[0]
    async with uows() as uow:
        appt = await booking.book(uow, NOW, a, world.patient_of(a), world.slots()[0], POLICY)
    later = appt.start - timedelta(hours=1)  # no 24 h rule for the clinic
    async with uows() as uow:
        done = await booking.cancel_by_clinic(uow, later, 9001, [1], appt.id, "doctor ill")
        assert done.cancelled_by == "clinic" and done.cancel_reason == "doctor ill"
        alts = await booking.alternatives(uow, later, appt.slot_id)
        assert appt.slot_id not in alts and len(alts) == 3
    urgent = [r for r in await rows(sqlite_engine, outbox) if r.urgent]
    assert [(r.kind, json.loads(r.payload)["appointment_id"]) for r in urgent] == [
        ("clinic_cancelled", appt.id)
    ]
    entries = await rows(sqlite_engine, journal, journal.c.action == "appointment.cancelled")
    assert entries[0].user_id == a


async def test_staff_move_stays_in_the_visits_clinic(
    world: World, uows: UnitOfWorkFactory, sqlite_engine: AsyncEngine
) -> None:
    """Regression: a registrar of clinic 1 moved a visit onto the same doctor's time in
    clinic 2 (a doctor who works in two clinics), taking another clinic's slot."""
    from sqlalchemy import insert, update

    from storage.schema import clinics, slots

    user = world.user_ids[0]
    own, foreign = world.slots()[0], world.slots()[1]
    async with sqlite_engine.begin() as conn:
        await conn.execute(
            insert(clinics).values(
                id=2, region_id="msk", name="ГП №2", address="ул. Мира, 2", tz="Europe/Moscow"
            )
        )
        await conn.execute(update(slots).where(slots.c.id == foreign).values(clinic_id=2))
    async with uows() as uow:
        appt = await booking.book(uow, NOW, user, world.patient_of(user), own, POLICY)
    async with uows() as uow:
        with pytest.raises(NotOwner):
            await booking.reschedule_by_clinic(
                uow, NOW, 9001, [1], appt.id, foreign, POLICY, "врач заболел"
            )
    async with uows() as uow:
        still = await uow.appointments.get(appt.id)
        assert still is not None and still.status is AppointmentStatus.PENDING
        assert (await uow.appointments.slot_context(foreign)).slot.status == "free"  # type: ignore[union-attr]


async def test_move_cannot_change_specialty(world: World, uows: UnitOfWorkFactory) -> None:
    """The referral and the rules were checked for the visit's specialty: a move keeps it."""
    user = world.user_ids[0]
    async with uows() as uow:
        appt = await booking.book(uow, NOW, user, world.patient_of(user), world.slots()[0], POLICY)
    async with uows() as uow:
        with pytest.raises(SlotUnavailable):
            await booking.reschedule(uow, NOW, user, appt.id, world.slots(CARDIOLOGIST)[0], POLICY)


async def test_erasing_an_account_cancels_its_visits_first(
    world: World, uows: UnitOfWorkFactory
) -> None:
    """Regression: /delete_me left upcoming visits active and their slots booked for good."""
    user = world.user_ids[0]
    slot = world.slots()[0]
    async with uows() as uow:
        appt = await booking.book(uow, NOW, user, world.patient_of(user), slot, POLICY)
    async with uows() as uow:
        assert await booking.cancel_all_for_account(uow, NOW, user, "account deleted") == 1
        await uow.commit()
    async with uows() as uow:
        gone = await uow.appointments.get(appt.id)
        assert gone is not None and gone.status is AppointmentStatus.CANCELLED
        assert (await uow.appointments.slot_context(slot)).slot.status == "free"  # type: ignore[union-attr]
        pending = await uow.outbox.for_user(user)
        assert all(row["state"] != "pending" for row in pending)


@pytest.fixture
async def woman(sqlite_engine: AsyncEngine) -> AsyncIterator[World]:
    """A world of women: a therapist and a gynaecologist see them at the same hours."""
    yield await World.build(sqlite_engine, n_slots=6, n_users=2, sex="F")
    await assert_invariants(sqlite_engine)


async def test_overlapping_visits_refused_on_book_move_and_rebook(
    woman: World, uows: UnitOfWorkFactory
) -> None:
    """Issue 7 item 2: one patient held four visits at one time, and the one-tap rebook
    after a clinic cancel put a visit on top of another. Any overlap is refused, naming
    the visit in the way; the visit being moved does not count against itself."""
    a = woman.user_ids[0]
    p = woman.patient_of(a)
    therapist, gyn = woman.slots(THERAPIST), woman.slots(GYNAECOLOGIST)
    other_therapist = woman.slots_of[woman.doctor_of[THERAPIST] + 1]
    async with uows() as uow:
        first = await booking.book(uow, NOW, a, p, therapist[0], POLICY)
    for call in (booking.hold_slot, booking.book):
        async with uows() as uow:
            with pytest.raises(VisitOverlaps) as refused:
                await call(uow, NOW, a, p, gyn[0], POLICY)
        clash = refused.value.clash
        assert clash.number == first.number and clash.start == first.start
        assert clash.specialty_ru == "Терапевт" and clash.doctor_name.startswith("Врачев")
    async with uows() as uow:
        second = await booking.book(uow, NOW, a, p, gyn[1], POLICY)  # an hour later: fine
    async with uows() as uow:  # moving onto the other visit's time
        with pytest.raises(VisitOverlaps):
            await booking.reschedule(uow, NOW, a, second.id, gyn[0], POLICY)
    async with uows() as uow:  # the same time at another doctor: only itself overlaps
        moved = await booking.reschedule(uow, NOW, a, first.id, other_therapist[0], POLICY)
    async with uows() as uow:  # the clinic cancels; the one-tap rebook lands on the gyn visit
        await booking.cancel_by_clinic(uow, NOW, 9001, [1], moved.id, "doctor ill")
    async with uows() as uow:
        with pytest.raises(VisitOverlaps) as refused:
            await booking.book(uow, NOW, a, p, therapist[1], POLICY)
        assert refused.value.clash.number == second.number


async def test_a_repeated_confirm_returns_the_same_appointment(
    world: World, uows: UnitOfWorkFactory
) -> None:
    """Issue 7 item 3: the second «Подтвердить» got SlotTaken about the patient's own visit."""
    a, b = world.user_ids[:2]
    slot = world.slots()[0]
    async with uows() as uow:
        first, created = await booking.book_once(uow, NOW, a, world.patient_of(a), slot, POLICY)
    assert created
    async with uows() as uow:
        again, created = await booking.book_once(uow, NOW, a, world.patient_of(a), slot, POLICY)
    assert not created and again.id == first.id
    async with uows() as uow:
        assert (await booking.book(uow, NOW, a, world.patient_of(a), slot, POLICY)).id == first.id
        with pytest.raises(SlotTaken):  # anyone else still finds it taken
            await booking.book(uow, NOW, b, world.patient_of(b), slot, POLICY)


async def test_alternatives_never_start_sooner_than_the_lead_time(
    world: World, uows: UnitOfWorkFactory
) -> None:
    """Issue 7 item 8: «Это время уже заняли» offered times minutes away."""
    a, b = world.user_ids[:2]
    slots = world.slots()
    async with uows() as uow:
        start = (await uow.appointments.slot_context(slots[0])).slot.start  # type: ignore[union-attr]
    now = start - timedelta(minutes=30)  # slots[1] starts in 90 min, slots[2] in 150
    async with uows() as uow:
        await booking.book(uow, now, b, world.patient_of(b), slots[0], POLICY)
    async with uows() as uow:
        with pytest.raises(SlotTaken) as taken:
            await booking.book(uow, now, a, world.patient_of(a), slots[0], POLICY)
        alts = taken.value.alternatives
        assert len(alts) == 3 and slots[1] not in alts and slots[2] in alts
        for alt in alts:
            ctx = await uow.appointments.slot_context(alt)
            assert ctx is not None and ctx.slot.start >= now + timedelta(minutes=120)


async def test_freed_and_blocked_slots(
    world: World, uows: UnitOfWorkFactory, sqlite_engine: AsyncEngine
) -> None:
    """Issue 7 items 8 and 14: a patient's cancel records the freeing (the wait list offers
    only that); the clinic's day cancel blocks the slot and the rest of the day."""
    a, b = world.user_ids[:2]
    s = world.slots()
    async with uows() as uow:
        mine = await booking.book(uow, NOW, a, world.patient_of(a), s[0], POLICY)
        theirs = await booking.book(uow, NOW, b, world.patient_of(b), s[2], POLICY)
    later = NOW + timedelta(minutes=7)
    async with uows() as uow:
        await booking.cancel(uow, later, a, mine.id, confirmed_twice=True)
        await booking.cancel_by_clinic(uow, later, 9001, [1], theirs.id, "ill", block_slot=True)
        closed = await booking.block_doctor_time(
            uow, world.doctor_of[THERAPIST], [1], theirs.start, theirs.start + timedelta(hours=3)
        )
    assert closed == 2  # s[3], s[4] (hourly): s[2] was blocked by the cancel itself
    found = {r.id: (r.status, r.freed_at) for r in await rows(sqlite_engine, slots_t)}
    assert found[s[0]] == ("free", later.replace(tzinfo=None))
    assert [found[i][0] for i in s[1:7]] == ["free"] + ["blocked"] * 3 + ["free"] * 2
    assert found[s[2]][1] is None and found[s[1]][1] is None
    async with uows() as uow:
        for slot in (s[2], s[3]):
            with pytest.raises(SlotUnavailable):
                await booking.book(uow, later, a, world.patient_of(a), slot, POLICY)


def test_overlap_rule_counts_shared_moments_not_touching_ends() -> None:
    t = NOW
    assert rules.overlaps(t, 20, t + timedelta(minutes=10), 20)
    assert rules.overlaps(t, 60, t + timedelta(minutes=10), 5)  # inside
    assert not rules.overlaps(t, 20, t + timedelta(minutes=20), 20)  # back to back
    assert not rules.overlaps(t + timedelta(minutes=20), 20, t, 20)


async def test_clinic_cancel_alternatives_respect_the_lead_time(
    world: World, uows: UnitOfWorkFactory
) -> None:
    """Issue 7 item 8: the clinic-cancel message proposed slots 10 minutes away."""
    from bot.notify_load import clinic_alternatives
    from storage.repos.notify_context import NotifyContextRepository

    a = world.user_ids[0]
    s = world.slots()
    async with uows() as uow:
        appt = await booking.book(uow, NOW, a, world.patient_of(a), s[3], POLICY)
        first = (await uow.appointments.slot_context(s[0])).slot.start  # type: ignore[union-attr]
    now = first - timedelta(minutes=30)  # the other therapist is free in 30, 90, 150 min
    async with uows() as uow:
        await booking.cancel_by_clinic(uow, now, 9001, [1], appt.id, "ill")
        repo = NotifyContextRepository(uow.conn, uow.cipher)
        visit = (await repo.appointments([appt.id]))[appt.id]
        unbounded = await clinic_alternatives(repo, uow, visit, now, now)
        offered = await clinic_alternatives(repo, uow, visit, now, now + timedelta(minutes=120))
    assert min(alt.start for alt in unbounded) < now + timedelta(minutes=120)  # they exist
    assert len(offered) == 3
    assert all(alt.start >= now + timedelta(minutes=120) for alt in offered)


async def test_a_blocked_doctor_takes_no_bookings_and_is_not_offered(
    world: World, uows: UnitOfWorkFactory, sqlite_engine: AsyncEngine
) -> None:
    """Issue 7 item 14: slots of a blocked doctor (role inactive) stayed bookable."""
    a, b = world.user_ids[:2]
    blocked = world.doctor_of[THERAPIST]
    async with uows() as uow:
        await booking.book(uow, NOW, b, world.patient_of(b), world.slots()[0], POLICY)
    async with sqlite_engine.begin() as conn:
        await conn.execute(
            update(doctor_roles).where(doctor_roles.c.doctor_id == blocked).values(active=False)
        )
    async with uows() as uow:
        for call in (booking.hold_slot, booking.book):
            with pytest.raises(SlotUnavailable):
                await call(uow, NOW, a, world.patient_of(a), world.slots()[1], POLICY)
        alts = await booking.alternatives(uow, NOW, world.slots()[0])
        assert alts and not set(alts) & set(world.slots())
