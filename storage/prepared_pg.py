"""storage/prepared.py's statements on asyncpg inside the update's transaction, without
SQLAlchemy's greenlet.

SQLAlchemy's asyncio layer runs every ``execute`` in a new greenlet so that its sync
core can await the driver. The driver's own step — SQLAlchemy's asyncpg cursor's
``_prepare_and_execute``: the connection's mutex, the driver's BEGIN with the first
statement, asyncpg's prepared-statement cache, the rowcount from the status, the
driver's errors adapted to DBAPI errors — is a coroutine: here it is awaited directly.
Issue 12's rush: a winning booking is ~12 round trips, each ~0.3 ms of Python through
SQLAlchemy's execute path, of which the greenlet and the execution context are most.

Kept exactly as SQLAlchemy's path behaves to its callers: SQLAlchemy's transaction is
begun first (its autobegin, which sends nothing on asyncpg: the driver's BEGIN goes with
the first statement, as through SQLAlchemy), so the unit of work commits or rolls it
back as usual; the engine's ``before/after_cursor_execute`` listeners see the statement
(the read memo, the statement counters); an error is raised as SQLAlchemy raises it
(``sqlalchemy.exc.IntegrityError`` …) by SQLAlchemy's own handler, which also
invalidates the connection on a disconnect (run in a greenlet: that may await).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.util.concurrency import greenlet_spawn


def asyncpg_adapter(conn: AsyncConnection) -> Any | None:
    """SQLAlchemy's asyncpg connection adapter when a statement may go to it directly:
    asyncpg, a plain connection (no execution options: not the AUTOCOMMIT look, not a
    single-statement connection), its transaction active — begun here as autobegin
    would when none is (no I/O on asyncpg). None: the usual ``conn.execute``."""
    sync = conn.sync_connection
    if sync is None or sync.dialect.driver != "asyncpg" or sync._execution_options:
        return None
    transaction = sync._transaction
    if transaction is None:
        if sync.invalidated or sync.closed:
            return None
        sync._autobegin()  # the begin events, SQLAlchemy's bookkeeping; nothing is sent
        transaction = sync._transaction
    if transaction is None or not transaction.is_active:
        return None  # (a failed transaction: SQLAlchemy's path raises what it raises)
    fairy = sync._dbapi_connection
    return fairy.dbapi_connection if fairy is not None else None


async def execute(
    conn: AsyncConnection, adapt: Any, sql: str, values: Any, *, many: bool = False
) -> Any:
    """Run ``sql`` (compiled for asyncpg, positional ``values``; a list of them when
    ``many``) on ``adapt``'s cursor; the cursor, its rows and rowcount read. The
    statement events around it and SQLAlchemy's error handling, as the module says."""
    sync: Any = conn.sync_connection
    cursor = adapt.cursor()
    events = sync._has_events or sync.engine._has_events
    if events:
        sync.dispatch.before_cursor_execute(sync, cursor, sql, values, None, many)
    try:
        if many:
            await cursor._executemany(sql, values)
        else:
            await cursor._prepare_and_execute(sql, values)
    except BaseException as error:
        # Wrapped in SQLAlchemy's type, the connection invalidated on a disconnect (which
        # may await the driver's close: hence the greenlet). It raises.
        await greenlet_spawn(sync._handle_dbapi_exception, error, sql, values, cursor, None)
        raise
    if events:
        sync.dispatch.after_cursor_execute(sync, cursor, sql, values, None, many)
    return cursor
