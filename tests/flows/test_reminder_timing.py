"""Reminder timing around quiet hours through the real Dispatcher, scheduler and notifier.

Regression of issue 7, item 7: for an 08:00 visit the "2 hours before" reminder arrived
the evening before (~22:00) saying «через 2 ч». Now the short reminder is skipped when it
would fall in quiet hours (ZAPIS_REMINDER_QUIET_POLICY=skip, the default), or, with
``shift``, goes out before the quiet hours and names the visit's real day and time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from emulator.harness import ConsoleWorld
from tests.flows.booking_helpers import NOW, REGISTER_1001, TO_DAY_3, rows

BOOK_3_DEC_08 = TO_DAY_3 + "[08:00]\n[Подтвердить]\n"


@asynccontextmanager
async def _world(policy: str | None) -> AsyncIterator[ConsoleWorld]:
    overrides = {"reminder_quiet_policy": policy} if policy else None
    w = await ConsoleWorld.start(now=NOW, lang="ru", settings_overrides=overrides)
    try:
        await w.run(REGISTER_1001 + BOOK_3_DEC_08)
        yield w
    finally:
        await w.close()


async def test_no_2h_reminder_the_evening_before_an_0800_visit() -> None:
    async with _world(None) as world:
        out = await world.run("!clock 2026-12-02T08:01")
        assert "Напоминание: приём у врача через 1 день" in out  # on plan: 24 h ahead
        out = await world.run("!clock 2026-12-02T21:00\n!clock 2026-12-02T22:30")
        out += await world.run("!clock 2026-12-03T07:59")
        assert "Напоминание" not in out and "через 2 ч" not in out
        keys = await rows(world, "SELECT idem_key FROM outbox WHERE kind = 'reminder'")
        assert sorted(str(k) for (k,) in keys) == ["appt:1:reminder:1440"]


async def test_shifted_2h_reminder_names_the_real_time() -> None:
    async with _world("shift") as world:
        await world.run("!clock 2026-12-02T08:01")
        out = await world.run("!clock 2026-12-02T22:00")
        assert "Напоминание: приём у врача завтра в 08:00" in out
        assert "через 2 ч" not in out
        # planned at 21:59 Moscow the evening before, not at 06:00
        due = await rows(world, "SELECT due_at FROM outbox WHERE idem_key = 'appt:1:reminder:120'")
        assert str(due[0][0]).startswith("2026-12-02 18:59")
