"""Reminders through the real Dispatcher: the 24 h reminder as the clock moves, «Приду»,
«Перенести» / «Отменить» entering «Мои записи», quiet hours, opt-out, forged callbacks,
and the booking confirmation sent once (in chat, not again from the outbox).

One world for the module; the tests run in order like one console session.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from emulator.harness import ConsoleWorld
from tests.flows.booking_helpers import (
    BOOK_3_DEC_10,
    NOW,
    REGISTER_1001,
    REGISTER_1002,
    appointments,
    rows,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def world() -> AsyncIterator[ConsoleWorld]:
    w = await ConsoleWorld.start(now=NOW, lang="ru")
    await w.run(REGISTER_1001 + BOOK_3_DEC_10 + REGISTER_1002)
    yield w
    await w.close()


async def test_booking_confirmation_is_not_sent_twice(world: ConsoleWorld) -> None:
    out = await world.run("!clock +1m")
    assert "<@1001" not in out
    state = await rows(world, "SELECT state FROM outbox WHERE kind = 'booked'")
    assert state == [("sent",)]


async def test_opt_out_of_reminders(world: ConsoleWorld) -> None:
    await world.run("@1002\n[Профиль]\n[Уведомления]")
    assert "Сообщения об изменениях со стороны поликлиники" in world.last_text(1002)
    await world.run("[Выключить: Напоминания о приёме]")
    assert "🔕 Напоминания о приёме" in world.last_text(1002)
    optout = await rows(world, "SELECT notify_optout FROM users WHERE id = 1002")
    assert optout == [("reminder",)]
    await world.run("[Записаться к врачу]\n[Терапевт]\n[~№ 12]\n[~Соколова]\n[3]\n[08:00]")
    await world.run("[Подтвердить]")
    assert "Вы записаны" in world.last_text(1002)
    await world.run("!jobs notifier")  # its .ics and PDF (not reminders: they still come)


async def test_forged_reminder_callbacks_change_nothing(world: ConsoleWorld) -> None:
    await world.run("@1002\n[Записаться к врачу]\n!callback rc:1\n!callback ac:1:2\n!callback am:1")
    assert (await appointments(world))["A-0000001"] == "pending"


async def test_24h_reminder_and_i_will_come(world: ConsoleWorld) -> None:
    out = await world.run("!clock 2026-12-02T10:01")
    assert "Напоминание: приём у врача через 1 день" in out
    assert "<@1002" not in out  # opted out of reminders
    assert "Вы придёте?" in world.last_text(1001)
    await world.run("@1001\n[Приду]")
    assert "подтверждена" in world.last_text(1001)
    assert (await appointments(world))["A-0000001"] == "confirmed"


async def test_double_tap_on_i_will_come_answers_gracefully(world: ConsoleWorld) -> None:
    """Regression (issue 7, item 18): a second «Приду» reached the error handler."""
    transcript = await world.run("@1001\n!callback rc:1")
    assert "Что-то пошло не так" not in transcript
    assert "уже подтверждена" in transcript
    assert "подтверждена. Ждём вас" not in transcript  # no second «thank you» message
    assert (await appointments(world))["A-0000001"] == "confirmed"


async def test_reminder_buttons_enter_the_existing_flows(world: ConsoleWorld) -> None:
    await world.run("@1001\n[Перенести]")
    assert "Выберите" in world.last_text(1001)
    await world.run("!callback ac:1:0")
    assert "24 часов" in world.last_text(1001)
    assert (await appointments(world))["A-0000001"] == "confirmed"


async def test_quiet_hours_skip_the_2h_reminder_of_an_early_visit(world: ConsoleWorld) -> None:
    # 1002's visit is at 08:00 Moscow: its 2 h reminder would fall at 06:00, inside the quiet
    # hours (22:00–08:00). Moved to the evening before it would say «через 2 ч» ten hours
    # early, so by default (ZAPIS_REMINDER_QUIET_POLICY=skip) it is not planned at all.
    keys = await rows(
        world, "SELECT idem_key FROM outbox WHERE kind = 'reminder' AND user_id = 1002"
    )
    assert [k for (k,) in keys if str(k).endswith(":reminder:120")] == []
    assert [k for (k,) in keys if str(k).endswith(":reminder:1440")] != []
