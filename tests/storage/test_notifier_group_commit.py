"""The notifier's marks are group-committed while the sends go on (issue 12), on both engines.

What must hold whatever the grouping: every row goes out once and is marked
sent; before any send at most ``max_unmarked`` earlier sends are uncommitted
(what a process killed there would send again); a slow trickle of sends (the
rate limiter) is still marked promptly, not only when a group fills.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import NextRequestMiddlewareType
from aiogram.methods import TelegramMethod
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.i18n import build_i18n
from bot.notifier import FLUSH_LINGER, Notifier
from bot.ratelimit import RateLimiter
from emulator.core import EmulatorCore
from emulator.session import EmulatorSession
from storage.crypto import PersonalDataCipher
from storage.uow import UnitOfWorkFactory
from tests.conftest import TEST_KEY
from tests.notify_world import bulk_booked, make_world


async def _setup(
    engine: AsyncEngine, rows: int, max_unmarked: int
) -> tuple[Notifier, Bot, UnitOfWorkFactory, datetime]:
    now = datetime.now(UTC)
    await make_world(engine, now)
    await bulk_booked(engine, now, rows)
    uow = UnitOfWorkFactory(engine, PersonalDataCipher(TEST_KEY))
    bot = Bot("42:TEST", session=EmulatorSession(EmulatorCore()))
    notifier = Notifier(
        uow_factory=uow,
        i18n=build_i18n("ru"),
        bot=bot,
        limiter=RateLimiter(enabled=False),
        batch_size=50,
        concurrency=1,
        max_unmarked=max_unmarked,
    )
    return notifier, bot, uow, now


async def test_every_row_once_and_never_more_than_max_unmarked_uncommitted(
    engine: AsyncEngine,
) -> None:
    rows, bound = 120, 8
    notifier, bot, uow, now = await _setup(engine, rows, bound)
    committed_before: list[int] = []

    async def probe(
        make_request: NextRequestMiddlewareType[Any], bot: Bot, method: TelegramMethod[Any]
    ) -> Any:
        async with uow() as work:
            committed_before.append((await work.outbox.counts()).get("sent", 0))
        return await make_request(bot, method)

    bot.session.middleware(probe)
    stats = await notifier.run(now)
    await bot.session.close()
    assert stats.sent == rows
    async with uow() as work:
        assert await work.outbox.counts() == {"sent": rows}
    assert len(committed_before) == rows  # nothing sent twice
    # Before the n-th send (0-based) at most ``bound`` of the n earlier ones are unwritten.
    assert all(n - bound <= done <= n for n, done in enumerate(committed_before))
    # … and the marks went in while the batch was being sent, not only at its end.
    assert any(0 < done < n for n, done in enumerate(committed_before) if n < 50)


async def test_a_trickle_of_sends_is_marked_within_the_linger(engine: AsyncEngine) -> None:
    rows = 4
    notifier, bot, uow, now = await _setup(engine, rows, 64)  # a group would be 32 or 64
    committed_before: list[int] = []
    pause = FLUSH_LINGER + 0.4  # a rate-limited send: far slower than the linger

    async def slow(
        make_request: NextRequestMiddlewareType[Any], bot: Bot, method: TelegramMethod[Any]
    ) -> Any:
        await asyncio.sleep(pause)
        async with uow() as work:
            committed_before.append((await work.outbox.counts()).get("sent", 0))
        return await make_request(bot, method)

    bot.session.middleware(slow)
    stats = await notifier.run(now)
    await bot.session.close()
    assert stats.sent == rows
    # Each send found the one before it already committed: no row waited for a group.
    assert committed_before == list(range(rows))


async def test_a_ready_group_is_taken_while_sends_that_never_suspend_go_on(
    engine: AsyncEngine, monkeypatch: Any
) -> None:
    """An in-process send never suspends: the sender must let the flusher take a group
    once it is ready (half the bound beside a server), not only when the whole bound is
    unwritten — then every group was the bound and every send waited for its write."""
    from bot import notify_marks

    rows, bound = 200, 16
    notifier, bot, _uow, now = await _setup(engine, rows, bound)
    sizes: list[int] = []
    write = notify_marks.MarkWriter.write

    async def recording(
        self: notify_marks.MarkWriter, marks: Any, when: datetime, stats: Any
    ) -> None:
        sizes.append(len(marks))
        await write(self, marks, when, stats)

    monkeypatch.setattr(notify_marks.MarkWriter, "write", recording)
    stats = await notifier.run(now)
    await bot.session.close()
    assert stats.sent == rows
    if notifier._beside:  # PostgreSQL: groups of about half the bound
        assert max(sizes) < bound, sizes
    else:  # SQLite writes in the loop thread: the whole bound is one group
        assert max(sizes) <= bound, sizes
