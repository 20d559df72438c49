"""export-fhir: our appointments as a Bundle that fhir.resources reads back, statuses mapped."""

from __future__ import annotations

from datetime import timedelta

from fhir.resources.R4B.bundle import Bundle
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.fhir.export import export_fhir
from domain import booking
from domain.booking_ports import NewAppointment
from domain.models import AppointmentStatus
from storage.uow import UnitOfWorkFactory
from tests.storage.builders import NOW, World
from tests.update_scope import as_update


async def test_export_round_trips_with_mapped_statuses(
    engine: AsyncEngine, uow_factory: UnitOfWorkFactory
) -> None:
    uow_factory = as_update(uow_factory)  # type: ignore[assignment]
    world = await World.build(engine, n_slots=8, n_users=3)
    a, b, c = world.user_ids[:3]
    s = world.slots()
    policy = booking.BookingPolicy()
    async with uow_factory() as uow:
        cancelled = await booking.book(uow, NOW, a, world.patient_of(a), s[0], policy)
    async with uow_factory() as uow:
        await booking.cancel(uow, NOW, a, cancelled.id, confirmed_twice=True, reason="уехал")
    async with uow_factory() as uow:
        old = await booking.book(uow, NOW, b, world.patient_of(b), s[1], policy)
    async with uow_factory() as uow:
        new = await booking.reschedule(uow, NOW, b, old.id, s[2], policy)
    statuses = {}
    for slot_id, status in ((s[3], AppointmentStatus.COMPLETED), (s[4], AppointmentStatus.NO_SHOW)):
        async with uow_factory() as uow:
            ctx = await uow.appointments.slot_context(slot_id)
            assert ctx is not None and await uow.appointments.take_slot(slot_id, c, NOW)
            made = await uow.appointments.insert(
                NewAppointment(world.patient_of(c), c, ctx.slot, status, None, NOW)
            )
            statuses[made.number] = status
            await uow.commit()

    text, count = await export_fhir(uow_factory, NOW - timedelta(days=1), NOW)
    assert count == 5
    bundle = Bundle.model_validate_json(text)
    by_number = {e.resource.identifier[0].value: e.resource for e in bundle.entry}
    assert by_number[cancelled.number].status == "cancelled"
    assert by_number[cancelled.number].cancelationReason.text == "уехал"
    assert by_number[cancelled.number].cancelationReason.coding[0].code == "pat"
    assert by_number[old.number].status == "cancelled"
    assert by_number[old.number].cancelationReason.text == f"rescheduled to {new.number}"
    assert by_number[new.number].status == "booked"
    done, missed = statuses
    assert by_number[done].status == "fulfilled"
    assert by_number[missed].status == "noshow"
    assert by_number[new.number].start == new.start
    assert by_number[new.number].participant[0].actor.reference.startswith("Patient/zapis-")
    assert by_number[new.number].participant[0].actor.display == f"Иванов Иван{b}"  # decrypted

    _, none = await export_fhir(uow_factory, NOW + timedelta(days=1), NOW)
    assert none == 0
