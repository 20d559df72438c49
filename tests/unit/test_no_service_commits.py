"""Issue 8.2: domain services never commit nor roll back — the update (or the job) does.

Every booking, wait-list and account service runs here through FakeUnitOfWork,
which fails on ``commit()``/``rollback()``; the test then plays the middleware
and commits once, and checks what the services wrote. A refusal inside a
service that had already written (a move whose old time the owner would not
give back) is undone by the service's own savepoint: the rest of the update
still commits, nothing of the move does.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from domain import accounts, booking, booking_move, waitlist
from domain.errors import InvalidTransition, SlotTaken
from domain.models import AppointmentStatus
from domain.schedule_source import RemoteRefused
from storage.crypto import PersonalDataCipher
from storage.schema import appointments, slots
from storage.uow import UnitOfWorkFactory
from tests.storage.builders import NOW, THERAPIST, World
from tests.storage.invariants import assert_invariants
from tests.unit.fake_uow import FakeUnitOfWork, ServiceCommitted
from tests.unit.test_accounts import PROFILE

POLICY = booking.BookingPolicy(hold_minutes=5, daily_cap=6)
STAFF = 9001
DOMAIN = Path(__file__).resolve().parents[2] / "domain"


@pytest.fixture
async def world(sqlite_engine: AsyncEngine) -> AsyncIterator[World]:
    yield await World.build(sqlite_engine, n_slots=12, n_users=6)
    await assert_invariants(sqlite_engine)


@pytest.fixture
def uows(sqlite_engine: AsyncEngine, cipher: PersonalDataCipher) -> UnitOfWorkFactory:
    return UnitOfWorkFactory(sqlite_engine, cipher)


async def _status(engine: AsyncEngine, appointment_id: int) -> str:
    async with engine.connect() as conn:
        value = (
            await conn.execute(
                select(appointments.c.status).where(appointments.c.id == appointment_id)
            )
        ).scalar_one()
        await conn.rollback()
    return str(value)


async def _count(engine: AsyncEngine, table, *where) -> int:  # type: ignore[no-untyped-def]
    async with engine.connect() as conn:
        n = (await conn.execute(select(func.count()).select_from(table).where(*where))).scalar_one()
        await conn.rollback()
    return int(n)


def test_no_domain_module_ends_a_transaction() -> None:
    calls = re.compile(r"\.(commit|rollback)\(")
    offenders = [
        f"{path.name}:{n}"
        for path in sorted(DOMAIN.glob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if calls.search(line)
    ]
    assert offenders == []


async def test_fake_fails_a_service_that_commits(uows: UnitOfWorkFactory) -> None:
    async with uows() as real:
        fake = FakeUnitOfWork(real)
        with pytest.raises(ServiceCommitted):
            await fake.commit()
        assert fake.ended == ["commit"]


async def test_booking_services_never_commit(
    world: World, uows: UnitOfWorkFactory, sqlite_engine: AsyncEngine
) -> None:
    a, b, c, d, e, f = world.user_ids
    s = world.slots(THERAPIST)
    async with uows() as real:
        uow = FakeUnitOfWork(real)
        await booking.hold_slot(uow, NOW, a, world.patient_of(a), s[0], POLICY)  # type: ignore[arg-type]
        await booking.release_hold(uow, a)  # type: ignore[arg-type]
        first = await booking.book(uow, NOW, a, world.patient_of(a), s[0], POLICY)  # type: ignore[arg-type]
        again, created = await booking.book_once(uow, NOW, a, world.patient_of(a), s[0], POLICY)  # type: ignore[arg-type]
        assert again.id == first.id and created is False
        await booking.confirm_attendance(uow, NOW, a, first.id)  # type: ignore[arg-type]
        moved = await booking.reschedule(uow, NOW, a, first.id, s[1], POLICY)  # type: ignore[arg-type]
        gone = await booking.book(uow, NOW, b, world.patient_of(b), s[2], POLICY)  # type: ignore[arg-type]
        await booking.cancel(uow, NOW, b, gone.id, confirmed_twice=True)  # type: ignore[arg-type]
        ill = await booking.book(uow, NOW, c, world.patient_of(c), s[3], POLICY)  # type: ignore[arg-type]
        await booking.cancel_by_clinic(uow, NOW, STAFF, [1], ill.id, "врач заболел")  # type: ignore[arg-type]
        shifted = await booking.book(uow, NOW, d, world.patient_of(d), s[4], POLICY)  # type: ignore[arg-type]
        by_clinic = await booking.reschedule_by_clinic(
            uow,
            NOW,
            STAFF,
            [1],
            shifted.id,
            s[5],
            POLICY,
            "ремонт",  # type: ignore[arg-type]
        )
        seen = await booking.book(uow, NOW, e, world.patient_of(e), s[6], POLICY)  # type: ignore[arg-type]
        after = seen.start + timedelta(minutes=seen.minutes)
        await booking.mark_visit(uow, after, STAFF, [1], seen.id, AppointmentStatus.COMPLETED)  # type: ignore[arg-type]
        closed = await booking.block_doctor_time(
            uow,
            world.doctor_of[THERAPIST],
            [1],
            NOW + timedelta(days=40),
            NOW + timedelta(days=41),  # type: ignore[arg-type]
        )
        assert closed == 0
        erased = await booking.cancel_all_for_account(uow, NOW, a, "")  # type: ignore[arg-type]
        assert erased == 1
        with pytest.raises(SlotTaken):  # a refusal: still no rollback by the service
            await booking.book(uow, NOW, f, world.patient_of(f), s[5], POLICY)  # type: ignore[arg-type]
        assert uow.ended == []
        await real.commit()  # the update's commit, once
    expected = {
        first.id: "rescheduled",
        moved.id: "cancelled",
        gone.id: "cancelled",
        ill.id: "cancelled",
        shifted.id: "rescheduled",
        by_clinic.id: "pending",
        seen.id: "completed",
    }
    assert {k: await _status(sqlite_engine, k) for k in expected} == expected
    assert await _count(sqlite_engine, appointments, appointments.c.user_id == f) == 0


async def test_a_refused_move_leaves_nothing_and_the_update_commits_the_rest(
    world: World,
    uows: UnitOfWorkFactory,
    sqlite_engine: AsyncEngine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    a, b = world.user_ids[:2]
    s = world.slots(THERAPIST)
    async with uows() as real:
        visit = await booking.book(real, NOW, a, world.patient_of(a), s[0], POLICY)
        await real.commit()

    async def owner_refuses(uow: object, appointment: object) -> None:
        raise RemoteRefused("unavailable")

    monkeypatch.setattr(booking_move, "cancel_remote", owner_refuses)
    async with uows() as real:
        uow = FakeUnitOfWork(real)
        other = await booking.book(uow, NOW, b, world.patient_of(b), s[2], POLICY)  # type: ignore[arg-type]
        with pytest.raises(RemoteRefused):  # refused after the take, insert and status change
            await booking.reschedule(uow, NOW, a, visit.id, s[1], POLICY)  # type: ignore[arg-type]
        assert uow.ended == [] and "savepoint-undone" in uow.calls
        await real.commit()  # the handler showed the refusal; its update commits
    assert await _status(sqlite_engine, visit.id) == "pending"
    assert await _status(sqlite_engine, other.id) == "pending"
    assert await _count(sqlite_engine, appointments, appointments.c.user_id == a) == 1
    assert await _count(sqlite_engine, slots, slots.c.id == s[1], slots.c.status == "free") == 1


async def test_waitlist_services_never_commit(
    world: World, uows: UnitOfWorkFactory, sqlite_engine: AsyncEngine
) -> None:
    a, b, c = world.user_ids[:3]
    s = world.slots(THERAPIST)
    today = NOW.date()
    async with uows() as real:
        uow = FakeUnitOfWork(real)
        freed = await booking.book(uow, NOW, a, world.patient_of(a), s[3], POLICY)  # type: ignore[arg-type]
        await booking.cancel(uow, NOW, a, freed.id, confirmed_twice=True)  # type: ignore[arg-type]
        entries = {}
        for user in (b, c):
            entries[user] = await waitlist.join(
                uow,  # type: ignore[arg-type]
                waitlist.NewEntry(
                    patient_id=world.patient_of(user),
                    user_id=user,
                    specialty_id=THERAPIST,
                    region_id=world.region_id,
                    doctor_id=None,
                    clinic_id=None,
                    date_from=today,
                    date_to=today + timedelta(days=29),
                    time_of_day="any",
                    created_at=NOW + timedelta(seconds=len(entries)),
                ),
            )
        stats = await waitlist.run(uow, NOW, 30)  # type: ignore[arg-type]
        assert stats.offered == 1
        await waitlist.decline(uow, NOW, b, entries[b], s[3], 30)  # type: ignore[arg-type]
        booked = await waitlist.accept(uow, NOW, c, entries[c], s[3], POLICY)  # type: ignore[arg-type]
        with pytest.raises(InvalidTransition):
            await waitlist.leave(uow, c, entries[c])  # type: ignore[arg-type]  # booked: not live
        await waitlist.leave(uow, b, entries[b])  # type: ignore[arg-type]
        assert await waitlist.leave_all(uow, c) == 0  # type: ignore[arg-type]
        assert uow.ended == []
        await real.commit()
    assert await _status(sqlite_engine, booked.id) == "pending"


async def test_account_services_never_commit(uows: UnitOfWorkFactory) -> None:
    user_id = 1001
    async with uows() as real:
        uow = FakeUnitOfWork(real)
        await accounts.start(uow, user_id, NOW)  # type: ignore[arg-type]
        await accounts.set_language(uow, user_id, "ru", NOW)  # type: ignore[arg-type]
        await accounts.give_consent(uow, user_id, NOW)  # type: ignore[arg-type]
        await accounts.set_phone(
            uow,
            user_id,
            contact_user_id=user_id,
            phone="79000001001",
            now=NOW,  # type: ignore[arg-type]
        )
        await accounts.register_profile(uow, user_id, PROFILE, NOW)  # type: ignore[arg-type]
        await accounts.edit_field(uow, user_id, "email", "new@example.ru", NOW, NOW.date())  # type: ignore[arg-type]
        await accounts.delete_account(uow, user_id, NOW, "subject")  # type: ignore[arg-type]
        assert uow.ended == []
        await real.commit()
