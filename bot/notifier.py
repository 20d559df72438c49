"""Outbox dispatcher: claim due rows, render in the recipient's locale, send, mark.

One batch: (1) claim up to ``batch_size`` due rows with a lease and commit —
the claim is durable before anything is sent; (2) load everything the batch
renders from in a few queries; (3) decide per row whether it still makes
sense (opt-out, unreachable user, a visit that already began …); (4) render
under ``with i18n.context(), i18n.use_locale(loc)``; (5) send through the
rate limiter; (6) mark what went out by group commit — a flusher writes the
outcomes of every send since its last write at once — set-based UPDATEs in one
transaction, or on PostgreSQL a group of «sent» marks only as one autocommitted
UPDATE (bot/notify_marks.py MarkWriter) — while the sends go on, and a send
waits once ``max_unmarked`` outcomes are unwritten — so a process killed
mid-batch re-sends at most the rows in flight at the kill (``max_unmarked +
concurrency``) once their lease runs out and another pass claims them (several
processes claim with SKIP LOCKED, storage/repos/outbox.py, so they never take
the same row).

Telegram's answers: 429 → pause everybody for ``retry_after`` and try the
same row again (a long pause is not waited out in the job: the row goes back
to pending at now + retry_after, not counted as an attempt); 403 → the user
blocked the bot: mark them unreachable, hold their urgent rows (``held``: sent
again when they come back, see UserRepository.mark_reachable) and cancel the
rest; a row for a chat id that is not a user's private chat is never sent; 400 →
failed with the description (a retry would fail the same way); anything else
→ back to pending with exponential backoff, failed after MAX_ATTEMPTS.

This module is the pipeline (claim, dispatch, group commit); what a batch loads
and which rows still go is bot/notify_load.py, how one row is sent
bot/notify_send.py, the outcomes and their write bot/notify_marks.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from aiogram import Bot
from aiogram.utils.i18n import I18n

from bot.middlewares.retry_after import own_429_policy
from bot.notify_load import load_batch, sendable
from bot.notify_marks import DispatchStats, Marks, MarkWriter
from bot.notify_parts import RenderContext, Rendered, Unrenderable
from bot.notify_render import render
from bot.notify_send import send_row
from bot.ratelimit import RateLimiter
from domain.notifications import OutboxRow
from domain.quiet_hours import QuietWindow
from storage.db import is_sqlite
from storage.repos.notify_context import Recipient
from storage.uow import UnitOfWorkFactory

log = logging.getLogger("zapis.notifier")

# Sent rows whose "sent" mark may be unwritten at once (group commit): what a process
# killed mid-batch may send twice, beside the sends in flight.
MAX_UNMARKED = 64
# How long the first outcome of a group waits for the group to fill (max_unmarked // 2)
# before it is written anyway: at full speed a group fills in a few ms; under the rate
# limiter (30/s) a row is marked within this.
FLUSH_LINGER = 0.05


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class _Claimed:
    """One claimed batch and what it renders from."""

    rows: list[OutboxRow]
    recipients: dict[int, Recipient]
    ctx: RenderContext | None


class Notifier:
    def __init__(
        self,
        *,
        uow_factory: UnitOfWorkFactory,
        i18n: I18n,
        bot: Bot | None,
        limiter: RateLimiter,
        home_tz: str = "Europe/Moscow",
        default_locale: str = "ru",
        quiet: QuietWindow | None = None,
        reminder_offsets: tuple[int, ...] = (24 * 60, 120),
        worker_id: str | None = None,
        lease: timedelta = timedelta(minutes=2),
        batch_size: int = 500,
        concurrency: int = 8,
        max_unmarked: int = MAX_UNMARKED,
        offer_lead: timedelta = timedelta(minutes=120),
    ) -> None:
        self.uow_factory = uow_factory
        self.offer_lead = offer_lead
        self.i18n = i18n
        self.bot = bot
        self.limiter = limiter
        self.home_tz = home_tz
        self.default_locale = default_locale
        self.quiet = quiet or QuietWindow()
        self.button_offset = max(reminder_offsets) if reminder_offsets else 0
        self.worker_id = worker_id or default_worker_id()
        self.lease = lease
        self.batch_size = batch_size
        self.concurrency = concurrency
        self.max_unmarked = max_unmarked
        self._claiming = 0  # claims (with their loads) under way, see _send_all
        # Whether the database works beside this process (a server) or in it (SQLite).
        self._beside = not is_sqlite(uow_factory.engine)

    # ------------------------------------------------------------------ the job
    async def run(self, now: datetime, max_batches: int = 1000) -> DispatchStats:
        """Send everything due at ``now`` (batch after batch until a batch comes back short).

        Pipelined: while one batch is being sent, the next is claimed and its context
        loaded (the database works while we send); a full batch means more may be due.
        """
        total = DispatchStats()
        if self.bot is None:
            log.warning("notifier has no bot yet; nothing sent")
            return total
        ahead: asyncio.Task[_Claimed] | None = asyncio.create_task(self._claim(now))
        try:
            for done in range(1, max_batches + 1):
                assert ahead is not None
                claimed = await ahead
                ahead = None
                if len(claimed.rows) == self.batch_size and done < max_batches:
                    ahead = asyncio.create_task(self._claim(now))
                stats = await self._dispatch(claimed, now)
                total.add(stats)
                if ahead is None:
                    break
        finally:
            if ahead is not None:  # a failed batch: the prefetched rows' lease runs out
                ahead.cancel()
                with contextlib.suppress(BaseException):
                    await ahead
        return total

    async def run_batch(self, now: datetime) -> DispatchStats:
        return await self._dispatch(await self._claim(now), now)

    async def _claim(self, now: datetime) -> _Claimed:
        """Claim up to ``batch_size`` due rows (committed: durable before any send) and
        load everything they render from."""
        self._claiming += 1
        try:
            return await self._claim_and_load(now)
        finally:
            self._claiming -= 1

    async def _claim_and_load(self, now: datetime) -> _Claimed:
        async with self.uow_factory() as uow:
            rows = await uow.outbox.claim_due(now, self.batch_size, self.worker_id, self.lease)
            await uow.commit()
        if not rows:
            return _Claimed(rows, {}, None)
        recipients, ctx = await self._load(rows, now)
        return _Claimed(rows, recipients, ctx)

    async def _dispatch(self, claimed: _Claimed, now: datetime) -> DispatchStats:
        stats = DispatchStats()
        rows, recipients, ctx = claimed.rows, claimed.recipients, claimed.ctx
        stats.claimed = len(rows)
        if not rows or ctx is None:
            return stats
        marks = Marks()
        # Rendered in the order of the rows, one i18n context per language of the batch
        # (not two context managers per row).
        by_locale: dict[str, list[int]] = {}
        for i, row in enumerate(rows):
            locale = self._sendable(row, recipients.get(row.user_id), ctx, now, marks)
            if locale is not None:
                by_locale.setdefault(locale, []).append(i)
        rendered: dict[int, Rendered] = {}
        with self.i18n.context():
            for locale, indexes in by_locale.items():
                with self.i18n.use_locale(locale):
                    for i in indexes:
                        done = self._render(rows[i], ctx, locale, marks)
                        if done is not None:
                            rendered[i] = done
        to_send = [(rows[i], rendered[i]) for i in sorted(rendered)]
        async with MarkWriter(self.uow_factory) as writer:
            await self._send_all(to_send, now, marks, stats, writer)
            await writer.write(marks.take(), now, stats)
        return stats

    async def _send_all(
        self,
        to_send: list[tuple[OutboxRow, Rendered]],
        now: datetime,
        marks: Marks,
        stats: DispatchStats,
        writer: MarkWriter,
    ) -> None:
        """Send with ``concurrency`` in flight while one flusher marks what went out.

        Group commit: the flusher writes the outcomes gathered so far at once
        (``writer``: one statement or one transaction) once a group of
        ``max_unmarked // 2`` (on SQLite, written in this thread anyway: the whole
        bound) is ready (or
        FLUSH_LINGER after the first one: a trickle is marked promptly),
        while the sends go on; a send waits only when ``max_unmarked`` outcomes —
        gathered plus the group being written — are not yet committed. So a
        process killed mid-batch re-sends at most ``max_unmarked + concurrency``
        rows (the ones sent but not yet marked) once their lease runs out — every
        other row goes out exactly once — and the marks cost a write per
        group, not per row, without the sends waiting for every commit.
        """
        assert self.bot is not None
        bot = self.bot
        sem = asyncio.Semaphore(self.concurrency)
        written = asyncio.Condition()
        ready = asyncio.Event()  # at least one outcome is waiting
        full = asyncio.Event()  # a group is waiting, a send is blocked, or the batch is done
        # Half the bound while the database works beside the sends (PostgreSQL: a group
        # is written while the next one fills); the whole bound when writing runs in
        # this thread anyway (SQLite in the loop): fewer, larger transactions.
        group = max(1, self.max_unmarked // 2 if self._beside else self.max_unmarked)
        writing = 0  # outcomes in the flush under way (not yet committed)
        finished = False
        failure: list[BaseException] = []

        async def flusher() -> None:
            nonlocal writing
            while True:
                await ready.wait()
                if not full.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(full.wait(), FLUSH_LINGER)
                ready.clear()
                full.clear()
                taken = marks.take()
                writing = len(taken)
                try:
                    await writer.write(taken, now, stats)
                except BaseException as exc:
                    failure.append(exc)
                writing = 0
                async with written:
                    written.notify_all()
                if failure or (finished and not len(marks)):
                    return
                if len(marks):
                    ready.set()
                    if finished or len(marks) >= group:
                        full.set()

        def unwritten() -> int:
            return len(marks) + writing

        async def settle() -> None:
            """After each send: wake the flusher when a group is ready, wait while
            ``max_unmarked`` outcomes are uncommitted."""
            ready.set()
            gathered = len(marks)
            if gathered >= group:
                full.set()
            if gathered + writing >= self.max_unmarked:
                full.set()
                async with written:
                    await written.wait_for(lambda: bool(failure) or unwritten() < self.max_unmarked)
            elif writing or self._claiming or gathered >= group:
                # A send that never suspends (an in-process session) would starve the
                # flusher and the next batch's claim: one loop pass lets their I/O go on —
                # and lets the flusher take a group as soon as it is ready, else it only
                # ran once the whole bound was unwritten and every send waited for it.
                await asyncio.sleep(0)

        async def one(row: OutboxRow, rendered: Rendered) -> None:
            async with sem:
                if failure:
                    return
                await send_row(bot, self.limiter, row, rendered, now, marks, stats)
            await settle()

        task = asyncio.create_task(flusher())
        try:
            with own_429_policy():  # the session-level retry stays out of the notifier's way
                if self.concurrency <= 1:  # one at a time: no coroutine nor semaphore per row
                    for row, rendered in to_send:
                        if failure:
                            break
                        await send_row(bot, self.limiter, row, rendered, now, marks, stats)
                        await settle()
                else:
                    await asyncio.gather(*(one(r, t) for r, t in to_send))
        finally:
            finished = True
            ready.set()
            full.set()
            await task
        if failure:
            raise failure[0]

    # ------------------------------------------------------------------ steps
    async def _load(
        self, rows: list[OutboxRow], now: datetime
    ) -> tuple[dict[int, Recipient], RenderContext]:
        return await load_batch(
            self.uow_factory,
            rows,
            now,
            home_tz=self.home_tz,
            button_offset=self.button_offset,
            offer_lead=self.offer_lead,
        )

    def _sendable(
        self,
        row: OutboxRow,
        recipient: Recipient | None,
        ctx: RenderContext,
        now: datetime,
        marks: Marks,
    ) -> str | None:
        """The recipient's language, or None when the row is not to be sent now."""
        return sendable(
            row, recipient, ctx, now, marks, quiet=self.quiet, default_locale=self.default_locale
        )

    def _render(
        self, row: OutboxRow, ctx: RenderContext, locale: str, marks: Marks
    ) -> Rendered | None:
        """The row in its recipient's language (the caller's i18n context); None when it
        cannot be rendered (cancelled or failed in ``marks``)."""
        try:
            return render(row, ctx, locale)
        except Unrenderable as exc:
            marks.cancelled.append((row.id, str(exc)))
        except Exception as exc:  # a bug in rendering must not stop the batch
            log.exception("rendering outbox row %s failed", row.id)
            marks.failed.append((row.id, f"render: {exc!r}"))
        return None
