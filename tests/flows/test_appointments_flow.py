"""«Мои записи» through the real Dispatcher: cancel (±24 h, past), reschedule, ownership."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from emulator.harness import ConsoleWorld
from tests.flows.booking_helpers import (
    BOOK_3_DEC_10,
    NOW,
    REGISTER_1001,
    REGISTER_1002,
    appointments,
    rows,
    slot_status,
)


@pytest.fixture
async def world() -> AsyncIterator[ConsoleWorld]:
    w = await ConsoleWorld.start(now=NOW, lang="ru")
    yield w
    await w.close()


async def _booked_slot(world: ConsoleWorld, number: str) -> int:
    found = await rows(world, "SELECT slot_id FROM appointments WHERE number = :n", n=number)
    return int(found[0][0])


async def test_cancel_more_than_24h_one_confirmation_frees_slot(world: ConsoleWorld) -> None:
    await world.run(REGISTER_1001 + BOOK_3_DEC_10)
    slot = await _booked_slot(world, "A-0000001")
    await world.run("[Мои записи]\n[~№ A-0000001]\n[Отменить запись]")
    assert "Отменить эту запись?" in world.last_text()
    await world.run("[Да, отменить]")
    assert "Запись № A-0000001 отменена" in world.last_text()
    assert await appointments(world) == {"A-0000001": "cancelled"}
    assert await slot_status(world, slot) == "free"
    who = await rows(world, "SELECT cancelled_by FROM appointments")
    assert who == [("patient",)]
    await world.run("[Мои записи]")
    assert "отменена вами" in world.last_text()
    journal = await rows(world, "SELECT action FROM journal WHERE action LIKE 'appointment.%'")
    assert ("appointment.cancelled",) in journal


async def test_cancel_less_than_24h_needs_a_second_confirmation(world: ConsoleWorld) -> None:
    await world.run(REGISTER_1001 + BOOK_3_DEC_10)
    await world.run("!clock 2026-12-02T12:00\n[Мои записи]\n[~№ A-0000001]")
    # a forged «final» callback cannot skip the warning
    await world.run("!callback ac:1:2")
    assert "До приёма меньше 24 часов" in world.last_text()
    assert await appointments(world) == {"A-0000001": "pending"}
    await world.run("[Да, отменить]")
    assert "Подтвердите ещё раз" in world.last_text()
    assert await appointments(world) == {"A-0000001": "pending"}
    await world.run("[Да, отменить]")
    assert "отменена" in world.last_text()
    assert await appointments(world) == {"A-0000001": "cancelled"}


def _labels(world: ConsoleWorld) -> list[str]:
    return [label for row in world.buttons() for label, _data in row]


async def test_cancel_confirmation_labels_match_on_both_paths(world: ConsoleWorld) -> None:
    """Regression (issue 7, item 9): «Отменить запись» confirmed > 24 h, «Да, отменить» < 24 h."""
    await world.run(
        REGISTER_1001 + BOOK_3_DEC_10 + "[Мои записи]\n[~№ A-0000001]\n[Отменить запись]"
    )
    early = _labels(world)
    await world.run("[Назад]\n!clock 2026-12-02T12:00\n[Отменить запись]")
    late_first = _labels(world)
    await world.run("[Да, отменить]")
    late_second = _labels(world)
    assert early == late_first == late_second == ["Да, отменить", "Назад"]


async def test_started_visit_cannot_be_cancelled(world: ConsoleWorld) -> None:
    await world.run(REGISTER_1001 + BOOK_3_DEC_10)
    await world.run("!clock 2026-12-03T10:05\n[Мои записи]\n[~№ A-0000001]")
    labels = [b for row in world.buttons() for b, _ in row]
    assert "Отменить запись" not in labels and "Перенести" not in labels
    await world.run("!callback ac:1:0")
    assert "уже начался или прошёл" in world.last_text()
    await world.run("!callback am:1")
    assert "уже начался или прошёл" in world.last_text()
    assert await appointments(world) == {"A-0000001": "pending"}


async def test_reschedule_same_doctor(world: ConsoleWorld) -> None:
    await world.run(REGISTER_1001 + BOOK_3_DEC_10)
    old_slot = await _booked_slot(world, "A-0000001")
    await world.run("[Мои записи]\n[~№ A-0000001]\n[Перенести]\n[4]\n[14:00]")
    assert "Перенести запись № A-0000001" in world.last_text()
    assert await appointments(world) == {"A-0000001": "pending"}  # nothing moved yet
    await world.run("[Подтвердить]")
    assert "Новый номер записи: A-0000002" in world.last_text()
    assert await appointments(world) == {"A-0000001": "rescheduled", "A-0000002": "pending"}
    assert await slot_status(world, old_slot) == "free"
    assert await slot_status(world, await _booked_slot(world, "A-0000002")) == "booked"
    await world.run("[Мои записи]")
    assert "перенесена" in world.last_text()


async def test_reschedule_to_a_taken_slot_offers_alternatives(world: ConsoleWorld) -> None:
    await world.run(REGISTER_1001 + BOOK_3_DEC_10)
    await world.run("[Мои записи]\n[~№ A-0000001]\n[Перенести]\n[4]")
    target = next(d for row in world.buttons() for b, d in row if b == "14:00")
    assert target is not None
    # 1002 takes 4 Dec 14:00 meanwhile
    await world.run(
        REGISTER_1002
        + "[Записаться к врачу]\n[Терапевт]\n[~№ 12]\n[~Соколова]\n[4]\n[14:00]\n[Подтвердить]"
    )
    await world.run(f"@1001\n!callback {target}")
    assert "Это время уже заняли" in world.last_text()
    assert await appointments(world) == {"A-0000001": "pending", "A-0000002": "pending"}
    await world.run("[#1]\n[Подтвердить]")
    assert "Новый номер записи: A-0000003" in world.last_text()
    assert await appointments(world) == {
        "A-0000001": "rescheduled",
        "A-0000002": "pending",
        "A-0000003": "pending",
    }


async def test_another_users_forged_callbacks_change_nothing(world: ConsoleWorld) -> None:
    await world.run(REGISTER_1001 + BOOK_3_DEC_10)
    slot = await _booked_slot(world, "A-0000001")
    free = int((await rows(world, "SELECT min(id) FROM slots WHERE status = 'free'"))[0][0])
    await world.run(REGISTER_1002 + "[Мои записи]")
    forged = [
        "ao:1", "ac:1:0", "ac:1:1", "ac:1:2", "af:1:pdf", "af:1:ics", "am:1", "amo:1",
        "amd:1:1", "ay:1:1:20261204:0", f"at:1:{free}", f"ak:1:{free}",
    ]  # fmt: skip
    out = await world.run("\n".join(f"!callback {data}" for data in forged))
    assert out.count("Эта кнопка устарела") == len(forged)
    assert await appointments(world) == {"A-0000001": "pending"}
    assert await slot_status(world, slot) == "booked"
    assert await slot_status(world, free) == "free"
    assert await rows(world, "SELECT * FROM holds") == []
    assert world.last_file(1002) is None
    await world.run("[Мои записи]")
    assert "Предстоящих записей нет" in world.last_text(1002)


async def test_past_toggle_lists_finished_visits(world: ConsoleWorld) -> None:
    await world.run(REGISTER_1001 + BOOK_3_DEC_10)
    await world.run("!clock 2026-12-03T12:00\n[Мои записи]")
    assert "Предстоящих записей нет" in world.last_text()
    await world.run("[Прошедшие]")
    assert "A-0000001" in world.last_text()
    # Nobody marked it yet: not «ожидает приёма» two hours after its time.
    assert "Статус: время приёма прошло, отметки поликлиники о нём пока нет" in world.last_text()
    assert "ожидает приёма" not in world.last_text()
    await world.run("[Предстоящие]")
    assert "Предстоящих записей нет" in world.last_text()
