"""A registrar or an administrator with no patient account who types outside a step.

Before: the catch-all (flows/menu.py) told them «send /start to register first», a
patient's registration prompt. Now they are pointed to /staff, in their language,
with the staff menu one tap away; anyone else who has not registered is still
asked to /start.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from emulator.harness import ConsoleWorld
from tests.flows.booking_helpers import NOW

pytestmark = pytest.mark.asyncio(loop_scope="module")

L = {
    "ru": {
        "hint": "Вы сотрудник поликлиники: ваше меню — /staff",
        "register": "Сначала зарегистрируйтесь: отправьте /start.",
        "menu": "Меню сотрудника",
        "staff_home": "что нужно сделать?",
        "text": "здравствуйте",
    },
    "en": {
        "hint": "You are clinic staff: your menu is /staff",
        "register": "Send /start to register first.",
        "menu": "Staff menu",
        "staff_home": "what would you like to do?",
        "text": "hello",
    },
}


@pytest_asyncio.fixture(loop_scope="module", scope="module", params=["ru", "en"])
async def lw(request: pytest.FixtureRequest) -> AsyncIterator[tuple[ConsoleWorld, dict[str, str]]]:
    world = await ConsoleWorld.start(now=NOW, lang=request.param)
    yield world, L[request.param]
    await world.close()


@pytest.mark.parametrize("staff_id", [9001, 9009, 9002])  # registrar, admin, another clinic's
async def test_staff_text_points_to_the_staff_menu(
    lw: tuple[ConsoleWorld, dict[str, str]], staff_id: int
) -> None:
    world, t = lw
    await world.run(f"@{staff_id}\n{t['text']}")
    assert world.last_text().startswith(t["hint"])
    assert "/start" in world.last_text()  # booking as a patient is still possible
    assert [b for row in world.buttons() for b in row] == [(t["menu"], "sm:home")]
    await world.run(f"[{t['menu']}]")
    assert t["staff_home"] in world.last_text()


async def test_an_unknown_command_from_staff_gets_the_same_hint(
    lw: tuple[ConsoleWorld, dict[str, str]],
) -> None:
    world, t = lw
    await world.run("@9001\n/whatever")
    assert world.last_text().startswith(t["hint"])


async def test_someone_else_unregistered_is_still_asked_to_register(
    lw: tuple[ConsoleWorld, dict[str, str]],
) -> None:
    world, t = lw
    await world.run(f"@4242\n{t['text']}")
    assert world.last_text() == t["register"]
