"""Sending one rendered outbox row to Telegram, and what each answer means for it.

429 → pause everybody for ``retry_after`` and try the same row again (a long
pause is not waited out: the row goes back to pending at now + retry_after);
403 → the user blocked the bot (urgent rows held, the rest failed, the user
marked unreachable); 400 → failed with the description; anything else → back to
pending with backoff (``retry_or_fail``). A module of its own: how one row goes
out is apart from the batch pipeline (bot/notifier.py) that calls it; ``bot`` and
``limiter`` are passed in at each call (a test may swap the notifier's bot).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError, TelegramRetryAfter
from aiogram.types import BufferedInputFile

from bot.notify_marks import DispatchStats, Marks, retry_or_fail
from bot.notify_parts import Rendered
from bot.ratelimit import RateLimiter
from documents.worker import build_off_loop
from domain.notifications import OutboxRow
from flows.ui.files import VisitFile

log = logging.getLogger("zapis.notifier")

# 429s with a longer retry_after are not waited out inside the job.
MAX_INLINE_WAIT = 30.0
MAX_429_PER_ROW = 5


async def send_row(
    bot: Bot,
    limiter: RateLimiter,
    row: OutboxRow,
    rendered: Rendered,
    now: datetime,
    marks: Marks,
    stats: DispatchStats,
) -> None:
    """One row: its files, or its .ics (first attempt only) and then its text."""
    if rendered.files is not None:
        await send_files(bot, limiter, row, rendered, now, marks)
        return
    if rendered.document is not None and row.attempts == 0:
        await attach(bot, limiter, row, rendered.document)
    for _ in range(MAX_429_PER_ROW):
        await limiter.acquire(row.user_id)
        try:
            await bot.send_message(row.user_id, rendered.text, reply_markup=rendered.markup)
        except TelegramRetryAfter as exc:
            stats.throttled += 1
            limiter.pause(exc.retry_after)
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
            retry_or_fail(row, exc, now, marks)
            return
        marks.sent.append(row.id)
        return
    marks.retry.append((row.id, now + timedelta(seconds=1), "429 repeatedly", False))


async def attach(bot: Bot, limiter: RateLimiter, row: OutboxRow, document: VisitFile) -> None:
    """The notice's .ics, sent once, before its text: the text with its buttons (the
    one-tap alternatives) stays the newest message. The text is what must arrive: a
    failed file is logged and not retried (a retry of the row does not repeat it)."""
    await limiter.acquire(row.user_id)
    try:
        await bot.send_document(
            row.user_id,
            BufferedInputFile(document.data, filename=document.name),
            caption=document.caption,
            parse_mode=None,
        )
    except Exception as exc:
        log.warning("outbox row %s: calendar file not sent: %r", row.id, exc)


async def send_files(
    bot: Bot, limiter: RateLimiter, row: OutboxRow, rendered: Rendered, now: datetime, marks: Marks
) -> None:
    """A ``booking_files`` row: the visit's documents, built off the event loop (the
    PDF is tens of ms of CPU) in the one documents thread (documents/worker.py: the
    rows sent at once queue there), then sent one by one; the row is marked once all
    went."""
    assert rendered.files is not None
    try:
        files = await build_off_loop(rendered.files)
    except Exception as exc:  # a bug in building a document must not stop the batch
        log.exception("outbox row %s: building the files failed", row.id)
        marks.failed.append((row.id, f"files: {exc!r}"))
        return
    for file in files:
        await limiter.acquire(row.user_id)
        try:
            await bot.send_document(
                row.user_id,
                BufferedInputFile(file.data, filename=file.name),
                caption=file.caption,
                parse_mode=None,
            )
        except TelegramRetryAfter as exc:
            limiter.pause(exc.retry_after)
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
            retry_or_fail(row, exc, now, marks)
            return
    marks.sent.append(row.id)
