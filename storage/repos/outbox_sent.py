"""The dispatcher's «sent» marks on PostgreSQL: one round trip per group.

A module of its own beside storage/repos/outbox.py (whose ``_MARK_SENT_PG`` it runs):
a connection held for a dispatch and its statement on the driver are apart from the
repository's unit-of-work statements.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.repos.base import to_db
from storage.repos.outbox import _MARK_SENT_PG


class SentMarker:
    """PostgreSQL: one connection held for a dispatch's «sent» marks, each group of them
    one autocommitted UPDATE — one round trip, where a unit of work per group was four
    (the pool's ping, BEGIN, the UPDATE, COMMIT) and their machinery, ~25 µs CPU per row
    sent. One statement is atomic by itself and durable once it returns, so a group of
    «sent» marks needs no transaction around it; a group with any other outcome (failed,
    held, a blocked user's rows) is written in a transaction of its own as before
    (bot/notify_marks.py). ``async with SentMarker(engine) as marker``.

    The statement is ``_MARK_SENT_PG`` compiled once and run on asyncpg's connection
    (its prepared statement cached there): through SQLAlchemy's execute the same round
    trip cost ~2× the CPU (cache key, execution context, the greenlet bridge), once per
    group of ~32 rows. A driver error reaches the caller as asyncpg raises it; a broken
    connection goes back to the pool, whose pre-ping replaces it at the next checkout.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._conn: AsyncConnection | None = None
        self._driver: Any = None

    async def __aenter__(self) -> SentMarker:
        conn = await self.engine.connect()
        try:
            # (asyncpg's autocommit is an attribute of SQLAlchemy's adapter: no round trip;
            # the pool restores the isolation level when the connection goes back.)
            self._conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            self._driver = (await conn.get_raw_connection()).driver_connection
        except BaseException:
            await conn.close()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        conn, self._conn, self._driver = self._conn, None, None
        if conn is not None:
            await conn.close()

    async def mark_sent(self, ids: Sequence[int], now: datetime) -> None:
        """What ``OutboxRepository.mark_sent`` writes (same statement, same conditions)."""
        assert self._conn is not None, "SentMarker used outside 'async with'"
        if ids:
            sql, args = _pg_mark_sent(self._conn.dialect)
            params = {"ids": list(ids), "sent_at": to_db(now)}
            await self._driver.execute(sql, *(params.get(n, v) for n, v in args))


_PG_MARK_SENT: dict[str, tuple[str, tuple[tuple[str, Any], ...]]] = {}


def _pg_mark_sent(dialect: Dialect) -> tuple[str, tuple[tuple[str, Any], ...]]:
    """``_MARK_SENT_PG`` as asyncpg runs it (compiled once per driver): its text, and its
    parameters in order — name, and the value bound at build time (the states,
    ``attempts + 1``) or None for ``ids`` and ``sent_at``, given at each call. None of
    its types converts values for asyncpg."""
    found = _PG_MARK_SENT.get(dialect.driver)
    if found is None:
        compiled = _MARK_SENT_PG.compile(dialect=dialect)
        fixed = compiled.construct_params({"ids": None, "sent_at": None})
        assert compiled.positiontup is not None
        names = compiled.positiontup
        found = _PG_MARK_SENT[dialect.driver] = (
            compiled.string,
            tuple((name, fixed[name]) for name in names),
        )
    return found
