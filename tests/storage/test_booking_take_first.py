"""Issue 12 (the rush): the booking's take comes first, on SQLite and PostgreSQL.

- a lost race is answered cheaply: on PostgreSQL one statement and no transaction at
  all (a read outside any transaction) when the update has not begun one; one
  statement inside the transaction when it has;
- a refusal after the take (not the owner, a rule) gives the slot back: the caller's
  update commits and the slot is still free, nothing else written;
- the losers of one slot are offered the nearest time plus others spread by account;
- a booking and a move of one patient onto one slot at once: one wins, no deadlock.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from domain import booking
from domain.errors import AgeSexRestricted, NotOwner, SlotTaken
from storage.crypto import PersonalDataCipher
from storage.db import create_engine
from storage.schema import slots
from storage.uow import UnitOfWorkFactory
from tests.conftest import requires_pg
from tests.storage.builders import GYNAECOLOGIST, NOW, World
from tests.storage.invariants import assert_invariants
from tests.update_scope import as_update

POLICY = booking.BookingPolicy(daily_cap=100)

pytestmark = pytest.mark.parametrize(
    "engine",
    ["sqlite", pytest.param("postgresql", marks=requires_pg)],
    indirect=True,
)


@pytest.fixture
async def wide_engine(engine: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    url = engine.url.render_as_string(hide_password=False)
    wide = create_engine(url, pool_size=10, inloop=engine.dialect.driver == "zapis")
    yield wide
    await wide.dispose()
    await assert_invariants(engine)


async def _status(engine: AsyncEngine, slot_id: int) -> str:
    async with engine.connect() as conn:
        value = await conn.scalar(select(slots.c.status).where(slots.c.id == slot_id))
        await conn.rollback()
    return str(value)


async def _count(engine: AsyncEngine, table: str) -> int:
    async with engine.connect() as conn:
        value = await conn.scalar(text(f"SELECT COUNT(*) FROM {table}"))
        await conn.rollback()
    return int(value or 0)


class _Statements:
    """Statements and real transactions (BEGIN sent) on an engine, while listening."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine.sync_engine
        self.statements: list[str] = []
        self.begins = 0

    def _statement(self, _conn: Connection, _cursor: object, sql: str, *_: object) -> None:
        if not sql.startswith("BEGIN"):
            self.statements.append(sql)

    def _begin(self, conn: Connection) -> None:
        if conn.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
            self.begins += 1

    def __enter__(self) -> _Statements:
        event.listen(self.engine, "before_cursor_execute", self._statement)
        event.listen(self.engine, "begin", self._begin)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._statement)
        event.remove(self.engine, "begin", self._begin)


async def test_a_lost_race_is_one_statement(
    engine: AsyncEngine, wide_engine: AsyncEngine, cipher: PersonalDataCipher
) -> None:
    world = await World.build(engine, n_slots=10, n_users=3)
    factory = UnitOfWorkFactory(wide_engine, cipher)
    a, b, c = world.user_ids
    slot = world.slots()[4]
    async with factory() as uow:
        await booking.book(uow, NOW, a, world.patient_of(a), slot, POLICY)
        await uow.commit()
    with _Statements(wide_engine) as seen:
        async with factory() as uow:
            with pytest.raises(SlotTaken) as taken:
                await booking.book(uow, NOW, b, world.patient_of(b), slot, POLICY)
    assert len(taken.value.alternatives) == 3 and slot not in taken.value.alternatives
    if engine.dialect.name == "postgresql":
        # One read outside any transaction: no BEGIN, no ROLLBACK.
        assert (len(seen.statements), seen.begins) == (1, 0), seen.statements
    else:  # the take's UPDATE (0 rows), then the context and the alternatives
        assert len(seen.statements) == 3, seen.statements
    # Inside an update whose transaction has begun: the take and its reads, one statement
    # on PostgreSQL (the alternatives come with it).
    async with factory() as uow:
        await uow.conn.execute(text("SELECT 1"))
        with _Statements(wide_engine) as seen, pytest.raises(SlotTaken) as again:
            await booking.book(uow, NOW, c, world.patient_of(c), slot, POLICY)
    expected = 1 if engine.dialect.name == "postgresql" else 3
    assert len(seen.statements) == expected, seen.statements
    assert again.value.alternatives[0] == taken.value.alternatives[0]  # the nearest first


async def test_a_refusal_after_the_take_gives_the_slot_back(
    engine: AsyncEngine, wide_engine: AsyncEngine, cipher: PersonalDataCipher
) -> None:
    """The take comes before ownership and the rules; the caller's update commits after a
    refusal (as bot/middlewares/database.py does): the slot must still be free."""
    world = await World.build(engine, n_slots=4, n_users=2)  # men: no gynaecologist
    uows = as_update(UnitOfWorkFactory(wide_engine, cipher))
    a, b = world.user_ids
    therapist, gyn = world.slots()[0], world.slots(GYNAECOLOGIST)[0]
    async with uows() as uow:
        with pytest.raises(NotOwner):
            await booking.book(uow, NOW, a, world.patient_of(b), therapist, POLICY)
    async with uows() as uow:
        with pytest.raises(AgeSexRestricted):
            await booking.book(uow, NOW, a, world.patient_of(a), gyn, POLICY)
    assert await _status(engine, therapist) == "free"
    assert await _status(engine, gyn) == "free"
    assert await _count(engine, "appointments") == 0
    assert await _count(engine, "outbox") == 0
    async with uows() as uow:  # and it is bookable at once
        appt = await booking.book(uow, NOW, b, world.patient_of(b), therapist, POLICY)
    assert appt.slot_id == therapist and await _status(engine, therapist) == "booked"


async def test_losers_of_one_slot_are_spread_over_the_free_times(
    engine: AsyncEngine, wide_engine: AsyncEngine, cipher: PersonalDataCipher
) -> None:
    """Every loser of a slot was offered the same three times, so they met again there:
    now the nearest one and two more picked by account among the next nearest."""
    world = await World.build(engine, n_slots=20, n_users=12)
    factory = UnitOfWorkFactory(wide_engine, cipher)
    first, *losers = world.user_ids
    slot_ids = world.slots()
    lost = slot_ids[10]
    async with factory() as uow:
        await booking.book(uow, NOW, first, world.patient_of(first), lost, POLICY)
        await uow.commit()
    offers = []
    for user_id in losers:
        async with factory() as uow:
            with pytest.raises(SlotTaken) as taken:
                await booking.book(uow, NOW, user_id, world.patient_of(user_id), lost, POLICY)
        offers.append(taken.value.alternatives)
    nearest = slot_ids[11]  # an hour later, the same doctor
    assert all(len(offer) == 3 and offer[0] == nearest for offer in offers)
    assert len({offer[1:] for offer in offers}) >= 5, offers  # spread, not all the same
    assert all(lost not in offer for offer in offers)
    async with factory() as uow:  # the same account asking again: the same offer
        with pytest.raises(SlotTaken) as again:
            await booking.book(uow, NOW, losers[0], world.patient_of(losers[0]), lost, POLICY)
    assert again.value.alternatives == offers[0]


async def test_a_booking_and_a_move_of_one_patient_onto_one_slot_do_not_deadlock(
    engine: AsyncEngine, wide_engine: AsyncEngine, cipher: PersonalDataCipher
) -> None:
    """Locks are taken slot first, then patient, by both the booking and the move."""
    world = await World.build(engine, n_slots=12, n_users=4, first_slot_in=timedelta(days=2))
    factory = as_update(UnitOfWorkFactory(wide_engine, cipher))
    other = world.slots_of[world.doctor_of[1] + 1]  # the second therapist
    for round_no, user_id in enumerate(world.user_ids):
        patient = world.patient_of(user_id)
        async with factory() as uow:
            visit = await booking.book(uow, NOW, user_id, patient, other[round_no], POLICY)
        target = world.slots()[round_no]

        async def book(user_id: int = user_id, patient: int = patient, target: int = target) -> str:
            async with factory() as uow:
                try:
                    _, created = await booking.book_once(uow, NOW, user_id, patient, target, POLICY)
                except Exception as exc:
                    return type(exc).__name__
            # Not created: the moved visit itself, found on the slot (a repeated confirm).
            return "booked" if created else "its own visit"

        async def move(
            user_id: int = user_id, visit_id: int = visit.id, target: int = target
        ) -> str:
            async with factory() as uow:
                try:
                    await booking.reschedule(uow, NOW, user_id, visit_id, target, POLICY)
                except Exception as exc:
                    return type(exc).__name__
            return "moved"

        outcomes = sorted(await asyncio.gather(book(), move()))
        # The move always ends with the slot (a booking that took it first is refused by
        # the rules — the visit being moved overlaps it — and gives it back); the booking
        # is refused cleanly or answered with the moved visit — never a database error
        # (a deadlock) on either side.
        assert outcomes[1] == "moved", outcomes
        assert outcomes[0] in (
            "SlotTaken",
            "VisitOverlaps",
            "AlreadyBooked",
            "its own visit",
        ), outcomes
        assert await _status(engine, target) == "booked"
