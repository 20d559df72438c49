"""The storage side of issue 8 "Fast", fifth pass: the same work with less machinery.

- a unit of work on the in-loop SQLite driver opens, begins, commits and closes without
  SQLAlchemy's greenlet when nothing has to wait, and waits as before when something
  does (another transaction of this process, another process's write lock);
- ``Prepared.count`` / ``run_many`` / a single-statement write return what SQLAlchemy's
  own path returns, with the same statement events;
- the booking's take returns its slot's context on SQLite (one statement for a winner),
  the appointment INSERT numbers itself there, and both give what the two statements
  they replace gave;
- a write whose RETURNING clause names a directory table keeps the directory cache.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy.ext.asyncio.engine as sa_async_engine
from sqlalchemy import bindparam, event, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from domain import booking
from domain.booking_ports import NewAppointment
from domain.calendar import calendar_uid
from domain.models import AppointmentStatus, SlotStatus
from storage.crypto import PersonalDataCipher
from storage.inloop_async import InloopAsyncConnection, _checkout_awaits_nothing
from storage.memo import directory_cache
from storage.prepared import Prepared
from storage.repos import appointments as appointments_module
from storage.repos.appointments import appointment_number
from storage.schema import journal, slots, users
from storage.sqlite_inloop import _gate_for
from storage.uow import UnitOfWorkFactory, idle_connections
from tests.conftest import NOW, make_sqlite_engine, requires_pg
from tests.storage.builders import World

POLICY = booking.BookingPolicy(daily_cap=100)

HOLDER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("COMMIT")
"""


@pytest.fixture
async def sqlite(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = await make_sqlite_engine(tmp_path, inloop=True)
    yield engine
    await engine.dispose()


@pytest.fixture
def spawns(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The names of the functions SQLAlchemy's AsyncConnection ran in a greenlet."""
    seen: list[str] = []
    real = sa_async_engine.greenlet_spawn

    async def counting(fn: Any, *args: Any, **kw: Any) -> Any:
        seen.append(getattr(fn, "__name__", repr(fn)))
        return await real(fn, *args, **kw)

    monkeypatch.setattr(sa_async_engine, "greenlet_spawn", counting)
    yield seen


async def _warm(engine: AsyncEngine, connections: int = 2) -> None:
    """Pooled connections ready (opening one takes the write gate for its PRAGMAs)."""
    opened = [await engine.connect() for _ in range(connections)]
    for conn in opened:
        await conn.close()


class _Statements:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine.sync_engine
        self.seen: list[str] = []

    def _record(self, _conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        self.seen.append(sql.split()[0])

    def __enter__(self) -> list[str]:
        event.listen(self.engine, "before_cursor_execute", self._record)
        return self.seen

    def __exit__(self, *_: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._record)


async def test_a_unit_of_work_without_greenlets_when_nothing_waits(
    sqlite: AsyncEngine, cipher: PersonalDataCipher, spawns: list[str]
) -> None:
    uows = UnitOfWorkFactory(sqlite, cipher)
    async with uows() as uow:  # the pool's first connection is opened the usual way
        await uow.users.ensure(1, NOW)
        await uow.commit()
    # The connection is kept for the next unit of work (storage/uow.py IdleConnections),
    # or back in the pool, from where a checkout awaits nothing.
    assert idle_connections(sqlite).conns or _checkout_awaits_nothing(sqlite.sync_engine.pool)
    spawns.clear()
    with _Statements(sqlite) as seen:
        async with uows() as uow:
            assert isinstance(uow.conn, InloopAsyncConnection)
            user = await uow.users.get(1)
            assert user is not None
            await uow.users.set_locale(1, "en")
            await uow.commit()
            assert not uow.conn.in_transaction()
    assert spawns == []
    assert seen == ["BEGIN", "SELECT", "UPDATE"]  # BEGIN IMMEDIATE reported as ever
    assert _gate_for(str(Path(sqlite.url.database or "").resolve())).held is False
    async with uows() as uow:
        found = await uow.users.get(1)
        assert found is not None and found.locale == "en"  # committed


async def test_a_second_transaction_of_the_process_still_waits_for_the_first(
    sqlite: AsyncEngine, cipher: PersonalDataCipher
) -> None:
    uows = UnitOfWorkFactory(sqlite, cipher)
    async with uows() as uow:
        await uow.users.ensure(1, NOW)
        await uow.commit()
    await _warm(sqlite)
    order: list[str] = []

    async def second() -> None:
        async with uows() as uow:
            assert not uow.conn.begin_direct()  # type: ignore[attr-defined]  # the gate is held
            await uow.users.set_locale(1, "de")
            order.append("second wrote")
            await uow.commit()

    async with uows() as first:
        await first.users.set_locale(1, "en")
        task = asyncio.create_task(second())
        await asyncio.sleep(0.05)
        assert order == []  # waiting for the gate, the loop running
        order.append("first commits")
        await first.commit()
    await task
    assert order == ["first commits", "second wrote"]
    async with uows() as uow:
        found = await uow.users.get(1)
        assert found is not None and found.locale == "de"


async def test_another_process_holding_the_lock_is_waited_for(
    sqlite: AsyncEngine, cipher: PersonalDataCipher
) -> None:
    uows = UnitOfWorkFactory(sqlite, cipher)
    async with uows() as uow:
        await uow.users.ensure(1, NOW)
        await uow.commit()
    path = str(sqlite.url.database)
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, path, "0.4"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        assert (await asyncio.to_thread(proc.stdout.readline)).strip() == "locked"
        async with uows() as uow:  # BEGIN meets SQLITE_BUSY: the usual way, which waits
            await uow.users.set_locale(1, "en")
            await uow.commit()
    finally:
        proc.wait(timeout=10)
    async with uows() as uow:
        found = await uow.users.get(1)
        assert found is not None and found.locale == "en"


@pytest.mark.parametrize(
    "engine", ["sqlite", pytest.param("postgresql", marks=requires_pg)], indirect=True
)
async def test_count_and_run_many_match_sqlalchemys(
    engine: AsyncEngine, cipher: PersonalDataCipher
) -> None:
    uows = UnitOfWorkFactory(engine, cipher)
    add = insert(journal).values(
        user_id=bindparam("user_id"), at=bindparam("at"), action=bindparam("action")
    )
    rename = update(journal).where(journal.c.action == bindparam("old")).values(action="y")
    at = NOW.replace(tzinfo=None)
    with _Statements(engine) as seen:
        async with uows() as uow:
            rows = [{"user_id": i, "at": at, "action": "x"} for i in range(3)]
            await Prepared(add).run_many(uow.conn, rows)
            assert await Prepared(rename).count(uow.conn, {"old": "x"}) == 3
            assert await Prepared(rename).count(uow.conn, {"old": "x"}) == 0
            await uow.commit()
    assert [s for s in seen if s != "BEGIN"] == ["INSERT", "UPDATE", "UPDATE"]
    async with uows() as uow:
        got = (await uow.conn.execute(select(journal.c.user_id, journal.c.at))).all()
        assert sorted(got) == [(i, at) for i in range(3)]


async def test_a_single_statement_write_alone_and_when_the_gate_is_held(
    sqlite: AsyncEngine, cipher: PersonalDataCipher
) -> None:
    uows = UnitOfWorkFactory(sqlite, cipher)
    async with uows() as uow:
        await uow.users.ensure(1, NOW)
        await uow.commit()
    await _warm(sqlite)
    bump = update(users).where(users.c.id == bindparam("uid")).values(no_show_count=7)
    with _Statements(sqlite) as seen:
        async with uows(single_statements=True) as uow:
            assert await Prepared(bump).count(uow.conn, {"uid": 1}) == 1
            assert not uow.conn.in_transaction()
    assert seen == ["UPDATE"]  # no BEGIN: one statement is atomic by itself
    async with uows() as holder:
        await holder.users.set_locale(1, "en")  # holds the gate
        async with uows(single_statements=True) as uow:
            waiting = asyncio.create_task(Prepared(bump).count(uow.conn, {"uid": 1}))
            await asyncio.sleep(0.05)
            assert not waiting.done()
            await holder.commit()
            assert await waiting == 1


@pytest.mark.parametrize(
    "engine", ["sqlite", pytest.param("postgresql", marks=requires_pg)], indirect=True
)
async def test_the_take_returns_the_context_a_read_gives(
    engine: AsyncEngine, cipher: PersonalDataCipher
) -> None:
    world = await World.build(engine, n_slots=3, n_users=2)
    uows = UnitOfWorkFactory(engine, cipher)
    a, b = world.user_ids
    slot_id = world.slots()[1]
    async with uows() as uow:
        _slot, read = await uow.directory.slot_with_context(slot_id)
    async with uows() as uow:
        take = await uow.appointments.take_first(
            slot_id, a, world.patient_of(a), NOW, NOW + timedelta(hours=1)
        )
        await uow.commit()
    assert take.taken and take.ctx == read and read is not None
    assert read.slot.status == SlotStatus.FREE
    async with uows() as uow:  # the loser: the slot as it is now, no take
        lost = await uow.appointments.take_first(
            slot_id, b, world.patient_of(b), NOW, NOW + timedelta(hours=1)
        )
    assert not lost.taken and lost.ctx is not None
    assert lost.ctx.slot.status == SlotStatus.BOOKED


@pytest.mark.parametrize(
    "engine", ["sqlite", pytest.param("postgresql", marks=requires_pg)], indirect=True
)
async def test_the_insert_numbers_the_appointment(
    engine: AsyncEngine, cipher: PersonalDataCipher, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = await World.build(engine, n_slots=3, n_users=1)
    uows = UnitOfWorkFactory(engine, cipher)
    (a,) = world.user_ids
    async with uows() as uow:
        contexts = [await uow.appointments.slot_context(s) for s in world.slots()]

        def new(uid: str = "") -> NewAppointment:
            ctx = contexts.pop(0)
            assert ctx is not None
            return NewAppointment(
                patient_id=world.patient_of(a),
                user_id=a,
                slot=ctx.slot,
                status=AppointmentStatus.CONFIRMED,
                referral_id=None,
                created_at=NOW,
                calendar_uid=uid,
            )

        first = await uow.appointments.insert(new())
        kept = await uow.appointments.insert(new("appointment-A-0000001@elsewhere"))
        # Should the SQL spelling ever differ from the functions', the number is corrected.
        wrong = {**appointments_module._SPELLING, "number_prefix": "Z-"}
        monkeypatch.setattr(appointments_module, "_SPELLING", wrong)
        third = await uow.appointments.insert(new())
        stored = [await uow.appointments.get(x.id) for x in (first, kept, third)]
    assert first.number == appointment_number(first.id)
    assert first.calendar_uid == calendar_uid(first.number)
    assert kept.calendar_uid == "appointment-A-0000001@elsewhere"
    assert third.number == appointment_number(third.id)
    assert third.calendar_uid == calendar_uid(third.number)
    assert [s.number if s else None for s in stored] == [first.number, kept.number, third.number]
    assert [s.calendar_uid if s else None for s in stored] == [
        first.calendar_uid,
        kept.calendar_uid,
        third.calendar_uid,
    ]


async def test_a_returning_clause_does_not_empty_the_directory_cache(
    sqlite: AsyncEngine, cipher: PersonalDataCipher
) -> None:
    world = await World.build(sqlite, n_slots=2, n_users=1)
    uows = UnitOfWorkFactory(sqlite, cipher)
    async with uows() as uow:
        assert await uow.directory.clinic(world.clinic_id) is not None
        cache = directory_cache(uow.conn)
        assert cache is not None and cache.rows
        await uow.conn.execute(
            update(slots).where(slots.c.id == -1).values(minutes=1).returning(slots.c.id)
        )
        await uow.conn.exec_driver_sql(
            "UPDATE slots SET minutes = 1 WHERE id = -1 RETURNING (SELECT tz FROM clinics)"
        )
        assert cache.rows  # read there, not written
        await uow.conn.exec_driver_sql("UPDATE clinics SET phone = '' WHERE id = -1")
        assert not cache.rows  # a write that names it
