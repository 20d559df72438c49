"""Issue 12, fifth pass: a lost race's look on asyncpg goes to the driver directly.

The look (``_LOOK``, read outside any transaction) is sent by asyncpg itself when
the unit of work has no transaction: the same row as through SQLAlchemy, the
engine's statement listeners still see it, no transaction is left open, and a
connection the server dropped fails as through SQLAlchemy (the pool replaces it).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from domain import booking
from domain.errors import SlotTaken
from storage.crypto import PersonalDataCipher
from storage.db import create_engine
from storage.repos.base import to_db
from storage.repos.slot_take import _FALLBACK, _look_direct
from storage.uow import UnitOfWorkFactory
from tests.conftest import requires_pg
from tests.storage.builders import NOW, World

POLICY = booking.BookingPolicy(daily_cap=100)

pytestmark = pytest.mark.parametrize(
    "engine", [pytest.param("postgresql", marks=requires_pg)], indirect=True
)


@pytest.fixture
async def lean_engine(engine: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    """As the bench and the bot's run modes: no pre-ping."""
    url = engine.url.render_as_string(hide_password=False)
    lean = create_engine(url, pool_size=2, pre_ping=False)
    yield lean
    await lean.dispose()


def _params(world: World, user: int, slot: int) -> dict[str, object]:
    return {
        "slot_id": slot,
        "user_id": user,
        "patient_id": world.patient_of(user),
        "now": to_db(NOW),
        "not_before": to_db(POLICY.earliest_offer(NOW)),
    }


async def test_the_direct_look_reads_what_sqlalchemy_reads(
    engine: AsyncEngine, lean_engine: AsyncEngine, cipher: PersonalDataCipher
) -> None:
    world = await World.build(engine, n_slots=10, n_users=3)
    factory = UnitOfWorkFactory(lean_engine, cipher)
    a, b, _c = world.user_ids
    booked, free = world.slots()[4], world.slots()[6]
    async with factory() as uow:
        await booking.book(uow, NOW, a, world.patient_of(a), booked, POLICY)
        await uow.commit()
    for user, slot in ((b, booked), (b, free), (a, booked), (b, 10_000)):
        params = _params(world, user, slot)
        async with factory() as uow:
            direct = await _look_direct(uow.conn, params)
            assert direct is not _FALLBACK
            assert not uow.conn.in_transaction()
            raw = uow.conn.sync_connection._dbapi_connection.dbapi_connection._connection  # type: ignore[union-attr]
            assert not raw.is_in_transaction()
            through = await uow.appointments._look_through_sqlalchemy(params)
        if through is None:
            assert direct is None
        else:
            assert dict(direct) == dict(through._mapping), (user, slot)
    # A booked slot: the candidates came with it; a free one: none asked.
    async with factory() as uow:
        row = await _look_direct(uow.conn, _params(world, b, booked))
    assert row.status == "booked" and row.candidates
    # Inside a transaction the direct look stands aside (the take's CTE is used there).
    async with factory() as uow:
        await uow.conn.execute(text("SELECT 1"))
        assert await _look_direct(uow.conn, _params(world, b, booked)) is _FALLBACK


# (asyncpg leaves a coroutine of the dead connection unawaited: the same through
# SQLAlchemy's own execute, with the direct look switched off.)
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
async def test_a_lost_race_on_a_dropped_connection_fails_cleanly_and_the_next_works(
    engine: AsyncEngine, lean_engine: AsyncEngine, cipher: PersonalDataCipher
) -> None:
    world = await World.build(engine, n_slots=10, n_users=3)
    factory = UnitOfWorkFactory(lean_engine, cipher)
    a, b, c = world.user_ids
    slot = world.slots()[4]
    async with factory() as uow:
        await booking.book(uow, NOW, a, world.patient_of(a), slot, POLICY)
        await uow.commit()
    async with engine.connect() as conn:
        killed = await conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
        assert any(row[0] for row in killed)
        await conn.commit()
    # Without the pre-ping the pooled connections are dead: each use of one fails with
    # SQLAlchemy's error, as through its own execute (the bot's update attempt retries
    # on it: bot/middlewares/update_attempt.py), not asyncpg's; then the pool has
    # replaced them and the lost race is answered as before.
    failures = 0
    for user in (b, c, b, c, b):
        try:
            async with factory() as uow:
                await booking.book(uow, NOW, user, world.patient_of(user), slot, POLICY)
        except DBAPIError:
            failures += 1
            continue
        except SlotTaken as taken:
            assert len(taken.alternatives) == 3
            break
    else:
        pytest.fail("the pool never recovered")
    assert 1 <= failures <= 2  # at most one per pooled connection
