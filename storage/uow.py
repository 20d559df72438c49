"""Unit of work: one connection and one transaction, explicit commit, rollback on exit.

The connection of the unit of work of the current update is published in a
context variable, so the database FSM storage (storage/fsm.py) writes the
dialogue state in the same transaction as the business data: a booking and
the step the user is on commit or roll back together.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from types import TracebackType
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.asyncpg_conn import AsyncpgConnection
from storage.crypto import PersonalDataCipher
from storage.db import SINGLE_STATEMENT
from storage.inloop_async import InloopAsyncConnection
from storage.memo import FSM_PENDING, READ_MEMO, flush_fsm, watch

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

current_connection: ContextVar[AsyncConnection | None] = ContextVar(
    "zapis_current_connection", default=None
)
# The dialogue rows (fsm_states) this unit of work has read or written, by key:
# the FSM storage reads a row once per update instead of on every get_state /
# get_data / update_data (see storage/fsm.py). Dropped on rollback.
current_fsm_rows: ContextVar[dict[str, tuple[str | None, str] | None] | None] = ContextVar(
    "zapis_current_fsm_rows", default=None
)


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

    async def __aenter__(self) -> SqlUnitOfWork:
        watch(self.engine)
        driver = self.engine.dialect.driver
        if driver == "zapis":  # statements in a transaction: no greenlet
            self._conn = await InloopAsyncConnection(self.engine)
        elif driver == "asyncpg":  # the checkout and the return: no greenlet when idle
            self._conn = await AsyncpgConnection(self.engine)
        else:
            self._conn = await self.engine.connect()
        if self.single_statements:
            # (Sets an option of ours on the connection: nothing for the driver to await.)
            self._conn.sync_connection.execution_options(**{SINGLE_STATEMENT: True})  # type: ignore[union-attr]
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

    # Repositories are built on first use; each is cheap and holds only the connection.
    @property
    def users(self) -> UserRepository:
        from storage.repos.users import UserRepository

        return UserRepository(self.conn, self.cipher)

    @property
    def directory(self) -> DirectoryRepository:
        from storage.repos.directory import DirectoryRepository

        repo = DirectoryRepository(self.conn, self.cipher)
        repo.memo = self.directory_memo
        return repo

    @property
    def appointments(self) -> AppointmentRepository:
        from storage.repos.appointments import AppointmentRepository

        return AppointmentRepository(self.conn, self.cipher)

    @property
    def journal(self) -> JournalRepository:
        from storage.repos.journal import JournalRepository

        return JournalRepository(self.conn, self.cipher)

    @property
    def outbox(self) -> OutboxRepository:
        from storage.repos.outbox import OutboxRepository

        return OutboxRepository(self.conn, self.cipher)

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

    def __call__(self, *, single_statements: bool = False) -> SqlUnitOfWork:
        uow = SqlUnitOfWork(self.engine, self.cipher, single_statements=single_statements)
        uow.schedule_remote = self.schedule_remote
        return uow
