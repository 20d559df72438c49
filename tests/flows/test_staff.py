"""/staff through the real Dispatcher: cancel with alternatives and one-tap rebooking, move,
mark completed / no-show (the patient's profile shows the count), ownership of clinics.

One world for the module; the tests run in order like one console session.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

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
    await w.run(REGISTER_1001 + BOOK_3_DEC_10)
    yield w
    await w.close()


def callbacks(world: ConsoleWorld, user_id: int, prefix: str) -> list[str]:
    return [d for row in world.buttons(user_id) for _l, d in row if d and d.startswith(prefix)]


async def test_non_staff_is_refused(world: ConsoleWorld) -> None:
    await world.run("@1001\n/staff")
    assert "для сотрудников поликлиники" in world.last_text()


async def test_staff_move_reaches_the_patient(world: ConsoleWorld) -> None:
    await world.run("@9001\n/staff\n[Перенести приём]\n[~A-0000001]")
    assert "Выберите новый день" in world.last_text()
    await world.run("[4]\n[14:00]")
    assert "причину" in world.last_text()
    await world.run("врач на учёбе")
    assert "Причина: врач на учёбе" in world.last_text()
    # another clinic's registrar cannot press it (forged callbacks)
    go = callbacks(world, 9001, "bk:")[0]  # the wizard's «Подтвердить» (was smg:)
    await world.run(f"@9002\n/staff\n!callback smp:1\n!callback {go}")
    assert await appointments(world) == {"A-0000001": "pending"}
    await world.run("@9001\n[Подтвердить]")
    assert "A-0000002" in world.last_text()
    assert await appointments(world) == {"A-0000001": "rescheduled", "A-0000002": "pending"}
    await world.run("!clock +1m")
    text = world.last_text(1001)
    assert "Поликлиника перенесла вашу запись" in text and "врач на учёбе" in text


async def test_staff_cancel_with_alternatives_and_one_tap_rebook(world: ConsoleWorld) -> None:
    await world.run("@9002\n/staff\n[Отменить приём]")
    assert "Соколова" not in world.last_text()  # not their clinic
    await world.run("@9001\n/staff\n[Отменить приём]\n[~Соколова]")
    doc = callbacks(world, 9001, "sy:")[0]
    await world.run(f"@9002\n/staff\n!callback {doc}")
    assert await appointments(world) == {"A-0000001": "rescheduled", "A-0000002": "pending"}
    await world.run("@9001\n[~4 декабря]\nврач заболел\n[Подтвердить]")
    assert await appointments(world) == {"A-0000001": "rescheduled", "A-0000002": "cancelled"}
    await world.run("@1001\n!clock +1m")
    assert "Причина: врач заболел" in world.last_text(1001)
    await world.run("[#1]")
    assert (await appointments(world)).get("A-0000003") == "pending"


async def test_day_cancelled_by_clinic_cannot_be_booked_by_another_patient(
    world: ConsoleWorld,
) -> None:
    """Issue 7 item 14: after «врач заболел» the freed slot and the rest of that day went
    back to the schedule and another patient booked the exact cancelled slot."""
    cancelled = await rows(
        world,
        "SELECT slot_id, doctor_id, start_utc FROM appointments WHERE number = 'A-0000002'",
    )
    slot_id, doctor_id = int(cancelled[0][0]), int(cancelled[0][1])  # type: ignore[call-overload]
    day = str(cancelled[0][2])[:10]  # 4 Dec: 14:00 Moscow is 11:00 UTC, the same date
    same_day = await rows(
        world,
        "SELECT id, status FROM slots WHERE doctor_id = :d AND start_utc >= :lo "
        "AND start_utc < :hi ORDER BY start_utc",
        d=doctor_id,
        lo=f"{day} 00:00:00",
        hi=f"{day} 21:00:00",
    )
    assert len(same_day) > 1 and {status for _id, status in same_day} == {"blocked"}
    await world.run(REGISTER_1002)
    patient = int((await rows(world, "SELECT id FROM patients WHERE owner_user_id = 1002"))[0][0])  # type: ignore[call-overload]
    other = next(int(i) for i, _s in same_day if int(i) != slot_id)  # type: ignore[call-overload]
    for target in (slot_id, other):
        await world.run(f"@1002\n!callback bt:{patient}:{target}")
        assert "записаться уже нельзя" in world.last_text(1002)
        await world.run(f"!callback bk:{patient}:{target}")
    assert await rows(world, "SELECT * FROM holds WHERE user_id = 1002") == []
    assert await rows(world, "SELECT number FROM appointments WHERE user_id = 1002") == []
    # and the wait list is never offered that day: it is blocked, not freed
    assert (
        await rows(world, "SELECT id FROM slots WHERE status = 'free' AND id = :i", i=slot_id) == []
    )


async def test_forged_day_codes_are_stale_buttons(world: ConsoleWorld) -> None:
    """Regression: a day code that is no date (20261399) reached the error handler."""
    before = await appointments(world)
    await world.run("@9001\n/staff\n[Отменить приём]")
    await world.run("!callback " + callbacks(world, 9001, "sd:")[0])  # whoever has visits
    doctor = callbacks(world, 9001, "sy:")[0].split(":")[1]
    for forged in (f"sy:{doctor}:20261399", f"sg:{doctor}:20261399"):
        transcript = await world.run(f"!callback {forged}")
        assert "Эта кнопка устарела" in transcript
    assert await appointments(world) == before


async def test_mark_no_show_shows_in_the_profile(world: ConsoleWorld) -> None:
    found = await rows(world, "SELECT start_utc FROM appointments WHERE number = 'A-0000003'")
    start = datetime.fromisoformat(str(found[0][0])).replace(tzinfo=UTC)
    minutes = int((start - world.clock.now()).total_seconds() // 60) + 1
    await world.run(f"!clock +{minutes}m\n@9002\n/staff\n[Отметить визит]")
    assert "A-0000003" not in str(world.buttons(9002))
    await world.run("!callback sk:3:n")
    assert await appointments(world) == {
        "A-0000001": "rescheduled",
        "A-0000002": "cancelled",
        "A-0000003": "pending",
    }
    await world.run("!clock +10m\n@9001\n/staff\n[Отметить визит]\n[~A-0000003]\n[Неявка]")
    assert (await appointments(world))["A-0000003"] == "no_show"
    await world.run("@1001\n[Профиль]")
    assert "Пропущенных приёмов (неявок): 1." in world.last_text(1001)
    assert "ограничение выключено" in world.last_text(1001)


async def test_refresh_with_nothing_new_sends_no_edit(world: ConsoleWorld) -> None:
    """«Обновить» on «нет открытых заявок» edited the message into itself: Telegram refuses
    that (400 «message is not modified»; the strict console stops on it). Now the press is
    answered and nothing is sent."""
    await world.run("@9001\n/staff\n[Заявки на справки]")
    assert "нет открытых заявок на справки" in world.last_text(9001)
    out = await world.run("[Обновить]")
    assert "!!" not in out and "edited" not in out
    assert "нет открытых заявок на справки" in world.last_text(9001)
