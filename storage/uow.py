"""Unit of work: one connection and one transaction, explicit commit, rollback on exit.

The connection of the unit of work of the current update is published in a
context variable, so the database FSM storage (storage/fsm.py) writes the
dialogue state in the same transaction as the business data: a booking and
the step the user is on commit or roll back together.
"""

from __future__ import annotations

import atexit
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.asyncpg_conn import AsyncpgConnection
from storage.crypto import PersonalDataCipher
from storage.db import SINGLE_STATEMENT
from storage.inloop_async import InloopAsyncConnection
from storage.memo import FSM_PENDING, READ_MEMO, flush_fsm, watch
from storage.repos.base import Repository

if TYPE_CHECKING:
    from domain.flow_ports import SectionsUnitOfWork
    from storage.repos.appointments import AppointmentRepository
    from storage.repos.certificates import CertificateRepository
    from storage.repos.directory import DirectoryRepository
    from storage.repos.documents import DocumentRepository
    from storage.repos.family import FamilyRepository
    from storage.repos.journal import JournalRepository
    from storage.repos.journal_view import JournalViewRepository
    from storage.repos.notify_prefs import NotifyPrefsRepository
    from storage.repos.outbox import OutboxRepository
    from storage.repos.records import RecordsRepository
    from storage.repos.reviews import ReviewRepository
    from storage.repos.staff import StaffRepository
    from storage.repos.support_feeds import CalendarFeedRepository
    from storage.repos.tickets import TicketRepository
    from storage.repos.users import UserRepository
    from storage.repos.waitlist import WaitListRepository

_Repo = TypeVar("_Repo", bound=Repository)

current_connection: ContextVar[AsyncConnection | None] = ContextVar(
    "zapis_current_connection", default=None
)
# The dialogue rows (fsm_states) this unit of work has read or written, by key:
# the FSM storage reads a row once per update instead of on every get_state /
# get_data / update_data (see storage/fsm.py). Dropped on rollback.
current_fsm_rows: ContextVar[dict[str, tuple[str | None, str] | None] | None] = ContextVar(
    "zapis_current_fsm_rows", default=None
)


class IdleConnections:
    """In-loop SQLite connections that one unit of work hands on to the next, checked out.

    Every unit of work took a connection from the pool and gave it back: SQLAlchemy's
    checkout (the pool's record, its proxy and weak reference, a ``Connection`` and
    its async proxy) and check-in (the pool's reset, the queue) cost ~40 µs of an
    update on the in-loop driver, where the connection itself is a local file handle.
    Per engine, up to ``MAX`` connections that units of work left *clean* — no
    transaction, no write gate, no savepoint, no execution option, not invalidated (a
    connection left otherwise is closed the usual way) — are kept, and the next unit of
    work starts on one. Such a connection holds nothing on SQLite (WAL: no snapshot, no
    lock outside a transaction), exactly like one waiting in the pool.

    Kept connections go back to the pool when the engine is disposed (its
    ``engine_disposed`` event: the file's WAL is checkpointed as on any last close), when
    more than ``MAX_ENGINES`` engines have kept some (tests), and at exit — never left to
    the garbage collector, which SQLAlchemy warns about. One whose pool was replaced or
    invalidated meanwhile is closed instead of used. Only the in-loop driver: on asyncpg
    and aiosqlite a unit of work takes a connection from the pool as before.
    """

    MAX = 2
    __slots__ = ("closed", "conns")

    def __init__(self) -> None:
        self.conns: list[InloopAsyncConnection] = []
        self.closed = False

    def take(self, engine: AsyncEngine) -> InloopAsyncConnection | None:
        conns = self.conns
        while conns:
            conn = conns.pop()
            if _clean(conn) and _current(conn, engine.sync_engine):
                return conn
            _give_back(conn)
        return None

    def keep(self, conn: AsyncConnection) -> bool:
        """Keep ``conn`` for the next unit of work; False: not kept (close it)."""
        if (
            self.closed
            or len(self.conns) >= self.MAX
            or not isinstance(conn, InloopAsyncConnection)
            or not _clean(conn)
        ):
            return False
        self.conns.append(conn)
        return True

    def close(self) -> None:
        """Every kept connection back to its pool (or closed: see _give_back); none kept
        from now on."""
        self.closed = True
        while self.conns:
            _give_back(self.conns.pop())


def _clean(conn: InloopAsyncConnection) -> bool:
    sync = conn.sync_connection
    if (
        sync is None
        or sync.closed
        or sync.invalidated
        or sync._transaction is not None
        or sync._nested_transaction is not None
        or sync._execution_options
    ):
        return False
    adapt = conn._adapter()
    return (
        adapt is not None
        and adapt._gate is None
        and not adapt._direct
        and not adapt._raw.in_transaction
    )


def _current(conn: InloopAsyncConnection, engine: Engine) -> bool:
    """Still a connection of the engine's pool, not older than its last invalidation."""
    try:
        fairy: Any = conn.sync_connection._dbapi_connection  # type: ignore[union-attr]
        pool: Any = engine.pool
        record = fairy._connection_record
        return bool(
            fairy._pool is pool
            and record is not None
            and record.starttime >= pool._invalidate_time
            and record.starttime >= record._soft_invalidate_time
        )
    except AttributeError:  # (anything unexpected in SQLAlchemy's make-up: not reused)
        return False


def _give_back(conn: InloopAsyncConnection) -> None:
    """Check a kept connection in (a clean one: the pool's reset has nothing to undo);
    one whose pool the engine replaced (``dispose``) is closed at once instead of
    waiting in the discarded pool."""
    sync = conn.sync_connection
    if sync is None or sync.closed:
        return
    if sync.invalidated or not _current(conn, conn.sync_engine):
        sync.detach()  # (a detached connection is closed when checked in)
    sync.close()


# Per engine, its kept connections (strongly: given back, never collected; see above).
_IDLE: dict[Engine, IdleConnections] = {}
MAX_ENGINES = 4


def idle_connections(engine: AsyncEngine) -> IdleConnections:
    """The engine's kept connections (registered on first use)."""
    sync = engine.sync_engine
    found = _IDLE.get(sync)
    if found is None:
        if len(_IDLE) >= MAX_ENGINES:  # (the oldest engine's go back to its pool)
            _IDLE.pop(next(iter(_IDLE))).close()
        found = _IDLE[sync] = IdleConnections()
        if not event.contains(sync, "engine_disposed", _on_dispose):
            event.listen(sync, "engine_disposed", _on_dispose)
    return found


def _on_dispose(engine: Engine) -> None:
    idle = _IDLE.pop(engine, None)
    if idle is not None:
        idle.close()


@atexit.register
def _give_all_back() -> None:
    while _IDLE:
        _IDLE.popitem()[1].close()


class SqlUnitOfWork:
    def __init__(
        self, engine: AsyncEngine, cipher: PersonalDataCipher, *, single_statements: bool = False
    ) -> None:
        self.engine = engine
        self.cipher = cipher
        # Each statement its own transaction (SQLite: no BEGIN; storage/db.py): for work
        # that is one statement anyway (after_reply(..., one_statement=True) jobs).
        self.single_statements = single_statements
        self._conn: AsyncConnection | None = None
        self._token: object | None = None
        self._rows_token: object | None = None
        self.fsm_rows: dict[str, tuple[str | None, str] | None] = {}
        self.directory_memo: dict[tuple[str, int], object] = {}  # see DirectoryRepository.memo
        # storage/memo.py: rows read once until the next write; the dialogue state written
        # once, at commit.
        self.read_memo: dict[object, object] = {}
        self.fsm_pending: dict[str, dict[str, object]] = {}
        # Issue 11: the booking services' port to a remote schedule owner (None = local only).
        self.schedule_remote: object | None = None
        # Work that must wait until the update's replies went out (see after_reply).
        self.after_replies: list[Callable[[Any], Awaitable[object]]] = []
        self.after_replies_one_statement = True  # every job registered is one statement
        # The factory's connections kept between units of work (in-loop SQLite only).
        self.idle: IdleConnections | None = None
        self._options: Any = None
        # The hot repositories built on this connection (see ``users``): dropped with it.
        self._repos: dict[type, Any] = {}

    async def __aenter__(self) -> SqlUnitOfWork:
        self._repos.clear()
        watch(self.engine)
        driver = self.engine.dialect.driver
        if driver == "zapis":  # statements in a transaction: no greenlet
            idle = self.idle
            kept = idle.take(self.engine) if idle is not None else None
            self._conn = kept if kept is not None else await InloopAsyncConnection(self.engine)
        elif driver == "asyncpg":  # the checkout and the return: no greenlet when idle
            self._conn = await AsyncpgConnection(self.engine)
        else:
            self._conn = await self.engine.connect()
        if self.single_statements:
            # (Sets an option of ours on the connection: nothing for the driver to await.)
            sync: Any = self._conn.sync_connection
            self._options = sync._execution_options  # (put back at the end)
            sync.execution_options(**{SINGLE_STATEMENT: True})
        info = self._conn.sync_connection.info  # type: ignore[union-attr]
        info[READ_MEMO] = self.read_memo
        info[FSM_PENDING] = self.fsm_pending
        self._token = current_connection.set(self._conn)
        self._rows_token = current_fsm_rows.set(self.fsm_rows)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn = self._conn
        self._conn = None
        self._repos.clear()
        if self._token is not None:
            current_connection.reset(self._token)  # type: ignore[arg-type]
            self._token = None
        if self._rows_token is not None:
            current_fsm_rows.reset(self._rows_token)  # type: ignore[arg-type]
            self._rows_token = None
        self.fsm_rows.clear()
        self.read_memo.clear()
        self.fsm_pending.clear()  # not committed: never written
        if conn is not None:
            if not conn.invalidated:
                # (A connection lost mid-update — PostgreSQL restarted, pg_terminate_backend —
                # has no DBAPI connection left to hold these, and asking for it would raise
                # PendingRollbackError over the real error and skip the close below.)
                info = conn.sync_connection.info  # type: ignore[union-attr]
                info.pop(READ_MEMO, None)
                info.pop(FSM_PENDING, None)
            try:
                if conn.in_transaction():
                    await conn.rollback()
            finally:
                if self.single_statements and not conn.invalidated:
                    # (The option this unit of work set: gone, so the connection is clean.)
                    sync: Any = conn.sync_connection
                    sync._execution_options = self._options
                idle = self.idle
                if idle is None or not idle.keep(conn):
                    await conn.close()

    @property
    def conn(self) -> AsyncConnection:
        if self._conn is None:
            raise RuntimeError("unit of work used outside 'async with'")
        return self._conn

    async def commit(self) -> None:
        if self.fsm_pending:
            await flush_fsm(self.conn)  # (a commit from elsewhere flushes in storage/memo.py)
        if self.conn.in_transaction():
            await self.conn.commit()

    async def rollback(self) -> None:
        self.fsm_rows.clear()  # what was written is gone; read the rows again
        self.read_memo.clear()
        self.fsm_pending.clear()
        if self.conn.in_transaction():
            await self.conn.rollback()

    def after_reply(
        self, job: Callable[[Any], Awaitable[object]], *, one_statement: bool = False
    ) -> None:
        """Run ``job(uow)`` in a fresh unit of work once this update's replies have gone
        out (bot/middlewares/database.py), never when they failed or the update rolled
        back: e.g. «the confirmation was said in the chat», so the outbox does not say it
        again — but does when the chat never heard it.

        ``one_statement``: the job is a single statement (atomic by itself); when every
        job is, that unit of work opens no transaction around them (one BEGIN less)."""
        self.after_replies.append(job)
        self.after_replies_one_statement &= one_statement

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        """A part of the update's transaction that an exception undoes alone (SAVEPOINT).

        For a service that writes and may still refuse, when its caller shows the
        refusal on a screen of its own and the update goes on to commit (a move whose
        old visit changed meanwhile): the refusal leaves nothing behind, the rest of
        the update stands. Released (kept) when the block ends normally.
        """
        nested = await self.conn.begin_nested()
        try:
            yield
        except BaseException:
            if nested.is_active:
                await nested.rollback()
            raise
        if nested.is_active:
            await nested.commit()

    # Repositories are built on first use. The hot ones are kept for the rest of the unit
    # of work (they hold only its connection and cipher, no state of their own; dropped
    # when it ends): «Подтвердить» asked for ``appointments`` five times, each a new
    # object.
    def _kept(self, cls: type[_Repo]) -> _Repo:
        repo = self._repos.get(cls)
        if repo is None:
            repo = self._repos[cls] = cls(self.conn, self.cipher)
        return repo

    @property
    def users(self) -> UserRepository:
        from storage.repos.users import UserRepository

        return self._kept(UserRepository)

    @property
    def directory(self) -> DirectoryRepository:
        from storage.repos.directory import DirectoryRepository

        repo = self._kept(DirectoryRepository)
        repo.memo = self.directory_memo
        return repo

    @property
    def appointments(self) -> AppointmentRepository:
        from storage.repos.appointments import AppointmentRepository

        return self._kept(AppointmentRepository)

    @property
    def journal(self) -> JournalRepository:
        from storage.repos.journal import JournalRepository

        return self._kept(JournalRepository)

    @property
    def outbox(self) -> OutboxRepository:
        from storage.repos.outbox import OutboxRepository

        return self._kept(OutboxRepository)

    @property
    def waitlist(self) -> WaitListRepository:
        from storage.repos.waitlist import WaitListRepository

        return WaitListRepository(self.conn, self.cipher)

    @property
    def family(self) -> FamilyRepository:
        from storage.repos.family import FamilyRepository

        return FamilyRepository(self.conn, self.cipher)

    @property
    def records(self) -> RecordsRepository:
        from storage.repos.records import RecordsRepository

        return RecordsRepository(self.conn, self.cipher)

    @property
    def documents(self) -> DocumentRepository:
        from storage.repos.documents import DocumentRepository

        return DocumentRepository(self.conn, self.cipher)

    @property
    def certificates(self) -> CertificateRepository:
        from storage.repos.certificates import CertificateRepository

        return CertificateRepository(self.conn, self.cipher)

    @property
    def staff(self) -> StaffRepository:
        from storage.repos.staff import StaffRepository

        return StaffRepository(self.conn, self.cipher)

    @property
    def notify_prefs(self) -> NotifyPrefsRepository:
        from storage.repos.notify_prefs import NotifyPrefsRepository

        return NotifyPrefsRepository(self.conn, self.cipher)

    # Issue 10 (support): tickets, reviews, calendar subscriptions.
    @property
    def tickets(self) -> TicketRepository:
        from storage.repos.tickets import TicketRepository

        return TicketRepository(self.conn, self.cipher)

    @property
    def reviews(self) -> ReviewRepository:
        from storage.repos.reviews import ReviewRepository

        return ReviewRepository(self.conn, self.cipher)

    @property
    def journal_view(self) -> JournalViewRepository:
        from storage.repos.journal_view import JournalViewRepository

        return JournalViewRepository(self.conn, self.cipher)

    @property
    def calendar_feeds(self) -> CalendarFeedRepository:
        from storage.repos.support_feeds import CalendarFeedRepository

        return CalendarFeedRepository(self.conn, self.cipher)


if TYPE_CHECKING:  # the sections' flows type their uow against this Protocol (domain/)

    def _implements_sections(uow: SqlUnitOfWork) -> SectionsUnitOfWork:
        return uow


class UnitOfWorkFactory:
    """What handlers and jobs receive: ``async with uow_factory() as uow: ...``."""

    def __init__(self, engine: AsyncEngine, cipher: PersonalDataCipher) -> None:
        self.engine = engine
        self.cipher = cipher
        self.schedule_remote: object | None = None  # set by bot/sources/wiring.py
        # (In-loop SQLite: connections kept between units of work, IdleConnections.)
        self.keeps_connections = engine.dialect.driver == "zapis"

    def __call__(self, *, single_statements: bool = False) -> SqlUnitOfWork:
        uow = SqlUnitOfWork(self.engine, self.cipher, single_statements=single_statements)
        uow.schedule_remote = self.schedule_remote
        if self.keeps_connections:
            uow.idle = idle_connections(self.engine)
        return uow
