"""The unit of work's AsyncConnection on the in-loop SQLite driver: no greenlet where
nothing can wait.

SQLAlchemy's asyncio layer runs every call that may reach the driver — checkout,
BEGIN, each statement, COMMIT, close — in a new greenlet, so that a driver may
await. With storage/sqlite_inloop.py's driver nothing awaits unless something has
to be waited for (the write gate, another process's lock, a connection to open), and
whether it will is known beforehand. Here those calls go straight to the sync
Connection when it will not, the usual way otherwise. Kept apart from the driver:
this is about SQLAlchemy's asyncio layer, the driver module is about sqlite3 in the
loop thread. Only storage/uow.py's units of work use it, only on that driver.
"""

from __future__ import annotations

import contextlib
import sqlite3
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from storage.sqlite_inloop import InloopConnection


class InloopAsyncConnection(AsyncConnection):
    """An AsyncConnection whose statements inside a transaction skip the greenlet.

    SQLAlchemy's asyncio layer runs every ``execute`` in a new greenlet (two to four
    switches), so that a driver may await. Inside a transaction of this driver nothing
    awaits: the gate is held since BEGIN and sqlite3 answers at once (see
    ``InloopConnection._run``). There the sync Connection's ``execute`` is called
    directly — the same statement, events (the read memo, the statement counters),
    error wrapping and buffered result; outside a transaction (BEGIN, which may wait
    for the gate, COMMIT, a single-statement connection) the usual greenlet path.
    Only storage/uow.py's units of work use it, only on this driver.
    """

    __slots__ = ()

    async def execute(
        self,
        statement: Any,
        parameters: Any = None,
        *,
        execution_options: Any = None,
    ) -> Any:
        sync = self.sync_connection
        if sync is not None and sync._transaction is None:
            self.begin_direct()  # what the statement's autobegin does, here without waiting
        if sync is not None and sync._transaction is not None:
            fairy = sync._dbapi_connection
            adapt = fairy.dbapi_connection if fairy is not None else None
            if (
                isinstance(adapt, InloopConnection)
                and adapt._gate is not None
                and adapt._raw.in_transaction
                and not adapt._direct
            ):
                adapt._direct = True
                try:
                    return sync.execute(statement, parameters, execution_options=execution_options)
                finally:
                    adapt._direct = False
        return await super().execute(statement, parameters, execution_options=execution_options)

    async def start(self, is_ctxmanager: bool = False) -> InloopAsyncConnection:
        """Check a connection out of the pool without the greenlet when nothing can
        wait (``_checkout_awaits_nothing``); otherwise the usual way."""
        if self.sync_connection is None and _checkout_awaits_nothing(self.sync_engine.pool):
            self.sync_connection = self._assign_proxied(self.sync_engine.connect())
            return self
        await super().start(is_ctxmanager)
        return self

    def _adapter(self) -> InloopConnection | None:
        sync = self.sync_connection
        fairy = sync._dbapi_connection if sync is not None else None
        adapt = fairy.dbapi_connection if fairy is not None else None
        return adapt if isinstance(adapt, InloopConnection) else None

    def begin_direct(self) -> bool:
        """Begin the transaction (SQLAlchemy's bookkeeping, its ``begin`` event: storage/db.py's
        BEGIN IMMEDIATE, the statement events) without the greenlet when nothing has to
        wait (``InloopConnection.begin_now``); False: not begun, ``await begin()`` waits.
        Only on a connection without execution options (a single-statement connection
        opens no transaction at all, storage/db.py)."""
        sync = self.sync_connection
        if sync is None or sync._transaction is not None or sync._execution_options:
            return False
        adapt = self._adapter()
        if adapt is None or adapt._direct or not adapt.begin_now():
            return False
        try:
            sync.begin()
        except BaseException:  # not begun for SQLAlchemy: neither for SQLite
            adapt._begun = False
            with contextlib.suppress(sqlite3.Error):
                adapt._raw.rollback()
            adapt._settle()
            raise
        # (storage/db.py's begin event reported the BEGIN; an engine without that listener
        # is begun all the same, the statement events aside.)
        adapt._begun = False
        return True

    async def commit(self) -> None:
        """Without the greenlet when nothing can wait: a WAL file, the transaction ours
        with the gate and the write lock held (no SQLITE_BUSY at COMMIT), no SAVEPOINT
        open. The commit events (storage/memo.py's dialogue upsert) run as usual."""
        sync = self.sync_connection
        adapt = self._adapter()
        if (
            sync is not None
            and adapt is not None
            and adapt.wal
            and sync._transaction is not None
            and sync._nested_transaction is None
            and adapt._gate is not None
            and adapt._raw.in_transaction
            and not adapt._direct
        ):
            adapt._direct = True
            try:
                sync.commit()
            finally:
                adapt._direct = False
                adapt._settle()
            return
        await super().commit()

    async def close(self) -> None:
        """Without the greenlet when nothing can wait: no transaction open (the pool's
        reset is then a ROLLBACK that has nothing to undo, the return to the pool a
        ``put_nowait``)."""
        sync = self.sync_connection
        adapt = self._adapter()
        if (
            sync is not None
            and adapt is not None
            and sync._transaction is None
            and adapt._gate is None
            and not adapt._raw.in_transaction
            and not sync.invalidated
        ):
            sync.close()
            return
        await super().close()

    async def scalar(
        self, statement: Any, parameters: Any = None, *, execution_options: Any = None
    ) -> Any:
        result = await self.execute(statement, parameters, execution_options=execution_options)
        return result.scalar()

    async def scalars(
        self, statement: Any, parameters: Any = None, *, execution_options: Any = None
    ) -> Any:
        result = await self.execute(statement, parameters, execution_options=execution_options)
        return result.scalars()


def _checkout_awaits_nothing(pool: Any) -> bool:
    """Whether a checkout from this pool runs without awaiting: every connection waiting
    in its queue is alive and current (none to open or replace — opening one runs the
    connect event's statements, which take the write gate), no pre-ping, no recycling;
    the queue then hands one over without awaiting (SQLAlchemy's AsyncAdaptedQueue takes
    an available item first). Anything unexpected in the pool's make-up: False."""
    try:
        waiting = pool._pool._queue._queue
        if not waiting or pool._pre_ping or pool._recycle > -1:
            return False
        invalidated = pool._invalidate_time
        return all(
            record.dbapi_connection is not None
            and record.starttime >= invalidated
            and record.starttime >= record._soft_invalidate_time
            for record in waiting
        )
    except AttributeError:
        return False
