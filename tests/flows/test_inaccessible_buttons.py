"""Buttons on messages Telegram reports as inaccessible; /menu during a profile edit.

Regression (issue 7, items 17 and 18): profile and onboarding handlers
asserted ``isinstance(query.message, Message)``. A button on a message older
than 48 hours arrives with an InaccessibleMessage (date 0), so the assert
failed after the work was committed: «Удалить данные» erased the account and
then the error handler said «Ваши данные в безопасности».
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from emulator.harness import ConsoleWorld
from tests.flows.booking_helpers import NOW, REGISTER_1001, rows


@pytest.fixture
async def world() -> AsyncIterator[ConsoleWorld]:
    w = await ConsoleWorld.start(now=NOW, lang="ru")
    yield w
    await w.close()


async def press_on_inaccessible(world: ConsoleWorld, label: str) -> str:
    """Press [label] of the newest inline keyboard as Telegram sends it for an old message."""
    uid = world.user_id
    chat = await world.emulator.chat(uid)
    stored = world.find.newest_inline(chat)
    assert stored is not None
    data = next(d for row in world.buttons() for b, d in row if b == label and d)
    update = await world.users.callback(uid, chat, stored, data)
    old = update["callback_query"]["message"]
    update["callback_query"]["message"] = {
        "chat": old["chat"],
        "message_id": old["message_id"],
        "date": 0,
    }
    out: list[str] = []
    await world._feed(update)
    await world.emulator.flush()
    failure = world._check_events(out)
    assert failure is None, failure
    return "\n".join(out)


async def test_profile_edit_button_on_inaccessible_message(world: ConsoleWorld) -> None:
    await world.run(REGISTER_1001 + "[Профиль]")
    transcript = await press_on_inaccessible(world, "✏️ ФИО")
    assert "Что-то пошло не так" not in transcript
    assert "ФИО" in world.last_text()
    await world.run("Петров Пётр Петрович")
    assert "ФИО: Петров Пётр Петрович" in world.last_text()


async def test_erase_on_inaccessible_message_erases_and_says_so(world: ConsoleWorld) -> None:
    await world.run(REGISTER_1001 + "/delete_me")
    transcript = await press_on_inaccessible(world, "Удалить данные")
    assert "в безопасности" not in transcript
    assert "Ваши персональные данные удалены" in world.last_text()
    assert await rows(world, "SELECT status FROM users WHERE id = 1001") == [("deleted",)]


async def test_onboarding_language_button_on_inaccessible_message(world: ConsoleWorld) -> None:
    await world.run("/start")
    transcript = await press_on_inaccessible(world, "Русский")
    assert "Что-то пошло не так" not in transcript
    await world.run("[Согласен]")  # the consent question arrived as a new message
    assert "телефон" in world.last_text().lower()


async def test_menu_command_leaves_a_profile_edit(world: ConsoleWorld) -> None:
    """Regression (item 18): «/menu» during a profile edit was taken as the new value."""
    await world.run(REGISTER_1001 + "[Профиль]\n[✏️ ФИО]\n/menu")
    assert "Главное меню" in world.last_text()
    transcript = await world.run("Петров Пётр Петрович")  # no longer an answer to the edit
    assert "Сохранено" not in transcript and "ФИО: Петров" not in transcript
    assert "Не понял сообщение" in world.last_text()
    found = await rows(world, "SELECT count(*) FROM fsm_states WHERE state IS NOT NULL")
    assert found == [(0,)]
