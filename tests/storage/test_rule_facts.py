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


async def test_the_facts_a_booking_take_reads_are_rule_facts(
    engine: AsyncEngine, cipher: PersonalDataCipher
) -> None:
    """SQLite: the booking's take reads the rules' counts and whether any active visit of
    the patient is near (storage/repos/booking_sql_sqlite.py); rule_facts then answers
    from them. They must be what the statement reads: the same counts, and «near»
    whenever there is a clash (then the statement still runs for the exact clashes)."""
    from sqlalchemy import event

    from storage.memo import read_memo
    from storage.repos.slot_take import facts_key
    from tests.storage.builders import CARDIOLOGIST

    world = await World.build(engine, n_slots=60, n_users=2)
    factory = UnitOfWorkFactory(engine, cipher)
    uows = as_update(factory)
    a, b = world.user_ids[0], world.user_ids[1]
    therapist, cardio = world.slots(THERAPIST), world.slots(CARDIOLOGIST)
    async with uows() as uow:  # a's active therapist visit at hour 0 of the slots
        await booking.book(uow, NOW, a, world.patient_of(a), therapist[0], POLICY)
    since = NOW - timedelta(days=1)
    sqlite = engine.dialect.name == "sqlite"
    seen = []
    for user in (a, b):
        patient = world.patient_of(user)
        # an hour after the visit, 30 hours after, 55 hours after; at the visit's very time
        for slot_id in (therapist[1], therapist[30], therapist[55], cardio[0], cardio[55]):
            async with factory() as uow:  # (left without a commit: rolled back)
                repo = uow.appointments
                take = await repo.take_first(slot_id, user, patient, NOW, NOW, since)
                assert take.taken and take.ctx is not None
                ctx = take.ctx
                memo = read_memo(uow.conn)
                stored = (memo or {}).get(facts_key(patient, ctx, user, NOW, since))
                if not sqlite:  # PostgreSQL's take reads no facts: the statement runs
                    assert stored is None
                    continue
                assert stored is not None
                memo.clear()  # type: ignore[union-attr]
                start, minutes, spec = ctx.slot.start, ctx.slot.minutes, ctx.specialty.id
                exact = await repo.rule_facts(patient, start, minutes, None, spec, user, NOW, since)
                assert stored[:2] == exact[1:]
                assert exact[0] is None or stored[2]  # a clash is always near
                seen.append((user, slot_id, stored, exact[0] is not None))
    if not sqlite:
        return
    assert (a, therapist[55], (1, 1, False), False) in seen  # far: no statement needed
    assert (a, cardio[0], (0, 1, True), True) in seen  # the visit's own time: a clash
    assert (a, therapist[1], (1, 1, True), False) in seen  # near, yet no clash
    assert (b, therapist[30], (0, 0, False), False) in seen

    # A booking whose take found nothing near asks for no rule facts at all.
    asked: list[str] = []

    def count(_c: object, _cur: object, statement: str, *_args: object) -> None:
        if "count(*)" in statement and statement.startswith("SELECT"):
            asked.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        async with uows() as uow:
            other = world.slots_of[2]  # the second therapist (no referral needed)
            await booking.book(uow, NOW, b, world.patient_of(b), other[55], POLICY)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)
    assert asked == []
