"""The in-loop SQLite driver (storage/sqlite_inloop.py) against the stock aiosqlite one.

Same setup on both (WAL, foreign keys, BEGIN IMMEDIATE, rollback), statements
run in the loop thread, a second transaction of the same process waits for
the first without blocking the loop, another process holding the write lock
makes us wait (asynchronously) up to the busy timeout, and past it we get
SQLite's own "database is locked".
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.settings import load_settings
from storage.db import SQLITE_BUSY_TIMEOUT_MS, SQLITE_CACHE_KIB, create_engine, sqlite_url_for
from storage.sqlite_inloop import Dialect

SCHEMA = [
    "CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT NOT NULL)",
    "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parent(id))",
]


async def _make(path: Path, *, inloop: bool) -> AsyncEngine:
    engine = create_engine(f"sqlite+aiosqlite:///{path}", inloop=inloop)
    async with engine.begin() as conn:
        for statement in SCHEMA:
            await conn.execute(text(statement))
    return engine


@pytest.fixture(params=["inloop", "aiosqlite"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = await _make(tmp_path / "db.sqlite3", inloop=request.param == "inloop")
    yield engine
    await engine.dispose()


@pytest.fixture
async def inloop(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = await _make(tmp_path / "db.sqlite3", inloop=True)
    yield engine
    await engine.dispose()


async def _names(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT name FROM parent ORDER BY id"))).scalars().all()
        await conn.rollback()
    return list(rows)


def test_url_and_settings_accept_both_spellings(tmp_path: Path) -> None:
    assert sqlite_url_for("sqlite+aiosqlite:///a.db", inloop=True) == "sqlite+zapis:///a.db"
    assert sqlite_url_for("sqlite+zapis:///a.db", inloop=False) == "sqlite+aiosqlite:///a.db"
    settings = load_settings(database_url=f"sqlite+zapis:///{tmp_path / 'x.db'}")
    assert settings.sqlite_driver == "inloop"
    assert load_settings(sqlite_driver="aiosqlite").sqlite_driver == "aiosqlite"


async def test_crud_and_setup(db: AsyncEngine) -> None:
    expected_driver = "zapis" if db.dialect.driver == "zapis" else "aiosqlite"
    assert isinstance(db.dialect, Dialect) == (expected_driver == "zapis")
    async with db.begin() as conn:
        result = await conn.execute(text("INSERT INTO parent (name) VALUES ('a'), ('b')"))
        assert result.rowcount == 2
        new = await conn.execute(text("INSERT INTO parent (name) VALUES ('c') RETURNING id"))
        assert new.scalar_one() == 3
        await conn.execute(text("UPDATE parent SET name = 'B' WHERE id = 2"))
        await conn.execute(text("DELETE FROM parent WHERE id = 1"))
    assert await _names(db) == ["B", "c"]
    async with db.connect() as conn:
        assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
        assert (await conn.execute(text("PRAGMA synchronous"))).scalar() == 1  # NORMAL
        busy = (await conn.execute(text("PRAGMA busy_timeout"))).scalar()
        # in-loop: SQLite never sleeps in the loop thread; the driver waits instead
        assert busy == (0 if expected_driver == "zapis" else SQLITE_BUSY_TIMEOUT_MS)
        # a small page cache per pooled connection (negative: KiB, not pages)
        assert (await conn.execute(text("PRAGMA cache_size"))).scalar() == -SQLITE_CACHE_KIB
        with pytest.raises(IntegrityError):  # foreign keys enforced
            await conn.execute(text("INSERT INTO child (parent_id) VALUES (999)"))
        await conn.rollback()


async def test_rollback_discards_and_releases(db: AsyncEngine) -> None:
    async with db.connect() as conn:
        await conn.execute(text("INSERT INTO parent (name) VALUES ('gone')"))
        await conn.rollback()
    with pytest.raises(RuntimeError):
        async with db.begin() as conn:
            await conn.execute(text("INSERT INTO parent (name) VALUES ('gone too')"))
            raise RuntimeError("boom")
    async with db.begin() as conn:  # the write lock (and the gate) were released
        await conn.execute(text("INSERT INTO parent (name) VALUES ('kept')"))
    assert await _names(db) == ["kept"]


async def test_every_transaction_begins_immediate(db: AsyncEngine) -> None:
    seen: list[str] = []

    @event.listens_for(db.sync_engine, "before_cursor_execute")
    def _record(_c: object, _cur: object, statement: str, *_a: object) -> None:
        seen.append(statement)

    async with db.connect() as conn:
        await conn.execute(text("SELECT 1"))
        await conn.commit()
    assert seen[0] == "BEGIN IMMEDIATE"
    # a reader holds the write lock: a second transaction elsewhere cannot write meanwhile
    async with db.connect() as first:
        await first.execute(text("SELECT count(*) FROM parent"))
        second_wrote = asyncio.Event()

        async def second() -> None:
            async with db.begin() as conn:
                await conn.execute(text("INSERT INTO parent (name) VALUES ('second')"))
            second_wrote.set()

        task = asyncio.create_task(second())
        await asyncio.sleep(0.05)
        assert not second_wrote.is_set()
        await first.execute(text("INSERT INTO parent (name) VALUES ('first')"))
        await first.commit()
        await asyncio.wait_for(task, 5)
    assert await _names(db) == ["first", "second"]


async def test_statements_run_in_the_loop_thread(inloop: AsyncEngine) -> None:
    threads: list[int] = []

    @event.listens_for(inloop.sync_engine, "connect")
    def _fn(dbapi_connection: object, _record: object) -> None:
        def whoami() -> int:
            threads.append(threading.get_ident())
            return 1

        dbapi_connection.create_function("whoami", 0, whoami)  # type: ignore[attr-defined]

    await inloop.dispose()  # new connections get the function
    async with inloop.connect() as conn:
        assert (await conn.execute(text("SELECT whoami()"))).scalar() == 1
        await conn.rollback()
    assert threads == [threading.get_ident()]


async def test_same_process_transactions_wait_without_blocking_the_loop(
    inloop: AsyncEngine,
) -> None:
    """A transaction that yields (here: a sleep) while holding the lock does not stall others."""
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.005)

    tick_task = asyncio.create_task(ticker())
    order: list[str] = []

    async def holder() -> None:
        async with inloop.begin() as conn:
            await conn.execute(text("INSERT INTO parent (name) VALUES ('holder')"))
            order.append("holder in")
            await asyncio.sleep(0.2)  # "network" while the transaction is open
            order.append("holder out")

    async def waiter() -> None:
        await asyncio.sleep(0.02)
        async with inloop.begin() as conn:
            order.append("waiter in")
            await conn.execute(text("INSERT INTO parent (name) VALUES ('waiter')"))

    before = ticks
    await asyncio.wait_for(asyncio.gather(holder(), waiter(), *[waiter() for _ in range(5)]), 10)
    tick_task.cancel()
    assert order[:3] == ["holder in", "holder out", "waiter in"]
    assert ticks - before >= 10  # the loop kept running while they waited
    assert len(await _names(inloop)) == 7


async def test_second_transaction_in_same_task_times_out_like_sqlite(tmp_path: Path) -> None:
    """Holding one transaction while opening another: "database is locked" after the timeout."""
    url = f"sqlite+zapis:///{tmp_path / 'short.sqlite3'}"
    engine = create_async_engine(url, connect_args={"timeout": 0.2})
    try:
        async with engine.connect() as outer:
            await outer.exec_driver_sql("BEGIN IMMEDIATE")
            async with engine.connect() as inner:
                started = time.monotonic()
                with pytest.raises(OperationalError, match="database is locked"):
                    await inner.exec_driver_sql("BEGIN IMMEDIATE")
                assert 0.15 < time.monotonic() - started < 2
            await outer.rollback()
        async with engine.connect() as again:  # both gates free again
            await again.exec_driver_sql("BEGIN IMMEDIATE")
            await again.rollback()
    finally:
        await engine.dispose()


HOLDER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
conn.execute("INSERT INTO parent (name) VALUES ('other process')")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("COMMIT")
"""


async def _other_process_holds_lock(path: Path, seconds: float) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = await asyncio.to_thread(proc.stdout.readline)
    assert line.strip() == "locked"
    return proc


async def test_other_process_lock_makes_us_wait_not_fail(
    inloop: AsyncEngine, tmp_path: Path
) -> None:
    proc = await _other_process_holds_lock(tmp_path / "db.sqlite3", 0.5)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    tick_task = asyncio.create_task(ticker())
    try:
        started = time.monotonic()
        async with inloop.begin() as conn:
            await conn.execute(text("INSERT INTO parent (name) VALUES ('us')"))
        waited = time.monotonic() - started
    finally:
        tick_task.cancel()
        proc.wait(timeout=10)
    assert waited >= 0.2  # we really waited for the other process ...
    assert ticks >= 10  # ... without blocking the event loop
    assert await _names(inloop) == ["other process", "us"]


async def test_other_process_lock_past_busy_timeout_is_database_locked(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    setup = await _make(path, inloop=True)
    await setup.dispose()
    engine = create_async_engine(f"sqlite+zapis:///{path}", connect_args={"timeout": 0.2})
    proc = await _other_process_holds_lock(path, 1.5)
    try:
        async with engine.connect() as conn:
            started = time.monotonic()
            with pytest.raises(OperationalError, match="database is locked"):
                await conn.exec_driver_sql("BEGIN IMMEDIATE")
            assert time.monotonic() - started < 1.2
    finally:
        await engine.dispose()
        proc.wait(timeout=10)
