"""Magic filters run in the event loop (bot/inline_filters.py), and still filter.

aiogram hands every non-coroutine filter to ``asyncio.to_thread``; a thread hop per
update for ``F.text == …`` was the largest cost of a booking step (bench/dialogue.py).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiogram import F, Router
from aiogram.types import Chat, Message

from bot.inline_filters import inline_magic_filters

NOW = 1_764_000_000


def message(text: str) -> Message:
    return Message(message_id=1, date=NOW, chat=Chat(id=1, type="private"), text=text)


async def test_magic_filters_are_awaited_in_the_loop_and_still_filter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    parent, child = Router(), Router()
    parent.include_router(child)
    child.message.filter(F.chat.type == "private")

    @child.message(F.text == "book")
    async def on_book(message: Message) -> None:  # pragma: no cover - not triggered here
        return None

    inline_magic_filters([parent])
    handler = child.message.handlers[0]
    assert handler.filters is not None and all(f.awaitable for f in handler.filters)

    def no_threads(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("a magic filter went to a thread")

    monkeypatch.setattr(asyncio, "to_thread", no_threads)
    assert (await handler.check(message("book")))[0] is True
    assert (await handler.check(message("other")))[0] is False
