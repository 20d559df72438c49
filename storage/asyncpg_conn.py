"""The unit of work's AsyncConnection on asyncpg: the pool's checkout and return without
SQLAlchemy's greenlet when neither can wait.

SQLAlchemy's asyncio layer runs ``connect()`` and ``close()`` in a new greenlet so
that the pool may await the driver: to open a connection, to ping it, to close one
the pool has no room for. When none of that can happen — a live connection waiting
in the pool, no pre-ping, no recycling; at the return no transaction open (the
reset's ROLLBACK has nothing to send) and room in the pool — both are plain Python
(storage/inloop_async.py does the same for the in-loop SQLite driver). Issue 12's
rush: every attempt is one checkout and one return, and a lost race is otherwise one
statement, so the two greenlets were a large share of its Python. Only
storage/uow.py's units of work use it, only on asyncpg.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from storage.inloop_async import _checkout_awaits_nothing


class AsyncpgConnection(AsyncConnection):
    """An AsyncConnection whose checkout and return skip the greenlet when nothing
    can wait (see the module); otherwise SQLAlchemy's own way."""

    __slots__ = ()

    async def start(self, is_ctxmanager: bool = False) -> AsyncpgConnection:
        if self.sync_connection is None and _checkout_awaits_nothing(self.sync_engine.pool):
            self.sync_connection = self._assign_proxied(self.sync_engine.connect())
            return self
        await super().start(is_ctxmanager)
        return self

    async def close(self) -> None:
        sync = self.sync_connection
        if sync is not None and _return_awaits_nothing(sync):
            sync.close()
            return
        await super().close()


def _return_awaits_nothing(sync: Any) -> bool:
    """No transaction for SQLAlchemy nor the driver (the pool's reset sends nothing), the
    connection valid, and room for it in the pool's queue (else the pool closes it, which
    awaits). Anything unexpected in the make-up: False."""
    try:
        if sync._transaction is not None or sync.invalidated or sync.closed:
            return False
        fairy = sync._dbapi_connection
        adapt: Any = fairy.dbapi_connection if fairy is not None else None
        raw = adapt._connection if adapt is not None else None
        if (
            raw is None
            or adapt._transaction is not None
            or adapt._execute_mutex.locked()
            or raw.is_in_transaction()
            or raw.is_closed()
        ):
            return False
        queue = sync.engine.pool._pool
        return bool(queue.maxsize <= 0 or queue.qsize() < queue.maxsize)
    except AttributeError:
        return False
