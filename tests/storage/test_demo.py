"""The demo world: loads once, is deterministic from `now`, and its slots fit their schedules."""

from __future__ import annotations

import itertools
import time as _time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.crypto import PersonalDataCipher
from storage.demo import DEMO_DAYS, DEMO_PATIENTS, DEMO_STAFF, build_demo_rows, seed_demo
from storage.schema import (
    attachments,
    clinics,
    doctor_roles,
    doctors,
    regions,
    schedules,
    slots,
    specialties,
)
from tests.conftest import NOW


def _snils_ok(value: str) -> bool:
    digits = "".join(ch for ch in value if ch.isdigit())
    total = sum(int(d) * (9 - i) for i, d in enumerate(digits[:9]))
    check = total if total < 100 else (0 if total in (100, 101) else total % 101 % 100)
    return len(digits) == 11 and int(digits[9:]) == check


def _luhn_ok(value: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(value)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return len(value) == 16 and total % 10 == 0


async def _count(engine: AsyncEngine, table: object) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())  # type: ignore[arg-type]


async def test_seed_once_with_expected_counts(
    engine: AsyncEngine, cipher: PersonalDataCipher
) -> None:
    started = _time.perf_counter()
    assert await seed_demo(engine, cipher, NOW) is True
    elapsed = _time.perf_counter() - started
    if engine.dialect.name == "sqlite":
        assert elapsed < 2.0, elapsed
    assert await seed_demo(engine, cipher, NOW + timedelta(days=3)) is False
    assert await _count(engine, regions) == 2
    assert await _count(engine, clinics) >= 8
    assert await _count(engine, specialties) == 12
    assert await _count(engine, doctors) == 40
    assert await _count(engine, attachments) == len(DEMO_PATIENTS)
    async with engine.connect() as conn:
        starts = (await conn.execute(select(slots.c.start_utc))).scalars().all()
        statuses = set((await conn.execute(select(slots.c.status).distinct())).scalars())
        tzs = dict((await conn.execute(select(clinics.c.id, clinics.c.tz))).all())
    assert statuses == {"free"}
    msk = ZoneInfo("Europe/Moscow")
    days = {s.replace(tzinfo=UTC).astimezone(msk).date() for s in starts}
    today = NOW.astimezone(msk).date()
    assert min(days) == today
    assert max(days) <= today + timedelta(days=DEMO_DAYS - 1)
    assert len(days) >= 11  # 14 days minus Sundays (and quiet Saturdays at most)
    assert set(tzs.values()) == {"Europe/Moscow", "Asia/Novosibirsk"}


async def test_ids_keep_counting_after_the_seed(
    engine: AsyncEngine, cipher: PersonalDataCipher
) -> None:
    """PostgreSQL sequences are moved past the explicit demo ids, so imports can add rows."""
    await seed_demo(engine, cipher, NOW)
    async with engine.begin() as conn:
        new_id = (
            await conn.execute(
                insert(clinics)
                .values(region_id="msk", name="Новая", address="Москва", tz="Europe/Moscow")
                .returning(clinics.c.id)
            )
        ).scalar_one()
    assert new_id > 9


async def test_deterministic_from_now(engine: AsyncEngine, cipher: PersonalDataCipher) -> None:
    first = build_demo_rows(cipher, NOW)
    assert first == build_demo_rows(cipher, NOW)
    later = build_demo_rows(cipher, NOW + timedelta(days=1))
    assert [s["start_utc"] for s in first["slots"]] != [s["start_utc"] for s in later["slots"]]
    await seed_demo(engine, cipher, NOW)
    async with engine.connect() as conn:
        stored = (
            await conn.execute(select(slots.c.id, slots.c.start_utc).order_by(slots.c.id))
        ).all()
    assert [(r.id, r.start_utc) for r in stored] == [
        (s["id"], s["start_utc"]) for s in first["slots"]
    ]


async def test_every_slot_inside_its_schedule_and_outside_the_break(
    engine: AsyncEngine, cipher: PersonalDataCipher
) -> None:
    await seed_demo(engine, cipher, NOW)
    async with engine.connect() as conn:
        sched = (await conn.execute(select(schedules))).all()
        role_rows = (await conn.execute(select(doctor_roles))).all()
        slot_rows = (await conn.execute(select(slots))).all()
        tz_of = dict((await conn.execute(select(clinics.c.id, clinics.c.tz))).all())
    roles = {r.id: r for r in role_rows}
    by_role_day = {(s.role_id, s.day): s for s in sched}
    per_doctor: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    for s in slot_rows:
        role = roles[s.role_id]
        assert (role.doctor_id, role.clinic_id, role.specialty_id) == (
            s.doctor_id,
            s.clinic_id,
            s.specialty_id,
        )
        local = s.start_utc.replace(tzinfo=UTC).astimezone(ZoneInfo(tz_of[s.clinic_id]))
        day = by_role_day[(s.role_id, local.date())]
        start, end = local.time(), (local + timedelta(minutes=s.minutes)).time()
        assert day.start <= start and end <= day.end
        if day.break_start is not None:
            assert end <= day.break_start or start >= day.break_end
        assert 12 <= s.minutes <= 30 and s.kind in {"consultation", "examination", "procedure"}
        per_doctor[s.doctor_id].append((s.start_utc, s.start_utc + timedelta(minutes=s.minutes)))
    for spans in per_doctor.values():  # a part-timer is never in two clinics at once
        spans.sort()
        assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))


async def test_directory_shape(engine: AsyncEngine, cipher: PersonalDataCipher) -> None:
    await seed_demo(engine, cipher, NOW)
    async with engine.connect() as conn:
        specs = {r.code: r for r in (await conn.execute(select(specialties))).all()}
        pairs = (
            await conn.execute(
                select(
                    doctor_roles.c.clinic_id,
                    specialties.c.code,
                    clinics.c.kind,
                    clinics.c.region_id,
                )
                .join(specialties, specialties.c.id == doctor_roles.c.specialty_id)
                .join(clinics, clinics.c.id == doctor_roles.c.clinic_id)
            )
        ).all()
    open_codes = {c for c, s in specs.items() if not s.referral_required}
    assert open_codes == {
        "therapist",
        "pediatrician",
        "surgeon",
        "ophthalmologist",
        "otolaryngologist",
        "gynecologist",
        "urologist",
        "dentist",
    }
    assert specs["pediatrician"].max_age == 17 and specs["gynecologist"].sex == "F"
    assert specs["urologist"].sex == "M" and specs["gastroenterologist"].prep_ru
    offered: dict[str, set[int]] = defaultdict(set)
    for clinic_id, code, kind, _region in pairs:
        offered[code].add(clinic_id)
        if code == "pediatrician":
            assert kind == "child"
    for code in open_codes | {"cardiologist", "neurologist"}:
        assert len(offered[code]) >= 2, code
    assert {r for _, _, _, r in pairs} == {"msk", "nsk"}


async def test_attachment_register_and_demo_people(cipher: PersonalDataCipher) -> None:
    rows = build_demo_rows(cipher, NOW)["attachments"]
    hashes = {(r["snils_hash"], r["policy_hash"]): r["clinic_id"] for r in rows}
    for p in DEMO_PATIENTS:
        assert _snils_ok(p["snils"]), p
        assert _luhn_ok(p["policy"]), p
        key = (
            cipher.lookup_hash(p["snils"].replace("-", "").replace(" ", "")),
            cipher.lookup_hash(p["policy"]),
        )
        assert hashes[key] == p["clinic_id"]
        assert p["snils"] not in str(rows)
    ivanov = DEMO_PATIENTS[0]
    assert (ivanov["snils"], ivanov["policy"]) == ("112-233-445 95", "8451999122899990")
    assert any(date(2026, 1, 1).year - p["birth_date"].year < 18 for p in DEMO_PATIENTS)
    assert any(p["clinic_id"] in (7, 8) for p in DEMO_PATIENTS)
    assert sorted(DEMO_STAFF) == list(range(9001, 9010))
    assert DEMO_STAFF[9009]["role"] == "admin"
