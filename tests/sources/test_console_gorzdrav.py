"""A whole booking and cancel in the console with region spb on (fake) Gorzdrav.

The fake keeps state, so each step is checked on both sides: our record and
the registry's. Also: a cancel the registry does not confirm keeps the visit
active and says so; a slot taken at the registry between list and confirm is
answered as «just taken» with alternatives; a visit cancelled at the clinic
reaches the patient as a clinic-initiated change (reconcile).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.sources.gorzdrav.fake import FakeGorzdrav
from bot.sources.gorzdrav.reconcile import reconcile
from bot.sources.wiring import GorzdravRuntime, runtime_of, start_sources
from emulator.harness import ConsoleWorld
from emulator.sources import source_overrides
from storage.schema import appointments, slot_sources, slots
from tests.flows.booking_helpers import REGISTER_1001

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # 12:00 in St Petersburg

ONBOARD = (
    REGISTER_1001
    + """!expect поликлиника прикрепления: ГП №87
[Записаться к врачу]
[›]
[Терапевт участковый]
[~ГП №87]
[~Абаева]
!expect Ближайшее свободное время: ср, 2 декабря 2026, 10:30
[3]
[13:00]
!expect Проверьте данные записи"""
)


@pytest.fixture
async def world() -> AsyncIterator[ConsoleWorld]:
    w = await ConsoleWorld.start(
        now=NOW, lang="ru", settings_overrides=source_overrides("gorzdrav")
    )
    report = await start_sources(w.world.app, w.clock.now())
    assert report is not None and report.clinics == 1 and report.added == 16 * 68
    yield w
    await w.close()


def runtime(world: ConsoleWorld) -> GorzdravRuntime:
    found = runtime_of(world.world.app)
    assert found is not None and found.fake is not None
    return found


def fake(world: ConsoleWorld) -> FakeGorzdrav:
    f = runtime(world).fake
    assert f is not None
    return f


async def status(world: ConsoleWorld) -> str:
    async with world.world.engine.connect() as conn:
        return str(await conn.scalar(select(appointments.c.status)))


async def test_booking_and_cancel_go_to_the_registry_first(world: ConsoleWorld) -> None:
    await world.run(ONBOARD)
    assert not fake(world).visits
    await world.run("[Подтвердить]\n!expect Вы записаны! Номер записи: A-")
    (visit,) = fake(world).visits.values()
    assert visit.slot["id"] == "03.12.2026;13:00;п100.136"
    assert await status(world) == "pending"
    await world.run(
        "[Мои записи]\n[~Терапевт участковый]\n[Отменить запись]\n"
        "!expect Отменить эту запись?\n[#1]\n!expect отменена"
    )
    assert fake(world).visits == {}
    assert await status(world) == "cancelled"


async def test_registry_not_confirming_a_cancel_keeps_the_visit(world: ConsoleWorld) -> None:
    await world.run(ONBOARD + "\n[Подтвердить]\n!expect Вы записаны!")
    fake(world).fail("/appointment/cancel", "http500", times=1)
    fake(world).fail("/appointments", "http500", times=3)
    await world.run(
        "[Мои записи]\n[~Терапевт участковый]\n[Отменить запись]\n[#1]\n"
        "!expect не подтвердила отмену\n"
        "!expect (812) 241-28-08"
    )
    assert len(fake(world).visits) == 1
    assert await status(world) == "pending"


async def test_slot_taken_at_the_registry_before_confirm(world: ConsoleWorld) -> None:
    await world.run(ONBOARD)
    fake(world).take_elsewhere("44", "03.12.2026;13:00;п100.136")
    await world.run("[Подтвердить]\n!expect Это время уже заняли")
    assert await status(world) == "None"  # no appointment of ours
    async with world.world.engine.connect() as conn:
        closed = await conn.scalar(
            select(slots.c.status)
            .join(slot_sources, slot_sources.c.slot_id == slots.c.id)
            .where(slot_sources.c.external_id == "03.12.2026;13:00;п100.136")
        )
    assert closed == "blocked"


async def test_patient_unknown_to_the_registry(world: ConsoleWorld) -> None:
    fake(world).unknown.add("Иванов")
    await world.run(ONBOARD + "\n[Подтвердить]\n!expect нет карты пациента")
    assert await status(world) == "None"


async def test_visit_cancelled_at_the_clinic_reaches_the_patient(world: ConsoleWorld) -> None:
    await world.run(ONBOARD + "\n[Подтвердить]\n!expect Вы записаны!")
    fake(world).cancel_at_clinic("44", "03.12.2026;13:00;п100.136")
    rt = runtime(world)
    assert await reconcile(rt.plain_uow, rt.source, world.clock.now()) == 1
    assert await status(world) == "cancelled"
    await world.run("!clock +1m\n!expect Запись отменена в поликлинике")


async def test_cancel_of_a_visit_the_registry_already_dropped(world: ConsoleWorld) -> None:
    await world.run(ONBOARD + "\n[Подтвердить]\n!expect Вы записаны!")
    fake(world).cancel_at_clinic("44", "03.12.2026;13:00;п100.136")
    await world.run(
        "[Мои записи]\n[~Терапевт участковый]\n[Отменить запись]\n[#1]\n!expect отменена"
    )
    assert await status(world) == "cancelled"


async def test_delete_me_with_a_visit_the_registry_keeps_erases_nothing(
    world: ConsoleWorld,
) -> None:
    await world.run(ONBOARD + "\n[Подтвердить]\n!expect Вы записаны!")
    fake(world).fail("/appointment/cancel", "http500", times=1)
    fake(world).fail("/appointments", "http500", times=3)
    await world.run("/delete_me\n[#1]\n!expect не подтвердила отмену")
    assert await status(world) == "pending"
    assert len(fake(world).visits) == 1
    async with world.world.engine.connect() as conn:
        from storage.schema import users

        assert await conn.scalar(select(users.c.status)) == "active"


async def test_reconcile_runs_as_a_job_on_the_clock(world: ConsoleWorld) -> None:
    await world.run(ONBOARD + "\n[Подтвердить]\n!expect Вы записаны!")
    fake(world).cancel_at_clinic("44", "03.12.2026;13:00;п100.136")
    await world.run("!clock +6m\n!expect Запись отменена в поликлинике")
    assert await status(world) == "cancelled"


async def test_registry_down_at_confirm_books_nothing_and_says_so(world: ConsoleWorld) -> None:
    await world.run(ONBOARD)
    fake(world).fail("/appointment/create", "http500", times=1)
    await world.run("[Подтвердить]\n!expect сейчас не отвечает\n!expect (812) 241-28-08")
    assert await status(world) == "None" and fake(world).visits == {}
    assert fake(world).requests.count("POST /appointment/create") == 1  # never retried
