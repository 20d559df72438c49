"""The confirmation promises reminders only when some are planned.

Regression: a visit booked at 12:00 for 13:30 the same day gets no reminder (a day
before and two hours before are both past), yet the confirmation said «Перед приёмом
придут напоминания».
"""

from __future__ import annotations

from emulator.harness import ConsoleWorld
from tests.flows.booking_helpers import NOW, REGISTER_1001, rows

TODAY = "[Записаться к врачу]\n[Терапевт]\n[~№ 12]\n[~Соколова]\n[1]\n"
PROMISE = "Перед приёмом придут напоминания"


async def test_no_promise_without_a_planned_reminder_and_the_promise_with_one() -> None:
    world = await ConsoleWorld.start(now=NOW, lang="ru")
    try:
        out = await world.run(REGISTER_1001 + TODAY + "[13:30]\n[Подтвердить]")
        assert "Вы записаны!" in out and PROMISE not in out
        assert "Перенести или отменить запись можно в разделе «Мои записи»." in out
        assert await rows(world, "SELECT id FROM outbox WHERE kind = 'reminder'") == []
    finally:
        await world.close()
    # A visit two days ahead has its reminders, and the confirmation says so.
    world = await ConsoleWorld.start(now=NOW, lang="ru")
    try:
        out = await world.run(
            REGISTER_1001 + TODAY.replace("[1]", "[3]") + "[10:00]\n[Подтвердить]"
        )
        assert PROMISE in out
        assert await rows(world, "SELECT id FROM outbox WHERE kind = 'reminder'") != []
    finally:
        await world.close()
