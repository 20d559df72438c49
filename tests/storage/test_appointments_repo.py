"""AppointmentRepository on SQLite and PostgreSQL: holds, the conditional slot
take, numbering, conditional status changes, nearest free slots, listing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.booking_ports import NewAppointment
from domain.models import AppointmentStatus
from storage.crypto import PersonalDataCipher
from storage.uow import UnitOfWorkFactory
from tests.storage.builders import NOW, World
from tests.storage.invariants import assert_invariants


@pytest.fixture
async def world(engine: AsyncEngine) -> AsyncIterator[World]:
    yield await World.build(engine, n_slots=10, n_users=3)
    await assert_invariants(engine)


async def test_holds(world: World, uow_factory: UnitOfWorkFactory) -> None:
    a, b = world.user_ids[:2]
    s1, s2 = world.slots()[:2]
    until = NOW + timedelta(minutes=5)
    async with uow_factory() as uow:
        repo = uow.appointments
        assert await repo.put_hold(a, world.patient_of(a), s1, until, NOW)
        assert not await repo.put_hold(b, world.patient_of(b), s1, until, NOW)
        assert await repo.put_hold(a, world.patient_of(a), s2, until, NOW)  # replaces
        assert await repo.put_hold(b, world.patient_of(b), s1, until, NOW)
        assert not await repo.take_slot(s1, a, NOW)  # b holds it
        assert (await repo.get_hold(a, NOW)).slot_id == s2  # type: ignore[union-attr]
        assert await repo.get_hold(a, until) is None  # expired
        # an expired hold is swept by the next hold of that slot
        assert await repo.put_hold(a, world.patient_of(a), s1, until + timedelta(minutes=5), until)
        assert await repo.sweep_holds(until + timedelta(hours=1)) == 1
        await uow.commit()


async def test_a_hold_replaces_and_sweeps_exactly_what_it_did(
    world: World, uow_factory: UnitOfWorkFactory
) -> None:
    """put_hold: the user's own hold moves,
    an expired hold of the slot goes, another user's unexpired one refuses the new hold —
    and the user's previous hold is given up all the same; nobody else's hold is touched."""
    a, b, c = world.user_ids[:3]
    s1, s2, s3, s4 = world.slots()[:4]
    until = NOW + timedelta(minutes=5)

    async def held(repo: object, at: object = NOW) -> dict[int, int]:
        found = {}
        for user in (a, b, c):
            hold = await repo.get_hold(user, at)  # type: ignore[attr-defined]
            if hold is not None:
                found[user] = hold.slot_id
        return found

    async with uow_factory() as uow:
        repo = uow.appointments
        assert await repo.put_hold(a, world.patient_of(a), s1, until, NOW)
        assert await repo.put_hold(b, world.patient_of(b), s2, until, NOW)
        assert await repo.put_hold(c, world.patient_of(c), s3, NOW + timedelta(minutes=1), NOW)
        assert await held(repo) == {a: s1, b: s2, c: s3}
        # the same slot again: a new expiry, still one hold
        later = until + timedelta(minutes=1)
        assert await repo.put_hold(a, world.patient_of(a), s1, later, NOW)
        assert (await repo.get_hold(a, until)).slot_id == s1  # type: ignore[union-attr]
        # b's unexpired hold refuses a; a's own hold on s1 is given up all the same
        assert not await repo.put_hold(a, world.patient_of(a), s2, until, NOW)
        assert await held(repo) == {b: s2, c: s3}
        # c's hold has expired two minutes on: a takes s3 over, c's row is gone
        at = NOW + timedelta(minutes=2)
        assert await repo.put_hold(a, world.patient_of(a), s3, until, at)
        assert await held(repo, at) == {a: s3, b: s2}
        assert await repo.sweep_holds(NOW + timedelta(hours=1)) == 2  # a's and b's, no other
        assert await repo.put_hold(a, world.patient_of(a), s4, until, NOW)
        await uow.commit()


async def test_take_release_and_numbering(world: World, uow_factory: UnitOfWorkFactory) -> None:
    a = world.user_ids[0]
    slot_id = world.slots()[0]
    async with uow_factory() as uow:
        repo = uow.appointments
        assert await repo.take_slot(slot_id, a, NOW)
        assert not await repo.take_slot(slot_id, a, NOW)
        ctx = await repo.slot_context(slot_id)
        assert ctx is not None and ctx.clinic_tz == "Europe/Moscow"
        appt = await repo.insert(
            NewAppointment(world.patient_of(a), a, ctx.slot, AppointmentStatus.PENDING, None, NOW)
        )
        assert appt.number == f"A-{appt.id:07d}"
        assert (await repo.get_by_number(appt.number)) == appt
        assert await repo.get(appt.id) == appt
        assert await repo.count_created_by(a, NOW - timedelta(hours=1)) == 1
        assert await repo.count_active_for_specialty(world.patient_of(a), 1, NOW) == 1
        assert not await repo.set_status(
            appt.id,
            expected=(AppointmentStatus.CONFIRMED,),
            status=AppointmentStatus.CANCELLED,
            now=NOW,
        )
        assert await repo.set_status(
            appt.id,
            expected=(AppointmentStatus.PENDING,),
            status=AppointmentStatus.CANCELLED,
            now=NOW,
            cancelled_by="patient",
            reason="why",
        )
        assert await repo.release_slot(slot_id, NOW)
        assert not await repo.release_slot(slot_id, NOW)
        got = await repo.get(appt.id)
        assert got is not None and got.cancel_reason == "why"
        await uow.commit()


async def test_database_refuses_two_active_on_one_slot(
    world: World, engine: AsyncEngine, cipher: PersonalDataCipher
) -> None:
    """The partial unique index is the last line of defence behind take_slot."""
    a, b = world.user_ids[:2]
    factory = UnitOfWorkFactory(engine, cipher)
    async with factory() as uow:
        ctx = await uow.appointments.slot_context(world.slots()[0])
        assert ctx is not None
        await uow.appointments.take_slot(ctx.slot.id, a, NOW)
        for user in (a, b):
            new = NewAppointment(
                world.patient_of(user), user, ctx.slot, AppointmentStatus.PENDING, None, NOW
            )
            if user == a:
                await uow.appointments.insert(new)
            else:
                with pytest.raises(IntegrityError):
                    await uow.appointments.insert(new)
        await uow.rollback()


async def test_nearest_free_and_listing(world: World, uow_factory: UnitOfWorkFactory) -> None:
    a = world.user_ids[0]
    s = world.slots()
    async with uow_factory() as uow:
        repo = uow.appointments
        await repo.take_slot(s[5], a, NOW)
        ctx = await repo.slot_context(s[4])
        assert ctx is not None
        around = ctx.slot.start
        found = await repo.nearest_free(
            around=around, now=NOW, exclude={s[4]}, limit=7, doctor_id=ctx.slot.doctor_id
        )
        assert found == [s[6], s[7], s[8], s[9], s[3], s[2], s[1]]
        assert await repo.nearest_free(
            around=around, now=ctx.slot.start, exclude=set(), limit=2, doctor_id=ctx.slot.doctor_id
        ) == [s[6], s[7]]
        across = await repo.nearest_free(
            around=around, now=NOW, exclude=set(found), limit=3, specialty_id=1, region_id="msk"
        )
        assert len(across) == 3 and not set(across) & set(found)
        ctx5 = await repo.slot_context(s[5])
        assert ctx5 is not None
        await repo.insert(
            NewAppointment(world.patient_of(a), a, ctx5.slot, AppointmentStatus.PENDING, None, NOW)
        )
        listed = await repo.list_for_owner(a, NOW)
        assert [x.slot_id for x in listed] == [s[5]]
        assert await repo.list_for_owner(a, ctx5.slot.start + timedelta(minutes=20)) == []
        assert await repo.patient_ids_of(a) == [world.patient_of(a)]
        await uow.commit()
