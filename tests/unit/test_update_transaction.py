"""The update is the transaction (issue 8.2), end to end through the Dispatcher:
replies go out only after the commit, in order; a refusal after a write leaves no
row and drops the replies, and the refusal is answered after the rollback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.methods import SendMessage, TelegramMethod
from aiogram.types import Message
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import App, build_app
from bot.clock import VirtualClock
from bot.middlewares.pending_replies import pending_replies
from bot.settings import load_settings
from domain.errors import Stale
from storage.schema import users
from storage.uow import SqlUnitOfWork, current_connection
from tests.conftest import NOW, TEST_KEY
from tests.flows.recording_session import RecordingSession, make_bot, message_update

NEW_USER = 777001


class WitnessSession(RecordingSession):
    """Records, for each request, whether a unit of work was still open and whether the
    handler's row was already visible to another connection (i.e. committed)."""

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__()
        self.engine = engine
        self.seen: list[tuple[str | None, bool, int]] = []

    async def make_request(
        self, bot: Bot, method: TelegramMethod[Any], timeout: int | None = None
    ) -> Any:
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(func.count()).select_from(users).where(users.c.id == NEW_USER)
                )
            ).scalar_one()
            await conn.rollback()
        self.seen.append((getattr(method, "text", None), current_connection.get() is None, rows))
        return await super().make_request(bot, method, timeout)


@pytest.fixture
async def app(sqlite_engine: AsyncEngine, clock: VirtualClock) -> AsyncIterator[App]:
    application = build_app(
        load_settings(), clock, encryption_key=TEST_KEY, engine=sqlite_engine, throttling=False
    )
    dp = application.dispatcher
    queued_inside: list[int] = []
    application.queued_inside = queued_inside  # type: ignore[attr-defined]

    @dp.message(Command("write_and_reply"))
    async def write_and_reply(message: Message, uow: SqlUnitOfWork) -> None:
        await uow.users.ensure(NEW_USER, NOW)
        await message.answer("one")
        await message.answer("two")
        replies = pending_replies()
        queued_inside.append(len(replies) if replies is not None else -1)

    @dp.message(Command("reply_then_note"))
    async def reply_then_note(message: Message, uow: SqlUnitOfWork) -> None:
        await message.answer("said")

        async def note(later: SqlUnitOfWork) -> None:
            await later.users.ensure(NEW_USER, NOW)

        uow.after_reply(note)
        if message.text and message.text.endswith("fail"):
            raise Stale

    @dp.message(Command("write_then_refuse"))
    async def write_then_refuse(message: Message, uow: SqlUnitOfWork) -> None:
        await uow.users.ensure(NEW_USER, NOW)
        await message.answer("this must never arrive")
        raise Stale

    yield application
    await application.storage.close()


async def _count(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        n = (
            await conn.execute(
                select(func.count()).select_from(users).where(users.c.id == NEW_USER)
            )
        ).scalar_one()
        await conn.rollback()
    return int(n)


async def test_replies_go_out_after_the_commit_in_order(
    app: App, sqlite_engine: AsyncEngine
) -> None:
    session = WitnessSession(sqlite_engine)
    bot = app.attach_bot(make_bot(session))
    await app.dispatcher.feed_raw_update(bot, message_update(601, "/write_and_reply"))
    assert app.queued_inside == [2]  # type: ignore[attr-defined]  # held while the handler ran
    # Each reply: no unit of work open any more, and the row already committed.
    assert session.seen == [("one", True, 1), ("two", True, 1)]


async def test_refusal_after_a_write_leaves_nothing_and_drops_the_replies(
    app: App, sqlite_engine: AsyncEngine
) -> None:
    session = WitnessSession(sqlite_engine)
    bot = app.attach_bot(make_bot(session))
    await app.dispatcher.feed_raw_update(bot, message_update(602, "/write_then_refuse"))
    assert await _count(sqlite_engine) == 0  # the write rolled back
    sent = [c.text for c in session.calls if isinstance(c, SendMessage)]
    assert sent == ["Эта кнопка устарела."]  # only the refusal; the queued reply was dropped
    # The refusal was answered after the rollback: no unit of work open at that moment.
    assert session.seen == [("Эта кнопка устарела.", True, 0)]


async def test_jobs_and_sends_outside_an_update_are_not_held(
    app: App, sqlite_engine: AsyncEngine
) -> None:
    session = WitnessSession(sqlite_engine)
    bot = app.attach_bot(make_bot(session))
    await bot.send_message(601, "from a job")
    assert [c.text for c in session.calls if isinstance(c, SendMessage)] == ["from a job"]


@pytest.mark.parametrize(
    ("command", "noted", "sent"),
    [
        ("/reply_then_note", 1, ["said"]),
        ("/reply_then_note fail", 0, ["Эта кнопка устарела."]),
    ],
)
async def test_after_reply_runs_only_once_the_replies_went_out(
    app: App, sqlite_engine: AsyncEngine, command: str, noted: int, sent: list[str]
) -> None:
    session = WitnessSession(sqlite_engine)
    bot = app.attach_bot(make_bot(session))
    await app.dispatcher.feed_raw_update(bot, message_update(603, command))
    assert [c.text for c in session.calls if isinstance(c, SendMessage)] == sent
    assert session.seen[0][2] == 0  # the note was not written before the reply went out
    assert await _count(sqlite_engine) == noted


class RefusingSession(WitnessSession):
    """Telegram refuses the handler's reply (e.g. the user's chat is gone)."""

    async def make_request(
        self, bot: Bot, method: TelegramMethod[Any], timeout: int | None = None
    ) -> Any:
        if getattr(method, "text", None) == "said":
            self.calls.append(method)
            raise TelegramBadRequest(method, "Bad Request: chat not found")
        return await super().make_request(bot, method, timeout)


async def test_after_reply_is_skipped_when_the_reply_was_refused(
    app: App, sqlite_engine: AsyncEngine
) -> None:
    session = RefusingSession(sqlite_engine)
    bot = app.attach_bot(make_bot(session))
    await app.dispatcher.feed_raw_update(bot, message_update(604, "/reply_then_note"))
    assert await _count(sqlite_engine) == 0  # the chat never heard it: nothing noted
