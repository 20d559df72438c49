"""Small, explicit test worlds: insert exactly the rows a booking test needs.

``World.build(engine, ...)`` makes one region (Europe/Moscow), one clinic,
specialties (an open therapist, a referral-only cardiologist, a paediatrician
for 0–17, a gynaecologist for women), one doctor per specialty, ``n_slots``
future slots per doctor an hour apart, and ``n_users`` accounts with one
'self' patient each. Ids are deterministic: user ids start at 1001, patient
ids equal ``user_id - 1000``. Reusable by other helpers' tests.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.crypto import PersonalDataCipher
from storage.schema import (
    clinics,
    doctor_roles,
    doctors,
    patients,
    referrals,
    regions,
    slots,
    specialties,
    users,
)

_TEST_CIPHER: PersonalDataCipher | None = None


def sealed_person(surname: str, name: str, birth_date: date | None = None) -> dict[str, Any]:
    """Patient name and birth date columns as the repository writes them (encrypted
    with the tests' key, tests.conftest.TEST_KEY)."""
    global _TEST_CIPHER
    if _TEST_CIPHER is None:
        from tests.conftest import TEST_KEY

        _TEST_CIPHER = PersonalDataCipher(TEST_KEY)
    c = _TEST_CIPHER
    return {
        "name_enc": c.encrypt(json.dumps([surname, name, ""], ensure_ascii=False)),
        "birth_date_enc": c.encrypt(birth_date.isoformat()) if birth_date else None,
    }


NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
USER_BASE = 1000

SPECIALTIES: list[dict[str, Any]] = [
    {"id": 1, "code": "therapist", "name_ru": "Терапевт", "name_en": "Therapist"},
    {
        "id": 2,
        "code": "cardiologist",
        "name_ru": "Кардиолог",
        "name_en": "Cardiologist",
        "referral_required": True,
    },
    {
        "id": 3,
        "code": "paediatrician",
        "name_ru": "Педиатр",
        "name_en": "Paediatrician",
        "min_age": 0,
        "max_age": 17,
    },
    {
        "id": 4,
        "code": "gynaecologist",
        "name_ru": "Гинеколог",
        "name_en": "Gynaecologist",
        "sex": "F",
    },
]
THERAPIST, CARDIOLOGIST, PAEDIATRICIAN, GYNAECOLOGIST = 1, 2, 3, 4


def naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


@dataclass
class World:
    now: datetime
    clinic_id: int = 1
    region_id: str = "msk"
    # specialty id -> doctor id (one doctor per specialty; the therapist has two)
    doctor_of: dict[int, int] = field(default_factory=dict)
    # doctor id -> slot ids in time order
    slots_of: dict[int, list[int]] = field(default_factory=dict)
    user_ids: list[int] = field(default_factory=list)

    def patient_of(self, user_id: int) -> int:
        return user_id - USER_BASE

    def slots(self, specialty_id: int = THERAPIST) -> list[int]:
        return self.slots_of[self.doctor_of[specialty_id]]

    @classmethod
    async def build(
        cls,
        engine: AsyncEngine,
        *,
        now: datetime = NOW,
        n_slots: int = 20,
        n_users: int = 5,
        first_slot_in: timedelta = timedelta(days=2),
        birth_date: date = date(1980, 5, 17),
        sex: str = "M",
    ) -> World:
        world = cls(now=now)
        async with engine.begin() as conn:
            await conn.execute(
                insert(regions).values(
                    id="msk", name_ru="Москва", name_en="Moscow", tz="Europe/Moscow"
                )
            )
            await conn.execute(
                insert(clinics).values(
                    id=1,
                    region_id="msk",
                    name="ГП №1",
                    address="ул. Ленина, 1",
                    tz="Europe/Moscow",
                )
            )
            # executemany takes its columns from the first row: give every row all keys
            await conn.execute(
                insert(specialties),
                [
                    {"referral_required": False, "min_age": None, "max_age": None, "sex": None}
                    | spec
                    for spec in SPECIALTIES
                ],
            )
            doctor_rows = []
            role_rows = []
            slot_rows = []
            slot_id = 0
            doctor_id = 0
            for spec in SPECIALTIES:
                for extra in range(2 if spec["id"] == THERAPIST else 1):
                    doctor_id += 1
                    if extra == 0:
                        world.doctor_of[spec["id"]] = doctor_id
                    doctor_rows.append(
                        {"id": doctor_id, "surname": f"Врачев{doctor_id}", "name": "Пётр"}
                    )
                    role_rows.append(
                        {
                            "id": doctor_id,
                            "doctor_id": doctor_id,
                            "clinic_id": 1,
                            "specialty_id": spec["id"],
                        }
                    )
                    ids = []
                    for i in range(n_slots):
                        slot_id += 1
                        ids.append(slot_id)
                        slot_rows.append(
                            {
                                "id": slot_id,
                                "role_id": doctor_id,
                                "doctor_id": doctor_id,
                                "clinic_id": 1,
                                "specialty_id": spec["id"],
                                "region_id": "msk",
                                "start_utc": naive(now + first_slot_in + timedelta(hours=i)),
                                "minutes": 20,
                            }
                        )
                    world.slots_of[doctor_id] = ids
            await conn.execute(insert(doctors), doctor_rows)
            await conn.execute(insert(doctor_roles), role_rows)
            await conn.execute(insert(slots), slot_rows)
        await world.add_users(engine, n_users, birth_date=birth_date, sex=sex)
        return world

    async def add_users(
        self,
        engine: AsyncEngine,
        n: int,
        *,
        birth_date: date = date(1980, 5, 17),
        sex: str = "M",
    ) -> list[int]:
        start = USER_BASE + len(self.user_ids) + 1
        ids = list(range(start, start + n))
        created = naive(self.now)
        async with engine.begin() as conn:
            await conn.execute(
                insert(users),
                [{"id": uid, "created_at": created, "level": "standard"} for uid in ids],
            )
            await conn.execute(
                insert(patients),
                [
                    {
                        "id": uid - USER_BASE,
                        "owner_user_id": uid,
                        "relation": "self",
                        **sealed_person("Иванов", f"Иван{uid}", birth_date),
                        "sex": sex,
                        "created_at": created,
                    }
                    for uid in ids
                ],
            )
        self.user_ids += ids
        return ids

    async def add_relative(
        self,
        engine: AsyncEngine,
        owner_user_id: int,
        patient_id: int,
        *,
        birth_date: date,
        sex: str = "F",
        relation: str = "child",
    ) -> int:
        async with engine.begin() as conn:
            await conn.execute(
                insert(patients).values(
                    id=patient_id,
                    owner_user_id=owner_user_id,
                    relation=relation,
                    **sealed_person("Иванова", "Маша", birth_date),
                    sex=sex,
                    created_at=naive(self.now),
                )
            )
        return patient_id

    async def add_referral(
        self,
        engine: AsyncEngine,
        patient_id: int,
        specialty_id: int,
        valid_until: date,
        number: str = "R-1",
    ) -> int:
        async with engine.begin() as conn:
            result = await conn.execute(
                insert(referrals)
                .values(
                    number=number,
                    patient_id=patient_id,
                    specialty_id=specialty_id,
                    clinic_id=self.clinic_id,
                    issued_at=naive(self.now),
                    valid_until=valid_until,
                )
                .returning(referrals.c.id)
            )
            return int(result.scalar_one())
