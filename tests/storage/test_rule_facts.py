"""The booking rules' facts in one statement are exactly the two reads they replace."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from domain import booking
from storage.crypto import PersonalDataCipher
from storage.uow import UnitOfWorkFactory
from tests.storage.builders import NOW, THERAPIST, World
from tests.update_scope import as_update

POLICY = booking.BookingPolicy(hold_minutes=5, daily_cap=3)


async def test_rule_facts_equal_overlapping_and_rule_counts(
    engine: AsyncEngine, cipher: PersonalDataCipher
) -> None:
    world = await World.build(engine, n_slots=12, n_users=2)
    uows = as_update(UnitOfWorkFactory(engine, cipher))
    a, b = world.user_ids[0], world.user_ids[1]
    therapist = world.slots(THERAPIST)
    async with uows() as uow:
        first = await booking.book(uow, NOW, a, world.patient_of(a), therapist[0], POLICY)
    since = NOW - timedelta(days=1)
    seen = []
    async with uows() as uow:
        repo = uow.appointments
        for user in (a, b):
            patient = world.patient_of(user)
            for slot_id in therapist[:3]:
                ctx = await repo.slot_context(slot_id)
                assert ctx is not None
                start, minutes, spec = ctx.slot.start, ctx.slot.minutes, ctx.specialty.id
                for exclude in (None, first.id):
                    expected = (
                        await repo.overlapping(patient, start, minutes, exclude),
                        *await repo.rule_counts(patient, spec, user, NOW, since),
                    )
                    got = await repo.rule_facts(
                        patient, start, minutes, exclude, spec, user, NOW, since
                    )
                    assert got == expected
                    seen.append(got)
    # Both shapes were compared: a clash with counts, and no clash with zero counts.
    assert any(s[0] is not None and s[0].number == first.number and s[1:] == (1, 1) for s in seen)
    assert (None, 0, 0) in seen
