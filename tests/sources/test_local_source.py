"""The local ScheduleSource over our own tables: the same port as Gorzdrav, and the take is
still one conditional UPDATE (a second take of the same slot is refused)."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import VirtualClock
from domain.errors import SlotTaken
from domain.schedule_source import ScheduleSource
from storage.sources.local import LocalScheduleSource
from storage.uow import UnitOfWorkFactory
from tests.storage.builders import NOW, THERAPIST, World


async def test_local_source_reads_and_takes(
    engine: AsyncEngine, uow_factory: UnitOfWorkFactory
) -> None:
    world = await World.build(engine, n_slots=3, n_users=1)
    async with uow_factory() as uow:
        source: ScheduleSource = LocalScheduleSource(uow.conn, uow.cipher, VirtualClock(NOW))
        (district,) = await source.districts()
        (clinic,) = await source.clinics(district.external_id)
        specs = {s.external_id: s for s in await source.specialties(clinic.external_id)}
        assert specs[str(THERAPIST)].free == 6  # two therapists, three slots each
        found = await source.doctors(clinic.external_id, str(THERAPIST))
        assert len(found) == 2 and [d.free for d in found] == [3, 3]
        doctors = [d for d in found if d.external_id == str(world.doctor_of[THERAPIST])]
        slots = await source.slots(clinic.external_id, doctors[0].external_id)
        assert [s.external_id for s in slots] == [str(i) for i in world.slots()]
        assert len(await source.free_days(clinic.external_id, doctors[0].external_id)) >= 1
        first = slots[0].external_id
        await source.take(clinic.external_id, "1", first)
        with pytest.raises(SlotTaken):
            await source.take(clinic.external_id, "1", first)
        assert len(await source.slots(clinic.external_id, doctors[0].external_id)) == 2
        await source.cancel(clinic.external_id, "1", first)
        assert len(await source.slots(clinic.external_id, doctors[0].external_id)) == 3
        assert await source.visits(clinic.external_id, "1") == []
        assert await source.attached_clinics("0000000000000000") == []
