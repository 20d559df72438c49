"""``sqlite+zapis://`` — an async SQLAlchemy dialect that runs sqlite3 in the event-loop thread.

Why: through aiosqlite every statement is a hop to the connection's worker
thread and back (~0.2–0.5 ms on a loaded 2-core machine), and a booking step
runs 10–19 statements; the statements themselves cost a few microseconds.
Here the "async" connection calls the stdlib ``sqlite3`` directly and returns
at once: SQLAlchemy's asyncio layer still drives it through a greenlet, but
no thread, no queue, no future per statement.

Why it cannot stall the event loop on a lock (the one danger of running a
blocking library in the loop thread):

1. **Same process.** Every transaction opens with ``BEGIN IMMEDIATE``
   (storage/db.py), i.e. takes SQLite's single write lock. A coroutine may
   yield to the loop while its transaction is open (replies wait for the
   commit — bot/middlewares/pending_replies.py — but a handler may still
   await a thread, Redis, a sleep, ...). If another
   coroutine then ran ``BEGIN IMMEDIATE`` synchronously, SQLite's busy
   handler would sleep in the loop thread while the lock holder can never
   run: a 30 s stall. So the driver never lets SQLite wait: before a
   statement that starts outside a transaction (``BEGIN``, or anything in
   autocommit mode) it takes an asyncio *gate* — one per database file and
   event loop, shared by every engine and connection of the process — and
   holds it until the connection is out of its transaction again (commit,
   rollback, close). Waiting for the gate is an ordinary ``await``: other
   coroutines keep running, the holder finishes and hands the gate over
   (FIFO). Two transactions of one process therefore never meet on SQLite's
   lock at all. Waiting longer than the busy timeout raises
   ``sqlite3.OperationalError("database is locked")`` exactly as SQLite
   would (a coroutine that opens a second transaction while holding one gets
   that error after the timeout on both drivers).
2. **Other processes / threads** (a CLI, a second bot process, the test
   helper tests/storage/outbox_child.py). The connection is opened with a
   busy timeout of 0, so SQLite answers SQLITE_BUSY at once instead of
   sleeping in the loop thread; the driver then ``await asyncio.sleep()``s
   (0.5 ms doubling to 20 ms) and retries the statement until the busy
   timeout (the ``timeout`` connect argument, 30 s from storage/db.py) is
   spent. A statement that failed with SQLITE_BUSY had no effect, so the
   retry is safe; in WAL mode with ``BEGIN IMMEDIATE`` only ``BEGIN`` (and a
   ``COMMIT`` that must wait for a checkpoint) can meet it in practice.

What the loop thread does pay: the statements' own CPU (microseconds each;
a statement that scans a large table blocks the loop for as long as it
runs — the same as the Python code around it). Not the checkpoints
(``synchronous=NORMAL`` in WAL: no fsync per commit, only at checkpoints): a
thread of their own runs them (storage/wal_checkpoint.py), and a serving
connection's COMMIT checkpoints only as a safety net.

Rows are fetched at execute time, like SQLAlchemy's aiosqlite adapter does,
so result objects behave the same on both drivers. Server-side cursors are
not offered (``stream()`` gets a buffered result).

Registered by storage/db.py as ``sqlite.zapis``; storage.db.create_engine
picks it for SQLite unless told otherwise (Settings.sqlite_driver,
``ZAPIS_SQLITE_DRIVER``). The units of work's connection over it, which skips
SQLAlchemy's greenlet where nothing can wait, is storage/inloop_async.py.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import sqlite3
import time
import weakref
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import util
from sqlalchemy.connectors.asyncio import AsyncAdapt_dbapi_module
from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite
from sqlalchemy.dialects.sqlite.base import SQLiteExecutionContext
from sqlalchemy.engine import AdaptedConnection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.util.concurrency import await_

_FIRST_BACKOFF_S = 0.0005
_MAX_BACKOFF_S = 0.02


class _Ready:
    """An awaitable that is already done: awaiting it never reaches the event loop.

    SQLAlchemy's AsyncConnection.execute insists that the driver "awaited"
    at least once (AwaitRequired otherwise); this is that await, for the
    price of two greenlet switches.
    """

    __slots__ = ()

    def __await__(self) -> Any:
        return iter(())


_READY = _Ready()


class _Gate:
    """One writer at a time per database file within one event loop (FIFO hand-over)."""

    __slots__ = ("held", "waiters")

    def __init__(self) -> None:
        self.held = False
        self.waiters: collections.deque[asyncio.Future[None]] = collections.deque()

    def try_take(self) -> bool:
        if self.held or self.waiters:
            return False
        self.held = True
        return True

    async def take(self, timeout: float) -> None:
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiters.append(waiter)
        try:
            async with asyncio.timeout(timeout):
                await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self.release()  # handed over just as we gave up: pass it on
            else:
                waiter.cancel()
                with contextlib.suppress(ValueError):
                    self.waiters.remove(waiter)
            raise

    def release(self) -> None:
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # ownership passes; ``held`` stays True
                return
        self.held = False


# loop -> database key -> gate. Loops come and go (one per test); their gates go with them.
_gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, _Gate]] = (
    weakref.WeakKeyDictionary()
)


def _gate_for(key: str | None) -> _Gate:
    if key is None:  # a private database (":memory:"): nobody to share with
        return _Gate()
    by_key = _gates.setdefault(asyncio.get_running_loop(), {})
    gate = by_key.get(key)
    if gate is None:
        gate = by_key[key] = _Gate()
    return gate


def _database_key(database: str, uri: bool) -> str | None:
    if database in ("", ":memory:") or "mode=memory" in database:
        return None
    if uri or database.startswith("file:"):
        return database
    return os.path.realpath(database)


def _is_busy(error: sqlite3.OperationalError) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    if code is not None:
        return bool(code & 0xFF == sqlite3.SQLITE_BUSY)
    return "locked" in str(error)


class InloopCursor:
    """A DBAPI cursor over a sqlite3 cursor; rows buffered at execute time."""

    __slots__ = ("_adapt", "_cursor", "_rows")
    server_side = False

    def __init__(self, adapt: InloopConnection) -> None:
        self._adapt = adapt
        self._cursor = adapt._raw.cursor()
        self._rows: collections.deque[Any] = collections.deque()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        if not self._adapt._direct:
            await_(_READY)  # see _Ready
        cursor = self._cursor
        if parameters is None:
            self._adapt._run(cursor.execute, operation)
        else:
            self._adapt._run(cursor.execute, operation, parameters)
        if cursor.description is not None:
            self._rows = collections.deque(cursor.fetchall())
        return self

    def executemany(self, operation: Any, seq_of_parameters: Any) -> Any:
        if not self._adapt._direct:
            await_(_READY)
        self._adapt._run(self._cursor.executemany, operation, seq_of_parameters)
        return self

    async def _async_soft_close(self) -> None:
        return None  # rows are already buffered; nothing waits on the driver

    def close(self) -> None:
        self._rows.clear()
        self._cursor.close()

    def setinputsizes(self, *sizes: Any) -> None:
        return None

    def setoutputsize(self, *args: Any) -> None:
        return None

    def __iter__(self) -> Any:
        while self._rows:
            yield self._rows.popleft()

    def fetchone(self) -> Any:
        return self._rows.popleft() if self._rows else None

    def fetchmany(self, size: int | None = None) -> Sequence[Any]:
        rows = self._rows
        count = min(self.arraysize if size is None else size, len(rows))
        return [rows.popleft() for _ in range(count)]

    def fetchall(self) -> Sequence[Any]:
        result = list(self._rows)
        self._rows.clear()
        return result


class InloopConnection(AdaptedConnection):
    """The connection SQLAlchemy's pool holds: sqlite3 in the loop thread, gated writes."""

    __slots__ = ("_begun", "_direct", "_gate", "_key", "_raw", "_timeout", "dbapi", "wal")

    def __init__(
        self, dbapi: Any, connection: sqlite3.Connection, key: str | None, timeout: float
    ) -> None:
        self.dbapi = dbapi
        self._connection = connection  # type: ignore[assignment]  # the driver connection
        self._raw = connection
        self._key = key
        self._timeout = timeout
        self._gate: _Gate | None = None  # held while a transaction (or autocommit write) runs
        # Called without a greenlet (InloopAsyncConnection.execute): inside a transaction
        # that holds the gate, where nothing can wait (see _run).
        self._direct = False
        # BEGIN IMMEDIATE already sent by begin_now; begin_immediate only reports it.
        self._begun = False
        # The file is in WAL mode (storage/db.py's connect event says so): a COMMIT of a
        # transaction that holds the write lock never waits for readers there.
        self.wal = False

    # -- the write gate and SQLITE_BUSY, see the module docstring
    def _take_gate(self, deadline: float) -> None:
        gate = _gate_for(self._key)
        if not gate.try_take():
            remaining = deadline - time.monotonic()
            try:
                await_(gate.take(max(remaining, 0.0)))
            except TimeoutError:
                raise sqlite3.OperationalError("database is locked") from None
        self._gate = gate

    def _settle(self) -> None:
        gate = self._gate
        if gate is not None and not self._raw.in_transaction:
            self._gate = None
            gate.release()

    def _run(self, fn: Callable[..., Any], *args: Any) -> Any:
        if self._direct:
            # Inside our own BEGIN IMMEDIATE, with the gate held: SQLite's write lock is
            # ours, so a statement never meets SQLITE_BUSY here (WAL: the snapshot was
            # taken at BEGIN). Should it anyway, it fails at once as "database is locked".
            return fn(*args)
        deadline = 0.0
        if self._gate is None and not self._raw.in_transaction:
            deadline = time.monotonic() + self._timeout
            self._take_gate(deadline)
        try:
            delay = _FIRST_BACKOFF_S
            while True:
                try:
                    return fn(*args)
                except sqlite3.OperationalError as error:
                    if not _is_busy(error):
                        raise
                    if not deadline:
                        deadline = time.monotonic() + self._timeout
                    if time.monotonic() + delay > deadline:
                        raise
                    await_(asyncio.sleep(delay))
                    delay = min(delay * 2, _MAX_BACKOFF_S)
        finally:
            self._settle()

    def take_gate_now(self) -> bool:
        """The gate, if nobody of this process holds or waits for it (no waiting): for a
        transaction (``begin_now``) or one statement outside any (storage/prepared.py)."""
        if self._gate is not None or self._raw.in_transaction:
            return False
        gate = _gate_for(self._key)
        if not gate.try_take():
            return False
        self._gate = gate
        return True

    def begin_now(self) -> bool:
        """``BEGIN IMMEDIATE`` at once, without a greenlet, when nothing has to wait: the
        gate free (no transaction of this process open or queued) and SQLite's write
        lock free (no other process writing). False when either would have to be waited
        for (nothing done: the caller takes the usual way, which waits)."""
        if not self.take_gate_now():
            return False
        try:
            self._raw.execute("BEGIN IMMEDIATE")
        except sqlite3.Error:  # SQLITE_BUSY (another process), or what the usual way raises
            self._settle()
            return False
        self._begun = True
        return True

    def begin_immediate(self, conn: Any) -> None:
        """``BEGIN IMMEDIATE`` for SQLAlchemy's connection ``conn`` (its "begin" event,
        storage/db.py): what ``conn.exec_driver_sql("BEGIN IMMEDIATE")`` does — the
        write gate, the wait for another process, the statement events, a driver error
        raised wrapped as SQLAlchemy wraps it — without its per-statement machinery."""
        sql = "BEGIN IMMEDIATE"
        cursor = self._raw.cursor()
        events = conn._has_events or conn.engine._has_events
        try:
            if events:
                conn.dispatch.before_cursor_execute(conn, cursor, sql, (), None, False)
            try:
                if self._begun:  # sent by begin_now just before
                    self._begun = False
                else:
                    self._run(cursor.execute, sql)
            except sqlite3.Error as error:
                raise DBAPIError.instance(
                    sql, (), error, sqlite3.Error, dialect=conn.dialect
                ) from error
            if events and conn.dispatch.after_cursor_execute:
                conn.dispatch.after_cursor_execute(conn, cursor, sql, (), None, False)
        finally:
            cursor.close()

    # -- DBAPI connection
    def cursor(self, server_side: bool = False) -> InloopCursor:
        return InloopCursor(self)

    def execute(self, operation: Any, parameters: Any = None) -> InloopCursor:
        cursor = self.cursor()
        cursor.execute(operation, parameters)
        return cursor

    @property
    def isolation_level(self) -> str | None:
        return self._raw.isolation_level

    @isolation_level.setter
    def isolation_level(self, value: str | None) -> None:
        self._raw.isolation_level = value  # type: ignore[assignment]

    def create_function(self, *args: Any, **kw: Any) -> None:
        self._raw.create_function(*args, **kw)

    def commit(self) -> None:
        if self._raw.in_transaction:
            try:
                self._run(self._raw.commit)
            finally:
                if self._direct:  # (the usual way settles in _run)
                    self._settle()
        else:
            self._settle()

    def rollback(self) -> None:
        try:
            self._raw.rollback()
        finally:
            self._settle()

    def close(self) -> None:
        try:
            self._raw.close()
        finally:
            gate, self._gate = self._gate, None
            if gate is not None:
                gate.release()

    def terminate(self) -> None:
        self.close()


class InloopDBAPI(AsyncAdapt_dbapi_module):
    """The "DBAPI module" the dialect sees: sqlite3's names, our connect()."""

    def __init__(self) -> None:
        super().__init__(sqlite3, dbapi_module=sqlite3)
        self.sqlite = sqlite3
        self.paramstyle = "qmark"
        self.has_stop = True
        for name in (
            "DatabaseError",
            "Error",
            "IntegrityError",
            "InterfaceError",
            "InternalError",
            "NotSupportedError",
            "OperationalError",
            "ProgrammingError",
            "DataError",
            "Warning",
            "sqlite_version",
            "sqlite_version_info",
            "PARSE_COLNAMES",
            "PARSE_DECLTYPES",
            "Binary",
        ):
            setattr(self, name, getattr(sqlite3, name))

    def connect(self, database: str, *args: Any, **kw: Any) -> InloopConnection:
        kw.pop("async_creator_fn", None)
        timeout = float(kw.pop("timeout", 5.0))
        kw["check_same_thread"] = False  # the pool may close it from a gc callback
        raw: sqlite3.Connection = sqlite3.connect(database, *args, timeout=0, **kw)  # type: ignore[call-overload]
        return InloopConnection(self, raw, _database_key(database, bool(kw.get("uri"))), timeout)


class Dialect(SQLiteDialect_aiosqlite):
    driver = "zapis"
    supports_statement_cache = True
    supports_server_side_cursors = False
    execution_ctx_cls = SQLiteExecutionContext  # type: ignore[assignment]  # no server-side cursors

    @classmethod
    def import_dbapi(cls) -> InloopDBAPI:  # type: ignore[override]
        return InloopDBAPI()

    def retrieve_dbapi_version(self, dbapi: Any) -> util.VersionInfo:
        return util.parse_version_string(sqlite3.sqlite_version)


dialect = Dialect
