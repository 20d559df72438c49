"""storage/uow.py ``IdleConnections``: on the in-loop SQLite driver a unit of work hands
its clean connection on to the next one instead of checking it in and out of the pool.

What must hold: the next unit of work runs on it; a connection left in a transaction,
with an execution option, or invalidated is never kept; disposing the engine gives
every kept connection back (closed: nothing stays checked out, nothing is left to the
garbage collector, which SQLAlchemy would warn about — the suite turns warnings into
errors); a single-statement unit of work (the after-reply mark) leaves its connection
without its option; PostgreSQL and aiosqlite keep nothing.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.crypto import PersonalDataCipher
from storage.db import SINGLE_STATEMENT
from storage.schema import users
from storage.uow import MAX_ENGINES, SqlUnitOfWork, UnitOfWorkFactory, idle_connections
from tests.conftest import NOW, make_sqlite_engine


@pytest.fixture
async def sqlite(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = await make_sqlite_engine(tmp_path, inloop=True)
    yield engine
    await engine.dispose()


def _checked_out(engine: AsyncEngine) -> int:
    return int(engine.sync_engine.pool.checkedout())  # type: ignore[attr-defined]


async def test_the_next_unit_of_work_runs_on_the_connection_the_last_one_left(
    sqlite: AsyncEngine, cipher: PersonalDataCipher
) -> None:
    uows = UnitOfWorkFactory(sqlite, cipher)
    async with uows() as uow:
        await uow.users.ensure(1, NOW)
        await uow.commit()
        first = uow.conn
    assert idle_connections(sqlite).conns == [first]
    async with uows() as uow:
        assert uow.conn is first
        assert idle_connections(sqlite).conns == []  # in use: not handed to another
        assert (await uow.users.get(1)) is not None
        await uow.commit()
    assert idle_connections(sqlite).conns == [first]
    assert _checked_out(sqlite) == 1  # kept, not in the pool
    await sqlite.dispose()
    assert idle_connections(sqlite).conns == []
    assert first.sync_connection is None or first.sync_connection.closed
    assert _checked_out(sqlite) == 0
    async with uows() as uow:  # a disposed engine serves as before (a new pool)
        assert uow.conn is not first
        assert (await uow.users.get(1)) is not None


async def test_a_connection_left_in_a_transaction_or_with_an_option_is_not_kept(
    sqlite: AsyncEngine, cipher: PersonalDataCipher
) -> None:
    uows = UnitOfWorkFactory(sqlite, cipher)
    async with uows() as uow:
        await uow.users.ensure(1, NOW)
        await uow.commit()
    kept = idle_connections(sqlite)
    with pytest.raises(RuntimeError):
        async with uows() as uow:
            await uow.users.set_locale(1, "en")
            raise RuntimeError("refused")  # rolled back at the exit: then clean, kept
    assert len(kept.conns) == 1
    async with uows() as uow:  # the rollback took: nothing of the refused update stays
        found = await uow.users.get(1)
        assert found is not None and found.locale != "en"
        conn = uow.conn
        assert conn.in_transaction()
        assert not kept.keep(conn)  # in a transaction (and the write gate held)
        await uow.commit()
        assert kept.keep(conn)  # clean now
        assert kept.take(sqlite) is conn
        # An execution option of someone else's: not kept.
        sync = conn.sync_connection
        assert sync is not None
        sync.execution_options(stream_results=False)
        assert not kept.keep(conn)
    assert kept.conns == []  # the unit of work closed it the usual way
    assert _checked_out(sqlite) == 0


async def test_a_single_statement_unit_of_work_leaves_its_connection_without_the_option(
    sqlite: AsyncEngine, cipher: PersonalDataCipher
) -> None:
    uows = UnitOfWorkFactory(sqlite, cipher)
    async with uows() as uow:
        await uow.users.ensure(1, NOW)
        await uow.commit()
        conn = uow.conn
    async with uows(single_statements=True) as later:
        assert later.conn is conn
        assert later.conn.sync_connection.get_execution_options()[SINGLE_STATEMENT]  # type: ignore[union-attr]
        await later.users.set_locale(1, "en")  # autocommitted: no BEGIN
        assert not later.conn._adapter()._raw.in_transaction  # type: ignore[attr-defined,union-attr]
        await later.commit()
    assert idle_connections(sqlite).conns == [conn]
    assert SINGLE_STATEMENT not in conn.sync_connection.get_execution_options()  # type: ignore[union-attr]
    async with uows() as uow:
        assert uow.conn is conn
        await uow.conn.execute(select(users.c.id))
        assert uow.conn.in_transaction()  # a transaction again (BEGIN IMMEDIATE)
        found = await uow.users.get(1)
        assert found is not None and found.locale == "en"


async def test_kept_connections_are_bounded_and_never_left_to_the_collector(
    tmp_path: Path, cipher: PersonalDataCipher
) -> None:
    """More engines than MAX_ENGINES: the oldest's connections go back to their pool,
    so an engine nobody disposes is collected with its pool (no SQLAlchemy warning,
    which the suite would raise)."""
    engines = [await make_sqlite_engine(tmp_path / str(i), inloop=True) for i in range(3)]
    extra = [await make_sqlite_engine(tmp_path / f"x{i}", inloop=True) for i in range(MAX_ENGINES)]
    try:
        for engine in engines + extra:
            async with UnitOfWorkFactory(engine, cipher)() as uow:
                await uow.conn.execute(text("SELECT 1"))
                await uow.commit()
        for engine in engines:
            assert _checked_out(engine) == 0  # given back when newer engines kept theirs
        gc.collect()
    finally:
        for engine in engines + extra:
            await engine.dispose()


async def test_a_unit_of_work_built_alone_keeps_nothing(
    sqlite: AsyncEngine, cipher: PersonalDataCipher
) -> None:
    async with SqlUnitOfWork(sqlite, cipher) as uow:
        await uow.conn.execute(text("SELECT 1"))
    assert _checked_out(sqlite) == 0


async def test_a_unit_of_work_keeps_its_repositories_for_its_connection_only(
    uow_factory: UnitOfWorkFactory,
) -> None:
    """``uow.appointments`` (and users, directory, journal, outbox) is built once per unit
    of work, on its connection; the next unit of work builds its own (on whatever
    connection it has), and outside ``async with`` there is none (RuntimeError)."""
    names = ("users", "directory", "appointments", "journal", "outbox")
    uow = uow_factory()
    async with uow:
        first = {name: getattr(uow, name) for name in names}
        for name in names:
            assert getattr(uow, name) is first[name]
            assert first[name].conn is uow.conn
        assert first["directory"].memo is uow.directory_memo
    for name in names:
        with pytest.raises(RuntimeError):
            getattr(uow, name)
    async with uow:  # (the same object entered again: its new connection's repositories)
        for name in names:
            again = getattr(uow, name)
            assert again is not first[name]
            assert again.conn is uow.conn
    async with uow_factory() as other:
        assert all(getattr(other, name) is not first[name] for name in names)
