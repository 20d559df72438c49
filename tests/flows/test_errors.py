"""Errors: the user gets an error id and never a traceback; stale or forged buttons change nothing."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator

import pytest
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.methods import AnswerCallbackQuery, SendMessage
from aiogram.types import CallbackQuery, Message
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import App, build_app
from bot.clock import VirtualClock
from bot.settings import load_settings
from storage.schema import metadata
from tests.conftest import TEST_KEY
from tests.flows.recording_session import (
    RecordingSession,
    callback_update,
    make_bot,
    message_update,
)

ERROR_ID = re.compile(r"\b([0-9a-f]{8})\b")
LEAK = "secret-internals-/etc/zapis"


@pytest.fixture
async def app(sqlite_engine: AsyncEngine, clock: VirtualClock) -> AsyncIterator[App]:
    application = build_app(
        load_settings(), clock, encryption_key=TEST_KEY, engine=sqlite_engine, throttling=False
    )
    dp = application.dispatcher

    # Registered on the Dispatcher itself: its own handlers are matched before any router.
    @dp.message(Command("boom"))
    async def boom(message: Message, state: FSMContext) -> None:
        await state.set_state("Half:way")  # must roll back with the failed update
        raise RuntimeError(LEAK)

    @dp.callback_query(lambda q: q.data == "boom")
    async def boom_button(query: CallbackQuery) -> None:
        raise ValueError(LEAK)

    yield application
    await application.storage.close()


async def _row_counts(engine: AsyncEngine) -> dict[str, int]:
    counts: dict[str, int] = {}
    async with engine.connect() as conn:
        for table in metadata.sorted_tables:
            counts[table.name] = (
                await conn.execute(select(func.count()).select_from(table))
            ).scalar_one()
    return counts


@pytest.mark.parametrize(("lang", "phrase"), [("en", "Error code"), ("ru", "Код ошибки")])
async def test_failing_handler_reports_an_id_not_a_traceback(
    app: App, sqlite_engine: AsyncEngine, caplog: pytest.LogCaptureFixture, lang: str, phrase: str
) -> None:
    session = RecordingSession()
    bot = make_bot(session)
    before = await _row_counts(sqlite_engine)
    with caplog.at_level(logging.ERROR, logger="zapis.errors"):
        await app.dispatcher.feed_raw_update(bot, message_update(601, "/boom", lang=lang))

    sent = [c for c in session.calls if isinstance(c, SendMessage)]
    assert len(sent) == 1
    text = sent[0].text
    assert phrase in text
    for leak in ("Traceback", "RuntimeError", LEAK, 'File "'):
        assert leak not in text
    match = ERROR_ID.search(text)
    assert match is not None
    error_id = match.group(1)

    records = [r for r in caplog.records if r.name == "zapis.errors"]
    assert len(records) == 1
    assert error_id in records[0].getMessage()
    assert records[0].exc_info is not None  # the traceback goes to the log, not the chat
    # The failed update rolled back: the FSM step it set is gone.
    assert await _row_counts(sqlite_engine) == before


async def test_failing_button_answers_with_an_alert(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    session = RecordingSession()
    with caplog.at_level(logging.ERROR, logger="zapis.errors"):
        await app.dispatcher.feed_raw_update(make_bot(session), callback_update(602, "boom"))
    answers = [c for c in session.calls if isinstance(c, AnswerCallbackQuery)]
    assert len(answers) == 1 and answers[0].show_alert is True
    assert answers[0].text is not None and LEAK not in answers[0].text
    match = ERROR_ID.search(answers[0].text)
    assert match is not None
    assert any(match.group(1) in r.getMessage() for r in caplog.records)


async def test_two_errors_get_different_ids(app: App, caplog: pytest.LogCaptureFixture) -> None:
    session = RecordingSession()
    bot = make_bot(session)
    with caplog.at_level(logging.ERROR, logger="zapis.errors"):
        await app.dispatcher.feed_raw_update(bot, message_update(603, "/boom"))
        await app.dispatcher.feed_raw_update(bot, message_update(603, "/boom"))
    ids = {ERROR_ID.search(t).group(1) for t in session.texts()}  # type: ignore[union-attr]
    assert len(ids) == 2


@pytest.mark.parametrize("data", ["zz:1", "bd:not-a-number", "bp:999999:extra", "x" * 64])
async def test_stale_or_forged_button_changes_nothing(
    app: App, sqlite_engine: AsyncEngine, data: str
) -> None:
    session = RecordingSession()
    before = await _row_counts(sqlite_engine)
    await app.dispatcher.feed_raw_update(make_bot(session), callback_update(604, data))
    assert len(session.calls) == 1
    answer = session.calls[0]
    assert isinstance(answer, AnswerCallbackQuery)
    assert answer.text == "Эта кнопка устарела."
    assert await _row_counts(sqlite_engine) == before


async def test_stale_button_in_english(app: App) -> None:
    session = RecordingSession()
    await app.dispatcher.feed_raw_update(make_bot(session), callback_update(605, "zz:1", lang="en"))
    assert session.texts() == ["This button is out of date."]
