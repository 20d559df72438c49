"""Engine factory: one place that knows the differences between SQLite and PostgreSQL."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.dialects import registry
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

SQLITE_BUSY_TIMEOUT_MS = 30_000
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
    pool_size: int = 10,
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
            max_overflow=20,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        )
        _configure_sqlite(engine)
        return engine
    # pre_ping: a pooled connection PostgreSQL has dropped (restart, failover, idle
    # timeout, pg_terminate_backend) is replaced before use, so the first update after
    # that does not fail. Pool: an update holds one connection for its transaction
    # (~2 ms), so 10 carry ~40 updates in flight per process with room for the
    # notifier's claim/mark and the wait-list job; 20 overflow absorb a burst. N
    # processes hold at most N × 30 — three fit PostgreSQL's default 100 (issue 12).
    # ``pre_ping=False``: the bot's run modes (bot/live.py) — a ping is three round trips
    # (BEGIN; SELECT; ROLLBACK) at every checkout; there an update that meets a dropped
    # connection is run again (bot/middlewares/update_attempt.py) and the first such
    # error invalidates the whole pool.
    return create_async_engine(
        url, echo=echo, pool_size=pool_size, max_overflow=20, pool_pre_ping=pre_ping
    )


def _configure_sqlite(engine: AsyncEngine) -> None:
    inloop = engine.dialect.driver == "zapis"

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let us emit BEGIN ourselves (pysqlite's implicit BEGIN is DEFERRED).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # The in-loop driver must never let SQLite sleep in the loop thread: it
        # connects with a busy timeout of 0 and waits asynchronously itself
        # (storage/sqlite_inloop.py), for the same SQLITE_BUSY_TIMEOUT_MS.
        busy_ms = 0 if inloop else SQLITE_BUSY_TIMEOUT_MS
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get(SINGLE_STATEMENT):
            return  # each statement is its own transaction (sqlite3 autocommit)
        conn.exec_driver_sql("BEGIN IMMEDIATE")
