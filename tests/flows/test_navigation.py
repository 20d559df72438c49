"""A main-menu button or a command ends the step the user was on (flows/navigation.py).

Found by walking the console: at «Мои близкие» → add → the name step, the user
went to «Поддержка» with the menu and typed a question; the question was taken
as the relative's name («Нужны фамилия и имя…»).
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


async def test_a_menu_button_ends_the_relatives_name_step(world: ConsoleWorld) -> None:
    await world.run(REGISTER_1001 + "[Мои близкие]\n[Добавить близкого]\n[Ребёнок]")
    assert "ФИО" in world.last_text() or "фамил" in world.last_text().lower()
    await world.run("[Поддержка]")
    out = await world.run("как отменить запись")
    assert "Как отменить запись?" in out  # the FAQ answered
    assert "фамилия" not in out.lower()  # not taken as a name


async def test_a_command_ends_a_step_but_not_an_unfinished_registration(
    world: ConsoleWorld,
) -> None:
    await world.run("/start\n[Русский]\n[Согласен]\n!contact")
    before = world.last_text()
    await world.run("/menu")
    out = await world.run("Иванов Иван Иванович")  # still the registration's name step
    assert "Иванов" in out and before
    assert "дату рождения" in world.last_text() or "рождения" in world.last_text()
