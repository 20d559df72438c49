"""storage/wal_checkpoint.py: a file database's WAL is checkpointed by a thread, not by
the COMMIT of an update that crosses SQLite's limit (that COMMIT ran in the event loop).

What must hold, on both SQLite drivers: a serving connection's own checkpoint is only
the safety net — 1,500 pages written through the engine stay in the WAL, the database
file does not grow — while the file's thread copies them back; the thread stops when
the engine is disposed and runs again when the engine connects anew.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import wal_checkpoint
from storage.db import create_engine
from storage.wal_checkpoint import SAFETY_NET_PAGES, WalCheckpointer

PAGE_ROW = "x" * 3000  # one row per 4 KiB page


@pytest.fixture(params=[True, False], ids=["inloop", "aiosqlite"])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    made = create_engine(f"sqlite:///{tmp_path / 'wal.db'}", inloop=request.param)
    async with made.connect() as conn:
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
        await conn.commit()
    yield made
    await made.dispose()


def _checkpointer(engine: AsyncEngine) -> WalCheckpointer:
    database = engine.url.database
    assert database is not None
    return wal_checkpoint.checkpointer_for(database)


async def _write_pages(engine: AsyncEngine, count: int) -> None:
    async with engine.connect() as conn:
        for _ in range(count):
            await conn.execute(text("INSERT INTO t (v) VALUES (:v)"), {"v": PAGE_ROW})
            await conn.commit()


async def _until(condition: object, seconds: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not condition() and loop.time() < deadline:  # type: ignore[operator]
        await asyncio.sleep(0.02)


async def test_updates_never_checkpoint_and_the_thread_does(engine: AsyncEngine) -> None:
    database = engine.url.database
    assert database is not None
    async with engine.connect() as conn:
        limit = (await conn.execute(text("PRAGMA wal_autocheckpoint"))).scalar()
    assert limit == SAFETY_NET_PAGES
    checkpointer = _checkpointer(engine)
    assert checkpointer.running
    checkpointer.stop()
    assert not checkpointer.running

    size = os.path.getsize(database)
    await _write_pages(engine, 1500)  # past SQLite's default limit of 1,000 pages
    # No COMMIT checkpointed: every page is still only in the WAL.
    assert os.path.getsize(database) == size
    assert os.path.getsize(database + "-wal") > 1500 * 4096

    checkpointer.interval_s = 0.02
    checkpointer.serve(engine.sync_engine)  # (what the next new connection does)
    # (The file grows while the thread's PRAGMA still runs: wait for its answer too, or a
    # loaded machine saw the pages copied before the checkpoint was counted.)
    await _until(lambda: checkpointer.checkpoints >= 1, seconds=30.0)
    assert os.path.getsize(database) > 1500 * 4096  # copied back by the thread
    assert checkpointer.checkpoints >= 1
    busy, wal_frames, copied = checkpointer.last
    assert busy == 0 and copied == wal_frames > 0
    checkpointer.interval_s = wal_checkpoint.CHECKPOINT_INTERVAL_S


async def test_the_thread_stops_with_the_engine_and_comes_back_with_it(
    engine: AsyncEngine,
) -> None:
    checkpointer = _checkpointer(engine)
    assert checkpointer.running
    await engine.dispose()
    await _until(lambda: not checkpointer.running)
    assert not checkpointer.running
    async with engine.connect() as conn:  # a disposed engine used again: a new connection
        assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar() == 0
    assert checkpointer.running
