"""The wait list through the real Dispatcher: join, fair offers, skip, timeout, book, leave, expiry.

One world for the module (registering users is the slow part); the tests run
in order and build on each other, like one long console session.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
import pytest_asyncio

from emulator.harness import ConsoleWorld
from tests.flows.booking_helpers import (
    BOOK_3_DEC_10,
    NOW,
    REGISTER_1001,
    REGISTER_1002,
    rows,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

REGISTER_1003 = """@1003
/start
[Русский]
[Согласен]
!contact
Петров Пётр Петрович
05.05.1980
[Мужской]
987-654-321 83
7777666655554446
[Пропустить]
"""
TO_SOKOLOVA = """[Записаться к врачу]
[Терапевт]
[~№ 12]
[~Соколова]
"""
JOIN = TO_SOKOLOVA + "[Встать в лист ожидания]\n[14 дней]\n[любое время]\n"


async def entries(world: ConsoleWorld) -> dict[int, str]:
    found = await rows(world, "SELECT user_id, status FROM wait_list ORDER BY id")
    return {int(u): str(s) for u, s in found}  # type: ignore[call-overload]


async def blocked_slot(world: ConsoleWorld) -> int:
    """The earliest slot of the booked doctor that the clinic had closed."""
    found = await rows(
        world,
        "SELECT id FROM slots WHERE status = 'blocked' AND doctor_id = "
        "(SELECT doctor_id FROM appointments WHERE number = 'A-0000001') "
        "AND start_utc > '2026-12-02' ORDER BY start_utc LIMIT 1",
    )
    return int(found[0][0])  # type: ignore[call-overload]


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def world() -> AsyncIterator[ConsoleWorld]:
    w = await ConsoleWorld.start(now=NOW, lang="ru")
    await w.run(REGISTER_1001 + BOOK_3_DEC_10 + REGISTER_1002 + REGISTER_1003)
    # Sokolova has nothing else free: the patients below can only wait.
    async with w.app.engine.begin() as conn:
        from sqlalchemy import text

        await conn.execute(
            text(
                "UPDATE slots SET status = 'blocked' WHERE status = 'free' AND doctor_id = "
                "(SELECT doctor_id FROM appointments WHERE number = 'A-0000001')"
            )
        )
    yield w
    await w.close()


async def test_join_from_the_nothing_free_screen(world: ConsoleWorld) -> None:
    await world.run("@1002\n" + TO_SOKOLOVA)
    assert "Встать в лист ожидания" in [b for row in world.buttons() for b, _ in row]
    await world.run("[Встать в лист ожидания]\n[14 дней]\n[любое время]")
    assert "Вы в листе ожидания" in world.last_text()
    await world.run("@1003\n" + JOIN)
    assert await entries(world) == {1002: "active", 1003: "active"}
    await world.run("/waitlist")
    assert "Соколова" in world.last_text() and "Выйти из записи 1" in str(world.buttons())


async def test_freed_slot_goes_to_the_first_subscriber(world: ConsoleWorld) -> None:
    await world.run("@1001\n[Мои записи]\n[~№ A-0000001]\n[Отменить запись]\n[Да, отменить]")
    out = await world.run("!clock +2m")
    assert "<@1002" in out and "<@1003" not in out
    assert "Освободилось время" in world.last_text(1002)
    assert await entries(world) == {1002: "offered", 1003: "active"}
    held = await rows(world, "SELECT user_id, purpose FROM holds")
    assert held == [(1002, "waitlist")]


async def test_forged_offer_of_someone_else_changes_nothing(world: ConsoleWorld) -> None:
    data = [d for row in world.buttons(1002) for _l, d in row if d and d.startswith("wo:")]
    await world.run("@1003\n!callback " + data[0])
    assert await entries(world) == {1002: "offered", 1003: "active"}


async def test_skip_offers_it_to_the_next(world: ConsoleWorld) -> None:
    await world.run("@1002\n[Пропустить]")
    assert "Пропущено" in world.last_text(1002)
    assert await entries(world) == {1002: "active", 1003: "offered"}
    out = await world.run("!clock +1m")
    assert "<@1003" in out and "Освободилось время" in world.last_text(1003)


async def test_timeout_ends_the_offer_and_nobody_gets_it_twice(world: ConsoleWorld) -> None:
    out = await world.run("!clock +16m")
    assert await entries(world) == {1002: "active", 1003: "active"}
    assert "<@1002" not in out  # 1002 passed on this slot already
    assert await rows(world, "SELECT user_id FROM holds") == []


async def _open(world: ConsoleWorld, slot: int, *, freed: bool) -> None:
    """The clinic opens a closed slot; ``freed`` also records it as given back."""
    from sqlalchemy import text

    async with world.app.engine.begin() as conn:
        await conn.execute(
            text("UPDATE slots SET status = 'free', freed_at = :f WHERE id = :i"),
            {"i": slot, "f": world.clock.now().replace(tzinfo=None) if freed else None},
        )


async def offers_of(world: ConsoleWorld, slot: int) -> int:
    found = await rows(
        world, "SELECT COUNT(*) FROM outbox WHERE idem_key LIKE :k", k=f"wl:%:offer:{slot}:%"
    )
    return int(found[0][0])  # type: ignore[call-overload]


async def test_ordinary_free_time_is_never_offered(world: ConsoleWorld) -> None:
    """Issue 7 item 8: ordinary free slots were offered as «Освободилось время», a new
    offer every 15 minutes. Time that was never booked is not news: no offer, ever."""
    slot = await blocked_slot(world)
    await _open(world, slot, freed=False)
    for _step in range(3):
        out = await world.run("!clock +16m")
        assert "<@1002" not in out and "<@1003" not in out
    assert await entries(world) == {1002: "active", 1003: "active"}
    assert await offers_of(world, slot) == 0


async def test_freed_time_sooner_than_the_lead_time_is_not_offered(world: ConsoleWorld) -> None:
    """Issue 7 item 8: a freed slot 10–15 minutes away was offered. Nothing starting
    sooner than the lead time (120 min by default) is offered."""
    now = world.clock.now().replace(tzinfo=None)
    soon = await rows(
        world,
        "SELECT id FROM slots WHERE status = 'blocked' AND doctor_id = "
        "(SELECT doctor_id FROM appointments WHERE number = 'A-0000001') "
        "AND start_utc > :lo AND start_utc < :hi ORDER BY start_utc LIMIT 1",
        lo=str(now + timedelta(minutes=10)),
        hi=str(now + timedelta(minutes=110)),
    )
    slot = int(soon[0][0])  # type: ignore[call-overload]
    await _open(world, slot, freed=True)
    out = await world.run("!clock +1m")
    assert "<@1002" not in out and "<@1003" not in out
    assert await offers_of(world, slot) == 0


async def test_book_from_the_offer(world: ConsoleWorld) -> None:
    # 1001 books the time opened above and gives it back: that is a freed slot
    later = await rows(
        world,
        "SELECT id FROM slots WHERE status = 'free' AND freed_at IS NULL AND doctor_id = "
        "(SELECT doctor_id FROM appointments WHERE number = 'A-0000001') ORDER BY start_utc",
    )
    slot = int(later[0][0])  # type: ignore[call-overload]
    patient = (await rows(world, "SELECT id FROM patients WHERE owner_user_id = 1001"))[0][0]
    await world.run(f"@1001\n!callback bt:{patient}:{slot}\n[Подтвердить]")
    assert "Вы записаны! Номер записи: A-0000002" in world.last_text(1001)
    await world.run("[Мои записи]\n[~№ A-0000002]\n[Отменить запись]\n[Да, отменить]")
    assert (await rows(world, "SELECT status FROM slots WHERE id = :i", i=slot)) == [("free",)]
    await world.run("!clock +1m")
    assert await entries(world) == {1002: "offered", 1003: "active"}
    await world.run("@1002\n[Записаться]")
    assert "Вы записаны из листа ожидания" in world.last_text(1002)
    assert await entries(world) == {1002: "booked", 1003: "active"}
    booked = await rows(world, "SELECT status FROM slots WHERE id = :i", i=slot)
    assert booked == [("booked",)]
    # the outbox copy of the confirmation is not sent again (confirmed in chat)
    state = await rows(
        world, "SELECT state, last_error FROM outbox WHERE kind = 'booked' AND user_id = 1002"
    )
    assert state == [("sent", "confirmed in chat")]
    out = await world.run("!clock +1m")
    assert "<@1002" not in out


async def test_leave_and_expiry(world: ConsoleWorld) -> None:
    await world.run("@1003\n/waitlist\n[Выйти из записи 1]")
    assert await entries(world) == {1002: "booked", 1003: "left"}
    await world.run(TO_SOKOLOVA + "[Встать в лист ожидания]\n[7 дней]\n[вечер (после 17:00)]")
    statuses = await rows(world, "SELECT status FROM wait_list WHERE user_id = 1003 ORDER BY id")
    assert statuses == [("left",), ("active",)]
    await world.run("!clock +8d")
    statuses = await rows(world, "SELECT status FROM wait_list WHERE user_id = 1003 ORDER BY id")
    assert statuses == [("left",), ("expired",)]


async def test_the_empty_list_opened_from_the_profile_leads_back_to_it(world: ConsoleWorld) -> None:
    """«Профиль» → «Мой лист ожидания» with nothing on it replaced the profile with one
    sentence and no button."""
    await world.run("@1003\n[Профиль]\n[Мой лист ожидания]")
    assert "листе ожидания" in world.last_text(1003)
    inline = [(label, data) for row in world.buttons(1003) for label, data in row if data]
    assert [label for label, _data in inline] == ["Профиль"]
    out = await world.run(f"!callback {inline[0][1]}")
    assert "Ваш профиль" in out
