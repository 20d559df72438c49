"""The whole app skips a webhook update delivered again after it was done (Telegram resends
one whose answer came too late) and runs again one that failed before its commit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiogram.filters import Command
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import App, build_app
from bot.clock import VirtualClock
from bot.settings import load_settings
from tests.conftest import TEST_KEY
from tests.flows.recording_session import RecordingSession, make_bot, message_update


@pytest.fixture
async def app(sqlite_engine: AsyncEngine, clock: VirtualClock) -> AsyncIterator[App]:
    application = build_app(
        load_settings(), clock, encryption_key=TEST_KEY, engine=sqlite_engine, throttling=False
    )

    @application.dispatcher.message(Command("boom"))
    async def boom(message: Message) -> None:
        raise RuntimeError("failed before its commit")

    yield application
    await application.storage.close()


async def test_an_update_delivered_again_is_answered_once(app: App) -> None:
    session = RecordingSession()
    bot = make_bot(session)
    update = message_update(611, "/start")
    await app.dispatcher.feed_raw_update(bot, update)
    answered = len(session.calls)
    assert answered >= 1
    await app.dispatcher.feed_raw_update(bot, update)  # the same update_id again
    assert len(session.calls) == answered
    await app.dispatcher.feed_raw_update(bot, message_update(611, "/start"))  # a new one
    assert len(session.calls) > answered


async def test_a_retry_arriving_while_the_first_delivery_runs_is_skipped(app: App) -> None:
    session = RecordingSession()
    bot = make_bot(session)
    update = message_update(612, "/start")
    await asyncio.gather(
        app.dispatcher.feed_raw_update(bot, update), app.dispatcher.feed_raw_update(bot, update)
    )
    once = RecordingSession()
    await build_app(
        load_settings(), VirtualClock(app.clock.now()), encryption_key=TEST_KEY,
        engine=app.engine, throttling=False,
    ).dispatcher.feed_raw_update(make_bot(once), message_update(613, "/start"))  # fmt: skip
    assert len(session.calls) == len(once.calls)  # one answer, not two


async def test_an_update_that_failed_runs_again(app: App) -> None:
    session = RecordingSession()
    bot = make_bot(session)
    update = message_update(614, "/boom")
    await app.dispatcher.feed_raw_update(bot, update)
    await app.dispatcher.feed_raw_update(bot, update)
    assert len(session.texts()) == 2  # an error line each time: nothing was kept, so it ran
