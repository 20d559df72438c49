"""The hottest statements run with less machinery: compiled once, executed on the cursor.

Every update runs the same few statements (the account with its patients and
dialogue row, the dialogue upsert). Through SQLAlchemy's ``execute`` each pays,
besides the driver's microseconds, its per-call machinery: the compiled-cache
lookup, the parameters' processing, the execution context, the result's
metadata — more than the statement itself costs in SQLite.

``Prepared(statement)`` compiles the statement once per dialect and, on the
in-loop SQLite driver inside a transaction that holds the write gate
(storage/sqlite_inloop.py ``InloopAsyncConnection.direct``), binds the
parameters in the compiled order through the types' bind processors, runs it on
the connection's sqlite3 cursor and passes each column through its type's
result processor: the values are what ``conn.execute(statement)`` returns. The
engine's statement events fire as for any statement (the read memo's
invalidation, the benchmark's counters), and a driver error is raised wrapped
like SQLAlchemy wraps it (``sqlalchemy.exc.OperationalError``, ...). On asyncpg
the same compiled form goes to SQLAlchemy's asyncpg cursor without the greenlet, in
the update's transaction (storage/prepared_pg.py). Anywhere else — aiosqlite, the
in-loop driver outside a transaction — it is ``conn.execute(statement, params)``,
the rows as tuples.

Only statements without expanding parameters (``IN`` lists) qualify; the
statement's own literal values (bound at build time) are bound as compiled.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import exc
from sqlalchemy.dialects.sqlite import base as sqlite_types
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import prepared_pg
from storage.db import SINGLE_STATEMENT
from storage.inloop_async import InloopAsyncConnection
from storage.sqlite_inloop import InloopConnection, _is_busy

_Processor = Callable[[Any], Any] | None
_DATETIME = datetime


class RowView(dict[str, Any]):
    """A row as its columns by name: ``row["id"]``, ``row.id``, ``row._mapping``."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def _mapping(self) -> RowView:
        return self


class _Unsupported(Exception):
    pass


def _fast_bind(bind_type: Any, dialect: Dialect, processor: _Processor) -> _Processor:
    """A cheaper processor doing what ``processor`` does, where there is one.

    SQLite's ``DATETIME`` binds a datetime as ``%Y-%m-%d %H:%M:%S.%f`` through a dict
    and ``%``-formatting (~1.3 µs; ~12 per booking update); for a naive
    ``datetime`` — what storage/repos/base.py ``to_db`` gives — that text is
    ``isoformat(" ", "microseconds")`` (~0.5 µs). Anything else (an aware datetime, a
    date, a subclass, None) goes to SQLAlchemy's own processor.
    tests/storage/test_prepared_binds.py compares both.
    """
    if processor is None or dialect.name != "sqlite":
        return processor
    impl = bind_type.dialect_impl(dialect)
    if (
        type(impl) is not sqlite_types.DATETIME
        or impl._storage_format != sqlite_types.DATETIME._storage_format
    ):
        return processor
    plain = processor

    def naive_datetime(value: Any) -> Any:
        if value.__class__ is _DATETIME and value.tzinfo is None:
            return value.isoformat(" ", "microseconds")
        return plain(value)

    return naive_datetime


class _Compiled:
    __slots__ = ("binds", "fixed", "keys", "names", "processed", "results", "rows", "sql")

    def __init__(self, statement: Any, dialect: Dialect, *, many: bool = False) -> None:
        # ``many``: the form SQLAlchemy sends for an executemany (an INSERT then has no
        # implicit RETURNING of its key).
        compiled = statement.compile(dialect=dialect, for_executemany=many)
        if compiled.literal_execute_params or compiled.post_compile_params:
            raise _Unsupported("expanding parameters")
        if compiled.insert_prefetch or compiled.update_prefetch:
            raise _Unsupported("Python-side column defaults")  # the context computes them
        positions = compiled.positiontup
        if positions is None:
            raise _Unsupported("the dialect's paramstyle is not positional")
        self.sql: str = compiled.string
        processors = compiled._bind_processors
        # (name, processor, fixed value or a marker for "from the caller's parameters")
        self.binds: list[tuple[str, _Processor]] = []
        self.fixed: dict[str, Any] = {}
        for name in positions:
            bind = compiled.binds[name]
            self.binds.append((name, _fast_bind(bind.type, dialect, processors.get(name))))
            if not bind.required and bind.callable is None:
                self.fixed[name] = bind.value
        # The plain case (every value from the caller's parameters): the names in order,
        # and where a processor converts one.
        self.names: tuple[str, ...] = tuple(name for name, _p in self.binds)
        self.processed: tuple[tuple[int, Callable[[Any], Any]], ...] = tuple(
            (i, p) for i, (_n, p) in enumerate(self.binds) if p is not None
        )
        self.rows = bool(compiled._result_columns)
        results: list[_Processor] = []
        self.keys: tuple[str, ...] = tuple(c.keyname for c in compiled._result_columns)
        for column in compiled._result_columns:
            results.append(column.type._cached_result_processor(dialect, None))
        # Only the columns whose type converts (a datetime stored as text, a boolean).
        self.results: list[tuple[int, Callable[[Any], Any]]] = [
            (i, p) for i, p in enumerate(results) if p is not None
        ]

    def parameters(self, params: dict[str, Any]) -> tuple[Any, ...]:
        """The values in the compiled order, each through its type's bind processor; a
        value the caller gives wins over the statement's own literal (``fixed``)."""
        fixed = self.fixed
        given = {**fixed, **params} if fixed else params
        out = [given[name] for name in self.names]  # (KeyError: a parameter not given)
        for at, convert in self.processed:
            value = out[at]
            if value is not None:
                out[at] = convert(value)
        return tuple(out)


class Prepared:
    """One statement, compiled once per dialect; see the module docstring."""

    __slots__ = ("_by_dialect", "_last", "statement")

    def __init__(self, statement: Any) -> None:
        self.statement = statement
        self._last: tuple[Dialect | None, _Compiled | None] = (None, None)
        # id(dialect) → (that dialect, its compiled form). The dialect is kept and checked:
        # an id is reused once its object is gone, and a process with two engines (the
        # tests: SQLite, then PostgreSQL) was served SQLite's «?» text on asyncpg.
        self._by_dialect: dict[tuple[int, bool], tuple[Dialect, _Compiled | None]] = {}

    def _compiled(self, dialect: Dialect, many: bool = False) -> _Compiled | None:
        """The statement compiled for this dialect (``many``: for asyncpg's executemany);
        None: it runs through SQLAlchemy."""
        if not many:
            last = self._last
            if last[0] is dialect:
                return last[1]
        key = (id(dialect), many)
        entry = self._by_dialect.get(key)
        if entry is not None and entry[0] is dialect:
            if not many:
                self._last = entry
            return entry[1]
        try:
            found: _Compiled | None = _Compiled(self.statement, dialect, many=many)
        except _Unsupported:
            found = None
        self._by_dialect[key] = (dialect, found)
        if not many:
            self._last = (dialect, found)
        return found

    def _inloop(self, conn: AsyncConnection) -> tuple[Any, InloopConnection, _Compiled] | None:
        """The in-loop driver's path in one look: the sync connection, the driver
        connection (inside a transaction that holds the write gate, begun now without
        waiting when none is open) and the compiled form; None: the general path below
        decides (it waits for the gate, or runs the statement through SQLAlchemy)."""
        if conn.__class__ is not InloopAsyncConnection:
            return None
        sync = conn.sync_connection
        if sync is None:
            return None
        if sync._transaction is None and not conn.begin_direct():
            return None
        adapt = _direct_sync(sync)
        if adapt is None:
            return None
        compiled = self._compiled(sync.dialect)
        if compiled is None:
            return None
        return sync, adapt, compiled

    async def rows(
        self, conn: AsyncConnection, params: dict[str, Any]
    ) -> Sequence[tuple[Any, ...]]:
        """The statement's rows (tuples, in the select's column order)."""
        inloop = self._inloop(conn)
        if inloop is not None:
            rows: list[tuple[Any, ...]] = _execute(*inloop, params)
            return rows
        cursor = await self._on_asyncpg(conn, params)
        if cursor is not None:
            return self._processed(conn.dialect, cursor._rows)
        adapt = await _direct(conn)
        if adapt is None or self._compiled(conn.dialect) is None:
            return [tuple(row) for row in (await conn.execute(self.statement, params)).all()]
        return self._run(conn, adapt, params)

    async def records(self, conn: AsyncConnection, params: dict[str, Any]) -> list[RowView]:
        """The statement's rows by column name (what ``result.mappings()`` gives)."""
        inloop = self._inloop(conn)
        if inloop is not None:
            keys = inloop[2].keys
            return [RowView(zip(keys, row, strict=True)) for row in _execute(*inloop, params)]
        cursor = await self._on_asyncpg(conn, params)
        if cursor is not None:
            keys = self._keys(conn.dialect)
            rows = self._processed(conn.dialect, cursor._rows)
            return [RowView(zip(keys, row, strict=True)) for row in rows]
        adapt = await _direct(conn)
        compiled = self._compiled(conn.dialect) if adapt is not None else None
        if adapt is None or compiled is None:
            result = await conn.execute(self.statement, params)
            return [RowView(m) for m in result.mappings()]
        keys = compiled.keys
        return [RowView(zip(keys, row, strict=True)) for row in self._run(conn, adapt, params)]

    async def run(self, conn: AsyncConnection, params: dict[str, Any]) -> None:
        """Execute a statement that returns no rows (an INSERT, an upsert)."""
        inloop = self._inloop(conn)
        if inloop is not None:
            _execute(*inloop, params)
            return
        if await self._on_asyncpg(conn, params) is not None:
            return
        adapt = await _direct(conn)
        if adapt is None or self._compiled(conn.dialect) is None:
            await conn.execute(self.statement, params)
            return
        self._run(conn, adapt, params)

    async def count(self, conn: AsyncConnection, params: dict[str, Any]) -> int:
        """Execute a write and return how many rows it changed (a conditional UPDATE's
        verdict, an INSERT … ON CONFLICT DO NOTHING's 0 or 1)."""
        if _single_statement(conn):
            alone = self._run_alone(conn, params)
            if alone is not None:
                return alone
        cursor = await self._on_asyncpg(conn, params)
        if cursor is not None:
            return int(cursor.rowcount)
        adapt = await _direct(conn)
        if adapt is None or self._compiled(conn.dialect) is None:
            return int((await conn.execute(self.statement, params)).rowcount)
        counted: int = self._run_on(conn.sync_connection, adapt, params, count=True)
        return counted

    async def run_many(self, conn: AsyncConnection, many: Sequence[dict[str, Any]]) -> None:
        """Execute a statement that returns no rows once per parameter set, as one
        ``executemany`` (what ``conn.execute(statement, [..])`` sends: one statement event)."""
        if await self._on_asyncpg(conn, many, many=True) is not None:
            return
        adapt = await _direct(conn)
        compiled = self._compiled(conn.dialect) if adapt is not None else None
        if adapt is None or compiled is None or compiled.rows:
            await conn.execute(self.statement, list(many))
            return
        sync: Any = conn.sync_connection
        sql = compiled.sql
        try:
            values = [compiled.parameters(params) for params in many]
        except KeyError as missing:
            raise exc.ArgumentError(f"Prepared: parameter {missing} not given") from None
        cursor = adapt._raw.cursor()
        try:
            _on_cursor(sync, adapt, cursor, sql, values, many=True)
        finally:
            cursor.close()

    async def _on_asyncpg(self, conn: AsyncConnection, params: Any, *, many: bool = False) -> Any:
        """On asyncpg: the statement run on the driver's cursor (storage/prepared_pg.py),
        the cursor returned; None when it runs the usual way (another driver, a
        statement that does not compile to a fixed form, a connection in another state)."""
        dialect = conn.dialect
        if dialect.driver != "asyncpg":
            return None
        compiled = self._compiled(dialect, many)
        if compiled is None or (many and (compiled.rows or not params)):
            return None
        adapt = prepared_pg.asyncpg_adapter(conn)
        if adapt is None:
            return None
        try:
            if many:
                values: Any = [compiled.parameters(p) for p in params]
            else:
                values = compiled.parameters(params)
        except KeyError as missing:
            raise exc.ArgumentError(f"Prepared: parameter {missing} not given") from None
        return await prepared_pg.execute(conn, adapt, compiled.sql, values, many=many)

    def _keys(self, dialect: Dialect) -> tuple[str, ...]:
        compiled = self._compiled(dialect)
        assert compiled is not None  # the callers ran it compiled
        return compiled.keys

    def _processed(self, dialect: Dialect, fetched: Any) -> list[tuple[Any, ...]]:
        """The driver's rows as tuples through the columns' result processors."""
        compiled = self._compiled(dialect)
        assert compiled is not None  # the callers ran it compiled
        results = compiled.results
        if not results:
            return [tuple(row) for row in fetched]
        out = []
        for row in fetched:
            cells = list(row)
            for at, process in results:
                value = cells[at]
                if value is not None:
                    cells[at] = process(value)
            out.append(tuple(cells))
        return out

    def _run_alone(self, conn: AsyncConnection, params: dict[str, Any]) -> int | None:
        """A write on a single-statement connection (no transaction: storage/db.py
        SINGLE_STATEMENT, e.g. the mark after a reply) on the driver's cursor, holding the
        write gate for it, when the gate is free now and SQLite's lock too; its rowcount.
        None: not run (the gate is taken, another process writes): the usual way waits.
        (SQLITE_BUSY means the statement did nothing, so it can go the usual way then.)"""
        assert isinstance(conn, InloopAsyncConnection)
        sync: Any = conn.sync_connection
        adapt = conn._adapter()
        compiled = self._compiled(sync.dialect)
        if adapt is None or compiled is None or compiled.rows or not adapt.take_gate_now():
            return None
        try:
            counted: int = self._run_on(sync, adapt, params, count=True)
        except exc.DBAPIError as error:
            if isinstance(error.orig, sqlite3.OperationalError) and _is_busy(error.orig):
                return None
            raise
        finally:
            adapt._settle()
        return counted

    def run_sync(self, sync: Any, params: dict[str, Any]) -> None:
        """The same from a sync listener (inside SQLAlchemy's greenlet or the direct path)."""
        adapt = _direct_sync(sync)
        if adapt is None or self._compiled(sync.dialect) is None:
            sync.execute(self.statement, params)
            return
        self._run_on(sync, adapt, params)

    def _run(
        self, conn: AsyncConnection, adapt: InloopConnection, params: dict[str, Any]
    ) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = self._run_on(conn.sync_connection, adapt, params)
        return rows

    def _run_on(
        self, sync: Any, adapt: InloopConnection, params: dict[str, Any], count: bool = False
    ) -> Any:
        compiled = self._compiled(sync.dialect)
        assert compiled is not None  # the callers checked
        return _execute(sync, adapt, compiled, params, count)


def _execute(
    sync: Any,
    adapt: InloopConnection,
    compiled: _Compiled,
    params: dict[str, Any],
    count: bool = False,
) -> Any:
    """One statement on the driver's cursor: its rows (processed), or its rowcount."""
    sql = compiled.sql
    try:
        values = compiled.parameters(params)
    except KeyError as missing:
        raise exc.ArgumentError(f"Prepared: parameter {missing} not given") from None
    cursor = adapt._raw.cursor()
    try:
        _on_cursor(sync, adapt, cursor, sql, values, many=False)
        if count:
            return cursor.rowcount
        if not compiled.rows:
            return []
        fetched = cursor.fetchall()
    finally:
        cursor.close()
    results = compiled.results
    if not results:
        return fetched
    out = []
    for row in fetched:
        cells = list(row)
        for at, process in results:
            value = cells[at]
            if value is not None:
                cells[at] = process(value)
        out.append(tuple(cells))
    return out


def _on_cursor(
    sync: Any, adapt: InloopConnection, cursor: Any, sql: str, values: Any, *, many: bool
) -> None:
    """One statement on the driver's cursor as SQLAlchemy would run it: the same cursor
    events around it (the statement counters, the read memo) and the driver's error
    wrapped in SQLAlchemy's type, so callers catch what they always caught."""
    events = sync._has_events or sync.engine._has_events
    if events:
        sync.dispatch.before_cursor_execute(sync, cursor, sql, values, None, many)
    try:
        if many:
            cursor.executemany(sql, values)
        else:
            cursor.execute(sql, values)
    except adapt.dbapi.Error as error:
        raise exc.DBAPIError.instance(
            sql, values, error, adapt.dbapi.Error, dialect=sync.dialect
        ) from error
    if events:
        after = sync.dispatch.after_cursor_execute
        if after:  # (no listener: nothing to call; the benchmark's counters listen)
            after(sync, cursor, sql, values, None, many)


_PREPARED: dict[int, Prepared] = {}


def prepared(statement: Any) -> Prepared:
    """The Prepared form of a statement built once (a module constant or a cached builder)."""
    found = _PREPARED.get(id(statement))
    if found is None or found.statement is not statement:
        found = _PREPARED[id(statement)] = Prepared(statement)
    return found


def _single_statement(conn: AsyncConnection) -> bool:
    """An in-loop connection that opens no transaction (storage/db.py SINGLE_STATEMENT)."""
    if not isinstance(conn, InloopAsyncConnection):
        return False
    sync = conn.sync_connection
    return (
        sync is not None
        and sync._transaction is None
        and bool(sync._execution_options.get(SINGLE_STATEMENT))
    )


def _direct_sync(sync: Any) -> InloopConnection | None:
    if sync is None or sync._transaction is None:
        return None
    fairy = sync._dbapi_connection
    adapt = fairy.dbapi_connection if fairy is not None else None
    if (
        isinstance(adapt, InloopConnection)
        and adapt._gate is not None
        and adapt._raw.in_transaction
    ):
        return adapt
    return None


async def _direct(conn: AsyncConnection) -> InloopConnection | None:
    """The in-loop driver connection when this statement may go to its cursor directly:
    inside a transaction that holds the write gate (the transaction opened first, as
    SQLAlchemy's autobegin would: BEGIN IMMEDIATE through the engine)."""
    if not isinstance(conn, InloopAsyncConnection):
        return None
    sync = conn.sync_connection
    if sync is None:
        return None
    if sync._transaction is None and not conn.begin_direct():
        await conn.begin()  # what the statement's autobegin would do (storage/db.py _on_begin)
    return _direct_sync(sync)
