"""What a batch's sends came to: the outcomes gathered per row, written in groups.

The notifier (bot/notifier.py) gathers each row's outcome — sent, cancelled,
failed, held, retried — in a ``Marks`` while the sends go on, and a flusher
writes a group of them in one transaction of set-based UPDATEs (group commit).
A module of its own: the bookkeeping of outcomes and their one write is a
concern apart from the pipeline that decides when to write them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType

from domain.notifications import MAX_ATTEMPTS, OutboxRow, backoff
from storage.db import is_sqlite
from storage.repos.outbox_sent import SentMarker
from storage.uow import UnitOfWorkFactory


@dataclass
class DispatchStats:
    claimed: int = 0
    sent: int = 0
    failed: int = 0
    cancelled: int = 0
    retried: int = 0
    throttled: int = 0  # 429 answers received
    held: int = 0  # urgent, for a user who blocked the bot: sent again on their return

    def add(self, other: DispatchStats) -> None:
        for name in ("claimed", "sent", "failed", "cancelled", "retried", "throttled", "held"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class Marks:
    """Outcomes waiting to be written; flushed in small groups."""

    sent: list[int] = field(default_factory=list)
    cancelled: list[tuple[int, str]] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)
    held: list[tuple[int, str]] = field(default_factory=list)
    retry: list[tuple[int, datetime, str, bool]] = field(default_factory=list)
    blocked_users: set[int] = field(default_factory=set)

    def __len__(self) -> int:
        return (
            len(self.sent)
            + len(self.cancelled)
            + len(self.failed)
            + len(self.held)
            + len(self.retry)
        )

    def only_sent(self) -> bool:
        """Nothing but «sent» marks (the common group): one statement writes them all."""
        return not (self.cancelled or self.failed or self.held or self.retry or self.blocked_users)

    def take(self) -> Marks:
        """Everything gathered so far, leaving these marks empty (no await in between)."""
        taken = Marks(
            self.sent, self.cancelled, self.failed, self.held, self.retry, self.blocked_users
        )
        self.sent, self.cancelled, self.failed, self.held, self.retry = [], [], [], [], []
        self.blocked_users = set()
        return taken


async def write_marks(
    uow_factory: UnitOfWorkFactory, marks: Marks, now: datetime, stats: DispatchStats
) -> None:
    """One transaction of set-based UPDATEs for a group of outcomes (taken from the
    shared ``Marks`` before the first await, so sends go on filling a new one)."""
    if not len(marks) and not marks.blocked_users:
        return
    async with uow_factory() as uow:
        await uow.outbox.mark_sent(marks.sent, now)
        await uow.outbox.mark_cancelled_many(marks.cancelled)
        await uow.outbox.mark_failed_many(marks.failed)
        await uow.outbox.mark_held_many(marks.held)
        await uow.outbox.reschedule_many(marks.retry)
        for user_id in marks.blocked_users:
            await uow.outbox.mark_user_unreachable(user_id)
            await uow.outbox.hold_urgent_for_user(user_id, "user blocked the bot")
            await uow.outbox.cancel_for_user(user_id, "user blocked the bot")
        await uow.commit()
    stats.sent += len(marks.sent)
    stats.cancelled += len(marks.cancelled)
    stats.failed += len(marks.failed)
    stats.retried += len(marks.retry)
    stats.held += len(marks.held)


class MarkWriter:
    """The groups of one dispatch, written one after another (``async with``).

    On PostgreSQL a group of «sent» marks only — nearly every group — is one
    autocommitted UPDATE on a connection held for the dispatch
    (storage/repos/outbox_sent.py ``SentMarker``: one round trip instead of a checkout, BEGIN, UPDATE and COMMIT); any
    other group, and every group on SQLite (written in the loop thread by the in-loop
    driver, no round trips to save), is ``write_marks``'s one transaction. The groups
    are written in order, so a blocked user's rows sent before the 403 are marked sent
    before the rest of that user's rows are cancelled, as in one transaction.
    """

    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self.uow_factory = uow_factory
        engine = uow_factory.engine
        self._marker = None if is_sqlite(engine) else SentMarker(engine)
        self._open = False

    async def __aenter__(self) -> MarkWriter:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._open and self._marker is not None:
            self._open = False
            await self._marker.__aexit__(exc_type, exc, tb)

    async def write(self, marks: Marks, now: datetime, stats: DispatchStats) -> None:
        if self._marker is None or not marks.sent or not marks.only_sent():
            await write_marks(self.uow_factory, marks, now, stats)
            return
        if not self._open:  # the connection is taken at the first group, not before
            await self._marker.__aenter__()
            self._open = True
        await self._marker.mark_sent(marks.sent, now)
        stats.sent += len(marks.sent)


def retry_or_fail(row: OutboxRow, exc: Exception, now: datetime, marks: Marks) -> None:
    """A send that failed for a passing reason (network, 5xx): tried again after a backoff,
    until MAX_ATTEMPTS, then failed for good."""
    reason = f"{type(exc).__name__}: {exc}"
    if row.attempts + 1 >= MAX_ATTEMPTS:
        marks.failed.append((row.id, reason))
    else:
        marks.retry.append((row.id, now + backoff(row.attempts + 1), reason, True))
