"""One runner at a time for a periodic job, across every process on one database.

The outbox needs no such lock (its rows are claimed with SKIP LOCKED and a lease,
storage/repos/outbox.py); the wait-list job does: two processes matching the same
freed slot at once would each try to hold it for a different entry. PostgreSQL's
advisory lock (``pg_try_advisory_lock``) is the engine's own coordination: the
process that gets it runs the job, the others skip this tick; the lock goes with
the session if the process dies. SQLite is one process (a no-op that says yes).
"""

from __future__ import annotations

import contextlib
import logging
import zlib
from collections.abc import AsyncIterator

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger("zapis.locks")


def lock_key(name: str) -> int:
    """A stable 32-bit key per job name (advisory locks are keyed by integers)."""
    return zlib.crc32(f"zapis:{name}".encode())


@contextlib.asynccontextmanager
async def exclusive_job(engine: AsyncEngine, name: str) -> AsyncIterator[bool]:
    """Yields True when this process runs the job now, False when another one is."""
    if engine.dialect.name == "sqlite":
        yield True
        return
    key = lock_key(name)
    async with engine.connect() as conn:
        got = bool(await conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}))
        await conn.commit()
        try:
            yield got
        finally:
            if got:
                try:
                    await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                    await conn.commit()
                except Exception as exc:  # the session is gone: so is its lock
                    log.warning("advisory unlock of %s failed: %s", name, type(exc).__name__)
