"""Concurrency proofs on SQLite and PostgreSQL: each attempt is its own unit of
work (its own connection and transaction), all launched at once.

- 200 bookings on 20 slots → exactly 20 appointments, 180 clean SlotTaken, 0 errors.
- cancel vs reschedule of one appointment → either cancelled (slot free) or
  rescheduled (exactly one active appointment, on the new slot; old slot free).
- two reschedules into one slot → one wins, the loser keeps its appointment.
- one patient, two overlapping slots of different specialties at once → one booked.
- one patient confirming the same slot twice at once → one appointment, both get it.
The invariants (tests/storage/invariants.py) are checked after every test.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from domain import booking
from domain.errors import InvalidTransition, SlotTaken, VisitOverlaps
from domain.models import Appointment, AppointmentStatus
from storage.crypto import PersonalDataCipher
from storage.db import create_engine
from storage.schema import appointments, slots
from storage.uow import UnitOfWorkFactory
from tests.conftest import requires_pg
from tests.storage.builders import GYNAECOLOGIST, NOW, THERAPIST, World
from tests.storage.invariants import assert_invariants
from tests.update_scope import as_update

POLICY = booking.BookingPolicy(daily_cap=100)

# SQLite runs on both drivers: in the loop thread the attempts are serialised by the
# driver's write gate; through aiosqlite they really meet on SQLite's lock.
pytestmark = pytest.mark.parametrize(
    "engine",
    ["sqlite", "sqlite-aiosqlite", pytest.param("postgresql", marks=requires_pg)],
    indirect=True,
)


@pytest.fixture
async def wide_engine(engine: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    """A second engine on the same database with a pool big enough for the rush."""
    url = engine.url.render_as_string(hide_password=False)
    wide = create_engine(url, pool_size=40, inloop=engine.dialect.driver == "zapis")
    yield wide
    await wide.dispose()
    await assert_invariants(engine)


async def _slot_status(engine: AsyncEngine, slot_id: int) -> str:
    async with engine.connect() as conn:
        value = await conn.scalar(select(slots.c.status).where(slots.c.id == slot_id))
        await conn.rollback()
    return str(value)


async def _appointment(engine: AsyncEngine, appointment_id: int) -> Appointment:
    async with engine.connect() as conn:
        row = (
            await conn.execute(select(appointments).where(appointments.c.id == appointment_id))
        ).one()
        await conn.rollback()
    return Appointment(
        id=row.id,
        number=row.number,
        patient_id=row.patient_id,
        user_id=row.user_id,
        slot_id=row.slot_id,
        doctor_id=row.doctor_id,
        clinic_id=row.clinic_id,
        specialty_id=row.specialty_id,
        start=row.start_utc,
        minutes=row.minutes,
        kind=row.kind,
        status=AppointmentStatus(row.status),
        created_at=row.created_at,
        rescheduled_to=row.rescheduled_to,
    )


async def _active_count(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        value = await conn.scalar(
            text("SELECT COUNT(*) FROM appointments WHERE status IN ('pending','confirmed')")
        )
        await conn.rollback()
    return int(value or 0)


async def test_200_attempts_on_20_slots(
    engine: AsyncEngine, wide_engine: AsyncEngine, cipher: PersonalDataCipher
) -> None:
    world = await World.build(engine, n_slots=20, n_users=200)
    factory = as_update(UnitOfWorkFactory(wide_engine, cipher))
    target = world.slots()

    async def attempt(i: int, user_id: int) -> str:
        async with factory() as uow:
            try:
                await booking.book(
                    uow, NOW, user_id, world.patient_of(user_id), target[i % 20], POLICY
                )
            except SlotTaken as taken:
                assert len(taken.alternatives) <= 3
                return "taken"
            except Exception as exc:  # counted, so the assertion shows what went wrong
                return f"error:{type(exc).__name__}:{exc}"
            return "booked"

    results = await asyncio.gather(*(attempt(i, u) for i, u in enumerate(world.user_ids)))
    counts = Counter(results)
    assert counts == {"booked": 20, "taken": 180}, counts
    assert await _active_count(engine) == 20
    for slot_id in target:
        assert await _slot_status(engine, slot_id) == "booked"


async def _book(factory: UnitOfWorkFactory, world: World, user_id: int, slot_id: int) -> int:
    async with factory() as uow:
        appt = await booking.book(uow, NOW, user_id, world.patient_of(user_id), slot_id, POLICY)
    return appt.id


async def test_cancel_races_reschedule(
    engine: AsyncEngine, wide_engine: AsyncEngine, cipher: PersonalDataCipher
) -> None:
    world = await World.build(engine, n_slots=32, n_users=16)
    factory = as_update(UnitOfWorkFactory(wide_engine, cipher))
    slot_ids = world.slots()
    outcomes = Counter()
    for round_no, user_id in enumerate(world.user_ids):
        old_slot, new_slot = slot_ids[2 * round_no], slot_ids[2 * round_no + 1]
        appt_id = await _book(factory, world, user_id, old_slot)

        # Stagger one side by a few ms so every interleaving (cancel first, move
        # first, and the two overlapping inside their transactions) happens.
        delay = (0.0, 0.002, 0.004, 0.008)[round_no % 4]
        cancel_delay, move_delay = (delay, 0.0) if round_no % 8 < 4 else (0.0, delay)

        async def do_cancel(
            user_id: int = user_id, appt_id: int = appt_id, pause: float = cancel_delay
        ) -> str:
            await asyncio.sleep(pause)
            async with factory() as uow:
                try:
                    await booking.cancel(uow, NOW, user_id, appt_id, confirmed_twice=True)
                except InvalidTransition:
                    return "lost"
            return "won"

        async def do_move(
            user_id: int = user_id,
            appt_id: int = appt_id,
            new_slot: int = new_slot,
            pause: float = move_delay,
        ) -> str:
            await asyncio.sleep(pause)
            async with factory() as uow:
                try:
                    await booking.reschedule(uow, NOW, user_id, appt_id, new_slot, POLICY)
                except InvalidTransition:
                    return "lost"
            return "won"

        cancel_result, move_result = await asyncio.gather(do_cancel(), do_move())
        assert {cancel_result, move_result} == {"won", "lost"}
        old = await _appointment(engine, appt_id)
        assert await _slot_status(engine, old_slot) == "free"
        if cancel_result == "won":
            outcomes["cancelled"] += 1
            assert old.status is AppointmentStatus.CANCELLED
            assert old.rescheduled_to is None
            assert await _slot_status(engine, new_slot) == "free"
        else:
            outcomes["rescheduled"] += 1
            assert old.status is AppointmentStatus.RESCHEDULED
            assert old.rescheduled_to is not None
            new = await _appointment(engine, old.rescheduled_to)
            assert new.status is AppointmentStatus.PENDING
            assert new.slot_id == new_slot
            assert await _slot_status(engine, new_slot) == "booked"
        await assert_invariants(engine)
    assert sum(outcomes.values()) == len(world.user_ids)


async def test_two_reschedules_into_one_slot(
    engine: AsyncEngine, wide_engine: AsyncEngine, cipher: PersonalDataCipher
) -> None:
    world = await World.build(engine, n_slots=30, n_users=20)
    factory = as_update(UnitOfWorkFactory(wide_engine, cipher))
    slot_ids = world.slots()
    for round_no in range(10):
        u1, u2 = world.user_ids[2 * round_no], world.user_ids[2 * round_no + 1]
        s1, s2, target = slot_ids[3 * round_no : 3 * round_no + 3]
        a1 = await _book(factory, world, u1, s1)
        a2 = await _book(factory, world, u2, s2)

        async def move(user_id: int, appt_id: int, target: int = target) -> str:
            async with factory() as uow:
                try:
                    await booking.reschedule(uow, NOW, user_id, appt_id, target, POLICY)
                except SlotTaken:
                    return "taken"
            return "moved"

        r1, r2 = await asyncio.gather(move(u1, a1), move(u2, a2))
        assert sorted([r1, r2]) == ["moved", "taken"]
        loser_appt, loser_slot = (a2, s2) if r1 == "moved" else (a1, s1)
        loser = await _appointment(engine, loser_appt)
        assert loser.status is AppointmentStatus.PENDING
        assert loser.slot_id == loser_slot
        assert await _slot_status(engine, loser_slot) == "booked"
        assert await _slot_status(engine, target) == "booked"
        await assert_invariants(engine)
    assert await _active_count(engine) == 20


async def test_one_patient_two_specialties_at_the_same_time_concurrently(
    engine: AsyncEngine, wide_engine: AsyncEngine, cipher: PersonalDataCipher
) -> None:
    """Issue 7 item 2: four visits at one time were booked by one patient. Two slots of
    different specialties at the same moment, booked at once by one patient: one wins,
    the other is refused naming the winner (the patient row lock serialises them)."""
    world = await World.build(engine, n_slots=6, n_users=6, sex="F")
    factory = as_update(UnitOfWorkFactory(wide_engine, cipher))
    for round_no, user_id in enumerate(world.user_ids):
        therapist = world.slots(THERAPIST)[round_no]
        gynaecologist = world.slots(GYNAECOLOGIST)[round_no]  # the same start time

        async def attempt(slot_id: int, user_id: int = user_id) -> str:
            async with factory() as uow:
                try:
                    await booking.book(
                        uow, NOW, user_id, world.patient_of(user_id), slot_id, POLICY
                    )
                except VisitOverlaps as exc:
                    return f"overlap:{exc.clash.number}"
            return "booked"

        results = await asyncio.gather(attempt(therapist), attempt(gynaecologist))
        assert sorted(r.split(":")[0] for r in results) == ["booked", "overlap"], results
    assert await _active_count(engine) == len(world.user_ids)
    async with engine.connect() as conn:
        numbers = set((await conn.execute(select(appointments.c.number))).scalars())
        await conn.rollback()
    assert len(numbers) == len(world.user_ids)


async def test_double_confirm_of_one_hold_concurrently_gives_one_appointment(
    engine: AsyncEngine, wide_engine: AsyncEngine, cipher: PersonalDataCipher
) -> None:
    """Issue 7 item 3: a double tap on «Подтвердить» answered «уже заняли». Both
    confirms of the same slot by the same patient return the same appointment."""
    world = await World.build(engine, n_slots=8, n_users=8)
    factory = as_update(UnitOfWorkFactory(wide_engine, cipher))
    for round_no, user_id in enumerate(world.user_ids):
        slot_id = world.slots()[round_no]

        async def confirm(user_id: int = user_id, slot_id: int = slot_id) -> tuple[int, bool]:
            async with factory() as uow:
                appt, created = await booking.book_once(
                    uow, NOW, user_id, world.patient_of(user_id), slot_id, POLICY
                )
            return appt.id, created

        (a1, c1), (a2, c2) = await asyncio.gather(confirm(), confirm())
        assert a1 == a2
        assert sorted([c1, c2]) == [False, True]
    assert await _active_count(engine) == len(world.user_ids)
