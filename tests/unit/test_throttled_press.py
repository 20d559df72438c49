"""Issue 7.18: a throttled button press was dropped unanswered (the button kept spinning)."""

from __future__ import annotations

import pytest
from aiogram import Dispatcher
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.methods import AnswerCallbackQuery
from aiogram.types import CallbackQuery, Update

from bot.i18n import build_i18n
from bot.middlewares.throttling import ThrottlingMiddleware
from tests.flows.recording_session import RecordingSession, callback_update, make_bot


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("ru", "Слишком часто: подождите немного и попробуйте ещё раз."),
        ("en", "Too many presses: wait a moment and try again."),
    ],
)
async def test_a_throttled_press_is_answered_with_a_short_reason(lang: str, expected: str) -> None:
    now = [1000.0]
    handled: list[str] = []
    dp = Dispatcher(storage=MemoryStorage())
    dp.update.outer_middleware(
        ThrottlingMiddleware(1.0, burst=2, monotonic=lambda: now[0], i18n=build_i18n("ru"))
    )

    @dp.callback_query()
    async def record(query: CallbackQuery) -> None:
        handled.append(str(query.data))
        await query.answer()

    session = RecordingSession()
    bot = make_bot(session)
    for n in range(4):
        raw = callback_update(31, f"press:{n}", lang=lang)
        await dp.feed_update(bot, Update.model_validate(raw, context={"bot": bot}))
    assert handled == ["press:0", "press:1"]
    answers = [c for c in session.calls if isinstance(c, AnswerCallbackQuery)]
    assert [a.text for a in answers] == [None, None, expected, expected]
    await dp.storage.close()
