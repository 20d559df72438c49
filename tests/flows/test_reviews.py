"""Reviews (issue 10.3): asked once after a completed visit, one per visit, editable 7 days,
a hidden text keeps its score, the doctor's average follows; forged ids change nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

import pytest
from sqlalchemy import update

from emulator.harness import ConsoleWorld
from storage.schema import appointments as appointments_table
from tests.flows.booking_helpers import BOOK_3_DEC_10, NOW, REGISTER_1001, REGISTER_1002, rows


@pytest.fixture
async def world() -> AsyncIterator[ConsoleWorld]:
    w = await ConsoleWorld.start(now=NOW, lang="ru")
    yield w
    await w.close()


async def _complete_first_visit(world: ConsoleWorld) -> tuple[int, int]:
    """Book, let the visit pass, mark it completed (as staff's «Отметить приём» does)."""
    await world.run(REGISTER_1001 + BOOK_3_DEC_10)
    ((appointment_id, doctor_id),) = await rows(world, "SELECT id, doctor_id FROM appointments")
    await world.run("!clock 2026-12-03T11:00")
    async with world.app.engine.begin() as conn:
        await conn.execute(
            update(appointments_table)
            .where(appointments_table.c.id == appointment_id)
            .values(status="completed", updated_at=datetime(2026, 12, 3, 8, 0))
        )
    return int(str(appointment_id)), int(str(doctor_id))


async def _doctor(world: ConsoleWorld, doctor_id: int) -> tuple[int, int]:
    ((s, c),) = await rows(
        world, "SELECT rating_sum, rating_count FROM doctors WHERE id = :i", i=doctor_id
    )
    return int(str(s)), int(str(c))


async def test_review_after_completion_once_per_visit_and_the_average(world: ConsoleWorld) -> None:
    appointment_id, doctor_id = await _complete_first_visit(world)
    before_sum, before_count = await _doctor(world, doctor_id)
    out = await world.run("@1001\n!clock +2m\n!clock +61m")  # asked an hour after completion
    assert "Как прошёл приём" in out
    out = await world.run("[4★]")
    assert "Ваша оценка: ★★★★☆" in out
    assert await _doctor(world, doctor_id) == (before_sum + 4, before_count + 1)
    # asked once: more ticks plan nothing new
    await world.run("!clock +90m")
    asks = await rows(world, "SELECT count(*) FROM outbox WHERE kind = 'review_ask'")
    assert asks == [(1,)]
    # changed within 7 days: the sum follows, the count does not
    await world.run(f"!callback rv:{appointment_id}:5")
    assert await _doctor(world, doctor_id) == (before_sum + 5, before_count + 1)
    await world.run("[Написать отзыв]\nВнимательный врач, всё объяснил.")
    assert "Отзыв сохранён" in world.last_text(1001)
    assert await rows(world, "SELECT count(*) FROM reviews") == [(1,)]
    # the doctor's reviews page
    out = await world.run(f"!callback rd:{doctor_id}:0")
    assert "Внимательный врач" in out and "★★★★★" in out
    # staff of the clinic hide the text; the score stays
    out = await world.run(f"@9001\n/staff\n!callback rd:{doctor_id}:0")
    assert "Скрыть текст" in out
    await world.run("[~Скрыть текст]\nОскорбления")
    assert "остаётся" in world.last_text(9001)
    out = await world.run(f"@1001\n!callback rd:{doctor_id}:0")
    assert "Внимательный врач" not in out and "Оскорбления" in out
    assert await _doctor(world, doctor_id) == (before_sum + 5, before_count + 1)
    # after 7 days the review is locked
    await world.run("!clock +8d")
    out = await world.run(f"!callback rv:{appointment_id}:1")
    assert "7 дней" in out
    assert await _doctor(world, doctor_id) == (before_sum + 5, before_count + 1)


async def test_forged_review_of_another_users_visit_changes_nothing(world: ConsoleWorld) -> None:
    appointment_id, doctor_id = await _complete_first_visit(world)
    before = await _doctor(world, doctor_id)
    await world.run(REGISTER_1002)
    out = await world.run(f"@1002\n[Поддержка]\n!callback rv:{appointment_id}:1")
    assert "Эта кнопка устарела" in out
    out = await world.run(f"!callback rw:{appointment_id}:text")
    assert "Эта кнопка устарела" in out
    out = await world.run("!callback rd:999999:0")  # no such doctor
    assert "Эта кнопка устарела" in out
    assert await _doctor(world, doctor_id) == before
    assert await rows(world, "SELECT count(*) FROM reviews") == [(0,)]


async def test_forged_ticket_of_another_user_changes_nothing(world: ConsoleWorld) -> None:
    await world.run(
        REGISTER_1001 + "[Поддержка]\n[Написать в поддержку]\n[Жалоба]\nГрубили в регистратуре"
    )
    await world.run(REGISTER_1002 + "[Поддержка]")
    for data in ("to:1:show", "to:1:reply", "to:1:close", "st:show:1:0", "st:answer:1:0"):
        out = await world.run(f"!callback {data}")
        assert "Эта кнопка устарела" in out, data
    assert await rows(world, "SELECT status FROM tickets") == [("new",)]
    # a registrar of another clinic (9002: clinic 2) cannot open clinic 1's ticket either
    out = await world.run("@9002\n/staff\n!callback st:show:1:0")
    assert "Эта кнопка устарела" in out
    assert await rows(world, "SELECT status FROM tickets") == [("new",)]


async def test_erasure_keeps_the_score_and_drops_the_text(world: ConsoleWorld) -> None:
    appointment_id, doctor_id = await _complete_first_visit(world)
    await world.run(f"@1001\n!callback rv:{appointment_id}:4\n[Написать отзыв]\nВсё хорошо")
    before = await _doctor(world, doctor_id)
    await world.run("/delete_me\n[Удалить данные]")
    assert await rows(world, "SELECT rating, text, user_id FROM reviews") == [(4, "", None)]
    assert await _doctor(world, doctor_id) == before


async def test_the_doctor_card_counts_reviews_and_opens_them(world: ConsoleWorld) -> None:
    """Issue 10.3: the rating and the number of reviews on the doctor's card, and «Отзывы»."""
    _, doctor_id = await _complete_first_visit(world)
    await world.run("@1001")
    ((appointment_id,),) = await rows(world, "SELECT id FROM appointments")
    await world.run(f"!callback rv:{appointment_id}:4\n[Написать отзыв]\nСпокойно всё объяснила.")
    sum_, count = await _doctor(world, doctor_id)
    out = await world.run("[Записаться к врачу]\n[Терапевт]\n[~№ 12]\n[~Соколова]")
    average = f"★ {round(sum_ / count, 1):.1f}"
    assert f"{average} ({count} отзыв" in out
    out = await world.run("[Отзывы]")
    assert "★★★★☆" in out and "Спокойно всё объяснила." in out
