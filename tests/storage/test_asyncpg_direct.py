"""Issue 12, sixth pass: on asyncpg the prepared statements and the unit of work's
checkout and return skip SQLAlchemy's greenlet (storage/prepared_pg.py,
storage/asyncpg_conn.py), and the free-slot indexes give the alternatives' order.

What must not change: the transaction the direct statements run in is SQLAlchemy's
(the unit of work commits it, or its end rolls it back), errors are SQLAlchemy's
types, the statement listeners see every statement, a connection with a transaction
open is returned the usual way, and the nearest free times are read without sorting.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import bindparam, event, exc, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.asyncpg_conn import AsyncpgConnection
from storage.crypto import PersonalDataCipher
from storage.db import create_engine
from storage.prepared import Prepared
from storage.repos.base import to_db
from storage.repos.booking_sql import _ALTERNATIVES
from storage.schema import journal, users
from storage.uow import UnitOfWorkFactory
from tests.conftest import NOW, requires_pg
from tests.storage.builders import World

pytestmark = pytest.mark.parametrize(
    "engine", [pytest.param("postgresql", marks=requires_pg)], indirect=True
)

_JOURNAL = insert(journal).values(
    user_id=bindparam("user_id"), at=bindparam("at"), action=bindparam("action")
)
_USER = select(users.c.id, users.c.created_at).where(users.c.id == bindparam("id"))


@pytest.fixture
async def lean_engine(engine: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    """As the bench and the bot's run modes: no pre-ping (the greenlet-free checkout)."""
    url = engine.url.render_as_string(hide_password=False)
    lean = create_engine(url, pool_size=2, pre_ping=False)
    yield lean
    await lean.dispose()


def _greenlets(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every greenlet SQLAlchemy's asyncio layer spawns, by the function it runs."""
    import sqlalchemy.ext.asyncio.engine as async_engine

    spawned: list[str] = []
    real = async_engine.greenlet_spawn

    async def spy(fn: Any, *args: Any, **kwargs: Any) -> Any:
        spawned.append(getattr(fn, "__name__", repr(fn)))
        return await real(fn, *args, **kwargs)

    monkeypatch.setattr(async_engine, "greenlet_spawn", spy)
    return spawned


async def test_direct_statements_commit_roll_back_and_raise_as_sqlalchemy(
    lean_engine: AsyncEngine, cipher: PersonalDataCipher, monkeypatch: pytest.MonkeyPatch
) -> None:
    uows = UnitOfWorkFactory(lean_engine, cipher)
    async with uows() as uow:
        await uow.users.ensure(5, NOW)
        await uow.commit()
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement.split()[0])

    event.listen(lean_engine.sync_engine, "before_cursor_execute", record)
    spawned = _greenlets(monkeypatch)
    at = NOW.replace(tzinfo=None)
    try:
        async with uows() as uow:
            assert isinstance(uow.conn, AsyncpgConnection)
            await Prepared(_JOURNAL).run(uow.conn, {"user_id": 5, "at": at, "action": "kept"})
            assert uow.conn.in_transaction()  # SQLAlchemy's transaction: the uow commits it
            rows = await Prepared(_USER).rows(uow.conn, {"id": 5})
            assert rows == [(5, at)]
            await uow.commit()
        async with uows() as uow:  # not committed: rolled back at the end
            await Prepared(_JOURNAL).run(uow.conn, {"user_id": 5, "at": at, "action": "gone"})
        async with uows() as uow:
            duplicate = insert(users).values(
                id=bindparam("id"), created_at=bindparam("at"), level="none"
            )
            with pytest.raises(exc.IntegrityError):
                await Prepared(duplicate).run(uow.conn, {"id": 5, "at": at})
    finally:
        event.remove(lean_engine.sync_engine, "before_cursor_execute", record)
    assert seen == ["INSERT", "SELECT", "INSERT", "INSERT"]
    # Only COMMIT, the rollbacks at the ends and the error's handling took a greenlet.
    assert "execute" not in spawned and "connect" not in spawned
    async with lean_engine.connect() as conn:
        actions = (await conn.execute(text("SELECT action FROM journal"))).scalars().all()
    assert actions == ["kept"]


async def test_a_connection_with_a_transaction_goes_back_the_usual_way(
    lean_engine: AsyncEngine, cipher: PersonalDataCipher, monkeypatch: pytest.MonkeyPatch
) -> None:
    uows = UnitOfWorkFactory(lean_engine, cipher)
    async with uows() as uow:
        await uow.conn.execute(text("SELECT 1"))  # a transaction begun, not ended
    spawned = _greenlets(monkeypatch)
    async with uows() as uow:
        await uow.conn.execute(text("SELECT 1"))
    assert spawned.count("close") == 0 and "rollback" in spawned  # rolled back first
    spawned.clear()
    async with uows():
        pass
    assert spawned == []  # an idle connection: out of the pool and back without one
    assert lean_engine.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]


async def test_the_nearest_free_times_come_from_the_index_in_order(
    engine: AsyncEngine,
) -> None:
    world = await World.build(engine, n_slots=30, n_users=1)
    lost = world.slots()[10]
    async with engine.connect() as conn:
        slot = (await conn.execute(text("SELECT * FROM slots WHERE id = :id"), {"id": lost})).one()
        params = {
            "now": to_db(NOW),
            "not_before": to_db(NOW),
            "slot_id": slot.id,
            "doctor_id": slot.doctor_id,
            "specialty_id": slot.specialty_id,
            "region_id": slot.region_id,
            "pivot": slot.start_utc,
        }
        compiled = _ALTERNATIVES.params(params).compile(
            dialect=conn.dialect, compile_kwargs={"literal_binds": True}
        )
        plan = await conn.execute(text("EXPLAIN " + str(compiled)))
        lines = [row[0] for row in plan]
        await conn.rollback()
    assert not any("Sort" in line for line in lines), lines
    assert any("ix_slots_doctor_free" in line for line in lines), lines
