"""The notifier's context still reads patient names now that they are encrypted (issue 7 item 15)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.crypto import PersonalDataCipher
from storage.repos.notify_context import NotifyContextRepository
from storage.schema import appointments
from tests.storage.builders import THERAPIST, World, naive


async def test_notice_about_a_relative_lost_the_name_once_encrypted(
    engine: AsyncEngine, cipher: PersonalDataCipher
) -> None:
    world = await World.build(engine, n_users=1)
    owner = world.user_ids[0]
    child = await world.add_relative(engine, owner, 900, birth_date=date(2018, 3, 1))
    slot = world.slots()[0]
    rows = []
    for number, patient in (("A-1", child), ("A-2", world.patient_of(owner))):
        rows.append(
            {
                "number": number,
                "patient_id": patient,
                "user_id": owner,
                "slot_id": slot if number == "A-1" else world.slots()[1],
                "doctor_id": world.doctor_of[THERAPIST],
                "clinic_id": world.clinic_id,
                "specialty_id": THERAPIST,
                "start_utc": naive(world.now),
                "minutes": 15,
                "status": "confirmed",
                "created_at": naive(world.now),
                "updated_at": naive(world.now),
            }
        )
    async with engine.begin() as conn:
        result = await conn.execute(insert(appointments).returning(appointments.c.id), rows)
        ids = [int(r[0]) for r in result]
        infos = await NotifyContextRepository(conn, cipher).appointments(ids)
    assert infos[ids[0]].patient_name == "Маша Иванова"  # a relative: named in the notice
    assert infos[ids[1]].patient_name == ""  # the account holder: not named, not decrypted
