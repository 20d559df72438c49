"""«Профиль» → «Проверить полис» (issue 10.5): the register is asked again now; the answer
names the attached clinic and the level, and a policy that stopped being valid is told."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text

from emulator.harness import ConsoleWorld
from tests.flows.booking_helpers import NOW, REGISTER_1001, REGISTER_1002, rows


@pytest.fixture
async def world() -> AsyncIterator[ConsoleWorld]:
    w = await ConsoleWorld.start(now=NOW, lang="ru")
    yield w
    await w.close()


async def test_policy_check_shows_clinic_and_level_then_a_lapsed_policy(
    world: ConsoleWorld,
) -> None:
    await world.run(REGISTER_1001)
    out = await world.run("[Профиль]\n[Проверить полис]")
    assert "проверен по регистру" in out
    assert "Прикреплённая поликлиника: ГБУЗ «Городская поликлиника № 12" in out
    assert "Учётная запись: подтверждённая" in out
    # the register no longer lists this policy (the attachment ended)
    async with world.app.engine.begin() as conn:
        await conn.execute(text("DELETE FROM attachments WHERE clinic_id = 1"))
    out = await world.run("[Проверить полис]")
    assert "больше не подтверждает ваш полис" in out
    assert await rows(world, "SELECT level FROM users WHERE id = 1001") == [("standard",)]


async def test_policy_check_of_a_standard_account(world: ConsoleWorld) -> None:
    await world.run(REGISTER_1002)
    out = await world.run("@1002\n[Профиль]\n[Проверить полис]")
    assert "Учётная запись: стандартная" in out
    assert "Прикреплённая поликлиника" not in out
