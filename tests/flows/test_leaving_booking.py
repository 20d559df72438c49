"""Leaving the booking dialogue through the main menu ends it.

After «Мои записи» in the middle of a booking, typed text still got «Выберите
врача кнопкой выше.»: the booking step outlived the dialogue.
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


async def test_booking_step_hint_after_leaving_for_my_appointments(world: ConsoleWorld) -> None:
    await world.run(REGISTER_1001 + "[Записаться к врачу]\n[Терапевт]\n[~№ 12]")
    await world.run("абв")
    assert "Выберите врача кнопкой выше" in world.last_text()  # still in the step: the hint
    await world.run("[Мои записи]")
    assert "записей" in world.last_text() or "записи" in world.last_text()
    await world.run("абв")
    assert "Выберите врача" not in world.last_text()


async def test_overlap_refusal_had_no_way_back_to_the_times(world: ConsoleWorld) -> None:
    """«Выберите другое время», said the overlap refusal, with no button to do so."""
    await world.run(
        REGISTER_1001
        + "[Записаться к врачу]\n[Оториноларинголог]\n[#1]\n[#2]\n[2]\n[14:00]\n[Подтвердить]\n"
        + "[Записаться к врачу]\n[Хирург]\n[#1]\n[#2]\n[2]\n[~14:00]"
    )
    assert "На это время у вас уже есть запись" in world.last_text()
    await world.run("[Выбрать другое время]")
    assert "Выберите время" in world.last_text()


async def test_wait_list_questions_answered_typed_text_with_the_calendars_hint(
    world: ConsoleWorld,
) -> None:
    """At «на сколько дней» and «какое время суток» typed text got «Выберите день…»."""
    await world.run(
        REGISTER_1001 + "[Записаться к врачу]\n[Терапевт]\n[~№ 12]\n[~Соколова]\n"
        "[Встать в лист ожидания]\nабв"
    )
    assert "сколько ждать" in world.last_text()
    await world.run("[7 дней]\nабв")
    assert "время суток" in world.last_text() and "Выберите день" not in world.last_text()
