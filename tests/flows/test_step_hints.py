"""Typed text in the middle of a booking step gets that step's hint (issue 7, item 9).

Regression: «привет» typed while choosing a time got the catch-all answer
«Не понял сообщение. Выберите раздел в меню», as if the booking had ended.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from emulator.harness import ConsoleWorld
from flows.booking import BookingStates
from flows.step_hints import HINTS
from flows.waitlist import WaitListSteps
from tests.flows.booking_helpers import NOW, REGISTER_1001, appointments

CATCH_ALL = "Не понял сообщение"


@pytest.fixture
async def world() -> AsyncIterator[ConsoleWorld]:
    w = await ConsoleWorld.start(now=NOW, lang="ru")
    yield w
    await w.close()


def test_every_booking_step_has_a_hint() -> None:
    steps = (*BookingStates.__all_states__, *WaitListSteps.__all_states__)
    assert set(HINTS) == set(steps)


async def test_garbage_text_at_each_booking_step_gets_the_steps_hint(
    world: ConsoleWorld, tmp_path: Path
) -> None:
    note = tmp_path / "note.txt"
    note.write_text("hello")
    await world.run(REGISTER_1001 + "[Записаться к врачу]")
    steps = [
        ("[Терапевт]", "Выберите поликлинику"),  # a sticker-like non-answer below
        ("[~№ 12]", "Выберите врача кнопкой выше"),
        ("[~Соколова]", "Выберите день кнопкой выше"),
        ("[3]", "Выберите время кнопкой выше"),
        ("[10:00]", "Нажмите «Подтвердить» выше"),
    ]
    transcript = await world.run("привет")
    assert "Выберите специальность кнопкой выше" in world.last_text(), transcript
    for press, hint in steps:
        await world.run(press)
        await world.run("asdf" if "поликлинику" not in hint else f"!file {note}")
        assert hint in world.last_text()
        assert CATCH_ALL not in world.last_text()
    await world.run("[Подтвердить]")  # the buttons above still work after the hints
    assert await appointments(world) == {"A-0000001": "pending"}


async def test_menu_buttons_and_commands_still_leave_a_booking_step(world: ConsoleWorld) -> None:
    await world.run(REGISTER_1001 + "[Записаться к врачу]\n[Терапевт]\n[~№ 12]\n[~Соколова]\n[3]")
    await world.run("[Мои записи]")
    assert "Выберите время" not in world.last_text()
    await world.run("[Записаться к врачу]\n/menu")
    assert "Главное меню" in world.last_text()
    await world.run("привет")  # the booking was left: the catch-all answers again
    assert CATCH_ALL in world.last_text()
