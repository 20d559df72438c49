"""flows/ui/methods.py builds what aiogram's shortcuts build; bot/lean_types.py's
middleware chain runs the middlewares in aiogram's order."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram import Bot
from aiogram.dispatcher.middlewares.manager import MiddlewareManager
from aiogram.types import CallbackQuery, Chat, InlineKeyboardMarkup, Message, User

from bot.lean_types import lean_middleware_chain
from flows.ui import methods
from flows.ui.keyboards import button, inline

BOT = Bot("42:TEST")


def _message(business: str | None = None, chat_id: int = 5) -> Message:
    return Message(
        message_id=77,
        date=datetime(2026, 12, 1, tzinfo=UTC),
        chat=Chat(id=chat_id, type="private"),
        text="old",
        business_connection_id=business,
    ).as_(BOT)


def _same(ours: Any, theirs: Any) -> None:
    assert type(ours) is type(theirs)
    assert ours == theirs
    assert list(ours.__dict__.items()) == list(theirs.__dict__.items())
    assert ours.model_fields_set == theirs.model_fields_set
    assert ours.__pydantic_private__ == theirs.__pydantic_private__
    assert ours.bot is theirs.bot is BOT
    assert ours.model_dump(exclude_unset=True) == theirs.model_dump(exclude_unset=True)
    assert ours.model_dump() == theirs.model_dump()


MARKUPS: list[InlineKeyboardMarkup | None] = [
    None,
    inline([[button("Терапевт", "bs:3"), button("‹", "bsp:0")], [button("Назад", "bb:clinic")]]),
]


@pytest.mark.parametrize("markup", MARKUPS)
@pytest.mark.parametrize("business", [None, "bc1"])
def test_edit_text_is_aiogram_edit_text(
    markup: InlineKeyboardMarkup | None, business: str | None
) -> None:
    message = _message(business)
    for text in ("Выберите клинику", "<b>не разметка</b> & ещё", "x" * 4096):
        for _ in range(2):  # the first call is aiogram's own, the next ones copies
            made = methods.edit_text(message, text, markup)
            _same(made, message.edit_text(text, reply_markup=markup, parse_mode=None))
            assert made.parse_mode is None


def test_answer_is_aiogram_answer() -> None:
    user = User(id=1, is_bot=False, first_name="A")
    for query_id in ("q1", "4382bfdwdsb323b2d9"):
        query = CallbackQuery(id=query_id, from_user=user, chat_instance="c", data="x").as_(BOT)
        for _ in range(2):
            _same(methods.answer(query), query.answer())


class _Capturing(Bot):
    """A Bot whose calls are recorded, not sent: what ``bot.send_message`` builds."""

    sent: list[Any]

    async def __call__(self, method: Any, request_timeout: int | None = None) -> Any:
        self.sent.append((method, request_timeout))
        return True


@pytest.mark.parametrize("markup", MARKUPS)
def test_send_text_is_bot_send_message(markup: InlineKeyboardMarkup | None) -> None:
    bot = _Capturing("42:TEST")
    bot.sent = []
    for chat_id in (5, -100123):
        for text in ("Вы записаны! Номер записи: A-0000008", "<b>не разметка</b> & ещё"):
            for _ in range(2):  # the first call builds the template, the next ones copy it
                asyncio.run(bot.send_message(chat_id, text, reply_markup=markup, parse_mode=None))
                theirs, timeout = bot.sent.pop()
                theirs.as_(bot)  # (aiogram's is not bound: it was handed to the bot)
                ours = methods.send_text(bot, chat_id, text, markup)
                assert type(ours) is type(theirs)
                assert ours == theirs
                assert list(ours.__dict__.items()) == list(theirs.__dict__.items())
                assert ours.model_fields_set == theirs.model_fields_set
                assert ours.model_dump() == theirs.model_dump()
                assert ours.model_dump(exclude_unset=True) == theirs.model_dump(exclude_unset=True)
                assert ours.parse_mode is None
                assert ours.bot is bot
                assert asyncio.run(_awaited(ours)) is True  # awaiting it sends through its bot
                assert bot.sent.pop() == (ours, timeout)


async def _awaited(method: Any) -> Any:
    return await method


def test_send_text_of_other_types_is_validated() -> None:
    """A value not exactly of its field's type goes through pydantic, which refuses it."""
    bot = _Capturing("42:TEST")
    with pytest.raises(ValueError):
        methods.send_text(bot, 5, 42, None)  # type: ignore[arg-type]


def test_lean_middleware_chain_keeps_aiogram_order() -> None:
    assert lean_middleware_chain()
    seen: list[str] = []

    def middleware(name: str) -> Any:
        async def run(handler: Any, event: Any, data: dict[str, Any]) -> Any:
            seen.append(name)
            data[name] = True
            return await handler(event, data)

        return run

    async def handler(event: Any, **data: Any) -> Any:
        seen.append("handler")
        return event, sorted(data)

    manager = MiddlewareManager()
    for name in ("a", "b", "c"):
        manager.register(middleware(name))
    for given in (manager, list(manager), tuple(manager)):
        seen.clear()
        chain = MiddlewareManager.wrap_middlewares(given, handler)
        assert asyncio.run(chain("event", {"x": 1})) == ("event", ["a", "b", "c", "x"])
        assert seen == ["a", "b", "c", "handler"]
    assert asyncio.run(MiddlewareManager.wrap_middlewares(MiddlewareManager(), handler)(1, {})) == (
        1,
        [],
    )
