"""A profile edit ends when another section's button is pressed.

Regression: «✏️ ФИО», then «Закрыть обращение» (or any inline button of another section),
then «большое спасибо» typed a minute later: the edit step was still waiting, the text became
the account's full name and the account fell from confirmed to standard.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from emulator.harness import ConsoleWorld
from tests.flows.booking_helpers import NOW, REGISTER_1001


@pytest.fixture
async def world() -> AsyncIterator[ConsoleWorld]:
    w = await ConsoleWorld.start(now=NOW, lang="ru")
    yield w
    await w.close()


async def test_another_sections_button_ends_the_name_edit(world: ConsoleWorld) -> None:
    await world.run(
        REGISTER_1001 + "[Поддержка]\n[Написать в поддержку]\n[Жалоба]\nНе приходят напоминания\n"
    )
    await world.run("[Профиль]\n[✏️ ФИО]")
    assert "Отправьте ФИО" in world.last_text()
    await world.run("[Закрыть обращение]")  # the ticket's message above, another section
    await world.run("Большое Спасибо")
    await world.run("[Профиль]")
    assert "ФИО: Иванов Иван Иванович" in world.last_text()
    assert "подтверждённая" in world.last_text()


async def test_the_edits_own_back_button_still_works(world: ConsoleWorld) -> None:
    await world.run(REGISTER_1001 + "[Профиль]\n[✏️ ФИО]\nПетров Пётр Петрович")
    await world.run("[Профиль]")
    assert "ФИО: Петров Пётр Петрович" in world.last_text()


async def test_the_phone_edit_has_a_way_back_that_gives_the_menu_back(world: ConsoleWorld) -> None:
    """The phone edit replaced the menu's keyboard with «share my phone» alone: no way back."""
    await world.run(REGISTER_1001 + "[Профиль]\n[✏️ Телефон]")
    assert world.reply_keyboard() == [["Поделиться номером телефона"]]
    out = await world.run("[Назад]")
    assert "Изменение отменено" in out and "Ваш профиль" in out
    assert ["Записаться к врачу", "Мои записи"] in world.reply_keyboard()
    await world.run("!contact")  # the step is over: a shared contact changes nothing now
    await world.run("[Профиль]")
    assert "Телефон: +79000001001" in world.last_text()
