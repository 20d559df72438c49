"""The read side of finding a doctor, on the demo world, on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.directory import DoctorCard
from storage.crypto import PersonalDataCipher
from storage.demo import seed_demo
from storage.repos.base import to_db
from storage.repos.directory import natural_key
from storage.schema import holds, slots
from storage.uow import SqlUnitOfWork, UnitOfWorkFactory
from tests.conftest import NOW

MSK = "Europe/Moscow"


@pytest.fixture
async def uow(engine: AsyncEngine, cipher: PersonalDataCipher) -> AsyncIterator[SqlUnitOfWork]:
    await seed_demo(engine, cipher, NOW)
    async with UnitOfWorkFactory(engine, cipher)() as unit:
        yield unit


async def _spec(uow: SqlUnitOfWork, code: str) -> int:
    spec = await uow.directory.specialty_by_code(code)
    assert spec is not None
    return spec.id


async def test_reference_data(uow: SqlUnitOfWork) -> None:
    d = uow.directory
    assert [r.id for r in await d.regions()] == ["msk", "nsk"]
    assert (await d.region("nsk")).tz == "Asia/Novosibirsk"  # type: ignore[union-attr]
    assert await d.region("zzz") is None
    specs = await d.specialties()
    assert len(specs) == 12
    cardio = await d.specialty_by_code("cardiologist")
    assert cardio is not None and cardio.referral_required
    assert await d.specialty(cardio.id) == cardio
    assert await d.specialty_by_code("nope") is None
    clinic = await d.clinic(1)
    assert clinic is not None and clinic.tz == MSK and clinic.phone
    doctor = await d.doctor(1)
    assert doctor is not None and doctor.full_name.count(" ") == 2
    assert await d.slot(1) is not None and await d.slot(10**9) is None


async def test_clinics_attached_first_search_and_paging(uow: SqlUnitOfWork) -> None:
    d = uow.directory
    therapist = await _spec(uow, "therapist")
    page = await d.clinics_for_specialty("msk", therapist, attached_clinic_id=3)
    assert page.total == 4 and page.items[0].id == 3
    rest = [c.name for c in page.items[1:]]
    assert rest == sorted(rest, key=natural_key)
    first = await d.clinics_for_specialty("msk", therapist, offset=0, limit=3)
    second = await d.clinics_for_specialty("msk", therapist, offset=3, limit=3)
    assert first.total == second.total == 4
    assert len(first.items) == 3 and len(second.items) == 1
    assert {c.id for c in first.items} | {c.id for c in second.items} == {1, 2, 3, 4}
    for typed in ("щелковское", "ЩЁЛКОВСКОЕ шоссе", "  поликлиника   45 "):
        found = await d.clinics_for_specialty("msk", therapist, query=typed)
        assert [c.id for c in found.items] == [2], typed
    assert (await d.clinics_for_specialty("msk", therapist, query="100%_")).total == 0
    # paediatricians only in the children's clinic; a region's clinics only
    paed = await d.clinics_for_specialty("msk", await _spec(uow, "pediatrician"))
    assert [c.kind for c in paed.items] == ["child"]
    uro = await d.clinics_for_specialty("nsk", await _spec(uow, "urologist"))
    assert uro.total == 0 and uro.items == []


async def test_clinics_sort_by_number_naturally(uow: SqlUnitOfWork) -> None:
    """Regression (issue 7, item 9): «№ 180» sorted before «№ 3» (text order)."""
    therapist = await _spec(uow, "therapist")
    page = await uow.directory.clinics_for_specialty("msk", therapist)
    numbers = [c.name.split("№ ")[1].split()[0] for c in page.items]
    assert numbers == ["3", "12", "45", "180"]
    attached = await uow.directory.clinics_for_specialty("msk", therapist, attached_clinic_id=2)
    assert [c.name.split("№ ")[1].split()[0] for c in attached.items] == ["45", "3", "12", "180"]
    pages = [
        await uow.directory.clinics_for_specialty("msk", therapist, offset=o, limit=2)
        for o in (0, 2)
    ]
    assert [c.id for p in pages for c in p.items] == [c.id for c in page.items]


def test_natural_key() -> None:
    names = ["№ 180", "№ 3", "№ 12", "Б № 1", "а № 2", "№ 3а"]
    assert sorted(names, key=natural_key) == ["а № 2", "Б № 1", "№ 3", "№ 3а", "№ 12", "№ 180"]


async def test_doctors_in_clinic_with_nearest_slot(uow: SqlUnitOfWork) -> None:
    d = uow.directory
    therapist = await _spec(uow, "therapist")
    cards = await d.doctors_in_clinic(1, therapist, NOW)
    assert len(cards) == 2 and all(isinstance(c, DoctorCard) for c in cards)
    assert [c.doctor.surname for c in cards] == sorted(c.doctor.surname for c in cards)
    for card in cards:
        assert card.nearest is not None and card.nearest.start > NOW
        expected = await d.earliest_free(therapist, "msk", NOW, limit=1, doctor_id=card.doctor.id)
        assert card.nearest == expected[0]
    # booking the nearest one moves the card to the next free slot
    first = cards[0]
    assert first.nearest is not None
    await uow.conn.execute(
        update(slots).where(slots.c.id == first.nearest.id).values(status="booked")
    )
    again = {c.doctor.id: c for c in await d.doctors_in_clinic(1, therapist, NOW)}
    moved = again[first.doctor.id].nearest
    assert moved is not None and moved.start > first.nearest.start
    # a doctor with nothing free still appears, with None
    await uow.conn.execute(
        update(slots).where(slots.c.doctor_id == first.doctor.id).values(status="booked")
    )
    again = {c.doctor.id: c for c in await d.doctors_in_clinic(1, therapist, NOW)}
    assert again[first.doctor.id].nearest is None


async def test_holds_hide_a_slot_from_others_only(uow: SqlUnitOfWork) -> None:
    d = uow.directory
    therapist = await _spec(uow, "therapist")
    slot = (
        await d.earliest_free(therapist, "msk", NOW + timedelta(hours=2), limit=1, clinic_id=1)
    )[0]
    await uow.conn.execute(
        insert(holds).values(
            user_id=42, slot_id=slot.id, patient_id=1, expires_at=to_db(NOW + timedelta(minutes=5))
        )
    )
    ids = [s.id for s in await d.earliest_free(therapist, "msk", NOW, limit=50)]
    assert slot.id not in ids
    mine = await d.earliest_free(therapist, "msk", NOW, limit=50, clinic_id=1, for_user_id=42)
    assert slot.id in [s.id for s in mine]
    day = slot.start.astimezone(ZoneInfo(MSK)).date()
    others = await d.free_slots_on_day(slot.doctor_id, 1, therapist, day, MSK, NOW)
    assert slot.id not in [s.id for s in others]
    own = await d.free_slots_on_day(slot.doctor_id, 1, therapist, day, MSK, NOW, for_user_id=42)
    assert slot.id in [s.id for s in own]
    cards = await d.doctors_in_clinic(1, therapist, NOW)
    assert slot.id not in [c.nearest.id for c in cards if c.nearest]
    # once the hold expires the slot is everyone's again
    later = NOW + timedelta(minutes=6)
    assert slot.id in [s.id for s in await d.earliest_free(therapist, "msk", later, limit=50)]
    assert slot.id in [
        s.id for s in await d.earliest_free(therapist, "msk", later, limit=50, clinic_id=1)
    ]


async def test_free_days_and_slots_of_a_day(uow: SqlUnitOfWork) -> None:
    d = uow.directory
    therapist = await _spec(uow, "therapist")
    doctor_id = (await d.doctors_in_clinic(1, therapist, NOW))[0].doctor.id
    days = await d.free_days(doctor_id, 1, therapist, NOW, MSK)
    today = NOW.astimezone(ZoneInfo(MSK)).date()
    assert days == sorted(days) and len(days) >= 7
    assert all(today <= x < today + timedelta(days=14) for x in days)
    assert all(x.weekday() != 6 for x in days)
    for x in days[:3]:
        day_slots = await d.free_slots_on_day(doctor_id, 1, therapist, x, MSK, NOW)
        assert day_slots and [s.start for s in day_slots] == sorted(s.start for s in day_slots)
        assert all(
            s.start > NOW and s.start.astimezone(ZoneInfo(MSK)).date() == x for s in day_slots
        )
        assert all(s.doctor_id == doctor_id and s.clinic_id == 1 for s in day_slots)
    # a day whose every slot is taken is no longer offered
    gone = days[1]
    taken = [s.id for s in await d.free_slots_on_day(doctor_id, 1, therapist, gone, MSK, NOW)]
    await uow.conn.execute(update(slots).where(slots.c.id.in_(taken)).values(status="booked"))
    assert gone not in await d.free_days(doctor_id, 1, therapist, NOW, MSK)
    # the wrong clinic for this doctor gives nothing
    assert await d.free_days(doctor_id, 2, therapist, NOW, MSK) == []
    assert await d.free_slots_on_day(doctor_id, 1, therapist, date(2020, 1, 1), MSK, NOW) == []


async def test_part_timer_days_are_per_clinic(uow: SqlUnitOfWork) -> None:
    d = uow.directory
    surgeon = await _spec(uow, "surgeon")
    card = (await d.doctors_in_clinic(1, surgeon, NOW))[0]
    in_1 = set(await d.free_days(card.doctor.id, 1, surgeon, NOW, MSK))
    in_2 = set(await d.free_days(card.doctor.id, 2, surgeon, NOW, MSK))
    assert in_1 and in_2 and not (in_1 & in_2)


async def test_earliest_free_any_doctor(uow: SqlUnitOfWork) -> None:
    d = uow.directory
    therapist = await _spec(uow, "therapist")
    found = await d.earliest_free(therapist, "msk", NOW, limit=10)
    assert len(found) == 10
    assert [s.start for s in found] == sorted(s.start for s in found)
    assert all(
        s.start > NOW and s.region_id == "msk" and s.specialty_id == therapist for s in found
    )
    assert len({s.doctor_id for s in found}) > 1
    in_clinic = await d.earliest_free(therapist, "msk", NOW, limit=3, clinic_id=2)
    assert {s.clinic_id for s in in_clinic} == {2}
    nsk = await d.earliest_free(therapist, "nsk", NOW, limit=3)
    assert {s.region_id for s in nsk} == {"nsk"}
    alternatives = await d.earliest_free(
        therapist, "msk", NOW, limit=3, exclude_slot_id=found[0].id
    )
    assert found[0].id not in [s.id for s in alternatives]
    later = await d.earliest_free(therapist, "msk", NOW + timedelta(days=30), limit=3)
    assert later == []


async def test_hot_queries_use_the_slot_indexes(
    sqlite_engine: AsyncEngine, cipher: PersonalDataCipher
) -> None:
    """EXPLAIN QUERY PLAN on SQLite: every hot query is a SEARCH on a slots index, no SCAN."""
    await seed_demo(sqlite_engine, cipher, NOW)
    captured: list[tuple[str, object]] = []

    @event.listens_for(sqlite_engine.sync_engine, "before_cursor_execute")
    def _capture(_c: object, _cur: object, stmt: str, params: object, _x: object, _m: bool) -> None:
        if stmt.startswith("SELECT") and "slots" in stmt:
            captured.append((stmt, params))

    therapist = 1
    async with UnitOfWorkFactory(sqlite_engine, cipher)() as unit:
        d = unit.directory
        await d.doctors_in_clinic(1, therapist, NOW)
        await d.free_days(1, 1, therapist, NOW, MSK, days=2)
        await d.free_slots_on_day(1, 1, therapist, date(2026, 12, 2), MSK, NOW)
        await d.earliest_free(therapist, "msk", NOW)
        await d.earliest_free(therapist, "msk", NOW, clinic_id=2)
        await d.earliest_free(therapist, "msk", NOW, doctor_id=1)
    event.remove(sqlite_engine.sync_engine, "before_cursor_execute", _capture)
    url = sqlite_engine.url.database
    assert url is not None
    db = sqlite3.connect(url)
    expected = [
        "ix_slots_doctor_free",
        "ix_slots_doctor_free",
        "ix_slots_doctor_free",
        "ix_slots_spec_region_free",
        "ix_slots_clinic_spec_free",
        "ix_slots_doctor_free",
    ]
    assert len(captured) == len(expected)
    for (stmt, params), index in zip(captured, expected, strict=True):
        plan = " | ".join(r[3] for r in db.execute("EXPLAIN QUERY PLAN " + stmt, params))  # type: ignore[arg-type]
        assert f"USING INDEX {index}" in plan, plan
        assert "SCAN slots" not in plan and "SCAN near" not in plan, plan
    db.close()


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError):
        to_db(datetime(2026, 1, 1))
    assert to_db(datetime(2026, 1, 1, tzinfo=UTC)) == datetime(2026, 1, 1)


__all__ = ["select"]
