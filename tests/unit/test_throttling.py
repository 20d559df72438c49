"""Per-user token bucket: bursts pass up to the bucket size, the excess is dropped, time refills."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram import Dispatcher
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.types import Message, Update

from bot.middlewares.throttling import ThrottlingMiddleware
from tests.flows.recording_session import RecordingSession, make_bot, message_update


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_refill_at_rate() -> None:
    t = FakeTime()
    mw = ThrottlingMiddleware(2.0, burst=3, monotonic=t)
    assert [mw.allow(1) for _ in range(5)] == [True, True, True, False, False]
    t.now += 0.4  # 0.8 token: still nothing
    assert mw.allow(1) is False
    t.now += 0.1  # a dropped update did not cost a token: now 1.0
    assert mw.allow(1) is True
    assert mw.allow(1) is False
    t.now += 100  # refill is capped at the burst size
    assert [mw.allow(1) for _ in range(4)] == [True, True, True, False]


def test_users_have_separate_buckets() -> None:
    t = FakeTime()
    mw = ThrottlingMiddleware(1.0, burst=2, monotonic=t)
    assert [mw.allow(1), mw.allow(1), mw.allow(1)] == [True, True, False]
    assert [mw.allow(2), mw.allow(2), mw.allow(2)] == [True, True, False]


def test_explicit_times_are_accepted() -> None:
    mw = ThrottlingMiddleware(1.0, burst=1)
    assert mw.allow(7, now=10.0) is True
    assert mw.allow(7, now=10.5) is False
    assert mw.allow(7, now=11.6) is True


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(ValueError):
        ThrottlingMiddleware(0)
    with pytest.raises(ValueError):
        ThrottlingMiddleware(1.0, burst=0)


async def test_the_middleware_drops_the_excess() -> None:
    t = FakeTime()
    handled: list[int] = []
    dp = Dispatcher(storage=MemoryStorage())
    dp.update.outer_middleware(ThrottlingMiddleware(1.0, burst=3, monotonic=t))

    @dp.message()
    async def record(message: Message) -> None:
        assert message.from_user is not None
        handled.append(message.from_user.id)

    bot = make_bot(RecordingSession())

    async def send(user_id: int) -> Any:
        update = Update.model_validate(message_update(user_id, "hi"), context={"bot": bot})
        return await dp.feed_update(bot, update)

    for _ in range(10):
        await send(11)
    await send(12)
    assert handled == [11, 11, 11, 12]
    t.now += 2.0
    for _ in range(5):
        await send(11)
    assert handled == [11, 11, 11, 12, 11, 11]
    await dp.storage.close()
