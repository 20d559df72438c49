"""A staff reason with «<» reaches the patient; a refused notice is shown to staff.

Regression (issue 7, item 13): «врач < 1 ставки», «<3» and «</code>» went out
unescaped in a message sent with the HTML parse mode; Telegram refused it, the
row was marked failed, and the registrar had been told «the patients are being
notified». The HTTP transport is used here: it applies the bot's default parse
mode and the emulator refuses unescaped HTML as Telegram does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from emulator.harness import ConsoleWorld
from tests.flows.booking_helpers import BOOK_3_DEC_10, NOW, REGISTER_1001, appointments, rows

REASONS = ["врач < 1 ставки", "<3", "</code>", "Tom & Jerry <b>"]


@pytest.fixture
async def world() -> AsyncIterator[ConsoleWorld]:
    w = await ConsoleWorld.start(now=NOW, lang="ru", transport="http")
    yield w
    await w.close()


@pytest.mark.parametrize("reason", REASONS)
async def test_staff_cancel_reason_with_html_reaches_the_patient(
    world: ConsoleWorld, reason: str
) -> None:
    await world.run(REGISTER_1001 + BOOK_3_DEC_10)
    await world.run(f"@9001\n/staff\n[Отменить приём]\n[~Соколова]\n[~3 декабря]\n{reason}")
    assert f"Причина: {reason}" in world.last_text(9001)
    await world.run("[Подтвердить]")
    assert "поставлены в очередь" in world.last_text(9001)
    assert await appointments(world) == {"A-0000001": "cancelled"}
    await world.run("!clock +1m")
    notice = world.last_text(1001)
    assert "Поликлиника отменила вашу запись" in notice
    assert f"Причина: {reason}" in notice  # as typed, not as «&lt;»
    states = await rows(world, "SELECT state FROM outbox WHERE kind = 'clinic_cancelled'")
    assert states == [("sent",)]
    assert "не удалось доставить" not in await world.run("@9001\n/staff")


async def test_refused_notice_is_listed_for_staff() -> None:
    """Regression: a permanently refused notice was invisible to the registrar."""
    # not strict: the emulator's 403 to the notifier is expected here
    world = await ConsoleWorld.start(now=NOW, lang="ru", transport="http", strict=False)
    try:
        await _refused_notice_is_listed(world)
    finally:
        await world.close()


async def _refused_notice_is_listed(world: ConsoleWorld) -> None:
    await world.run(REGISTER_1001 + BOOK_3_DEC_10)
    world.emulator.blocked.add(1001)  # the patient blocked the bot: 403, the urgent row waits
    await world.run("@9001\n/staff\n[Отменить приём]\n[~Соколова]\n[~3 декабря]\nврач заболел")
    await world.run("[Подтвердить]\n!clock +1m")
    states = await rows(world, "SELECT state FROM outbox WHERE kind = 'clinic_cancelled'")
    assert states == [("held",)]  # sent when the patient returns (issue 7 item 12)
    await world.run("/staff")
    text = world.last_text(9001)
    assert "не удалось доставить" in text and "A-0000001" in text and "403" in text
    # another clinic's registrar does not see it
    await world.run("@9002\n/staff")
    assert "A-0000001" not in world.last_text(9002)


async def test_menu_command_leaves_the_staff_reason_step(world: ConsoleWorld) -> None:
    """Regression: «/menu» typed at the reason step became the cancellation reason."""
    await world.run(REGISTER_1001 + BOOK_3_DEC_10)
    await world.run("@9001\n/staff\n[Отменить приём]\n[~Соколова]\n[~3 декабря]\n/menu")
    assert "Причина: /menu" not in world.last_text(9001)
    await world.run("врач заболел")  # no longer an answer to the reason step
    assert "Причина:" not in world.last_text(9001)
    assert await appointments(world) == {"A-0000001": "pending"}
