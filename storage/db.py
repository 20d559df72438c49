"""Engine factory: one place that knows the differences between SQLite and PostgreSQL."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.dialects import registry
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.util.concurrency import await_

from storage.sqlite_inloop import InloopConnection
from storage.wal_checkpoint import SAFETY_NET_PAGES, checkpoint_in_thread

SQLITE_BUSY_TIMEOUT_MS = 30_000
# SQLite's page cache per connection, KiB (its default is 2,000). Every pooled connection
# fills its own (POOL_SIZE + MAX_OVERFLOW of them under a burst); on the Moscow directory
# (bench/README-moscow.md, 1.5 GB) the hot queries read index ranges at random, so a
# 2 MB cache served them no faster than 512 KB (same p50 and CPU per query, alternating
# runs) while each connection held 2 MiB of the process; the OS page cache keeps the file.
SQLITE_CACHE_KIB = 512
# "inloop": sqlite3 in the event-loop thread (storage/sqlite_inloop.py);
# "aiosqlite": a worker thread per connection. Settings.sqlite_driver passes it
# explicitly; the environment variable is the default for every other caller.
SQLITE_DRIVER_ENV = "ZAPIS_SQLITE_DRIVER"
DEFAULT_SQLITE_DRIVER = "inloop"

registry.register("sqlite.zapis", "storage.sqlite_inloop", "Dialect")

# Execution option: a connection that runs single statements only (the FSM row read
# before the update's unit of work opens) opens no transaction on SQLite — one
# statement is atomic by itself, and the BEGIN IMMEDIATE would be a statement more.
SINGLE_STATEMENT = "zapis_single_statement"

# Connections per process (issue 12; bench/README-rush.md «Connection pools»). An update
# holds one connection for its transaction only (a few ms), so by Little's law a process
# doing 250 updates/s at 4 ms each keeps ~1 busy; 10 cover bursts of ~40 updates in
# flight plus the notifier (its claim, the next batch's claim and the flusher: 3) and
# the wait-list job (1). The overflow opens up to 20 more for a burst and closes them
# when it passes. PostgreSQL must allow processes × (POOL_SIZE + MAX_OVERFLOW) plus what
# operators and migrations use: 3 processes × 30 = 90 of the default max_connections
# 100; more processes need a larger max_connections or a smaller overflow.
POOL_SIZE = 10
MAX_OVERFLOW = 20


def is_sqlite(engine_or_url: AsyncEngine | str) -> bool:
    url = engine_or_url if isinstance(engine_or_url, str) else str(engine_or_url.url)
    return url.startswith("sqlite")


def sqlite_inloop_default() -> bool:
    """Whether SQLite engines run in the loop thread when the caller does not say."""
    value = os.environ.get(SQLITE_DRIVER_ENV, DEFAULT_SQLITE_DRIVER).strip().lower()
    if value not in ("inloop", "aiosqlite"):
        raise ValueError(f"{SQLITE_DRIVER_ENV} must be 'inloop' or 'aiosqlite', not {value!r}")
    return value == "inloop"


def sqlite_url_for(url: str, *, inloop: bool | None = None) -> str:
    """The SQLite URL with the chosen driver (``sqlite+aiosqlite://`` ⇄ ``sqlite+zapis://``).

    Either spelling is accepted everywhere; ``inloop`` (default: the
    environment, see :func:`sqlite_inloop_default`) decides which driver runs.
    """
    parsed = make_url(url)
    if inloop is None:
        inloop = sqlite_inloop_default()
    driver = "sqlite+zapis" if inloop else "sqlite+aiosqlite"
    return parsed.set(drivername=driver).render_as_string(hide_password=False)


def create_engine(
    url: str,
    *,
    echo: bool = False,
    pool_size: int = POOL_SIZE,
    max_overflow: int = MAX_OVERFLOW,
    inloop: bool | None = None,
    pre_ping: bool = True,
) -> AsyncEngine:
    """Build the async engine.

    SQLite: WAL (readers never block the writer), a busy timeout, and every
    transaction opened with ``BEGIN IMMEDIATE`` so that a transaction which
    read first and writes later waits for the write lock instead of failing
    with SQLITE_BUSY_SNAPSHOT — the failure mode that would otherwise turn a
    lost booking race into an error instead of a clean «уже заняли».
    ``inloop`` picks the SQLite driver (None: ``ZAPIS_SQLITE_DRIVER``, default
    in-loop); the same setup applies to both.
    """
    if url.startswith("sqlite"):
        url = sqlite_url_for(url, inloop=inloop)
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(
            url,
            echo=echo,
            pool_size=pool_size,
            pool_use_lifo=True,
            max_overflow=max_overflow,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        )
        _configure_sqlite(engine)
        return engine
    # pre_ping: a pooled connection PostgreSQL has dropped (restart, failover, idle
    # timeout, pg_terminate_backend) is replaced before use, so the first update after
    # that does not fail (one round trip, see _ping_asyncpg). Pool sizes: see POOL_SIZE.
    # ``pre_ping=False``: the bot's run modes (bot/live.py) — there an update that meets
    # a dropped connection is run again (bot/middlewares/update_attempt.py) and the first
    # such error invalidates the whole pool, so no round trip is spent at each checkout.
    engine = create_async_engine(
        url, echo=echo, pool_size=pool_size, max_overflow=max_overflow, pool_pre_ping=pre_ping
    )
    if engine.dialect.driver == "asyncpg":
        engine.dialect.do_ping = _ping_asyncpg  # type: ignore[method-assign]
    return engine


def _ping_asyncpg(dbapi_connection: Any) -> bool:
    """The pool's pre-ping in one round trip instead of three.

    SQLAlchemy's asyncpg ping wraps its ``;`` in BEGIN … ROLLBACK (for
    pgbouncer's transaction mode, which we do not use): three round trips
    before every checkout — before every update's transaction and every group
    of the notifier's marks. A connection asyncpg already knows is closed
    (the server's FATAL after ``pg_terminate_backend`` or a restart arrived)
    fails without any; the rest answer one ``SELECT 1`` (simple query protocol). A failure is raised as the
    driver's error, so the pool sees a disconnect and connects anew.
    """
    from asyncpg.exceptions import ConnectionDoesNotExistError

    try:
        connection = dbapi_connection._connection
        if connection.is_closed():
            raise ConnectionDoesNotExistError("connection was closed")
        await_(connection.execute("SELECT 1"))
    except Exception as error:
        dbapi_connection._handle_exception(error)
    return True


def _configure_sqlite(engine: AsyncEngine) -> None:
    inloop = engine.dialect.driver == "zapis"

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let us emit BEGIN ourselves (pysqlite's implicit BEGIN is DEFERRED).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        mode = cursor.fetchone()
        wal = mode is not None and str(mode[0]).lower() == "wal"  # (":memory:" stays "memory")
        if isinstance(dbapi_connection, InloopConnection):
            dbapi_connection.wal = wal
        database = engine.url.database
        if wal and database:
            # Checkpoints run in a thread of their own (storage/wal_checkpoint.py), not in
            # the COMMIT of an update that happens to cross the limit.
            cursor.execute(f"PRAGMA wal_autocheckpoint={SAFETY_NET_PAGES}")
            checkpoint_in_thread(engine.sync_engine, database)
        # The in-loop driver must never let SQLite sleep in the loop thread: it
        # connects with a busy timeout of 0 and waits asynchronously itself
        # (storage/sqlite_inloop.py), for the same SQLITE_BUSY_TIMEOUT_MS.
        busy_ms = 0 if inloop else SQLITE_BUSY_TIMEOUT_MS
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get(SINGLE_STATEMENT):
            return  # each statement is its own transaction (sqlite3 autocommit)
        if inloop:
            driver = conn.connection.dbapi_connection
            if isinstance(driver, InloopConnection):
                driver.begin_immediate(conn)  # the same statement, less machinery
                return
        conn.exec_driver_sql("BEGIN IMMEDIATE")
