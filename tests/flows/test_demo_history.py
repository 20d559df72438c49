"""The console's demo patient with a past (``--demo-history``, issue 9).

Seeded only for the interactive console: this world asks for it explicitly.
@5001 — Смирнова Анна Сергеевна — sees her two completed visits and the
cancelled one in «История посещений», a visit's conclusion under «Подробнее»,
and the cardiologist referral (referral-only specialty) as active.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from emulator.harness import ConsoleWorld
from tests.flows.booking_helpers import NOW

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def world() -> AsyncIterator[ConsoleWorld]:
    w = await ConsoleWorld.start(now=NOW, lang="ru", demo_history=True)
    yield w
    await w.close()


async def test_history_lists_completed_and_cancelled_visits(world: ConsoleWorld) -> None:
    out = await world.run("@5001\n/start\n[История посещений]")
    assert "История посещений (3)" in out
    for row in ("Оториноларинголог", "Терапевт", "Офтальмолог"):
        assert f"· {row} · Смирнова]" in out
    out = await world.run("[~Оториноларинголог]")
    assert "Степанов Константин Олегович" in out
    assert "Статус: отменена" in out


async def test_details_show_the_conclusion(world: ConsoleWorld) -> None:
    out = await world.run("[История посещений]\n[~Терапевт]")
    assert "Статус: состоялась" in out
    assert "Заключение: Артериальная гипертензия I степени, впервые выявленная" in out
    assert "Направления: Кардиолог, действует до" in out


async def test_referral_to_the_cardiologist_is_active(world: ConsoleWorld) -> None:
    out = await world.run("[История посещений]\n[Направления]")
    assert "— Кардиолог" in out
    assert "Выдал: Волкова Ольга Николаевна" in out
    assert "Статус: действует" in out
    assert "[Записаться: Кардиолог (Смирнова)]" in out
