"""Issue 7.16: with Telegram's limits on, 21 of 60 simultaneous /start got an internal error.

A 429 on a reply is now waited out and repeated by the session (bounded), so
every user gets the real answer and the error handler is never reached.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import SendMessage, TelegramMethod
from aiogram.types import Update

from bot.middlewares.retry_after import RetryAfter429, own_429_policy
from emulator.harness import ConsoleWorld
from emulator.ratelimit import RateLimiter as EmuLimiter
from tests.flows.booking_helpers import NOW

USERS = range(5000, 5060)


@pytest.fixture
async def world() -> AsyncIterator[ConsoleWorld]:
    w = await ConsoleWorld.start(now=NOW, lang="ru")
    yield w
    await w.close()


async def test_sixty_simultaneous_starts_under_telegram_limits_get_no_internal_error(
    world: ConsoleWorld, caplog: pytest.LogCaptureFixture
) -> None:
    # Telegram's limits, the overall one lowered so that this machine's pace meets it.
    world.emulator.set_rate_limits(True, EmuLimiter(overall_per_second=20))
    updates = [
        Update.model_validate(
            await world.users.message(uid, text="/start"), context={"bot": world.bot}
        )
        for uid in USERS
    ]
    with caplog.at_level(logging.INFO, logger="zapis"):
        await asyncio.gather(
            *(world.app.dispatcher.feed_update(world.bot, update) for update in updates)
        )
    await world.emulator.flush()
    refused = [e for e in world.emulator.drain() if e.kind == "refused"]
    assert refused, "the emulator's limits should have answered 429 at least once"
    assert all(e.status == 429 for e in refused)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []
    assert any("429 on sendMessage" in r.getMessage() for r in caplog.records)
    for uid in USERS:
        text = world.last_text(uid)
        assert text and "Что-то пошло не так" not in text and "Something went wrong" not in text


class Flaky:
    """make_request stand-in: 429 ``times`` times, then OK."""

    def __init__(self, times: int, retry_after: int = 2) -> None:
        self.times = times
        self.retry_after = retry_after
        self.calls = 0

    async def __call__(self, bot: Bot, method: TelegramMethod[Any]) -> Any:
        self.calls += 1
        if self.calls <= self.times:
            raise TelegramRetryAfter(method, "Too Many Requests", self.retry_after)
        return "ok"


async def test_retry_is_bounded_by_attempts_and_total_wait() -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    bot = Bot("42:TEST")
    method = SendMessage(chat_id=1, text="x")
    retry = RetryAfter429(max_attempts=4, max_total_wait=10, sleep=sleep)
    flaky = Flaky(times=3)
    assert await retry(flaky, bot, method) == "ok"
    assert (flaky.calls, slept) == (4, [2, 2, 2])

    slept.clear()
    with pytest.raises(TelegramRetryAfter):  # a fifth attempt is never made
        await retry(Flaky(times=10), bot, method)
    assert slept == [2, 2, 2]

    slept.clear()
    with pytest.raises(TelegramRetryAfter):  # 30 s would exceed the 10 s budget: not waited
        await retry(Flaky(times=1, retry_after=30), bot, method)
    assert slept == []

    slept.clear()
    flaky = Flaky(times=1)
    with own_429_policy(), pytest.raises(TelegramRetryAfter):  # the notifier's own policy
        await retry(flaky, bot, method)
    assert (flaky.calls, slept) == (1, [])
    await bot.session.close()
