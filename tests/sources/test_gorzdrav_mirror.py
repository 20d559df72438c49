"""The Gorzdrav mirror: the recorded directory lands in our tables once (a second run adds
nothing), a slot taken at the registry is closed here, one that comes back is free again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.sources.gorzdrav.client import ClientLimits, GorzdravClient
from bot.sources.gorzdrav.fake import FakeGorzdrav
from bot.sources.gorzdrav.mirror import MirrorScope, mirror, split_doctor_name
from bot.sources.gorzdrav.source import GorzdravSource
from storage.schema import clinic_specialties, clinics, doctors, slot_sources, slots
from storage.uow import UnitOfWorkFactory

NOW = datetime(2025, 2, 16, 9, 0, tzinfo=UTC)  # the day before the recorded schedule
SLOT = "18.02.2025;13:00;п100.482"


@pytest.fixture
async def source() -> AsyncIterator[tuple[GorzdravSource, FakeGorzdrav]]:
    fake = FakeGorzdrav()
    await fake.start()
    client = GorzdravClient(
        fake.base_url, ClientLimits(requests_per_second=1000, slots_ttl_seconds=0)
    )
    yield GorzdravSource(client), fake
    await client.close()
    await fake.stop()


async def status_of(engine: AsyncEngine, external_id: str) -> str:
    async with engine.connect() as conn:
        return str(
            await conn.scalar(
                select(slots.c.status)
                .join(slot_sources, slot_sources.c.slot_id == slots.c.id)
                .where(slot_sources.c.external_id == external_id)
            )
        )


async def test_mirror_is_idempotent_and_follows_the_registry(
    engine: AsyncEngine,
    uow_factory: UnitOfWorkFactory,
    source: tuple[GorzdravSource, FakeGorzdrav],
) -> None:
    gz, fake = source
    scope = MirrorScope(clinics=("44", "45"))
    first = await mirror(uow_factory, gz, scope, NOW)
    assert (first.clinics, first.doctors, first.added, first.failed) == (2, 32, 2 * 16 * 68, [])
    async with engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(clinics)) == 2
        assert await conn.scalar(select(func.count()).select_from(doctors)) == 32
        specs = await conn.scalar(select(func.count()).select_from(clinic_specialties))
        assert specs == 2 * 10  # every specialty of each clinic, with its federal code
        name = await conn.scalar(select(clinics.c.name).order_by(clinics.c.id))
    assert name == "ГП №87"
    again = await mirror(uow_factory, gz, scope, NOW)
    assert (again.added, again.closed) == (0, 0)

    fake.take_elsewhere("44", SLOT)
    closed = await mirror(uow_factory, gz, MirrorScope(clinics=("44",)), NOW)
    assert closed.closed == 1
    assert await status_of(engine, SLOT) == "blocked"
    fake.cancel_at_clinic("44", SLOT)
    await mirror(uow_factory, gz, MirrorScope(clinics=("44",)), NOW)
    assert await status_of(engine, SLOT) == "free"


async def test_a_failing_clinic_is_skipped_and_reported(
    uow_factory: UnitOfWorkFactory, source: tuple[GorzdravSource, FakeGorzdrav]
) -> None:
    gz, fake = source
    fake.fail("/schedule/lpu/44/specialties", "malformed")
    report = await mirror(uow_factory, gz, MirrorScope(clinics=("44", "45")), NOW)
    assert report.failed == ["44"] and report.clinics == 1
    assert report.line().endswith("1 failed")


def test_doctor_names_as_gorzdrav_spells_them() -> None:
    assert split_doctor_name("Абаева Р.О. 3 ТО 25/27 участки", "") == {
        "surname": "Абаева",
        "name": "Р.О.",
        "patronymic": "",
        "qualification": "3 ТО 25/27 участки",
    }
    assert split_doctor_name("Быков В.А.", "участок № 28")["qualification"] == "участок № 28"
