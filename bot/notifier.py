"""Outbox dispatcher: claim due rows, render in the recipient's locale, send, mark.

One batch: (1) claim up to ``batch_size`` due rows with a lease and commit —
the claim is durable before anything is sent; (2) load everything the batch
renders from in a few queries; (3) decide per row whether it still makes
sense (opt-out, unreachable user, a visit that already began …); (4) render
under ``with i18n.context(), i18n.use_locale(loc)``; (5) send through the
rate limiter; (6) mark what went out by group commit — a flusher writes the
outcomes of every send since its last write in one transaction of set-based
UPDATEs while the sends go on, and a send waits once ``max_unmarked``
outcomes are unwritten — so a process killed mid-batch re-sends at most the
rows in flight at the kill (``max_unmarked + concurrency``) once their lease
runs out and another pass claims them (several processes claim with SKIP
LOCKED, storage/repos/outbox.py, so they never take the same row).

Telegram's answers: 429 → pause everybody for ``retry_after`` and try the
same row again (a long pause is not waited out in the job: the row goes back
to pending at now + retry_after, not counted as an attempt); 403 → the user
blocked the bot: mark them unreachable, hold their urgent rows (``held``: sent
again when they come back, see UserRepository.mark_reachable) and cancel the
rest; a row for a chat id that is not a user's private chat is never sent; 400 →
failed with the description (a retry would fail the same way); anything else
→ back to pending with exponential backoff, failed after MAX_ATTEMPTS.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramRetryAfter,
)
from aiogram.types import BufferedInputFile
from aiogram.utils.i18n import I18n

from bot.middlewares.retry_after import own_429_policy
from bot.notify_render import (
    RenderContext,
    Rendered,
    Unrenderable,
    load_booking_files,
    render,
)
from bot.ratelimit import RateLimiter
from documents.worker import build_off_loop
from domain.alternatives import alternatives
from domain.notifications import (
    MAX_ATTEMPTS,
    OPTIONAL_KINDS,
    Kind,
    OutboxRow,
    backoff,
    reminder_drop_reason,
)
from domain.quiet_hours import QuietWindow, defer_late
from flows.ui.files import VisitFile
from storage.db import is_sqlite
from storage.repos.notify_context import NotifyContextRepository, Recipient, VisitInfo
from storage.uow import SqlUnitOfWork, UnitOfWorkFactory

log = logging.getLogger("zapis.notifier")

# 429s with a longer retry_after are not waited out inside the job.
MAX_INLINE_WAIT = 30.0
MAX_429_PER_ROW = 5
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
class _Marks:
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

    def take(self) -> _Marks:
        """Everything gathered so far, leaving these marks empty (no await in between)."""
        taken = _Marks(
            self.sent, self.cancelled, self.failed, self.held, self.retry, self.blocked_users
        )
        self.sent, self.cancelled, self.failed, self.held, self.retry = [], [], [], [], []
        self.blocked_users = set()
        return taken


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
        marks = _Marks()
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
        await self._send_all(to_send, now, marks, stats)
        await self._flush(marks, now, stats)
        return stats

    async def _send_all(
        self,
        to_send: list[tuple[OutboxRow, Rendered]],
        now: datetime,
        marks: _Marks,
        stats: DispatchStats,
    ) -> None:
        """Send with ``concurrency`` in flight while one flusher marks what went out.

        Group commit: the flusher writes the outcomes gathered so far in one
        transaction of set-based UPDATEs once a group of ``max_unmarked // 2`` (on
        SQLite, written in this thread anyway: the whole bound) is ready (or
        FLUSH_LINGER after the first one: a trickle is marked promptly),
        while the sends go on; a send waits only when ``max_unmarked`` outcomes —
        gathered plus the group being written — are not yet committed. So a
        process killed mid-batch re-sends at most ``max_unmarked + concurrency``
        rows (the ones sent but not yet marked) once their lease runs out — every
        other row goes out exactly once — and the marks cost a transaction per
        group, not per row, without the sends waiting for every commit.
        """
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
                    await self._write(taken, now, stats)
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

        async def one(row: OutboxRow, rendered: Rendered) -> None:
            async with sem:
                if failure:
                    return
                await self._send(row, rendered, now, marks, stats)
            ready.set()
            if len(marks) >= group:
                full.set()
            if unwritten() >= self.max_unmarked:
                full.set()
                async with written:
                    await written.wait_for(lambda: bool(failure) or unwritten() < self.max_unmarked)
            elif writing or self._claiming:
                # A send that never suspends (an in-process session) would starve the
                # flusher and the next batch's claim: one loop pass lets their I/O go on.
                await asyncio.sleep(0)

        task = asyncio.create_task(flusher())
        try:
            with own_429_policy():  # the session-level retry stays out of the notifier's way
                if self.concurrency <= 1:
                    for row, rendered in to_send:
                        await one(row, rendered)
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
        ctx = RenderContext(home_tz=self.home_tz, now=now, button_offset=self.button_offset)
        appointment_ids: set[int] = set()
        slot_ids: set[int] = set()
        entry_ids: set[int] = set()
        for row in rows:
            for name in ("appointment_id", "old_appointment_id"):
                ref = row.ref(name)
                if ref is not None:
                    appointment_ids.add(ref)
            if row.kind == Kind.WAITLIST_OFFER:
                slot = row.ref("slot_id")
                entry = row.ref("entry_id")
                if slot is not None:
                    slot_ids.add(slot)
                if entry is not None:
                    entry_ids.add(entry)
        async with self.uow_factory() as uow:
            repo = NotifyContextRepository(uow.conn, uow.cipher)
            recipients = await repo.recipients(r.user_id for r in rows)
            ctx.appointments = await repo.appointments(appointment_ids)
            ctx.slots = await repo.slots(slot_ids)
            offers = await repo.live_offers(entry_ids, now)
            ctx.offer_until = {
                entry: until
                for entry, (slot, until) in offers.items()
                if any(
                    r.ref("entry_id") == entry and r.ref("slot_id") == slot
                    for r in rows
                    if r.kind == Kind.WAITLIST_OFFER
                )
            }
            await load_booking_files(uow, rows, ctx)
            for row in rows:
                if row.kind != Kind.CANCELLED_BY_CLINIC:
                    continue
                ref = row.ref("appointment_id")
                visit = ctx.appointments.get(ref) if ref is not None else None
                if visit is None:
                    continue
                ctx.alternatives[row.id] = await _alternatives(
                    repo, uow, visit, now, now + self.offer_lead
                )
        return recipients, ctx

    def _sendable(
        self,
        row: OutboxRow,
        recipient: Recipient | None,
        ctx: RenderContext,
        now: datetime,
        marks: _Marks,
    ) -> str | None:
        """The recipient's language, or None when the row is not to be sent now (its
        outcome is recorded in ``marks``)."""
        if row.user_id <= 0:  # a group, supergroup or channel id: never anything personal
            marks.cancelled.append((row.id, "not a private chat"))
            return None
        if recipient is None or recipient.status != "active":
            marks.cancelled.append((row.id, "no such user"))
            return None
        if recipient.unreachable:
            if row.urgent:  # sent when the user comes back (UserRepository.mark_reachable)
                marks.held.append((row.id, "user unreachable"))
            else:
                marks.cancelled.append((row.id, "user unreachable"))
            return None
        if row.kind in OPTIONAL_KINDS and row.kind in recipient.optout:
            marks.cancelled.append((row.id, "opted out"))
            return None
        visit = None
        if row.kind == Kind.REMINDER:
            ref = row.ref("appointment_id")
            visit = ctx.appointments.get(ref) if ref is not None else None
            reason = reminder_drop_reason(
                visit.status if visit else None, visit.start if visit else None, now
            )
            if reason is not None:
                marks.cancelled.append((row.id, reason))
                return None
        # Found late (the bot was down) inside quiet hours: wait for the morning if
        # the visit is still ahead then, else it is too late to be useful.
        deferral = (
            None
            if visit is None
            else defer_late(
                now, row.due_at, visit.start, visit.clinic_tz, self.quiet, urgent=row.urgent
            )
        )
        if deferral is not None:
            if deferral.retry_at is not None:
                marks.retry.append((row.id, deferral.retry_at, deferral.reason, False))
            else:
                marks.cancelled.append((row.id, deferral.reason))
            return None
        return recipient.locale if recipient.locale in ("ru", "en") else self.default_locale

    def _render(
        self, row: OutboxRow, ctx: RenderContext, locale: str, marks: _Marks
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

    async def _send(
        self,
        row: OutboxRow,
        rendered: Rendered,
        now: datetime,
        marks: _Marks,
        stats: DispatchStats,
    ) -> None:
        assert self.bot is not None
        if rendered.files is not None:
            await self._send_files(row, rendered, now, marks)
            return
        if rendered.document is not None and row.attempts == 0:
            await self._attach(row, rendered.document)
        for _ in range(MAX_429_PER_ROW):
            await self.limiter.acquire(row.user_id)
            try:
                await self.bot.send_message(
                    row.user_id, rendered.text, reply_markup=rendered.markup
                )
            except TelegramRetryAfter as exc:
                stats.throttled += 1
                self.limiter.pause(exc.retry_after)
                if exc.retry_after > MAX_INLINE_WAIT:
                    later = now + timedelta(seconds=exc.retry_after)
                    marks.retry.append((row.id, later, "429 retry_after", False))
                    return
                continue  # the limiter waits out the pause
            except TelegramForbiddenError as exc:
                outcome = marks.held if row.urgent else marks.failed
                outcome.append((row.id, f"403: {exc.message}"))
                marks.blocked_users.add(row.user_id)
                return
            except TelegramBadRequest as exc:
                marks.failed.append((row.id, f"400: {exc.message}"))
                return
            except Exception as exc:  # network errors, 5xx: try again later
                _retry_or_fail(row, exc, now, marks)
                return
            marks.sent.append(row.id)
            return
        marks.retry.append((row.id, now + timedelta(seconds=1), "429 repeatedly", False))

    async def _attach(self, row: OutboxRow, document: VisitFile) -> None:
        """The notice's .ics, sent once, before its text: the text with its buttons (the
        one-tap alternatives) stays the newest message. The text is what must arrive: a
        failed file is logged and not retried (a retry of the row does not repeat it)."""
        assert self.bot is not None
        await self.limiter.acquire(row.user_id)
        try:
            await self.bot.send_document(
                row.user_id,
                BufferedInputFile(document.data, filename=document.name),
                caption=document.caption,
                parse_mode=None,
            )
        except Exception as exc:
            log.warning("outbox row %s: calendar file not sent: %r", row.id, exc)

    async def _send_files(
        self, row: OutboxRow, rendered: Rendered, now: datetime, marks: _Marks
    ) -> None:
        """A ``booking_files`` row: the visit's documents, built off the event loop (the
        PDF is tens of ms of CPU) in the one documents thread (documents/worker.py: the
        rows sent at once queue there), then sent one by one; the row is marked once all
        went."""
        assert self.bot is not None and rendered.files is not None
        try:
            files = await build_off_loop(rendered.files)
        except Exception as exc:  # a bug in building a document must not stop the batch
            log.exception("outbox row %s: building the files failed", row.id)
            marks.failed.append((row.id, f"files: {exc!r}"))
            return
        for file in files:
            await self.limiter.acquire(row.user_id)
            try:
                await self.bot.send_document(
                    row.user_id,
                    BufferedInputFile(file.data, filename=file.name),
                    caption=file.caption,
                    parse_mode=None,
                )
            except TelegramRetryAfter as exc:
                self.limiter.pause(exc.retry_after)
                later = now + timedelta(seconds=exc.retry_after)
                marks.retry.append((row.id, later, "429 retry_after", False))
                return
            except TelegramForbiddenError as exc:
                marks.failed.append((row.id, f"403: {exc.message}"))
                marks.blocked_users.add(row.user_id)
                return
            except TelegramBadRequest as exc:
                marks.failed.append((row.id, f"400: {exc.message}"))
                return
            except Exception as exc:  # network errors, 5xx: try again later
                _retry_or_fail(row, exc, now, marks)
                return
        marks.sent.append(row.id)

    async def _flush(self, marks: _Marks, now: datetime, stats: DispatchStats) -> None:
        await self._write(marks.take(), now, stats)

    async def _write(self, marks: _Marks, now: datetime, stats: DispatchStats) -> None:
        """One transaction of set-based UPDATEs for a group of outcomes (taken from the
        shared ``_Marks`` before the first await, so sends go on filling a new one)."""
        if not len(marks) and not marks.blocked_users:
            return
        async with self.uow_factory() as uow:
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


async def _alternatives(
    repo: NotifyContextRepository,
    uow: SqlUnitOfWork,
    visit: VisitInfo,
    now: datetime,
    not_before: datetime,
) -> list[VisitInfo]:
    """The times offered instead of a visit the clinic cancelled: chosen by the domain's
    one ``alternatives()`` (the doctor's day off, same clinic first, no overlap with the
    patient's other visits), shown with what the message needs."""
    if visit.slot_id is None:
        return []
    ids = await alternatives(
        uow,
        now,
        visit.slot_id,
        not_before=not_before,
        day_off=True,
        patient_id=visit.patient_id,
        moving_id=visit.appointment_id,
    )
    return await repo.slot_infos(ids)


def _retry_or_fail(row: OutboxRow, exc: Exception, now: datetime, marks: _Marks) -> None:
    """A send that failed for a passing reason (network, 5xx): tried again after a backoff,
    until MAX_ATTEMPTS, then failed for good."""
    reason = f"{type(exc).__name__}: {exc}"
    if row.attempts + 1 >= MAX_ATTEMPTS:
        marks.failed.append((row.id, reason))
    else:
        marks.retry.append((row.id, now + backoff(row.attempts + 1), reason, True))
