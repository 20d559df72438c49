"""What one update reads twice is read once: memos kept honest by watching the writes.

Three things, all tied to the connection of a unit of work (``Connection.info``,
set and cleared by storage/uow.py) and to the engine's statement events:

* **the read memo** — rows a unit of work read that a dialogue may change (the
  user's patients, a slot): kept until the next statement that is not a SELECT
  on that connection (any INSERT/UPDATE/DELETE, a BEGIN, whoever issues it:
  a repository written tomorrow cannot forget to invalidate it);
* **the directory cache** — specialties, clinics and doctors by id, shared by
  the units of work of one engine for ``DIRECTORY_TTL_S``: reference data no
  dialogue changes. A write through this engine that names one of their tables
  before any RETURNING clause (the schedule sources' sync, an import) empties it
  at once; a write by another
  process is seen after the TTL at the latest (a clinic's new phone number a
  minute late; whether a time is free is never cached);
* **the pending dialogue state** — storage/fsm.py writes ``fsm_states`` once per
  update: ``set_state`` and ``update_data`` only record the new values, and one
  upsert goes out when the unit of work's transaction commits (also when it is
  committed from outside the unit of work), nothing when it rolls back.
"""

from __future__ import annotations

import re
import time
import weakref
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.prepared import prepared
from storage.schema import fsm_states

READ_MEMO = "zapis_read_memo"  # Connection.info key: dict, see module docstring
FSM_PENDING = "zapis_fsm_pending"  # Connection.info key: {fsm key: {column: value}}
DIRECTORY_TTL_S = 60.0
DIRECTORY_MAX = 50_000  # entries; emptied when reached (a whole region's doctors fit)
_DIRECTORY_TABLES = re.compile(r"\b(specialties|clinics|doctors)\b", re.IGNORECASE)


class DirectoryCache:
    """Reference rows by (kind, id), shared by one engine's units of work, for a while."""

    def __init__(self, ttl: float = DIRECTORY_TTL_S) -> None:
        self.ttl = ttl
        self.rows: dict[tuple[str, int], Any] = {}
        self.expires = 0.0

    def get(self, key: tuple[str, int]) -> tuple[bool, Any]:
        if time.monotonic() >= self.expires:
            self.rows.clear()
            return False, None
        if key in self.rows:
            return True, self.rows[key]
        return False, None

    def put(self, key: tuple[str, int], value: Any) -> None:
        if not self.rows or len(self.rows) >= DIRECTORY_MAX:
            self.rows.clear()
            self.expires = time.monotonic() + self.ttl
        self.rows[key] = value

    def clear(self) -> None:
        self.rows.clear()
        self.expires = 0.0


_caches: weakref.WeakKeyDictionary[Engine, DirectoryCache] = weakref.WeakKeyDictionary()


def directory_cache(conn: AsyncConnection) -> DirectoryCache | None:
    """The engine's directory cache; None when the engine is not watched (no invalidation)."""
    return _caches.get(conn.sync_engine)


def read_memo(conn: AsyncConnection) -> dict[Any, Any] | None:
    """The unit of work's read memo on this connection (None outside a unit of work)."""
    memo: dict[Any, Any] | None = conn.sync_connection.info.get(READ_MEMO)  # type: ignore[union-attr]
    return memo


def fsm_pending(conn: AsyncConnection) -> dict[str, dict[str, Any]] | None:
    pending: dict[str, dict[str, Any]] | None = conn.sync_connection.info.get(FSM_PENDING)  # type: ignore[union-attr]
    return pending


def watch(engine: AsyncEngine) -> None:
    """Install the statement/commit/rollback listeners once per engine."""
    sync = engine.sync_engine
    if sync in _caches:
        return
    cache = DirectoryCache()
    _caches[sync] = cache
    event.listen(sync, "before_cursor_execute", _on_statement(cache))
    event.listen(sync, "commit", _flush_fsm)
    event.listen(sync, "rollback", _drop_fsm)


# Statement text -> (it writes: not a SELECT, it writes a directory table): most texts
# are the same string objects update after update (SQLAlchemy's compiled cache,
# storage/prepared.py), so each is looked at once, not per execution.
_KINDS: dict[str, tuple[bool, bool]] = {}
MAX_KINDS = 5_000  # texts remembered; emptied when reached (IN lists render new texts)


def statement_kind(statement: str) -> tuple[bool, bool]:
    """(writes, writes the directory) of a statement's text: anything but a SELECT
    writes; a write that names specialties, clinics or doctors before any RETURNING
    clause (what RETURNING names is read: the booking's take returns its slot's clinic
    zone and specialty, storage/repos/booking_sql.py) and is not a BEGIN writes the
    directory."""
    found = _KINDS.get(statement)
    if found is None:
        writes = statement.lstrip()[:6].upper() != "SELECT"
        directory = (
            writes
            and not statement.startswith("BEGIN")
            and _DIRECTORY_TABLES.search(statement.partition(" RETURNING ")[0]) is not None
        )
        if len(_KINDS) >= MAX_KINDS:
            _KINDS.clear()
        found = _KINDS[statement] = (writes, directory)
    return found


def _on_statement(cache: DirectoryCache) -> Callable[..., None]:
    kinds = _KINDS

    def on_statement(conn: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
        writes, directory = kinds.get(statement) or statement_kind(statement)
        if not writes:
            return
        memo = conn.info.get(READ_MEMO)
        if memo:
            memo.clear()
        if directory and cache.rows:
            cache.clear()

    return on_statement


_UPSERTS: dict[tuple[str, tuple[str, ...]], Any] = {}


def _upsert_statement(dialect: str, columns: tuple[str, ...]) -> Any:
    """INSERT … ON CONFLICT (key) DO UPDATE of these columns, built once per dialect and
    column set with bound parameters (so SQLAlchemy's compiled cache serves it; building
    it per call cost more than running it)."""
    found = _UPSERTS.get((dialect, columns))
    if found is None:
        dialect_insert = pg_insert if dialect == "postgresql" else sqlite_insert
        names = ("key", *columns, "updated_at")
        stmt = dialect_insert(fsm_states).values({name: bindparam(name) for name in names})
        found = stmt.on_conflict_do_update(
            index_elements=[fsm_states.c.key],
            set_={name: stmt.excluded[name] for name in (*columns, "updated_at")},
        )
        _UPSERTS[(dialect, columns)] = found
    return found


def fsm_upsert(dialect: str, key: str, values: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """One atomic INSERT … ON CONFLICT DO UPDATE of a dialogue row (both dialects):
    the statement and its parameters."""
    columns = tuple(sorted(values))
    params = {**values, "key": key, "updated_at": datetime.now(UTC).replace(tzinfo=None)}
    return _upsert_statement(dialect, columns), params


async def flush_fsm(conn: AsyncConnection) -> None:
    """The pending dialogue state now (opens the transaction if none is open)."""
    pending = fsm_pending(conn)
    while pending:
        key, values = pending.popitem()
        statement, params = fsm_upsert(conn.dialect.name, key, values)
        await prepared(statement).run(conn, params)


def _flush_fsm(conn: Connection) -> None:
    """Before the transaction commits: the update's dialogue state, one upsert per row."""
    pending = conn.info.get(FSM_PENDING)
    while pending:
        key, values = pending.popitem()
        statement, params = fsm_upsert(conn.dialect.name, key, values)
        prepared(statement).run_sync(conn, params)


def _drop_fsm(conn: Connection) -> None:
    if conn.invalidated:  # lost mid-update: nothing kept on it (and .info would raise)
        return
    pending = conn.info.get(FSM_PENDING)
    if pending:
        pending.clear()
