"""Issue 7.1: a registered patient writing in a group made the bot post their visits there.

Every Bot API request the bot makes is recorded at the session (whatever the
emulator does with a group chat id), so "nothing personal posted" is checked
on what the bot tried to send, not only on what arrived.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.session.middlewares.base import NextRequestMiddlewareType
from aiogram.methods import AnswerCallbackQuery, LeaveChat, TelegramMethod
from aiogram.types import Update

from emulator.harness import ConsoleWorld
from tests.flows.booking_helpers import BOOK_3_DEC_10, NOW, REGISTER_1001, appointments

GROUP: dict[str, Any] = {"id": -500100, "type": "group", "title": "Семья"}
SUPERGROUP: dict[str, Any] = {"id": -1001000000200, "type": "supergroup", "title": "Двор"}
CHANNEL: dict[str, Any] = {"id": -1001000000300, "type": "channel", "title": "Новости"}
PATIENT: dict[str, Any] = {"id": 1001, "is_bot": False, "first_name": "Иван", "language_code": "ru"}
PERSONAL = ("Иванов", "Иван Иванович", "A-0000001", "Соколова", "№ 12", "Удалить", "Пациент")
NEUTRAL_RU = "Я работаю только в личных сообщениях: напишите мне лично."
NEUTRAL_EN = "I only work in private messages: please write to me directly."
TEXTS = ("Мои записи", "/start", "/menu", "/delete_me")
_ids = itertools.count(900_000)


class Calls:
    """A session middleware recording every request the bot makes."""

    def __init__(self) -> None:
        self.methods: list[TelegramMethod[Any]] = []

    async def __call__(
        self, make_request: NextRequestMiddlewareType[Any], bot: Bot, method: TelegramMethod[Any]
    ) -> Any:
        self.methods.append(method)
        return await make_request(bot, method)

    def to_chat(self, chat_id: int) -> list[TelegramMethod[Any]]:
        return [m for m in self.methods if getattr(m, "chat_id", None) == chat_id]

    def texts_to(self, chat_id: int) -> list[str | None]:
        return [getattr(m, "text", None) for m in self.to_chat(chat_id)]

    def texts(self) -> list[str]:
        return [str(t) for m in self.methods for t in [getattr(m, "text", None)] if t]


@pytest.fixture
async def world() -> AsyncIterator[ConsoleWorld]:
    w = await ConsoleWorld.start(now=NOW, lang="ru")
    await w.run(REGISTER_1001 + BOOK_3_DEC_10)
    assert await appointments(w) == {"A-0000001": "pending"}  # the newest message: its PDF
    yield w
    await w.close()


@pytest.fixture
def calls(world: ConsoleWorld) -> Calls:
    recorder = Calls()
    world.bot.session.middleware(recorder)
    return recorder


async def feed(world: ConsoleWorld, **body: Any) -> None:
    update = Update.model_validate({"update_id": next(_ids), **body}, context={"bot": world.bot})
    await world.app.dispatcher.feed_update(world.bot, update)
    await world.emulator.flush()
    world.emulator.drain()


def message(
    chat: dict[str, Any], text: str, sender: dict[str, Any] | None = PATIENT
) -> dict[str, Any]:
    body: dict[str, Any] = {"message_id": next(_ids), "date": 1_800_000_000, "chat": chat}
    if sender is not None:
        body["from"] = sender
    body["text"] = text
    if text.startswith("/"):
        body["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text)}]
    return body


def assert_nothing_personal(calls: Calls) -> None:
    for text in calls.texts():
        assert not any(word in text for word in PERSONAL), text
    for method in calls.methods:
        assert getattr(method, "reply_markup", None) is None, method


@pytest.mark.parametrize("chat", [GROUP, SUPERGROUP], ids=["group", "supergroup"])
async def test_patient_commands_in_a_group_post_nothing_personal(
    world: ConsoleWorld, calls: Calls, chat: dict[str, Any]
) -> None:
    for text in TEXTS:
        await feed(world, message=message(chat, text))
    assert_nothing_personal(calls)
    # One neutral line for the four messages (rate-limited per chat), nothing else anywhere.
    assert calls.texts_to(chat["id"]) == [NEUTRAL_RU]
    assert calls.methods == calls.to_chat(chat["id"])
    # The patient's own chat got nothing from it either, and nothing was erased.
    assert "Подтверждение для регистратуры" in world.last_text(1001)  # still the booking PDF


async def test_channel_posts_and_channel_messages_are_ignored(
    world: ConsoleWorld, calls: Calls
) -> None:
    for text in TEXTS:
        await feed(world, channel_post=message(CHANNEL, text, sender=None))
        await feed(world, edited_channel_post={**message(CHANNEL, text, None), "edit_date": 1})
        await feed(world, message=message(CHANNEL, text))
    assert calls.methods == []


async def test_neutral_line_once_per_chat_per_ten_minutes_in_the_senders_language(
    world: ConsoleWorld, calls: Calls
) -> None:
    english = {**PATIENT, "id": 1002, "language_code": "en"}
    await feed(world, message=message(SUPERGROUP, "/start", english))
    await feed(world, message=message(SUPERGROUP, "/menu"))
    await feed(world, message=message(GROUP, "/menu"))
    world.clock.advance(timedelta(minutes=9))
    await feed(world, message=message(SUPERGROUP, "Мои записи"))
    world.clock.advance(timedelta(minutes=2))
    await feed(world, message=message(SUPERGROUP, "Мои записи"))
    assert calls.texts_to(SUPERGROUP["id"]) == [NEUTRAL_EN, NEUTRAL_RU]
    assert calls.texts_to(GROUP["id"]) == [NEUTRAL_RU]
    assert_nothing_personal(calls)


@pytest.mark.parametrize("chat", [GROUP, SUPERGROUP], ids=["group", "supergroup"])
async def test_buttons_under_a_group_message_are_answered_without_content(
    world: ConsoleWorld, calls: Calls, chat: dict[str, Any]
) -> None:
    bot_message = {**message(chat, "old"), "from": {"id": 1, "is_bot": True, "first_name": "Z"}}
    for data in ("menu:appointments", "ad:1", "del:yes"):
        await feed(
            world,
            callback_query={
                "id": str(next(_ids)),
                "from": PATIENT,
                "chat_instance": "g",
                "message": bot_message,
                "data": data,
            },
        )
    assert [type(m) for m in calls.methods] == [AnswerCallbackQuery] * 3
    assert all(m.text is None for m in calls.methods)  # type: ignore[attr-defined]
    assert_nothing_personal(calls)


@pytest.mark.parametrize("chat", [GROUP, SUPERGROUP, CHANNEL], ids=["group", "sgroup", "channel"])
async def test_added_to_a_group_or_channel_the_bot_leaves(
    world: ConsoleWorld, calls: Calls, chat: dict[str, Any]
) -> None:
    bot_user = {"id": 4242, "is_bot": True, "first_name": "Zapis"}
    await feed(
        world,
        my_chat_member={
            "chat": chat,
            "from": PATIENT,
            "date": 1_800_000_000,
            "old_chat_member": {"status": "left", "user": bot_user},
            "new_chat_member": {"status": "member", "user": bot_user},
        },
    )
    assert [(type(m), getattr(m, "chat_id", None)) for m in calls.methods] == [
        (LeaveChat, chat["id"])
    ]
