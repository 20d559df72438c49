"""The demo world: two regions, nine clinics, twelve specialties, forty doctors, 14 days of slots.

Loaded by ``python -m bot seed-demo`` and by the console on an empty database.
Everything is derived from ``now`` and a fixed random seed (never the global
random or the real time), so a console script run twice with the same
``--now`` sees the same slot ids and times. Rows go in with executemany in
one transaction; the whole seed takes a fraction of a second on SQLite.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from domain.directory import WorkDay, local_date, local_to_utc, search_key, slot_times
from storage.crypto import PersonalDataCipher
from storage.demo_data import (
    CLINICS,
    DEMO_PATIENTS,
    DEMO_STAFF,
    DOCTORS,
    QUALIFICATIONS,
    REGIONS,
    SPECIALTIES,
)
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

__all__ = ["DEMO_DAYS", "DEMO_PATIENTS", "DEMO_STAFF", "build_demo_rows", "seed_demo"]

DEMO_DAYS = 14
SEED = 20_261_201
MORNING = (time(8, 0), time(14, 0), time(11, 0), time(11, 30))
EVENING = (time(14, 0), time(20, 0), time(17, 0), time(17, 30))
SATURDAY = (time(9, 0), time(14, 0), None, None)
WEEKDAY_ONLY_CLINICS = {5}  # the diagnostic centre is closed on Saturdays

_TABLES_WITH_IDS = (clinics, specialties, doctors, doctor_roles, schedules, slots, attachments)


async def seed_demo(engine: AsyncEngine, cipher: PersonalDataCipher, now: datetime) -> bool:
    """Load the demo world into an empty directory; False (and no change) if it has data."""
    if now.tzinfo is None:
        raise ValueError("seed_demo needs an aware 'now'")
    rows = build_demo_rows(cipher, now)
    async with engine.connect() as conn:
        await conn.begin()
        if await _directory_has_data(conn):
            await conn.rollback()
            return False
        for table in (
            regions,
            clinics,
            specialties,
            doctors,
            doctor_roles,
            schedules,
            slots,
            attachments,
        ):
            batch = rows[table.name]
            for i in range(0, len(batch), 5_000):
                await conn.execute(insert(table), batch[i : i + 5_000])
        if conn.dialect.name == "postgresql":
            await _advance_sequences(conn)
        await conn.commit()
    return True


async def _directory_has_data(conn: AsyncConnection) -> bool:
    for table in (regions, clinics, specialties, doctors):
        count = (await conn.execute(select(func.count()).select_from(table))).scalar_one()
        if count:
            return True
    return False


async def _advance_sequences(conn: AsyncConnection) -> None:
    """Explicit ids leave PostgreSQL's serial sequences behind; move them past the demo rows."""
    for table in _TABLES_WITH_IDS:
        await conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f"COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)"
            )
        )


def build_demo_rows(cipher: PersonalDataCipher, now: datetime) -> dict[str, list[dict[str, Any]]]:
    """Every row of the demo world, keyed by table name; pure apart from the cipher's hashes."""
    rng = random.Random(SEED)
    zone_of = {r["id"]: r["tz"] for r in REGIONS}
    out: dict[str, list[dict[str, Any]]] = {t.name: [] for t in _TABLES_WITH_IDS}
    out["regions"] = [dict(r) for r in REGIONS]
    clinic_region: dict[int, str] = {}
    for cid, region, name, address, district, kind, phone, hours in CLINICS:
        clinic_region[cid] = region
        out["clinics"].append(
            {
                "id": cid,
                "region_id": region,
                "name": name,
                "address": address,
                "district": district,
                "kind": kind,
                "phone": phone,
                "hours": hours,
                "tz": zone_of[region],
                "rating": round(rng.uniform(3.9, 4.9), 1),
                "search_text": search_key(f"{name} {address}"),
                "fhir_id": f"demo-org-{cid}",
            }
        )
    spec_by_code = {s["code"]: s for s in SPECIALTIES}
    for s in SPECIALTIES:
        out["specialties"].append(
            {
                k: s[k]
                for k in (
                    "id",
                    "code",
                    "name_ru",
                    "name_en",
                    "referral_required",
                    "min_age",
                    "max_age",
                    "sex",
                    "prep_ru",
                    "prep_en",
                )
            }
        )
    role_id = 0
    doctor_plan: list[tuple[int, str, list[tuple[int, int]]]] = []  # doctor, spec code, roles
    for idx, (surname, name, patronymic, code, clinic_ids) in enumerate(DOCTORS, start=1):
        count = rng.randint(0, 60)
        average = rng.uniform(3.8, 5.0)
        out["doctors"].append(
            {
                "id": idx,
                "surname": surname,
                "name": name,
                "patronymic": patronymic,
                "qualification": rng.choice(QUALIFICATIONS),
                "experience_years": rng.randint(3, 35),
                "rating_sum": round(average * count),
                "rating_count": count,
                "fhir_id": f"demo-practitioner-{idx}",
            }
        )
        roles: list[tuple[int, int]] = []
        for cid in clinic_ids:
            role_id += 1
            out["doctor_roles"].append(
                {
                    "id": role_id,
                    "doctor_id": idx,
                    "clinic_id": cid,
                    "specialty_id": spec_by_code[code]["id"],
                    "active": True,
                }
            )
            roles.append((role_id, cid))
        doctor_plan.append((idx, code, roles))
    _add_schedules(out, rng, doctor_plan, spec_by_code, clinic_region, zone_of, now)
    for n, p in enumerate(DEMO_PATIENTS, start=1):
        out["attachments"].append(
            {
                "id": n,
                "snils_hash": cipher.lookup_hash(_digits(p["snils"])),
                "policy_hash": cipher.lookup_hash(_digits(p["policy"])),
                "name_hash": cipher.name_hash(p["surname"], p["name"], p["patronymic"]),
                "birth_date_hash": cipher.tagged_hash("birth", p["birth_date"].isoformat()),
                "sex_hash": cipher.tagged_hash("sex", p["sex"]),
                "clinic_id": p["clinic_id"],
            }
        )
    return out


def _add_schedules(
    out: dict[str, list[dict[str, Any]]],
    rng: random.Random,
    doctor_plan: list[tuple[int, str, list[tuple[int, int]]]],
    spec_by_code: dict[str, dict[str, Any]],
    clinic_region: dict[int, str],
    zone_of: dict[str, str],
    now: datetime,
) -> None:
    """Two weeks of shifts: mornings and evenings alternate by date, a lunch break each,
    short Saturdays for about a third of the doctors, Sundays off, one day off in two weeks."""
    schedule_id = 0
    slot_id = 0
    for doctor_id, code, roles in doctor_plan:
        spec = spec_by_code[code]
        works_saturday = rng.random() < 0.35
        day_off = rng.randrange(DEMO_DAYS)
        region = clinic_region[roles[0][1]]
        tz = zone_of[region]
        first_day = local_date(now.astimezone(UTC), tz)
        for offset in range(DEMO_DAYS):
            day = first_day + timedelta(days=offset)
            weekday = day.weekday()
            if weekday == 6 or offset == day_off:
                continue
            if weekday == 5:
                role, clinic_id = roles[0]
                if not works_saturday or clinic_id in WEEKDAY_ONLY_CLINICS:
                    continue
                start, end, b_start, b_end = SATURDAY
            else:
                role, clinic_id = roles[weekday % len(roles)]
                start, end, b_start, b_end = (
                    MORNING if (day.toordinal() + doctor_id) % 2 == 0 else EVENING
                )
            work = WorkDay(day, start, end, spec["minutes"], b_start, b_end)
            schedule_id += 1
            out["schedules"].append(
                {
                    "id": schedule_id,
                    "role_id": role,
                    "day": day,
                    "start": start,
                    "end": end,
                    "break_start": b_start,
                    "break_end": b_end,
                    "slot_minutes": spec["minutes"],
                }
            )
            kinds = spec["kinds"]
            for n, at in enumerate(slot_times(work)):
                slot_id += 1
                out["slots"].append(
                    {
                        "id": slot_id,
                        "role_id": role,
                        "doctor_id": doctor_id,
                        "clinic_id": clinic_id,
                        "specialty_id": spec["id"],
                        "region_id": region,
                        "start_utc": local_to_utc(day, at, tz).replace(tzinfo=None),
                        "minutes": spec["minutes"],
                        "kind": kinds[n % len(kinds)],
                        "status": "free",
                    }
                )


def _digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())
